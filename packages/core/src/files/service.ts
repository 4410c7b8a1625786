/**
 * The file service: offers over the messenger, transfers over /jiayi/file/1, state in the store.
 *
 * Sending: hash the source (streaming), store the outgoing record, send the ratcheted offer
 * (extension "file-offer", shown in the conversation). Receiving: the offer arrives inside the
 * ratchet step (its record commits atomically with it) and the receiver pulls the chunks. Either
 * side may open the stream: the receiver pulls (Want) when the offer arrives, when it starts,
 * when the sender connects, and on a backoff timer; the sender pushes (Have) when it starts and
 * when the receiver connects, so a restart of either side resumes at once. Only the receiver
 * decides where a transfer resumes, and it runs at most one stream per file.
 *
 * Only accepted contacts may open /jiayi/file/1, and only for files that were offered between
 * exactly these two peers; anything else is refused and counted (stats()).
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { bytesToHex, equalBytes, hexToBytes, randomBytes } from '../bytes.js'
import type { Logger } from '../messenger/core.js'
import { Emitter, KeyedQueue } from '../messenger/events.js'
import { type ContactId, type MessageId, newMessageId } from '../messenger/ids.js'
import type { ExtensionContext, ExtensionHandler } from '../messenger/inbound.js'
import type { Messenger } from '../messenger/messenger.js'
import type { ContactView } from '../messenger/views.js'
import { framedHandler, openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import { PROTOCOL_FILE } from '../net/protocols.js'
import type { Store } from '../store/store.js'
import { ChunkCipher } from './chunk-cipher.js'
import { FileError } from './errors.js'
import { decodeFrame, encodeFrame, type Frame } from './frames.js'
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_WINDOW_CHUNKS,
  FILE_KEY_BYTES,
  FRAME_TIMEOUT_MS,
  isValidChunkSize,
} from './limits.js'
import { guessMime, sanitizeFileName } from './names.js'
import {
  decodeOffer,
  encodeOffer,
  type FileKind,
  type FileOffer,
  type Thumbnail,
  type VoiceInfo,
} from './offer.js'
import { endStream, failed, type Outcome, outcomeOfReject, rejectStream } from './outcome.js'
import { receiveFile } from './receive.js'
import { sendFile } from './send.js'
import type { FileSink, FileSource, FileStorage } from './storage.js'
import {
  applyTransferEvent,
  type Direction,
  decodeTransferRecord,
  encodeTransferRecord,
  type FileEntry,
  fileEntry,
  isFinal,
  messageData,
  messageText,
  newTransferRecord,
  RECORD_PREFIX,
  recordKey,
  recordKeyBytes,
  type TransferEvent,
  type TransferRecord,
  type TransferView,
  transferView,
} from './transfer.js'

/** The messenger extension that carries offers. */
export const FILE_OFFER_EXTENSION = 'file-offer'

const PERSIST_EVERY_MS = 1_000
const MIN_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000
const PUSH_DELAY_MS = 1_500
const NUDGE_DELAY_MS = 2_000
const FINISH_TIMEOUT_MS = 300_000
const HASH_READ_BYTES = 1024 * 1024

export interface FileServiceInit {
  /** The messenger's store: the same object passed to Messenger.open. */
  readonly store: Store
  readonly storage: FileStorage
  /** Largest file sent or accepted; default 4 GiB. */
  readonly maxFileBytes?: number
  /** Chunk size of files we send; default 256 KiB. */
  readonly chunkBytes?: number
  /** Chunks in flight per stream before an Ack; default 8. */
  readonly windowChunks?: number
  /** Give up on a stream that brings no frame for this long; default 30 s. */
  readonly frameTimeoutMs?: number
  readonly log?: Logger
}

export interface SendFileOptions {
  /** Default: the source's name. */
  readonly name?: string
  /** Default: the source's, else guessed from the name. */
  readonly mime?: string
  /** Default: voice with `voice`, image for image/* types, else file. */
  readonly kind?: FileKind
  /** Images: a small preview (≤ 20 kB) shown before the transfer ends. */
  readonly thumbnail?: Thumbnail
  /** Voice messages: duration and waveform. */
  readonly voice?: VoiceInfo
  readonly chunkBytes?: number
}

export interface FileProgress {
  readonly id: MessageId
  readonly direction: Direction
  /** Incoming: stored. Outgoing: acknowledged by the receiver. */
  readonly bytes: number
  readonly size: number
  /** Average over the current attempt. */
  readonly bytesPerSecond: number
}

