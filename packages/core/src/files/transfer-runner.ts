/**
 * Moving files over /jiayi/file/1: which streams to open and when, serving the ones peers open,
 * and turning each stream's outcome into transfer state.
 *
 * Either side may open a stream. The receiver pulls (Want) when the offer arrives, when it
 * starts, when the sender connects or is accepted, and on a backoff timer; the sender pushes (Have)
 * when it starts, when the receiver connects, and once its offer is acknowledged, so a restart of
 * either side resumes at once. Only the receiver says where a transfer resumes, and it moves each
 * file on one stream at a time (a second one gets Reject "busy"); the sender serves the newest.
 *
 * Only accepted contacts may open the protocol (checked before a byte is read), and only for
 * files offered between exactly these two peers; anything else is refused and counted. A file
 * offered in a group (groups/group-files.ts) is the exception: any current member of its group
 * may fetch it from the sender, a contact or not (trust action `open-group-file-stream`), each
 * member on a stream of its own; a peer that is not a member of that group now is refused and
 * counted (`not-a-member`). While its sender is away, a member who holds such a file whole
 * serves it too; what it serves counts only if it passes the file's SHA-256 (relayFailed).
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { bytesToHex, equalBytes, hexToBytes } from '../bytes.js'
import type { Logger } from '../messenger/core.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import type { Messenger } from '../messenger/messenger.js'
import { peerMay } from '../messenger/trust.js'
import type { ContactView } from '../messenger/views.js'
import { framedHandler, openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import { MAX_INBOUND_STREAMS, PROTOCOL_FILE } from '../net/protocols.js'
import type { HoldReason } from './auto-download.js'
import { FileError } from './errors.js'
import { decodeFrame, encodeFrame, type Frame, type RejectReason } from './frames.js'
import { TransferHandles } from './handles.js'
import { chunkCount } from './limits.js'
import { endStream, failed, type Outcome, outcomeOfReject, rejectStream, retry } from './outcome.js'
import { receiveFile } from './receive.js'
import { sendFile } from './send.js'
import type { FileSink, FileSource, FileStorage } from './storage.js'
import { type Direction, type FailReason, isFinal, type TransferRecord } from './transfer.js'
import { type AttemptClock, keyOf, type RecordKey, type TransferBook } from './transfer-book.js'

const MIN_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000
const PUSH_DELAY_MS = 1_500
const FINISH_TIMEOUT_MS = 300_000

export type FileRefusal =
  | 'not-a-contact'
  /** A group file asked for by a peer that is not a member of its group now. */
  | 'not-a-member'
  | 'unknown-file'
  | 'bad-frame'
  | 'bad-offer'
  | 'busy'
  | 'stream-error'

export interface RunnerOptions {
  readonly windowChunks: number
  readonly timeoutMs: number
  readonly log?: Logger | undefined
  /** Whether a file waits for the user (auto-download.ts), asked once its sender is a contact. */
  readonly holdFor: (r: TransferRecord) => Promise<HoldReason | undefined>
  /** Files offered in a group: who may fetch them, and who offered them (group-files.ts). */
  readonly groups?: GroupFileAccess | undefined
}

/** What the runner asks about a group's file (a record with a `groupId`). */
export interface GroupFileAccess {
  /** Whether `peerId` may fetch it from us: both of us are members of its group now. */
  mayFetch(r: TransferRecord, peerId: string): boolean
  /** Its sender, to fetch it from (a contact, or a group member's record). */
  senderOf(r: TransferRecord): ContactView | undefined
  /** The other members of its group now (not us, not its sender), who may hold it too. */
  holdersOf(r: TransferRecord): ContactView[]
}

interface Attempt extends AttemptClock {
  readonly controller: AbortController
}

