/**
 * The files methods: `sendFile`, `files`, `transfer`, `transfers`, `cancelFile`. They drive the
 * host's FileService. What `source` names is the host's business (`FileHost.openSource`): an
 * absolute path on the Node control socket, an upload id over the web server, a blob id in page.
 *
 *   sendFile   {contact, source, name?, mime?, kind?, thumbnail?, voice?} -> TransferView (offer queued;
 *              `contact` may name a group: the answer then has groupId and sender)
 *   files      {}                      -> [{id, contact, name, size, mime, sha256, path, status}]
 *   transfer   {id}                    -> TransferView
 *   transfers  {}                      -> TransferView[]
 *   cancelFile {id}                    -> TransferView
 *   acceptFile {id}                    -> TransferView (a file waiting for the user downloads)
 *   fileSettings {}                    -> {askAboveBytes}
 *   setFileSettings {askAboveBytes}    -> {askAboveBytes}
 */
import type { FileSource, SendFileOptions } from '@jiayi/core'
import type { FileHost } from './host.js'
import type { ThumbnailParam, VoiceParam } from './methods.js'
import { array, int, obj, oneOf, str } from './params.js'
import { ControlError } from './protocol.js'
import { always, type MethodTable, none, params } from './table.js'

/** base64 of at most 20,000 bytes (MAX_THUMBNAIL_BYTES). */
const MAX_THUMBNAIL_BASE64 = 26_668
const MAX_WAVEFORM = 256

const handle = str({ min: 1, max: 4096 })
const name = str({ min: 1, max: 1024 })
const transferId = str({ min: 1, max: 128 })

/** File errors are about the user's input (no such file, over the limit): shown as such. */
export async function userErrors<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof Error && error.name === 'FileError')
      throw new ControlError('BadParams', error.message)
    throw error
  }
}

function fromBase64(text: string, what: string): Uint8Array<ArrayBuffer> {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
  } catch {
    throw new ControlError('BadParams', `"${what}" must be base64`)
  }
}

export function sendOptions(p: {
  name?: string
  mime?: string
  kind?: SendFileOptions['kind']
  thumbnail?: ThumbnailParam
  voice?: VoiceParam
}): SendFileOptions {
  return {
    ...(p.name === undefined ? {} : { name: p.name }),
    ...(p.mime === undefined ? {} : { mime: p.mime }),
    ...(p.kind === undefined ? {} : { kind: p.kind }),
    ...(p.thumbnail === undefined
      ? {}
      : { thumbnail: { ...p.thumbnail, data: fromBase64(p.thumbnail.data, 'thumbnail.data') } }),
    ...(p.voice === undefined
      ? {}
      : { voice: { durationMs: p.voice.durationMs, waveform: Uint8Array.from(p.voice.waveform) } }),
  }
}

/** Opens a source, runs `use`, and closes the source if `use` fails (on success it is the service's). */
export async function withSource<T>(
  files: FileHost,
  source: string,
  use: (s: FileSource) => Promise<T>,
): Promise<T> {
  return userErrors(async () => {
    const s = await files.openSource(source)
    try {
      return await use(s)
    } catch (error) {
      await s.close().catch(() => undefined)
      throw error
    }
  })
}

function fileHost(c: { files?: FileHost | undefined }): FileHost {
  if (c.files === undefined) throw new ControlError('Unsupported', 'this peer does not transfer files')
  return c.files
}

export type FileMethodName =
  | 'sendFile'
  | 'files'
  | 'transfer'
  | 'transfers'
  | 'cancelFile'
  | 'forwardFile'
  | 'acceptFile'
  | 'fileSettings'
  | 'setFileSettings'

/** A host method that an older host may lack. */
function hostMethod<T>(method: T | undefined): T {
  if (method === undefined) throw new ControlError('Unsupported', 'this peer cannot do that with files')
  return method
}

export const FILE_METHODS: MethodTable<FileMethodName> = {
  sendFile: {
    // Hashes the whole file before the offer goes.
    heavy: always,
    needs: 'files',
    check: params({
      contact: str({ min: 1, max: 1024 }),
      source: handle,
      name: { optional: true, check: name },
      mime: { optional: true, check: str({ min: 1, max: 127 }) },
      kind: { optional: true, check: oneOf(['file', 'image', 'voice'] as const) },
      thumbnail: {
        optional: true,
        check: obj({
          mime: str({ min: 1, max: 127 }),
          width: int(1, 4096),
          height: int(1, 4096),
          data: str({ min: 1, max: MAX_THUMBNAIL_BASE64 }),
        }),
      },
      voice: {
        optional: true,
        check: obj({ durationMs: int(0, 24 * 3600_000), waveform: array(int(0, 255), MAX_WAVEFORM) }),
      },
    }),
    run: (c, p) => {
      const files = fileHost(c)
      const options = sendOptions(p)
      return withSource(files, p.source, (s) => files.files.sendFile(p.contact, s, options))
    },
  },
  files: { needs: 'files', heavy: always, check: none, run: (c) => fileHost(c).files.files() },
  transfer: {
    needs: 'files',
    check: params({ id: transferId }),
    run: (c, p) => {
      const t = fileHost(c).files.transfer(p.id)
      if (t === undefined) throw new ControlError('BadParams', 'no transfer with that id')
      return t
    },
  },
  transfers: { needs: 'files', heavy: always, check: none, run: (c) => fileHost(c).files.transfers() },
  cancelFile: {
    needs: 'files',
    check: params({ id: transferId }),
    run: (c, p) => userErrors(() => fileHost(c).files.cancel(p.id)),
  },
  // Errors stay FileErrors: SourceGone and SourceChanged tell the user why it cannot go.
  forwardFile: {
    needs: 'files',
    check: params({ id: transferId, contact: str({ min: 1, max: 1024 }) }),
    run: (c, p) => fileHost(c).files.forward(p.id, p.contact),
  },
  acceptFile: {
    needs: 'files',
    check: params({ id: transferId }),
    run: (c, p) => {
      const files = fileHost(c).files
      return userErrors(() => hostMethod(files.accept).call(files, p.id))
    },
  },
  fileSettings: {
    needs: 'files',
    check: none,
    run: (c) => {
      const files = fileHost(c).files
      return hostMethod(files.settings).call(files)
    },
  },
  setFileSettings: {
    needs: 'files',
    check: params({ askAboveBytes: int(0, Number.MAX_SAFE_INTEGER) }),
    run: (c, p) => {
      const files = fileHost(c).files
      return userErrors(() => hostMethod(files.setSettings).call(files, { askAboveBytes: p.askAboveBytes }))
    },
  },
}