export interface FileServiceEvents extends Record<string, unknown> {
  transfer: { readonly transfer: TransferView; readonly change: 'new' | 'update' }
  progress: FileProgress
  /** An attempt starts at `fromChunk` (0 = from the beginning). */
  resume: { readonly id: MessageId; readonly direction: Direction; readonly fromChunk: number }
  /** The sender put chunk `index` on the wire (tests count resends with it). */
  sent: { readonly id: MessageId; readonly index: number }
}

export type FileRefusal =
  | 'not-a-contact'
  | 'unknown-file'
  | 'bad-frame'
  | 'bad-offer'
  | 'busy'
  | 'stream-error'

export interface FileServiceStats {
  readonly chunksSent: number
  readonly chunksReceived: number
  readonly refusedTotal: number
  readonly refused: Partial<Record<FileRefusal, number>>
}

interface Attempt {
  readonly controller: AbortController
  readonly startedAt: number
  readonly startBytes: number
}

type RecordKey = `${Direction}:${MessageId}`
const keyOf = (direction: Direction, id: MessageId): RecordKey => `${direction}:${id}`

export class FileService {
  readonly events = new Emitter<FileServiceEvents>()
  /** Pass to `Messenger.open({ extensions })`, so that no offer can arrive before the service listens. */
  readonly extensions: Readonly<Record<string, ExtensionHandler>>

  private messengerRef: Messenger | undefined
  private readonly store: Store
  private readonly storage: FileStorage
  private readonly maxFileBytes: number
  private readonly chunkBytes: number
  private readonly windowChunks: number
  private readonly timeoutMs: number
  private readonly log: Logger | undefined
  private readonly records = new Map<RecordKey, TransferRecord>()
  private readonly active = new Map<RecordKey, Attempt>()
  private readonly tasks = new Set<Promise<unknown>>()
  private readonly sinks = new Map<MessageId, Promise<FileSink>>()
  private readonly sources = new Map<MessageId, FileSource>()
  private readonly ciphers = new Map<RecordKey, Promise<ChunkCipher>>()
  private readonly retries = new Map<MessageId, { timer?: ReturnType<typeof setTimeout>; failures: number }>()
  private readonly pushTimers = new Set<ReturnType<typeof setTimeout>>()
  private readonly lastPersist = new Map<RecordKey, number>()
  private readonly writes = new KeyedQueue()
  private readonly refusals = new Map<FileRefusal, number>()
  private readonly nudged = new Set<MessageId>()
  private readonly unsubscribe: (() => void)[] = []
  private chunksSent = 0
  private chunksReceived = 0
  private started = false
  private stopped = false

  constructor(init: FileServiceInit) {
    this.store = init.store
    this.storage = init.storage
    this.maxFileBytes = init.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
    this.chunkBytes = init.chunkBytes ?? DEFAULT_CHUNK_BYTES
    this.windowChunks = init.windowChunks ?? DEFAULT_WINDOW_CHUNKS
    this.timeoutMs = init.frameTimeoutMs ?? FRAME_TIMEOUT_MS
    this.log = init.log
    if (!Number.isSafeInteger(this.maxFileBytes) || this.maxFileBytes < 0)
      throw new FileError('BadInput', 'maxFileBytes must be a non-negative integer')
    if (!isValidChunkSize(this.chunkBytes))
      throw new FileError('BadInput', 'chunkBytes must be a power of two, 16..256 KiB')
    if (!Number.isInteger(this.windowChunks) || this.windowChunks < 1 || this.windowChunks > 14)
      throw new FileError('BadInput', 'windowChunks must be 1..14')
    this.extensions = { [FILE_OFFER_EXTENSION]: { receive: (ctx) => this.receiveOffer(ctx) } }
  }

  /** Creates the service and starts it on a messenger that is already open. */
  static async start(init: FileServiceInit & { readonly messenger: Messenger }): Promise<FileService> {
    const service = new FileService(init)
    await service.start(init.messenger)
    return service
  }