export class TransferRunner {
  chunksSent = 0
  chunksReceived = 0
  readonly refusals = new Map<FileRefusal, number>()
  private messengerRef: Messenger | undefined
  private stopped = false
  /** By record key; a group file we send, by record key and the member's peer id (attemptKey). */
  private readonly active = new Map<string, Attempt>()
  private readonly tasks = new Set<Promise<unknown>>()
  private readonly handles: TransferHandles
  private readonly retries = new Map<MessageId, { timer?: ReturnType<typeof setTimeout>; failures: number }>()
  private readonly pushTimers = new Set<ReturnType<typeof setTimeout>>()
  /** Group files whose stored part came, at least in part, from a member other than the sender. */
  private readonly relayed = new Set<MessageId>()
  /** Group files a member served wrongly: fetched from their sender only from now on. */
  private readonly senderOnly = new Set<MessageId>()
  /** Which holder a group file's next attempt asks while its sender is away (round robin). */
  private readonly holderTurn = new Map<MessageId, number>()
  private readonly unsubscribe: (() => void)[] = []

  constructor(
    private readonly book: TransferBook,
    storage: FileStorage,
    private readonly options: RunnerOptions,
  ) {
    this.handles = new TransferHandles(storage)
  }

  isActive(k: RecordKey): boolean {
    return this.active.has(k)
  }

  /** Serves the protocol, follows connections and contacts, and resumes every open transfer. */
  async start(messenger: Messenger): Promise<void> {
    this.messengerRef = messenger
    const handler = framedHandler(PROTOCOL_FILE, (framed, connection) => this.serve(framed, connection), {
      // Another device of ours (on our list now) fetches the group files we sent from here.
      allow: (peer) =>
        messenger.peerMay(peer.toString(), 'open-file-stream') ||
        messenger.peerMay(peer.toString(), 'open-group-file-stream') ||
        messenger.isOwnDevice(peer.toString()),
      onRefused: (r) => this.refuse(r.code === 'NotAllowed' ? 'not-a-contact' : 'stream-error', r.remotePeer),
    })
    await messenger.node.handle(PROTOCOL_FILE, handler, {
      maxInboundStreams: MAX_INBOUND_STREAMS[PROTOCOL_FILE],
    })
    const onConnect = (e: Event) => {
      const peer = (e as CustomEvent<PeerId>).detail.toString()
      // Another device of ours: the group files we sent from it are fetched now.
      const contact = messenger.isOwnDevice(peer) ? messenger.selfContact() : this.fileContact(peer)
      if (contact !== undefined) this.resumeWith(contact.id, true)
    }
    messenger.node.addEventListener('peer:connect', onConnect)
    this.unsubscribe.push(
      () => messenger.node.removeEventListener('peer:connect', onConnect),
      messenger.events.on('contact', (e) => {
        if (e.contact !== undefined && peerMay(e.contact.state, 'take-file-offer'))
          this.resumeWith(e.contact.id, false)
      }),
    )
    for (const r of this.book.all()) {
      if (r.direction === 'in' && r.status === 'incoming') this.schedulePull(r.id, 0)
      if (r.direction === 'out' && r.status === 'sending') this.schedulePush(r.id, 0)
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const off of this.unsubscribe) off()
    for (const r of this.retries.values()) if (r.timer !== undefined) clearTimeout(r.timer)
    for (const t of this.pushTimers) clearTimeout(t)
    for (const a of this.active.values())
      a.controller.abort(new FileError('Stopped', 'the file service stopped'))
    await this.messengerRef?.node.unhandle(PROTOCOL_FILE).catch(() => undefined)
    await Promise.allSettled([...this.tasks])
    await this.handles.closeAll()
  }

  /** The source of a file just offered (kept open until the transfer ends). */
  adoptSource(id: MessageId, source: FileSource): void {
    this.handles.adoptSource(id, source)
  }

  forgetSource(id: MessageId): void {
    this.handles.forgetSource(id)
  }

  /** Stops whatever stream moves this transfer (it was cancelled or failed). */
  interrupt(k: RecordKey, why: string): void {
    this.active.get(k)?.controller.abort(new FileError('Stopped', why))
  }

  // ------------------------------------------------------------------ streams we accept

  private async serve(framed: FramedStream, connection: Connection): Promise<void> {
    if (this.stopped) return framed.abort(new FileError('Stopped', 'stopping'))
    const peer = connection.remotePeer.toString()
    const bytes = await framed.read({ timeoutMs: this.options.timeoutMs })
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
    if (frame.type === 'reject' && frame.fileId !== undefined)
      return this.serveGaveUp(framed, peer, frame.fileId, frame.reason)
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
    const offered = this.recordFor('out', fileId, peer)
    // A group's file we received whole: any member of its group now may fetch it from us too.
    const r = offered === 'unknown-file' ? (this.heldFor(fileId, peer) ?? offered) : offered
    if (typeof r === 'string') {
      this.refuse(r)
      return rejectStream(framed, 'unknown-file')
    }
    if (r.status === 'failed') return rejectStream(framed, rejectFor(r))
    await this.track(this.runSend(framed, r, from, peer))
  }

