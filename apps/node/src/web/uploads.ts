/**
 * Uploads from the web UI: a file the user picked (or a voice message they recorded) streams into
 * <home>/uploads/<id> (0600, in a 0700 directory) and the id is what `sendFile` and moments
 * attachments take as their `source`. The file stays while transfers may still read it (they
 * resume from it after a restart); uploads older than a week are removed at start.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { ControlError } from '@jiayi/api'
import type { FileSource } from '@jiayi/core'

const ID = /^[0-9a-f]{32}$/
const KEEP_MS = 7 * 24 * 3600_000

export interface UploadMeta {
  readonly name: string
  readonly mime: string
  readonly size: number
  readonly createdAt: number
}

export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'UploadError'
  }
}

export class Uploads {
  private active = 0

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly open: (path: string, options: { name: string; mime: string }) => Promise<FileSource>,
    private readonly maxConcurrent = 4,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const now = Date.now()
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name)
      const info = await stat(path).catch(() => undefined)
      if (info !== undefined && now - info.mtimeMs > KEEP_MS) await rm(path, { force: true })
    }
  }

  /** Streams a request body into a new upload; returns its id. */
  async receive(req: IncomingMessage, name: string, mime: string): Promise<{ id: string; size: number }> {
    const declared = Number(req.headers['content-length'] ?? Number.NaN)
    if (Number.isFinite(declared) && declared > this.maxBytes)
      throw new UploadError(413, `files are limited to ${this.maxBytes} bytes`)
    if (this.active >= this.maxConcurrent) throw new UploadError(429, 'too many uploads at once')
    this.active++
    const id = randomBytes(16).toString('hex')
    const path = join(this.dir, id)
    try {
      let size = 0
      const max = this.maxBytes
      const out = createWriteStream(path, { flags: 'wx', mode: 0o600 })
      await pipeline(
        req,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length
            if (size > max) throw new UploadError(413, `files are limited to ${max} bytes`)
            yield chunk
          }
        },
        out,
      )
      const meta: UploadMeta = { name, mime, size, createdAt: Date.now() }
      await writeFile(`${path}.json`, JSON.stringify(meta), { mode: 0o600 })
      return { id, size }
    } catch (error) {
      await rm(path, { force: true })
      if (error instanceof UploadError) throw error
      throw new UploadError(400, 'the upload was interrupted')
    } finally {
      this.active--
    }
  }

  /** Opens an upload by id (the web dispatcher's `openSource`): ids only, never a path. */
  async openSource(handle: string): Promise<FileSource> {
    if (!ID.test(handle)) throw new ControlError('BadParams', '"source" must be an upload id')
    let meta: UploadMeta
    try {
      meta = JSON.parse(await readFile(join(this.dir, `${handle}.json`), 'utf8')) as UploadMeta
    } catch {
      throw new ControlError('BadParams', 'no upload with that id')
    }
    return this.open(join(this.dir, handle), { name: meta.name, mime: meta.mime })
  }
}