  /**
   * Loads the transfers, serves /jiayi/file/1 and resumes what was interrupted. Registers the
   * offer extension too, for apps that did not pass `extensions` to Messenger.open.
   */
  async start(messenger: Messenger): Promise<void> {
    if (this.started) throw new FileError('BadInput', 'the file service is already started')
    if (messenger.store !== this.store) throw new FileError('BadInput', 'the messenger uses another store')
    this.started = true
    this.messengerRef = messenger
    messenger.registerExtension(FILE_OFFER_EXTENSION, this.extensions[FILE_OFFER_EXTENSION]!)
    for await (const [, value] of this.store.iterate({ prefix: RECORD_PREFIX })) {
      const r = decodeTransferRecord(value)
      this.records.set(keyOf(r.direction, r.id), r)
    }
    const handler = framedHandler(PROTOCOL_FILE, (framed, connection) => this.serve(framed, connection), {
      allow: (peer) => this.acceptedContact(peer.toString()) !== undefined,
      onRefused: (r) => this.refuse(r.code === 'NotAllowed' ? 'not-a-contact' : 'stream-error', r.remotePeer),
    })
    await messenger.node.handle(PROTOCOL_FILE, handler, { maxInboundStreams: 16 })
    const onConnect = (e: Event) => this.peerSeen((e as CustomEvent<PeerId>).detail.toString())
    messenger.node.addEventListener('peer:connect', onConnect)
    this.unsubscribe.push(() => messenger.node.removeEventListener('peer:connect', onConnect))
    this.unsubscribe.push(
      messenger.events.on('contact', (e) => {
        if (e.contact?.state === 'accepted') this.resumeWith(e.contact.id, false)
      }),
      // Once the receiver has our offer (it acked it), it should be pulling. If it is not (it
      // refused the offer, or it was not listening), a push soon after tells us either way.
      messenger.events.on('message', (e) => {
        const m = e.message
        if (m.direction !== 'out' || m.extension?.kind !== FILE_OFFER_EXTENSION || m.status !== 'sent') return
        const r = this.records.get(keyOf('out', m.id))
        if (r?.status === 'sending' && !this.nudged.has(m.id)) {
          this.nudged.add(m.id)
          this.schedulePush(m.id, NUDGE_DELAY_MS)
        }
      }),
    )
    for (const r of this.records.values()) {
      if (r.direction === 'in' && r.status === 'incoming') this.schedulePull(r.id, 0)
      if (r.direction === 'out' && r.status === 'sending') this.schedulePush(r.id, 0)
    }
  }

  /** Stops every transfer (they resume on the next start) and unregisters the protocol. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const off of this.unsubscribe) off()
    for (const r of this.retries.values()) if (r.timer !== undefined) clearTimeout(r.timer)
    for (const t of this.pushTimers) clearTimeout(t)
    for (const a of this.active.values())
      a.controller.abort(new FileError('Stopped', 'the file service stopped'))
    if (this.messengerRef !== undefined)
      await this.messengerRef.node.unhandle(PROTOCOL_FILE).catch(() => undefined)
    await Promise.allSettled([...this.tasks])
    await Promise.allSettled([...this.sinks.values()].map(async (s) => (await s).close()))
    await Promise.allSettled([...this.sources.values()].map((s) => s.close()))
    this.sinks.clear()
    this.sources.clear()
  }

  private get messenger(): Messenger {
    if (this.messengerRef === undefined || this.stopped)
      throw new FileError('Stopped', 'the file service is not running')
    return this.messengerRef
  }

  // ------------------------------------------------------------------ public API

  /**
   * Offers `source` to a contact and serves it until the receiver has it. The SHA-256 is computed
   * first (one streaming pass over the source). Resolves once the offer is queued.
   */
  async sendFile(
    contactRef: string,
    source: FileSource,
    options: SendFileOptions = {},
  ): Promise<TransferView> {
    const messenger = this.messenger
    const contact = messenger.contact(contactRef)
    const size = source.size
    if (!Number.isSafeInteger(size) || size < 0)
      throw new FileError('BadInput', 'the source has no valid size')
    if (size > this.maxFileBytes)
      throw new FileError('BadInput', `files are limited to ${this.maxFileBytes} bytes here`)
    const name = options.name ?? source.name
    const mime = options.mime ?? source.mime ?? guessMime(name)
    const kind: FileKind =
      options.kind ?? (options.voice !== undefined ? 'voice' : mime.startsWith('image/') ? 'image' : 'file')
    const offer: FileOffer = {
      kind,
      name,
      mime,
      size,
      sha256: new Uint8Array(32),
      key: randomBytes(FILE_KEY_BYTES),
      chunkSize: options.chunkBytes ?? this.chunkBytes,
      thumbnail: options.thumbnail,
      voice: options.voice,
    }
    encodeOffer(offer) // every rule checked before the long hashing pass
    const sha256 = await this.hashSource(source)
    const final = { ...offer, sha256 }
    const body = encodeOffer(final)
    const id = newMessageId()
    const record = newTransferRecord({
      id,
      direction: 'out',
      contactId: contact.id,
      offer: final,
      name,
      status: 'sending',
      path: source.ref,
      sourceVersion: source.version,
    })
    const k = keyOf('out', id)
    await this.store.put(recordKey('out', id), encodeTransferRecord(record))
    this.records.set(k, record)
    this.sources.set(id, source)
    try {
      await messenger.sendExtension(contact.id, FILE_OFFER_EXTENSION, body, {
        id,
        record: { text: messageText(record), data: messageData(record) },
      })
    } catch (error) {
      this.records.delete(k)
      this.sources.delete(id)
      await this.store.del(recordKey('out', id)).catch(() => undefined)
      throw error
    }
    this.events.emit('transfer', { transfer: this.view(record), change: 'new' })
    return this.view(record)
  }