  /** The other side gave a file up (cancelled it): ours ends the same way, now rather than at a retry. */
  private async serveGaveUp(
    framed: FramedStream,
    peer: string,
    fileId: Uint8Array,
    reason: RejectReason,
  ): Promise<void> {
    const out = this.recordFor('out', fileId, peer)
    const r = typeof out === 'string' ? this.recordFor('in', fileId, peer) : out
    if (typeof r === 'string') {
      this.refuse(typeof out === 'string' && out !== 'unknown-file' ? out : r)
      return rejectStream(framed, 'unknown-file')
    }
    await framed.close({ signal: AbortSignal.timeout(2_000) }).catch(() => framed.abort(new Error('closing')))
    if (isFinal(r.status)) return
    // Another device of the contact giving up speaks for itself: the device their card names
    // (whose answer the transfer follows) may still want it.
    if (r.direction === 'out' && r.groupId === undefined && this.peerOf(r)?.peerId !== peer) return
    this.interrupt(keyOf(r.direction, r.id), 'the other side gave the file up')
    const outcome = outcomeOfReject(reason)
    if (r.direction === 'out') await this.finishOut(r.id, outcome)
    else await this.finishIn(r.id, outcome)
  }

  /**
   * Tells the other side, best effort, that this side gave the file up (it stops too): the user
   * cancelled, or (`refused`) the offer is over this receiver's size limit.
   */
  async tellGaveUp(
    direction: Direction,
    id: MessageId,
    reason: 'cancelled' | 'refused' = 'cancelled',
  ): Promise<void> {
    const r = this.book.get(keyOf(direction, id))
    const contact = r === undefined ? undefined : this.peerOf(r)
    if (this.stopped || contact === undefined) return
    if (r?.groupId === undefined && !peerMay(contact.state, 'open-file-stream')) return
    if (this.messengerRef?.node.getConnections(peerIdFromString(contact.peerId)).length === 0) return
    await this.track(
      (async () => {
        let framed: FramedStream | undefined
        try {
          framed = await this.dial(contact, AbortSignal.timeout(this.options.timeoutMs))
          await framed.write(encodeFrame({ type: 'reject', reason, fileId: hexToBytes(id) }), {
            timeoutMs: 2_000,
          })
          await framed.close({ signal: AbortSignal.timeout(2_000) })
        } catch {
          // Offline or gone: it learns at its next attempt.
          framed?.abort(new FileError('Stopped', 'could not say the file was cancelled'))
        }
      })(),
    )
  }

  /** The sender tells us it has a file for us (after a restart, or when we connect). */
  private async serveHave(framed: FramedStream, peer: string, fileId: Uint8Array): Promise<void> {
    const r = this.recordFor('in', fileId, peer)
    if (typeof r === 'string') {
      this.refuse(r)
      return rejectStream(framed, 'unknown-file')
    }
    if (r.status === 'complete') {
      await framed.write(encodeFrame({ type: 'done', sha256: hexToBytes(r.sha256) }), { timeoutMs: 2_000 })
      return endStream(framed, { type: 'complete' })
    }
    if (r.status === 'failed') return rejectStream(framed, rejectFor(r))
    // Waiting for this user's accept (or for them to become a contact): the sender keeps it
    // ready, and we pull once the user says yes.
    if (r.hold !== undefined || r.note === 'waiting-for-accept') return rejectStream(framed, 'busy')
    const attempt = this.claim('in', r)
    if (attempt === undefined) {
      this.refuse('busy')
      return rejectStream(framed, 'busy')
    }
    await this.track(this.runReceive(framed, r, attempt))
  }

  // ------------------------------------------------------------------ streams we open

