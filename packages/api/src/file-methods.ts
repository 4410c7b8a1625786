/**
 * The control methods for files, beside the Messenger's (dispatcher.ts): `sendFile`, `files`,
 * `transfer`, `transfers`, `cancelFile`. They drive the peer's FileService; paths are read by the
 * peer itself (the control socket is its owner's only), and must be absolute.
 *
 *   sendFile   {contact, path, name?}  -> TransferView (once the offer is queued)
 *   files      {}                      -> [{id, contact, name, size, mime, sha256, path, status}]
 *   transfer   {id}                    -> TransferView
 *   transfers  {}                      -> TransferView[]
 *   cancelFile {id}                    -> TransferView
 */
import { isAbsolute } from 'node:path'
import type { FileService, FileSource } from '@jiayi/core'
import { ControlError } from './protocol.js'

/** What the methods need (a structural type, so tests can pass a fake). */
export interface FileMethodsDeps {
  readonly files: Pick<FileService, 'sendFile' | 'files' | 'transfer' | 'transfers' | 'cancel'>
  openSource(path: string): Promise<FileSource>
}

type Params = Record<string, unknown>

function text(method: string, params: Params, key: string, optional = false): string | undefined {
  const v = params[key]
  if (v === undefined || v === null) {
    if (optional) return undefined
    throw new ControlError('BadParams', `${method} needs "${key}"`)
  }
  if (typeof v !== 'string' || v === '') throw new ControlError('BadParams', `"${key}" must be a string`)
  return v
}

function only(method: string, params: Params, keys: readonly string[]): void {
  for (const k of Object.keys(params))
    if (!keys.includes(k)) throw new ControlError('BadParams', `${method} takes no parameter "${k}"`)
}

/** File errors are about the user's input (no such file, over the limit): shown as such. */
async function userErrors<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof Error && error.name === 'FileError')
      throw new ControlError('BadParams', error.message)
    throw error
  }
}

export const FILE_METHODS: Readonly<
  Record<string, (deps: FileMethodsDeps, params: Params) => Promise<unknown>>
> = {
  sendFile: async (deps, p) => {
    only('sendFile', p, ['contact', 'path', 'name'])
    const contact = text('sendFile', p, 'contact')!
    const path = text('sendFile', p, 'path')!
    const name = text('sendFile', p, 'name', true)
    if (!isAbsolute(path)) throw new ControlError('BadParams', '"path" must be absolute')
    return userErrors(async () => {
      const source = await deps.openSource(path)
      try {
        return await deps.files.sendFile(contact, source, name === undefined ? {} : { name })
      } catch (error) {
        await source.close().catch(() => undefined)
        throw error
      }
    })
  },
  files: async (deps, p) => {
    only('files', p, [])
    return deps.files.files()
  },
  transfer: async (deps, p) => {
    only('transfer', p, ['id'])
    const t = deps.files.transfer(text('transfer', p, 'id')!)
    if (t === undefined) throw new ControlError('BadParams', 'no transfer with that id')
    return t
  },
  transfers: async (deps, p) => {
    only('transfers', p, [])
    return deps.files.transfers()
  },
  cancelFile: async (deps, p) => {
    only('cancelFile', p, ['id'])
    const id = text('cancelFile', p, 'id')!
    return userErrors(() => deps.files.cancel(id))
  },
}