  /** Received files, oldest first: exactly the fields `jiayi files` prints. */
  files(): FileEntry[] {
    return this.sorted()
      .filter((r) => r.direction === 'in')
      .map(fileEntry)
  }

  /** Every transfer, both directions, oldest first. */
  transfers(): TransferView[] {
    return this.sorted().map((r) => this.view(r))
  }

  transfer(id: string): TransferView | undefined {
    const r =
      this.records.get(keyOf('in', id as MessageId)) ?? this.records.get(keyOf('out', id as MessageId))
    return r && this.view(r)
  }

  /**
   * Resolves when the transfer is complete or failed. An id not known yet (an offer still on its
   * way) is waited for too: pass a signal to give up.
   */
  waitFor(id: string, options: { signal?: AbortSignal } = {}): Promise<TransferView> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const t = this.transfer(id)
        if (t !== undefined && isFinal(t.status)) {
          resolve(t)
          return true
        }
        return false
      }
      if (check()) return
      const onAbort = () => {
        off()
        reject(options.signal?.reason ?? new FileError('Stopped', 'aborted'))
      }
      const off = this.events.on('transfer', (e) => {
        if (e.transfer.id === id && check()) {
          off()
          options.signal?.removeEventListener('abort', onAbort)
        }
      })
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Gives a transfer up (either direction); the other side learns it at its next attempt. */
  async cancel(id: string): Promise<TransferView> {
    const r =
      this.records.get(keyOf('in', id as MessageId)) ?? this.records.get(keyOf('out', id as MessageId))
    if (r === undefined) throw new FileError('BadInput', 'no transfer with that id')
    const k = keyOf(r.direction, r.id)
    this.active.get(k)?.controller.abort(new FileError('Stopped', 'cancelled'))
    await this.change(k, { type: 'fail', reason: 'cancelled' })
    return this.view(this.records.get(k)!)
  }

  stats(): FileServiceStats {
    let refusedTotal = 0
    const refused: Partial<Record<FileRefusal, number>> = {}
    for (const [reason, n] of this.refusals) {
      refused[reason] = n
      refusedTotal += n
    }
    return { chunksSent: this.chunksSent, chunksReceived: this.chunksReceived, refusedTotal, refused }
  }

  // ------------------------------------------------------------------ offers

  private async receiveOffer(ctx: ExtensionContext): Promise<void> {
    let offer: FileOffer
    try {
      offer = decodeOffer(ctx.body)
    } catch (error) {
      if (!FileError.is(error)) throw error
      this.refuse('bad-offer')
      return
    }
    const id = ctx.payload.id
    // At-least-once delivery: a repeated offer changes nothing (the message shows once too).
    if ((await this.store.get(recordKey('in', id))) !== undefined) return
    const tooLarge = offer.size > this.maxFileBytes
    const accepted = ctx.contact.state === 'accepted'
    const record = newTransferRecord({
      id,
      direction: 'in',
      contactId: ctx.contact.id,
      offer,
      name: sanitizeFileName(offer.name),
      status: tooLarge ? 'failed' : 'incoming',
      reason: tooLarge ? 'too-large' : undefined,
      note: tooLarge || accepted ? undefined : 'waiting-for-accept',
    })
    ctx.tx.put(recordKey('in', id), encodeTransferRecord(record))
    await ctx.showMessage(messageText(record), messageData(record))
    ctx.tx.after(() => {
      this.records.set(keyOf('in', id), record)
      this.events.emit('transfer', { transfer: this.view(record), change: 'new' })
      if (record.status === 'incoming' && accepted) this.schedulePull(id, 0)
    })
  }

  // ------------------------------------------------------------------ streams we accept

  private async serve(framed: FramedStream, connection: Connection): Promise<void> {
    if (this.stopped) return framed.abort(new FileError('Stopped', 'stopping'))
    const peer = connection.remotePeer.toString()
    const bytes = await framed.read({ timeoutMs: this.timeoutMs })
    if (bytes === null) return
    let frame: Frame
    try {
      frame = decodeFrame(bytes)
    } catch {
      this.refuse('bad-frame', connection.remotePeer)
      return rejectStream(framed, 'protocol')
    }
    if (frame.type === 'want') return this.serveWant(framed, peer, frame.fileId, frame.nextChunk)
    if (frame.type === 'have') return this.serveHave(framed, peer, frame.fileId)
    this.refuse('bad-frame', connection.remotePeer)
    return rejectStream(framed, 'protocol')
  }

  /** The receiver asks for chunks of a file we offered it. */
  private async serveWant(
    framed: FramedStream,
    peer: string,
    fileId: Uint8Array,
    from: number,
  ): Promise<void> {
    const r = this.recordFor('out', fileId, peer)
    if (r === undefined) {
      this.refuse('unknown-file')
      return rejectStream(framed, 'unknown-file')
    }
    if (r.status === 'failed') return rejectStream(framed, rejectFor(r))
    await this.track(this.runSend(framed, r, from))
  }

  /** The sender tells us it has a file for us (after a restart, or when we connect). */
  private async serveHave(framed: FramedStream, peer: string, fileId: Uint8Array): Promise<void> {
    const r = this.recordFor('in', fileId, peer)
    if (r === undefined) {
      this.refuse('unknown-file')
      return rejectStream(framed, 'unknown-file')
    }
    if (r.status === 'complete') {
      await framed.write(encodeFrame({ type: 'done', sha256: hexToBytes(r.sha256) }), { timeoutMs: 2_000 })
      return endStream(framed, { type: 'complete' })
    }
    if (r.status === 'failed') return rejectStream(framed, rejectFor(r))
    const attempt = this.claim('in', r.id)
    if (attempt === undefined) {
      this.refuse('busy')
      return rejectStream(framed, 'busy')
    }
    await this.track(this.runReceive(framed, r, attempt))
  }

  // ------------------------------------------------------------------ streams we open

  /** Receiver: open a stream to the sender and ask for the rest of the file. */
  private async pull(id: MessageId): Promise<void> {
    const r = this.records.get(keyOf('in', id))
    if (r === undefined || r.status !== 'incoming' || this.stopped) return
    const contact = this.contactById(r.contactId)
    if (contact === undefined)
      return void (await this.change(keyOf('in', id), { type: 'fail', reason: 'refused' }))
    if (contact.state !== 'accepted')
      return void (await this.change(keyOf('in', id), { type: 'note', note: 'waiting-for-accept' }))
    const attempt = this.claim('in', id)
    if (attempt === undefined) return
    let framed: FramedStream
    try {
      framed = await this.dial(contact, attempt.controller.signal)
    } catch {
      this.release('in', id, attempt)
      await this.change(keyOf('in', id), { type: 'note', note: 'offline' })
      this.retryLater(id)
      return
    }
    await this.runReceive(framed, r, attempt)
  }

  /** Sender: tell the receiver we have its file; it answers where to start (or that it is done). */
  private async push(id: MessageId): Promise<void> {
    const k = keyOf('out', id)
    const r = this.records.get(k)
    if (r === undefined || r.status !== 'sending' || this.stopped || this.active.has(k)) return
    const contact = this.contactById(r.contactId)
    if (contact?.state !== 'accepted') return
    let framed: FramedStream
    try {
      framed = await this.dial(contact, AbortSignal.timeout(this.timeoutMs))
      await framed.write(encodeFrame({ type: 'have', fileId: hexToBytes(id) }), { timeoutMs: this.timeoutMs })
    } catch {
      return // the receiver pulls when it can
    }
    let reply: Frame
    try {
      const bytes = await framed.read({ timeoutMs: this.timeoutMs })
      if (bytes === null) return
      reply = decodeFrame(bytes)
    } catch {
      return endStream(framed, { type: 'retry', note: 'interrupted' })
    }
    if (reply.type === 'want') return this.runSend(framed, r, reply.nextChunk)
    if (reply.type === 'done') {
      if (equalBytes(reply.sha256, hexToBytes(r.sha256))) await this.finishOut(r.id, { type: 'complete' })
      return endStream(framed, { type: 'none' })
    }
    // The receiver may simply not have the offer yet (it is still in our outbox): wait for its pull.
    const outcome: Outcome =
      reply.type === 'reject'
        ? reply.reason === 'unknown-file'
          ? { type: 'none' }
          : outcomeOfReject(reply.reason)
        : failed('protocol')
    await endStream(framed, outcome)
    await this.finishOut(r.id, outcome)
  }

  private async dial(contact: ContactView, signal: AbortSignal): Promise<FramedStream> {
    const node = this.messenger.node
    const peerId = peerIdFromString(contact.peerId)
    try {
      if (contact.addrs.length > 0)
        await node.peerStore.merge(peerId, { multiaddrs: contact.addrs.map((a) => multiaddr(a)) })
    } catch {
      // A malformed stored address: the others (and what identify found) still work.
    }
    return openFramed(node, peerId, PROTOCOL_FILE, { signal })
  }

  // ------------------------------------------------------------------ running one side

  private async runSend(framed: FramedStream, r: TransferRecord, from: number): Promise<void> {
    const k = keyOf('out', r.id)
    // The receiver decides: a new request for this file replaces a stream it gave up on.
    this.active.get(k)?.controller.abort(new FileError('Stopped', 'replaced by a newer stream'))
    const attempt: Attempt = {
      controller: new AbortController(),
      startedAt: Date.now(),
      startBytes: Math.min(from * r.chunkSize, r.size),
    }
    this.active.set(k, attempt)
    try {
      let source: FileSource
      try {
        source = await this.sourceFor(r)
      } catch (error) {
        const reason = FileError.is(error, 'SourceChanged') ? 'source-changed' : 'source-gone'
        await endStream(framed, failed(reason))
        return this.finishOut(r.id, failed(reason))
      }
      this.events.emit('resume', { id: r.id, direction: 'out', fromChunk: from })
      const outcome = await sendFile(framed, from, {
        size: r.size,
        chunkSize: r.chunkSize,
        sha256: hexToBytes(r.sha256),
        cipher: await this.cipherFor(r),
        source,
        windowChunks: this.windowChunks,
        timeoutMs: this.timeoutMs,
        finishTimeoutMs: FINISH_TIMEOUT_MS,
        signal: attempt.controller.signal,
        onAcked: (next) => this.progress(k, Math.min(next * r.chunkSize, r.size)),
        onChunkSent: (index) => {
          this.chunksSent++
          this.events.emit('sent', { id: r.id, index })
        },
      })
      if (this.active.get(k) === attempt) await this.finishOut(r.id, outcome)
    } finally {
      if (this.active.get(k) === attempt) this.active.delete(k)
    }
  }

  private async finishOut(id: MessageId, outcome: Outcome): Promise<void> {
    const k = keyOf('out', id)
    if (outcome.type === 'complete') await this.change(k, { type: 'complete' })
    else if (outcome.type === 'failed') await this.change(k, { type: 'fail', reason: outcome.reason })
    else if (outcome.type === 'retry') await this.change(k, { type: 'note', note: outcome.note })
    const r = this.records.get(k)
    if (r !== undefined && isFinal(r.status)) {
      const source = this.sources.get(id)
      this.sources.delete(id)
      this.ciphers.delete(k)
      await source?.close().catch(() => undefined)
    }
  }

  private async runReceive(framed: FramedStream, r: TransferRecord, attempt: Attempt): Promise<void> {
    const k = keyOf('in', r.id)
    let outcome: Outcome
    try {
      let sink: FileSink
      try {
        sink = await this.sinkFor(r)
      } catch (error) {
        outcome = FileError.is(error, 'Stopped') ? { type: 'retry', note: 'interrupted' } : failed('storage')
        await endStream(framed, outcome)
        return await this.finishIn(r.id, outcome)
      }
      outcome = await receiveFile(framed, {
        fileId: hexToBytes(r.id),
        size: r.size,
        chunkSize: r.chunkSize,
        sha256: hexToBytes(r.sha256),
        cipher: await this.cipherFor(r),
        sink,
        timeoutMs: this.timeoutMs,
        signal: attempt.controller.signal,
        onResume: (fromChunk) => {
          this.events.emit('resume', { id: r.id, direction: 'in', fromChunk })
          this.progress(k, Math.min(fromChunk * r.chunkSize, r.size), true)
        },
        onStored: (next) => {
          this.chunksReceived++
          this.progress(k, Math.min(next * r.chunkSize, r.size))
        },
      })
      await this.finishIn(r.id, outcome)
    } finally {
      this.release('in', r.id, attempt)
    }
  }

  private async finishIn(id: MessageId, outcome: Outcome): Promise<void> {
    const k = keyOf('in', id)
    if (outcome.type === 'complete') {
      this.sinks.delete(id)
      this.retries.delete(id)
      await this.change(k, { type: 'complete', path: outcome.path })
    } else if (outcome.type === 'failed') {
      await this.change(k, { type: 'fail', reason: outcome.reason })
    } else if (outcome.type === 'retry') {
      await this.change(k, { type: 'note', note: outcome.note })
      this.retryLater(id)
    }
    const r = this.records.get(k)
    if (r?.status === 'failed') {
      // Nothing of a failed file stays behind: no partial data, no handles.
      const sink = this.sinks.get(id)
      this.sinks.delete(id)
      this.retries.delete(id)
      this.ciphers.delete(k)
      await sink?.then((s) => s.close()).catch(() => undefined)
      await this.storage.discardPartial(id).catch(() => undefined)
    }
  }

  // ------------------------------------------------------------------ state

  /** Applies one event to a transfer, persists it and tells the app and the conversation. */
  private async change(k: RecordKey, event: TransferEvent): Promise<void> {
    const before = this.records.get(k)
    if (before === undefined) return
    const after = applyTransferEvent(before, event)
    if (after === before) return
    this.records.set(k, after)
    this.events.emit('transfer', { transfer: this.view(after), change: 'update' })
    if (after.status === 'failed') {
      this.active.get(k)?.controller.abort(new FileError('Stopped', 'transfer failed'))
    }
    await this.persist(k)
  }

  /** Progress is kept in memory at once and persisted at most once a second. */
  private progress(k: RecordKey, bytes: number, force = false): void {
    const before = this.records.get(k)
    if (before === undefined) return
    const after = applyTransferEvent(before, { type: 'progress', bytes })
    this.records.set(k, after)
    const attempt = this.active.get(k)
    const elapsed = attempt === undefined ? 0 : (Date.now() - attempt.startedAt) / 1000
    const moved = attempt === undefined ? 0 : Math.max(0, after.bytes - attempt.startBytes)
    this.events.emit('progress', {
      id: after.id,
      direction: after.direction,
      bytes: after.bytes,
      size: after.size,
      bytesPerSecond: elapsed > 0 ? moved / elapsed : 0,
    })
    const now = Date.now()
    if (force || now - (this.lastPersist.get(k) ?? 0) >= PERSIST_EVERY_MS) {
      this.lastPersist.set(k, now)
      void this.persist(k).catch(() => undefined)
    }
  }

  /** Writes the latest state of a transfer to the store and to its conversation message. */
  private persist(k: RecordKey): Promise<void> {
    return this.writes.run(k, async () => {
      const r = this.records.get(k)
      if (r === undefined) return
      try {
        await this.store.put(recordKey(r.direction, r.id), encodeTransferRecord(r))
      } catch (error) {
        this.log?.warn('could not store a transfer', {
          error: error instanceof Error ? error.name : 'unknown',
        })
        return
      }
      try {
        await this.messengerRef?.updateExtension(r.contactId, r.id, messageData(r))
      } catch {
        // The conversation (or the contact) was deleted; the transfer record still counts.
      }
    })
  }

  // ------------------------------------------------------------------ scheduling

  private claim(direction: Direction, id: MessageId): Attempt | undefined {
    const k = keyOf(direction, id)
    if (this.active.has(k) || this.stopped) return undefined
    const r = this.records.get(k)
    const attempt: Attempt = {
      controller: new AbortController(),
      startedAt: Date.now(),
      startBytes: r?.bytes ?? 0,
    }
    this.active.set(k, attempt)
    return attempt
  }

  private release(direction: Direction, id: MessageId, attempt: Attempt): void {
    const k = keyOf(direction, id)
    if (this.active.get(k) === attempt) this.active.delete(k)
  }

  private schedulePull(id: MessageId, delayMs: number): void {
    if (this.stopped || this.messengerRef === undefined) return
    const state = this.retries.get(id) ?? { failures: 0 }
    if (state.timer !== undefined) clearTimeout(state.timer)
    state.timer = setTimeout(() => {
      state.timer = undefined
      void this.track(this.pull(id))
    }, delayMs)
    this.retries.set(id, state)
  }

  private retryLater(id: MessageId): void {
    const state = this.retries.get(id) ?? { failures: 0 }
    state.failures++
    this.retries.set(id, state)
    const delay = Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** (state.failures - 1))
    this.schedulePull(id, delay * (0.75 + Math.random() * 0.5))
  }

  private schedulePush(id: MessageId, delayMs: number): void {
    if (this.stopped || this.messengerRef === undefined) return
    const timer = setTimeout(() => {
      this.pushTimers.delete(timer)
      void this.track(this.push(id))
    }, delayMs)
    this.pushTimers.add(timer)
  }

  /** A contact connected (or was accepted): resume what waits for them, both ways. */
  private peerSeen(peerId: string): void {
    const contact = this.acceptedContact(peerId)
    if (contact !== undefined) this.resumeWith(contact.id, true)
  }

  private resumeWith(contactId: ContactId, connected: boolean): void {
    for (const r of this.records.values()) {
      if (r.contactId !== contactId || this.active.has(keyOf(r.direction, r.id))) continue
      if (r.direction === 'in' && r.status === 'incoming') {
        const state = this.retries.get(r.id)
        if (state !== undefined) state.failures = 0
        this.schedulePull(r.id, 0)
      } else if (connected && r.direction === 'out' && r.status === 'sending') {
        this.schedulePush(r.id, PUSH_DELAY_MS)
      }
    }
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.tasks.add(task)
    void task.finally(() => this.tasks.delete(task)).catch(() => undefined)
    return task
  }

  // ------------------------------------------------------------------ resources

  private sinkFor(r: TransferRecord): Promise<FileSink> {
    let sink = this.sinks.get(r.id)
    if (sink === undefined) {
      sink = this.storage.openSink({
        id: r.id,
        name: r.name,
        size: r.size,
        chunkSize: r.chunkSize,
        sha256: hexToBytes(r.sha256),
      })
      sink.catch(() => this.sinks.delete(r.id))
      this.sinks.set(r.id, sink)
    }
    return sink
  }

  private async sourceFor(r: TransferRecord): Promise<FileSource> {
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

  private cipherFor(r: TransferRecord): Promise<ChunkCipher> {
    const k = keyOf(r.direction, r.id)
    let cipher = this.ciphers.get(k)
    if (cipher === undefined) {
      cipher = ChunkCipher.create(recordKeyBytes(r), hexToBytes(r.id))
      this.ciphers.set(k, cipher)
    }
    return cipher
  }

  private async hashSource(source: FileSource): Promise<Uint8Array> {
    const hasher = this.storage.createHasher()
    for (let offset = 0; offset < source.size; offset += HASH_READ_BYTES) {
      hasher.update(await source.read(offset, Math.min(HASH_READ_BYTES, source.size - offset)))
    }
    return hasher.digest()
  }

  // ------------------------------------------------------------------ lookups

  private recordFor(direction: Direction, fileId: Uint8Array, peer: string): TransferRecord | undefined {
    const r = this.records.get(keyOf(direction, bytesToHex(fileId) as MessageId))
    if (r === undefined) return undefined
    return this.contactById(r.contactId)?.peerId === peer ? r : undefined
  }

  private contactById(id: ContactId): ContactView | undefined {
    return this.messengerRef?.contactList().find((c) => c.id === id)
  }

  private acceptedContact(peerId: string): ContactView | undefined {
    const c = this.messengerRef?.contactList().find((v) => v.peerId === peerId)
    return c?.state === 'accepted' ? c : undefined
  }

  private refuse(reason: FileRefusal, peer?: PeerId): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1)
    this.log?.debug('file stream refused', { reason, peer: peer?.toString() ?? '' })
  }

  private view(r: TransferRecord): TransferView {
    return transferView(r, this.active.has(keyOf(r.direction, r.id)))
  }

  private sorted(): TransferRecord[] {
    return [...this.records.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }
}

/** What we tell a peer that asks about a transfer that failed here. */
function rejectFor(r: TransferRecord): 'cancelled' | 'refused' | 'source-changed' | 'source-gone' {
  if (r.reason === 'cancelled' || r.reason === 'source-changed' || r.reason === 'source-gone') return r.reason
  return 'refused'
}