  /** Receiver: open a stream to the sender and ask for the rest of the file. */
  private async pull(id: MessageId): Promise<void> {
    const k = keyOf('in', id)
    const r = this.book.get(k)
    if (r === undefined || r.status !== 'incoming' || this.stopped) return
    const contact = this.peerOf(r)
    if (contact === undefined) return void (await this.book.change(k, { type: 'fail', reason: 'refused' }))
    // A group's file is the group's business: its service took the message from a member.
    if (r.groupId === undefined && !peerMay(contact.state, 'take-file-offer')) {
      return void (await this.book.change(k, { type: 'note', note: 'waiting-for-accept' }))
    }
    if (r.hold !== undefined) return // the user decides (FileService.accept)
    if (r.note === 'waiting-for-accept') {
      // Offered before they were a contact: the auto-download rules apply now that they are.
      const hold = await this.options.holdFor(r)
      if (hold !== undefined) return void (await this.book.change(k, { type: 'hold', hold }))
    }
    const attempt = this.claim('in', r)
    if (attempt === undefined) return
    let framed: FramedStream
    let relayed = false
    try {
      framed = await this.dial(contact, attempt.controller.signal)
    } catch {
      // A group's file may come from another member who holds it while its sender is away.
      const other = r.groupId === undefined ? undefined : await this.dialHolder(r, attempt.controller.signal)
      if (other === undefined) {
        this.release(k, attempt)
        await this.book.change(k, { type: 'note', note: 'offline' })
        this.retryLater(id)
        return
      }
      framed = other
      relayed = true
    }
    await this.runReceive(framed, r, attempt, relayed)
  }

  /** A member connected to us now who may hold the group file `r` (each attempt the next one). */
  private async dialHolder(r: TransferRecord, signal: AbortSignal): Promise<FramedStream | undefined> {
    if (this.senderOnly.has(r.id)) return undefined
    const node = this.messenger().node
    const holders = (this.options.groups?.holdersOf(r) ?? []).filter(
      (c) => node.getConnections(peerIdFromString(c.peerId)).length > 0,
    )
    if (holders.length === 0) return undefined
    const turn = this.holderTurn.get(r.id) ?? 0
    this.holderTurn.set(r.id, turn + 1)
    try {
      return await this.dial(holders[turn % holders.length]!, signal)
    } catch {
      return undefined
    }
  }

  /** Sender: tell the receiver we have its file; it answers where to start (or that it is done). */
  private async push(id: MessageId): Promise<void> {
    const k = keyOf('out', id)
    const r = this.book.get(k)
    if (r === undefined || r.status !== 'sending' || this.stopped || this.active.has(k)) return
    const contact = this.peerOf(r)
    if (contact === undefined || r.groupId !== undefined || !peerMay(contact.state, 'open-file-stream'))
      return
    let framed: FramedStream
    let reply: Frame
    try {
      framed = await this.dial(contact, AbortSignal.timeout(this.options.timeoutMs))
      await framed.write(encodeFrame({ type: 'have', fileId: hexToBytes(id) }), {
        timeoutMs: this.options.timeoutMs,
      })
      const bytes = await framed.read({ timeoutMs: this.options.timeoutMs })
      if (bytes === null) return
      reply = decodeFrame(bytes)
    } catch {
      return // the receiver pulls when it can
    }
    if (reply.type === 'want') return this.runSend(framed, r, reply.nextChunk, contact.peerId)
    if (reply.type === 'done') {
      // A digest not kept here (its write failed) leaves the receiver's check, against the digest
      // we sent it, as the only one.
      if (r.sha256 === '' || equalBytes(reply.sha256, hexToBytes(r.sha256)))
        await this.finishOut(r.id, { type: 'complete' })
      return endStream(framed, { type: 'none' })
    }
    // "unknown-file": the offer may still be in our outbox; the receiver pulls once it has it.
    const outcome: Outcome =
      reply.type !== 'reject'
        ? failed('protocol')
        : reply.reason === 'unknown-file'
          ? { type: 'none' }
          : outcomeOfReject(reply.reason)
    await endStream(framed, outcome)
    await this.finishOut(r.id, outcome)
  }

