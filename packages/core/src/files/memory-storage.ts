/**
 * FileStorage in memory: the reference implementation of storage.ts for tests and for a browser
 * without persistent storage. Survives a FileService restart as long as the object lives.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { equalBytes } from '../bytes.js'
import { FileError } from './errors.js'
import { chunkCount, chunkLength } from './limits.js'
import { numberedName } from './names.js'
import type { FileSink, FileSource, FileStorage, Sha256Hasher, SinkInit } from './storage.js'

export function nobleSha256(): Sha256Hasher {
  const h = sha256.create()
  return {
    update: (data) => void h.update(data),
    digest: () => h.digest(),
  }
}

/** A source over bytes in memory (copied, so later changes to `bytes` do not leak in). */
export function memorySource(bytes: Uint8Array, name: string, mime?: string): FileSource {
  const data = Uint8Array.from(bytes)
  return {
    name,
    mime,
    size: data.length,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > data.length)
        throw new FileError('SourceChanged', 'read past the end of the source')
      return data.slice(offset, offset + length)
    },
    async close() {},
  }
}

interface Partial {
  readonly init: SinkInit
  readonly chunks: Uint8Array[]
}

export class MemoryFileStorage implements FileStorage {
  /** Finished files by name. */
  readonly files = new Map<string, Uint8Array>()
  private readonly partials = new Map<string, Partial>()
  private readonly sources = new Map<string, { bytes: Uint8Array; name: string; mime?: string }>()

  /** Makes `bytes` openable as a source by `ref` (what a browser would keep in IndexedDB). */
  addSource(ref: string, bytes: Uint8Array, name: string, mime?: string): FileSource {
    this.sources.set(ref, { bytes: Uint8Array.from(bytes), name, mime })
    return { ...memorySource(bytes, name, mime), ref }
  }

  async openSource(ref: string): Promise<FileSource> {
    const s = this.sources.get(ref)
    if (s === undefined) throw new FileError('SourceGone', 'no such source')
    return { ...memorySource(s.bytes, s.name, s.mime), ref }
  }

  /** Partial data of a transfer, concatenated (tests). */
  partial(id: string): Uint8Array | undefined {
    const p = this.partials.get(id)
    if (p === undefined) return undefined
    const out = new Uint8Array(p.chunks.reduce((n, c) => n + c.length, 0))
    let offset = 0
    for (const c of p.chunks) {
      out.set(c, offset)
      offset += c.length
    }
    return out
  }

  async openSink(init: SinkInit): Promise<FileSink> {
    let partial = this.partials.get(init.id)
    if (
      partial === undefined ||
      partial.init.chunkSize !== init.chunkSize ||
      partial.init.size !== init.size
    ) {
      partial = { init, chunks: [] }
      this.partials.set(init.id, partial)
    }
    const p = partial
    const total = chunkCount(init.size, init.chunkSize)
    const hasher = nobleSha256()
    for (const c of p.chunks) hasher.update(c)
    return {
      get storedChunks() {
        return p.chunks.length
      },
      write: async (index, plaintext) => {
        if (index !== p.chunks.length || index >= total)
          throw new FileError('BadInput', 'chunks are written in order, once each')
        if (plaintext.length !== chunkLength(init.size, init.chunkSize, index))
          throw new FileError('SizeMismatch', 'chunk length does not fit the file size')
        const copy = Uint8Array.from(plaintext)
        p.chunks.push(copy)
        hasher.update(copy)
      },
      finish: async (sha256) => {
        if (p.chunks.length !== total) throw new FileError('BadInput', 'the file is not complete')
        this.partials.delete(init.id)
        if (!equalBytes(hasher.digest(), sha256))
          throw new FileError('HashMismatch', "SHA-256 of the received file differs from the sender's")
        let name = init.name
        for (let n = 1; this.files.has(name); n++) name = numberedName(init.name, n)
        const out = new Uint8Array(init.size)
        let offset = 0
        for (const c of p.chunks) {
          out.set(c, offset)
          offset += c.length
        }
        this.files.set(name, out)
        return name
      },
      close: async () => {},
    }
  }

  async discardPartial(id: string): Promise<void> {
    this.partials.delete(id)
  }

  createHasher(): Sha256Hasher {
    return nobleSha256()
  }
}
