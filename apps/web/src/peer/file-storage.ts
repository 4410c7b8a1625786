/**
 * FileStorage for the in-page peer, inside the same sealed store as everything else: a file is a
 * metadata record plus one record per chunk, each sealed on its own (XChaCha20-Poly1305 under the
 * store's data key), so received files are encrypted at rest like messages and a file never has
 * to be whole in memory: chunks go in one at a time as they arrive (one IndexedDB transaction
 * each, chunk and progress together) and come out one at a time into a Blob for display or
 * download (the browser keeps a large Blob on disk, not in the page's heap).
 *
 * Records (keys are structural; names and types live in the sealed values):
 *   ('web-file', 'meta', id)           JSON FileMeta
 *   ('web-file', 'chunk', id, index)   the chunk's plaintext (sealed by the store)
 * A location (what `finish()` returns, kept by the file service as the transfer's path, and a
 * source's ref) is `web-file:<id>/<name>`, the name made unique among stored files like the
 * Node storage's "name (1).ext", so a download gets a sensible, distinct name.
 */
import {
  bytesToHex,
  chunkCount,
  chunkLength,
  equalBytes,
  FileError,
  type FileSink,
  type FileSource,
  type FileStorage,
  fromUtf8,
  nobleSha256,
  numberedName,
  randomBytes,
  type Sha256Hasher,
  type SinkInit,
  type Store,
  storeKey,
  utf8,
} from '@jiayi/core'

const PREFIX = 'web-file'
const SCHEME = 'web-file:'
/** Chunk size for files imported from the page (a File or Blob being sent). */
export const IMPORT_CHUNK_BYTES = 256 * 1024

interface FileMeta {
  readonly v: 1
  readonly name: string
  readonly mime?: string | undefined
  readonly size: number
  readonly chunkSize: number
  /** Chunks 0..stored-1 are in the store. */
  readonly stored: number
  readonly complete: boolean
  /** The file's own SHA-256 (hex); an incoming file's once it is complete. */
  readonly sha256?: string | undefined
  readonly createdAt: number
}

const metaKey = (id: string) => storeKey(PREFIX, 'meta', id)
const chunkKey = (id: string, index: number) => storeKey(PREFIX, 'chunk', id, index)

function checkId(id: string): string {
  if (!/^[0-9a-f]{32}$/.test(id)) throw new FileError('BadInput', 'a file id is 32 hex digits')
  return id
}

export function fileLocation(id: string, name: string): string {
  return `${SCHEME}${id}/${name}`
}

/** The id inside a location (`web-file:<id>/<name>`), or undefined for anything else. */
export function parseLocation(location: string): { id: string; name: string } | undefined {
  const m = /^web-file:([0-9a-f]{32})\/(.+)$/s.exec(location)
  return m ? { id: m[1]!, name: m[2]! } : undefined
}

export class StoreFileStorage implements FileStorage {
  constructor(private readonly store: Store) {}