  private async dial(contact: ContactView, signal: AbortSignal): Promise<FramedStream> {
    const node = this.messenger().node
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

  private async runSend(framed: FramedStream, r: TransferRecord, from: number, peer: string): Promise<void> {
    const k = keyOf('out', r.id)
    // The receiver decides: a new request for this file replaces a stream it gave up on. A
    // group's file goes to every member, each on a stream of its own.
    const ak = attemptKey(r, peer, this.peerOf(r)?.peerId)
    this.active.get(ak)?.controller.abort(new FileError('Stopped', 'replaced by a newer stream'))
    const attempt: Attempt = {
      controller: new AbortController(),
      startedAt: Date.now(),
      startBytes: Math.min(from * r.chunkSize, r.size),
    }
    this.active.set(ak, attempt)
    try {
      let source: FileSource
      try {
        source = await this.handles.source(r)
      } catch (error) {
        const outcome = failed(FileError.is(error, 'SourceChanged') ? 'source-changed' : 'source-gone')
        await endStream(framed, outcome)
        return await this.finishOut(r.id, outcome)
      }
      this.book.events.emit('resume', { id: r.id, direction: 'out', fromChunk: from })
      const outcome = await sendFile(framed, from, {
        size: r.size,
        chunkSize: r.chunkSize,
        sha256: digestOf(r),
        hash: this.handles.sourceHash(r),
        cipher: await this.handles.cipher(r),
        source,
        windowChunks: this.options.windowChunks,
        timeoutMs: this.options.timeoutMs,
        finishTimeoutMs: FINISH_TIMEOUT_MS,
        signal: attempt.controller.signal,
        onDigest: (sha256) => this.keepDigest(k, sha256),
        onAcked: (next) => {
          // A group's file is not followed per member (its record is complete once offered), nor
          // a contact's file per device: the device their card names shows the progress.
          if (ak === k) this.book.progress(k, Math.min(next * r.chunkSize, r.size), attempt)
        },
        onChunkSent: (index) => {
          this.chunksSent++
          this.book.events.emit('sent', { id: r.id, index })
        },
      })
      // Another device of the contact: its having the file completes the transfer; its failure
      // is its own (the card's device may still fetch it).
      if (
        this.active.get(ak) === attempt &&
        (ak === k || r.groupId !== undefined || outcome.type === 'complete')
      )
        await this.finishOut(r.id, outcome)
    } finally {
      this.release(ak, attempt)
    }
  }

  private async finishOut(id: MessageId, outcome: Outcome): Promise<void> {
    const k = keyOf('out', id)
    if (outcome.type === 'complete') await this.book.change(k, { type: 'complete' })
    else if (outcome.type === 'failed') await this.book.change(k, { type: 'fail', reason: outcome.reason })
    else if (outcome.type === 'retry') await this.book.change(k, { type: 'note', note: outcome.note })
    const r = this.book.get(k)
    // A group's file stays open for the other members (closed when the service stops).
    if (r !== undefined && isFinal(r.status) && r.groupId === undefined) await this.handles.closeOut(id)
  }

  private async runReceive(
    framed: FramedStream,
    r: TransferRecord,
    attempt: Attempt,
    /** The stream is to a member who holds the group file, not to its sender. */
    relayed = false,
  ): Promise<void> {
    const k = keyOf('in', r.id)
    if (relayed) this.relayed.add(r.id)
    try {
      let sink: FileSink
      try {
        sink = await this.handles.sink(r)
        if (
          digestOf(r) === undefined &&
          sink.storedChunks > 0 &&
          sink.storedChunks === chunkCount(r.size, r.chunkSize)
        ) {
          // Stored to the end by an attempt whose digest was not kept (its write failed): there is
          // nothing to check the file against, so it is fetched again.
          await this.handles.discardIn(r.id)
          sink = await this.handles.sink(r)
        }
      } catch (error) {
        const outcome: Outcome = FileError.is(error, 'Stopped')
          ? { type: 'retry', note: 'interrupted' }
          : failed('storage')
        await endStream(framed, outcome)
        return await this.finishIn(r.id, outcome)
      }
      let outcome = await receiveFile(framed, {
        fileId: hexToBytes(r.id),
        size: r.size,
        chunkSize: r.chunkSize,
        sha256: digestOf(r),
        cipher: await this.handles.cipher(r),
        sink,
        timeoutMs: this.options.timeoutMs,
        signal: attempt.controller.signal,
        onResume: (fromChunk) => {
          this.book.events.emit('resume', { id: r.id, direction: 'in', fromChunk })
          this.book.progress(k, Math.min(fromChunk * r.chunkSize, r.size), attempt, true)
        },
        onDigest: (sha256) => this.keepDigest(k, sha256),
        onStored: (next) => {
          this.chunksReceived++
          this.book.progress(k, Math.min(next * r.chunkSize, r.size), attempt)
        },
      })
      if (outcome.type === 'failed' && (relayed || this.relayed.has(r.id)))
        outcome = await this.relayFailed(r.id, outcome.reason, relayed)
      await this.finishIn(r.id, outcome)
    } finally {
      this.release(k, attempt)
    }
  }

  private async finishIn(id: MessageId, outcome: Outcome): Promise<void> {
    const k = keyOf('in', id)
    if (outcome.type === 'complete') {
      this.handles.finishedIn(id)
      this.retries.delete(id)
      await this.book.change(k, { type: 'complete', path: outcome.path })
    } else if (outcome.type === 'failed') {
      await this.book.change(k, { type: 'fail', reason: outcome.reason })
    } else if (outcome.type === 'retry') {
      await this.book.change(k, { type: 'note', note: outcome.note })
      this.retryLater(id)
    }
    if (this.book.get(k)?.status === 'failed') await this.discard(id)
  }

  /**
   * A group file that a member other than its sender served (in part) failed. A member who does
   * not hold it is no failure: a later attempt asks its sender again, or another member. But
   * every member holds the per-file key, so one could serve chunks that authenticate and still
   * hash wrong: then whatever came is dropped and the file is fetched again from its sender only.
   */
  private async relayFailed(id: MessageId, reason: FailReason, relayed: boolean): Promise<Outcome> {
    const forged =
      reason === 'hash-mismatch' ||
      reason === 'bad-chunk' ||
      reason === 'size-mismatch' ||
      reason === 'protocol'
    if (!forged && !relayed) return failed(reason) // the sender's own answer stands
    if (forged) {
      this.senderOnly.add(id)
      this.relayed.delete(id)
      await this.handles.discardIn(id)
      this.book.progress(keyOf('in', id), 0, undefined, true)
    }
    return retry('offline')
  }

  /** A complete group file we received, if `peer` may fetch it from us (a member of its group now). */
  private heldFor(fileId: Uint8Array, peer: string): TransferRecord | FileRefusal | undefined {
    const r = this.book.get(keyOf('in', bytesToHex(fileId) as MessageId))
    if (r?.groupId === undefined || r.status !== 'complete' || r.path === undefined) return undefined
    return this.options.groups?.mayFetch(r, peer) === true ? r : 'not-a-member'
  }

  /** Keeps a file's digest in its record (and its message) before the last chunk moves on. */
  private async keepDigest(k: RecordKey, sha256: Uint8Array): Promise<void> {
    await this.book.change(k, { type: 'digest', sha256: bytesToHex(sha256) })
  }

  /** Nothing of a failed incoming file stays behind: no partial data, no handles, no timers. */
  async discard(id: MessageId): Promise<void> {
    const retry = this.retries.get(id)
    if (retry?.timer !== undefined) clearTimeout(retry.timer)
    this.retries.delete(id)
    await this.handles.discardIn(id)
  }

  // ------------------------------------------------------------------ scheduling

  private claim(direction: Direction, r: TransferRecord): Attempt | undefined {
    const k = keyOf(direction, r.id)
    if (this.active.has(k) || this.stopped) return undefined
    const attempt: Attempt = { controller: new AbortController(), startedAt: Date.now(), startBytes: r.bytes }
    this.active.set(k, attempt)
    return attempt
  }

  private release(k: string, attempt: Attempt): void {
    if (this.active.get(k) === attempt) this.active.delete(k)
  }

  schedulePull(id: MessageId, delayMs: number): void {
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

  schedulePush(id: MessageId, delayMs: number): void {
    if (this.stopped || this.messengerRef === undefined) return
    const timer = setTimeout(() => {
      this.pushTimers.delete(timer)
      void this.track(this.push(id))
    }, delayMs)
    this.pushTimers.add(timer)
  }

  /** A contact connected (or was accepted): resume what waits for them, both ways. */
  private resumeWith(contactId: ContactId, connected: boolean): void {
    for (const r of this.book.all()) {
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

  // ------------------------------------------------------------------ lookups

  private messenger(): Messenger {
    if (this.messengerRef === undefined || this.stopped) throw new FileError('Stopped', 'not running')
    return this.messengerRef
  }

  /**
   * The transfer `fileId` in `direction`, only if it is with the peer asking: a 1:1 file with
   * exactly that contact; a group's file we offered with a member of its group now, one we
   * receive with its sender. Otherwise why not (counted by the caller).
   */
  private recordFor(direction: Direction, fileId: Uint8Array, peer: string): TransferRecord | FileRefusal {
    const r = this.book.get(keyOf(direction, bytesToHex(fileId) as MessageId))
    if (r === undefined) return 'unknown-file'
    if (r.groupId !== undefined && direction === 'out')
      return this.options.groups?.mayFetch(r, peer) === true ? r : 'not-a-member'
    // A file we offer a contact goes to each of their devices (the offer did): any listed one
    // fetches it. One we receive comes from the device that offered it.
    const with_ = this.peerOf(r)
    if (direction === 'out') return with_?.devices.includes(peer) === true ? r : 'unknown-file'
    return with_?.peerId === peer ? r : 'unknown-file'
  }

  /**
   * Whom a transfer is with: the contact, or for a group's file its sender; for a file we receive,
   * at the device that offered it (undefined once that device is off their list).
   */
  private peerOf(r: TransferRecord): ContactView | undefined {
    if (r.groupId !== undefined)
      return r.direction === 'in' ? atDevice(this.options.groups?.senderOf(r), r.device) : undefined
    const contact = this.contactById(r.contactId)
    return r.direction === 'in' ? atDevice(contact, r.device) : contact
  }

  private contactById(id: ContactId): ContactView | undefined {
    return this.messengerRef?.contactList().find((c) => c.id === id)
  }

  /** A peer we move files with: an accepted contact, or a member of a group we are in. */
  private fileContact(peerId: string): ContactView | undefined {
    let c: ContactView | undefined
    try {
      c = this.messengerRef?.contact(peerId)
    } catch {
      return undefined
    }
    if (c === undefined || !c.devices.includes(peerId)) return undefined
    return peerMay(c.state, 'open-file-stream') || peerMay(c.state, 'open-group-file-stream') ? c : undefined
  }

  /** Counts (and logs, without content) a stream or offer we refused. */
  refuse(reason: FileRefusal, peer?: PeerId): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1)
    this.options.log?.debug('file refused', { reason, peer: peer?.toString() ?? '' })
  }
}

/**
 * `contact` as reached at `device`, one of their devices (their own addresses are the card
 * device's; another device's are in the peer store, from its address updates and connections).
 * Undefined when `device` is not on their list now: it speaks for them no more.
 */
export function atDevice(
  contact: ContactView | undefined,
  device: string | undefined,
): ContactView | undefined {
  if (contact === undefined || device === undefined || device === contact.peerId) return contact
  return contact.devices.includes(device) ? { ...contact, peerId: device, addrs: [] } : undefined
}

/**
 * Which attempt moves a transfer: one per record, but one per member for a group's file we send,
 * and one per device for a contact's devices other than the one their card names (`main`).
 */
function attemptKey(r: TransferRecord, peer: string, main: string | undefined): string {
  return r.groupId !== undefined || (r.direction === 'out' && peer !== main)
    ? `${keyOf('out', r.id)}@${peer}`
    : keyOf(r.direction, r.id)
}

/** The file's SHA-256, if known yet (the offer's, or kept from its last chunk). */
function digestOf(r: TransferRecord): Uint8Array | undefined {
  return r.sha256 === '' ? undefined : hexToBytes(r.sha256)
}

/** What we tell a peer that asks about a transfer that failed here. */
function rejectFor(r: TransferRecord): 'cancelled' | 'refused' | 'source-changed' | 'source-gone' {
  if (r.reason === 'cancelled' || r.reason === 'source-changed' || r.reason === 'source-gone') return r.reason
  return 'refused'
}
