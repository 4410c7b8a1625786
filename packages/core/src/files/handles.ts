/**
 * What a running transfer holds open, kept across its streams (a reconnect does not hash the
 * partial file again or reopen the source): the receiver's sink, the sender's source and its
 * running SHA-256, and each transfer's chunk cipher. Released when the transfer ends or the
 * service stops.
 */
import { hexToBytes } from '../bytes.js'
import type { MessageId } from '../messenger/ids.js'
import { ChunkCipher } from './chunk-cipher.js'
import { FileError } from './errors.js'
import { SourceHash } from './source-hash.js'
import type { FileSink, FileSource, FileStorage } from './storage.js'
import { recordKeyBytes, type TransferRecord } from './transfer.js'
import { keyOf, type RecordKey } from './transfer-book.js'

export class TransferHandles {
  private readonly sinks = new Map<MessageId, Promise<FileSink>>()
  private readonly sources = new Map<MessageId, FileSource>()
  private readonly hashes = new Map<MessageId, SourceHash>()
  private readonly ciphers = new Map<RecordKey, Promise<ChunkCipher>>()

  constructor(private readonly storage: FileStorage) {}

  /** The sink of an incoming transfer, opened (or resumed from storage) once. */
  sink(r: TransferRecord): Promise<FileSink> {
    let sink = this.sinks.get(r.id)
    if (sink === undefined) {
      sink = this.storage.openSink({
        id: r.id,
        name: r.name,
        size: r.size,
        chunkSize: r.chunkSize,
      })
      sink.catch(() => this.sinks.delete(r.id))
      this.sinks.set(r.id, sink)
    }
    return sink
  }

  /** The source of an outgoing transfer: the one offered, or reopened by its ref after a restart. */
  async source(r: TransferRecord): Promise<FileSource> {
    let source = this.sources.get(r.id)
    if (source === undefined) {
      if (r.path === undefined) throw new FileError('SourceGone', 'the file was not kept after a restart')
      source = await this.storage.openSource(r.path)
      this.sources.set(r.id, source)
    }
    if (r.sourceVersion !== undefined && source.version !== r.sourceVersion) {
      throw new FileError('SourceChanged', 'the file changed since it was offered')
    }
    return source
  }

  /** The running SHA-256 of an outgoing file (after a restart, a new one: it reads what it lacks). */
  sourceHash(r: TransferRecord): SourceHash {
    let hash = this.hashes.get(r.id)
    if (hash === undefined) {
      hash = new SourceHash(this.storage.createHasher(), r.size)
      this.hashes.set(r.id, hash)
    }
    return hash
  }

  adoptSource(id: MessageId, source: FileSource): void {
    this.sources.set(id, source)
  }

  forgetSource(id: MessageId): void {
    this.sources.delete(id)
  }

  cipher(r: TransferRecord): Promise<ChunkCipher> {
    const k = keyOf(r.direction, r.id)
    let cipher = this.ciphers.get(k)
    if (cipher === undefined) {
      cipher = ChunkCipher.create(recordKeyBytes(r), hexToBytes(r.id))
      this.ciphers.set(k, cipher)
    }
    return cipher
  }

  /** A complete incoming file: the sink already moved it into place. */
  finishedIn(id: MessageId): void {
    this.sinks.delete(id)
    this.ciphers.delete(keyOf('in', id))
  }

  /** Closes the sink of an incoming transfer that failed, then deletes its partial data. */
  async discardIn(id: MessageId): Promise<void> {
    const sink = this.sinks.get(id)
    this.sinks.delete(id)
    this.ciphers.delete(keyOf('in', id))
    await sink?.then((s) => s.close()).catch(() => undefined)
    await this.storage.discardPartial(id).catch(() => undefined)
  }

  /** Closes the source of an outgoing transfer that ended. */
  async closeOut(id: MessageId): Promise<void> {
    const source = this.sources.get(id)
    this.sources.delete(id)
    this.hashes.delete(id)
    this.ciphers.delete(keyOf('out', id))
    await source?.close().catch(() => undefined)
  }

  /** Releases everything (the service stops); partial data stays for the next start. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.sinks.values()].map(async (s) => (await s).close()))
    await Promise.allSettled([...this.sources.values()].map((s) => s.close()))
    this.sinks.clear()
    this.sources.clear()
    this.hashes.clear()
    this.ciphers.clear()
  }
}