  async #meta(id: string): Promise<FileMeta | undefined> {
    const bytes = await this.store.get(metaKey(id))
    return bytes === undefined ? undefined : (JSON.parse(fromUtf8(bytes)) as FileMeta)
  }

  async #deleteFile(id: string): Promise<void> {
    const ops: { type: 'del'; key: Uint8Array }[] = [{ type: 'del', key: metaKey(id) }]
    for await (const [k] of this.store.iterate({ prefix: storeKey(PREFIX, 'chunk', id) }))
      ops.push({ type: 'del', key: k })
    await this.store.batch(ops)
  }

  /** A name no other stored file has: "name", "name (1)", ... */
  async #uniqueName(name: string, self: string): Promise<string> {
    const taken = new Set<string>()
    for await (const [k, v] of this.store.iterate({ prefix: storeKey(PREFIX, 'meta') })) {
      const meta = JSON.parse(fromUtf8(v)) as FileMeta
      if (meta.complete && !equalBytes(k, metaKey(self))) taken.add(meta.name)
    }
    for (let n = 0; ; n++) {
      const candidate = numberedName(name, n)
      if (!taken.has(candidate)) return candidate
    }
  }

  /** Exactly `length` bytes from `offset` of a stored file, read chunk by chunk. */
  async #read(id: string, meta: FileMeta, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
      throw new FileError('SourceChanged', 'read outside the file')
    if (offset + length > meta.size) throw new FileError('SourceChanged', 'read past the end of the file')
    const out = new Uint8Array(length)
    let done = 0
    while (done < length) {
      const at = offset + done
      const index = Math.floor(at / meta.chunkSize)
      const chunk = await this.store.get(chunkKey(id, index))
      if (chunk === undefined) throw new FileError('SourceGone', 'a chunk of the file is missing')
      const from = at - index * meta.chunkSize
      const n = Math.min(chunk.length - from, length - done)
      out.set(chunk.subarray(from, from + n), done)
      done += n
    }
    return out
  }

  /** The metadata of a complete stored file at `location` (its id and name must both match). */
  async #stored(location: string): Promise<{ id: string; meta: FileMeta }> {
    const parsed = parseLocation(location)
    const meta = parsed && (await this.#meta(parsed.id))
    if (parsed === undefined || meta === undefined || !meta.complete || meta.name !== parsed.name)
      throw new FileError('SourceGone', 'no such stored file')
    return { id: parsed.id, meta }
  }

  async openSource(ref: string): Promise<FileSource> {
    const { id, meta } = await this.#stored(ref)
    return {
      name: meta.name,
      mime: meta.mime,
      size: meta.size,
      ref,
      version: meta.sha256,
      read: (offset, length) => this.#read(id, meta, offset, length),
      close: async () => undefined,
    }
  }

  async openSink(init: SinkInit): Promise<FileSink> {
    const id = checkId(init.id)
    const total = chunkCount(init.size, init.chunkSize)
    let meta = await this.#meta(id)
    if (meta === undefined || meta.complete || meta.size !== init.size || meta.chunkSize !== init.chunkSize) {
      if (meta !== undefined) await this.#deleteFile(id)
      meta = {
        v: 1,
        name: init.name,
        size: init.size,
        chunkSize: init.chunkSize,
        stored: 0,
        complete: false,
        createdAt: Date.now(),
      }
      await this.store.put(metaKey(id), utf8(JSON.stringify(meta)))
    }
    // Resume: the stored prefix counts into the hash again, one chunk at a time.
    const hasher = nobleSha256()
    for (let i = 0; i < meta.stored; i++) {
      const chunk = await this.store.get(chunkKey(id, i))
      if (chunk === undefined) throw new FileError('Storage', 'a stored chunk is missing')
      hasher.update(chunk)
    }
    let current = meta
    let closed = false
    return {
      get storedChunks() {
        return current.stored
      },
      write: async (index, plaintext) => {
        if (closed) throw new FileError('Stopped', 'the sink is closed')
        if (index !== current.stored || index >= total)
          throw new FileError('BadInput', 'chunks are written in order, once each')
        if (plaintext.length !== chunkLength(init.size, init.chunkSize, index))
          throw new FileError('SizeMismatch', 'chunk length does not fit the file size')
        const next = { ...current, stored: index + 1 }
        try {
          await this.store.batch([
            { type: 'put', key: chunkKey(id, index), value: plaintext },
            { type: 'put', key: metaKey(id), value: utf8(JSON.stringify(next)) },
          ])
        } catch (cause) {
          throw new FileError('Storage', 'cannot store the chunk', { cause })
        }
        hasher.update(plaintext)
        current = next
      },
      finish: async (sha256) => {
        if (closed) throw new FileError('Stopped', 'the sink is closed')
        if (current.stored !== total) throw new FileError('BadInput', 'the file is not complete')
        closed = true
        if (!equalBytes(hasher.digest(), sha256)) {
          await this.#deleteFile(id)
          throw new FileError('HashMismatch', "SHA-256 of the received file differs from the sender's")
        }
        const name = await this.#uniqueName(init.name, id)
        const done: FileMeta = { ...current, name, complete: true, sha256: bytesToHex(sha256) }
        await this.store.put(metaKey(id), utf8(JSON.stringify(done)))
        return fileLocation(id, name)
      },
      close: async () => {
        closed = true
      },
    }
  }

  async discardPartial(id: string): Promise<void> {
    const meta = await this.#meta(checkId(id))
    if (meta !== undefined && !meta.complete) await this.#deleteFile(id)
  }

  createHasher(): Sha256Hasher {
    return nobleSha256()
  }

  /** What the browser says this origin may still store (auto-download keeps a reserve free). */
  async freeBytes(): Promise<number | undefined> {
    const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined)
    if (estimate?.quota === undefined || estimate.usage === undefined) return undefined
    return Math.max(0, estimate.quota - estimate.usage)
  }

  // ------------------------------------------------------------------ the page's side

  /**
   * Copies a File or Blob into the store chunk by chunk (hashing it on the way) and returns it
   * as a source: sends survive a reload (the source is reopened by its ref) and the sender can
   * show the file too.
   */
  async importBlob(
    blob: Blob,
    name: string,
    mime?: string,
    onProgress?: (p: { loaded: number; total: number }) => void,
  ): Promise<FileSource> {
    const id = bytesToHex(randomBytes(16))
    const size = blob.size
    const total = chunkCount(size, IMPORT_CHUNK_BYTES)
    const hasher = nobleSha256()
    const base: FileMeta = {
      v: 1,
      name,
      mime: mime || blob.type || undefined,
      size,
      chunkSize: IMPORT_CHUNK_BYTES,
      stored: 0,
      complete: false,
      createdAt: Date.now(),
    }
    try {
      for (let i = 0; i < total; i++) {
        const part = new Uint8Array(
          await blob
            .slice(i * IMPORT_CHUNK_BYTES, Math.min(size, (i + 1) * IMPORT_CHUNK_BYTES))
            .arrayBuffer(),
        )
        hasher.update(part)
        await this.store.batch([
          { type: 'put', key: chunkKey(id, i), value: part },
          { type: 'put', key: metaKey(id), value: utf8(JSON.stringify({ ...base, stored: i + 1 })) },
        ])
        onProgress?.({ loaded: Math.min(size, (i + 1) * IMPORT_CHUNK_BYTES), total: size })
      }
      const meta: FileMeta = { ...base, stored: total, complete: true, sha256: bytesToHex(hasher.digest()) }
      await this.store.put(metaKey(id), utf8(JSON.stringify(meta)))
    } catch (error) {
      await this.#deleteFile(id).catch(() => undefined)
      if (FileError.is(error)) throw error
      throw new FileError('Storage', 'cannot store the file to send', { cause: error })
    }
    return this.openSource(fileLocation(id, name))
  }

  /** A stored file as a Blob, assembled chunk by chunk (for a blob: URL). */
  async blob(location: string, mime?: string): Promise<Blob> {
    const { id, meta } = await this.#stored(location)
    const parts: Blob[] = []
    const total = chunkCount(meta.size, meta.chunkSize)
    for (let i = 0; i < total; i++) {
      const chunk = await this.store.get(chunkKey(id, i))
      if (chunk === undefined) throw new FileError('SourceGone', 'a chunk of the file is missing')
      parts.push(new Blob([chunk as Uint8Array<ArrayBuffer>]))
    }
    return new Blob(parts, { type: mime ?? meta.mime ?? 'application/octet-stream' })
  }

  /** Deletes a stored file (its chunks and metadata). */
  async remove(location: string): Promise<void> {
    const parsed = parseLocation(location)
    if (parsed !== undefined) await this.#deleteFile(parsed.id)
  }

  /** Whether a key belongs to stored file data (a backup leaves those out). */
  static isFileRecord(key: Uint8Array): boolean {
    const prefix = storeKey(PREFIX)
    return key.length >= prefix.length && equalBytes(key.subarray(0, prefix.length), prefix)
  }
}
