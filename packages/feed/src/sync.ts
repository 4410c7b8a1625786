/**
 * `/jiayi/feed/1`: peers exchange what they hold per feed and send each other what is missing,
 * on connect and live while connected (PROTOCOL.md, "Sync").
 *
 * Each side pulls: it opens a stream to a contact and sends HAVE (feed, newest key epoch, version
 * vector) for every feed it follows. The server answers with SNAPSHOT/CHUNK and ENTRY frames,
 * then SYNCED, and keeps the stream open, pushing every new entry of those feeds as it is stored
 * (its own posts and the ones it relays). Only accepted contacts are served.
 *
 * Hostile input never escapes: a frame that does not decode or breaks the protocol ends that
 * stream and is counted; a frame that decodes but fails verification is rejected by the engine
 * (counted there) and the stream goes on.
 */
import {
  type FramedStream,
  framedHandler,
  type JiayiNode,
  type Logger,
  NetError,
  openFramed,
  PROTOCOL_FEED,
  type RefusedStream,
} from '@jiayi/core'
import { codeOf, countFailure } from './counters.js'
import type { FeedEngine } from './engine.js'
import { FeedError, isRejection } from './errors.js'
import { type FeedId, feedIdOf, replicaIdOf } from './ids.js'
import { MAX_HAVE_FEEDS, SNAPSHOT_CHUNK_BYTES } from './limits.js'
import { Emitter } from './util.js'
import { mergeVV, type VersionVector } from './version-vector.js'
import {
  decodeFrame,
  encodeFrame,
  type FeedHave,
  type SignedEntry,
  type SnapshotHeader,
  type SyncFrame,
} from './wire.js'

/** libp2p's types, through the node core hands us (feed does not depend on libp2p directly). */
export type PeerId = JiayiNode['peerId']
type Connection = ReturnType<JiayiNode['getConnections']>[number]

export interface FeedSyncInit {
  readonly engine: FeedEngine
  /** Whether `peer` may sync with us (an accepted contact). */
  readonly allow: (peer: PeerId) => boolean
  /** A HAVE from `peer`, e.g. to notice that it lacks our newest feed key. */
  readonly onHave?: (peer: PeerId, feeds: readonly FeedHave[]) => void
  readonly log?: Logger
  /** Dialling and opening a stream gives up after this long. Default 10 s. */
  readonly dialTimeoutMs?: number
}

export interface FeedSyncComponents {
  readonly node: JiayiNode
}

export interface FeedSyncEvents extends Record<string, unknown> {
  /** A server told us it has sent everything we asked for in HAVE round `round`. */
  synced: { readonly peer: string; readonly round: number }
}

const MAX_INBOUND_STREAMS = 8
const RETRY_MIN_MS = 500
const RETRY_MAX_MS = 30_000
const RESYNC_DELAY_MS = 200
/** Unacknowledged bytes a server may have in flight on one stream (core's framing buffers 4 MiB). */
const WINDOW_BYTES = 2 * 1024 * 1024
/** A client acknowledges after finishing with this many bytes. */
const ACK_EVERY_BYTES = 256 * 1024
/** Entries applied (and stored) together at most. */
const MAX_ENTRY_RUN = 256
/** How long `pull` waits for the server's SYNCED (a large first sync may take a while). */
const SYNC_TIMEOUT_MS = 60_000

/** The js-libp2p service-factory shape: `feedSync(init)(components)`. */
export function feedSync(init: FeedSyncInit): (components: FeedSyncComponents) => FeedSync {
  return (components) => new FeedSync(init, components)
}

export class FeedSync {
  readonly events = new Emitter<FeedSyncEvents>()
  private readonly pullers = new Map<string, Puller>()
  private readonly opening = new Map<string, Promise<Puller>>()
  private readonly retries = new Map<string, { timer?: ReturnType<typeof setTimeout>; delay: number }>()
  private readonly serving = new Set<ServeSession>()
  private readonly engine: FeedEngine
  private readonly node: JiayiNode
  private readonly onConnect = (e: Event) => this.connected((e as CustomEvent<PeerId>).detail)
  private stopped = false

  constructor(
    private readonly init: FeedSyncInit,
    components: FeedSyncComponents,
  ) {
    this.engine = init.engine
    this.node = components.node
  }

  async start(): Promise<void> {
    const handler = framedHandler(PROTOCOL_FEED, (framed, connection) => this.serve(framed, connection), {
      allow: (peer) => !this.stopped && this.init.allow(peer),
      onRefused: (r) => this.refused(r),
    })
    await this.node.handle(PROTOCOL_FEED, handler, { maxInboundStreams: MAX_INBOUND_STREAMS })
    this.node.addEventListener('peer:connect', this.onConnect)
    for (const connection of this.node.getConnections()) this.connected(connection.remotePeer)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.node.removeEventListener('peer:connect', this.onConnect)
    for (const r of this.retries.values()) clearTimeout(r.timer)
    this.retries.clear()
    for (const p of this.pullers.values()) p.close()
    for (const s of this.serving) s.abort()
    await this.node.unhandle(PROTOCOL_FEED).catch(() => undefined)
  }

  private connected(peer: PeerId): void {
    if (!this.stopped && this.init.allow(peer)) void this.pull(peer).catch(() => undefined)
  }

  /**
   * Syncs with `peer` (opening a stream unless one is open, else sending a fresh HAVE on it).
   * Resolves once the peer has sent everything we lacked; rejects if it cannot be reached.
   */
  async pull(peer: PeerId): Promise<void> {
    if (this.stopped) throw new FeedError('Stopped', 'feed sync is stopped')
    const key = peer.toString()
    const existing = this.pullers.get(key)
    if (existing !== undefined && !existing.ended) return existing.sendHave()
    let opening = this.opening.get(key)
    if (opening !== undefined) {
      const puller = await opening
      return puller.sendHave()
    }
    opening = this.open(peer)
    this.opening.set(key, opening)
    let puller: Puller
    try {
      puller = await opening
    } finally {
      this.opening.delete(key)
    }
    await puller.sendHave()
    // A good sync resets the back-off.
    const retry = this.retries.get(key)
    if (retry !== undefined) retry.delay = RETRY_MIN_MS
  }

  private async open(peer: PeerId): Promise<Puller> {
    const key = peer.toString()
    const framed = await openFramed(this.node, peer, PROTOCOL_FEED, {
      signal: AbortSignal.timeout(this.init.dialTimeoutMs ?? 10_000),
    })
    if (this.stopped) {
      framed.abort(new FeedError('Stopped', 'feed sync is stopped'))
      throw new FeedError('Stopped', 'feed sync is stopped')
    }
    const puller = new Puller(this.engine, framed, key, this.events, this.init.log)
    this.pullers.get(key)?.close()
    this.pullers.set(key, puller)
    void puller.run().then((healthy) => {
      if (this.pullers.get(key) === puller) this.pullers.delete(key)
      this.retryLater(peer, healthy)
    })
    return puller
  }

  /** Sends a fresh HAVE on every open pull (we got a new key, or started following a feed). */
  refresh(): void {
    for (const p of this.pullers.values()) void p.sendHave().catch(() => undefined)
  }

  /** Peers we are pulling from right now. */
  pulling(): string[] {
    return [...this.pullers.keys()]
  }

  /** While still connected and allowed, try again with a growing delay. */
  private retryLater(peer: PeerId, healthy: boolean): void {
    if (this.stopped || !this.init.allow(peer)) return
    const key = peer.toString()
    const state = this.retries.get(key) ?? { delay: RETRY_MIN_MS }
    if (healthy) state.delay = RETRY_MIN_MS
    clearTimeout(state.timer)
    state.timer = setTimeout(() => {
      state.timer = undefined
      if (this.stopped || this.node.getConnections(peer).length === 0) return
      void this.pull(peer).catch(() => this.retryLater(peer, false))
    }, state.delay)
    state.delay = Math.min(state.delay * 2, RETRY_MAX_MS)
    this.retries.set(key, state)
  }

  // ------------------------------------------------------------------ serving

  private async serve(framed: FramedStream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    const session = new ServeSession(this.engine, framed)
    this.serving.add(session)
    const from = peer.toString()
    const unsubscribe = this.engine.events.on('appended', (e) =>
      e.from === from ? session.received(e.feed, e.vv) : session.schedule(e.feed),
    )
    try {
      for (;;) {
        const bytes = await framed.read()
        if (bytes === null) break
        this.engine.counters.add('framesIn')
        this.engine.counters.add('bytesIn', bytes.length)
        const frame = decodeFrame(bytes)
        if (frame.type === 'ack') {
          session.ack(frame.consumed)
          continue
        }
        if (frame.type !== 'have') throw new FeedError('Protocol', 'a server only accepts HAVE and ACK')
        this.init.onHave?.(peer, frame.feeds)
        session.have(frame.round, frame.feeds)
      }
      await session.drain()
      await framed.close().catch(() => undefined)
    } finally {
      unsubscribe()
      session.close()
      this.serving.delete(session)
    }
  }

  private refused(r: RefusedStream): void {
    countFailure(this.engine.counters, r.code)
    this.init.log?.debug('feed stream refused', { code: r.code, peer: r.remotePeer.toString() })
  }
}

/** Frames we write, counted. */
async function send(engine: FeedEngine, framed: FramedStream, frame: SyncFrame): Promise<number> {
  const bytes = encodeFrame(frame)
  await framed.write(bytes)
  engine.counters.add('framesOut')
  engine.counters.add('bytesOut', bytes.length)
  return bytes.length
}

/**
 * The server's writes under flow control. A libp2p stream buffers what arrives whether or not
 * the reader keeps up (core's framing aborts past 4 MiB), so the server keeps at most WINDOW_BYTES
 * of frames unacknowledged, and the client sends ACK as it finishes with them.
 */
class WindowedWriter {
  private sent = 0
  private acked = 0
  private waiters: (() => void)[] = []
  private closed = false

  constructor(
    private readonly engine: FeedEngine,
    private readonly framed: FramedStream,
  ) {}

  async write(frame: SyncFrame): Promise<void> {
    const length = encodeFrame(frame).length
    while (!this.closed && this.sent - this.acked + length > WINDOW_BYTES && this.sent > this.acked) {
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
    if (this.closed) throw new FeedError('Stopped', 'stream closed')
    this.sent += await send(this.engine, this.framed, frame)
  }

  ack(consumed: number): void {
    if (consumed < this.acked || consumed > this.sent) throw new FeedError('Protocol', 'ACK out of range')
    this.acked = consumed
    this.wake()
  }

  close(): void {
    this.closed = true
    this.wake()
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

/** The server side of one stream: what the requester holds per feed, and a queue of writes. */
class ServeSession {
  private readonly subs = new Map<FeedId, { known: VersionVector; maxEpoch: number }>()
  private readonly scheduled = new Set<FeedId>()
  private readonly writer: WindowedWriter
  private chain: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly engine: FeedEngine,
    private readonly framed: FramedStream,
  ) {
    this.writer = new WindowedWriter(engine, framed)
  }

  ack(consumed: number): void {
    this.writer.ack(consumed)
  }

  have(round: number, feeds: readonly FeedHave[]): void {
    const ids: FeedId[] = []
    for (const f of feeds) {
      const id = feedIdOf(f.feed)
      if (!this.subs.has(id) && this.subs.size >= MAX_HAVE_FEEDS) continue
      // The requester's word replaces what we assumed it got: it may have rejected something.
      this.subs.set(id, { known: f.vv, maxEpoch: f.maxEpoch })
      ids.push(id)
    }
    this.enqueue(async () => {
      for (const id of ids) await this.flush(id)
      await this.writer.write({ type: 'synced', round })
    })
  }

  /** The requester itself sent us this (on its own stream): it need not get it back. */
  received(feed: FeedId, vv: VersionVector): void {
    const sub = this.subs.get(feed)
    if (sub !== undefined) sub.known = mergeVV(sub.known, vv)
  }

  /** Something new was stored for `feed`: push it if the requester follows that feed. */
  schedule(feed: FeedId): void {
    if (!this.subs.has(feed) || this.scheduled.has(feed)) return
    this.scheduled.add(feed)
    this.enqueue(async () => {
      this.scheduled.delete(feed)
      await this.flush(feed)
    })
  }

  private async flush(feed: FeedId): Promise<void> {
    const sub = this.subs.get(feed)
    if (sub === undefined) return
    for await (const item of this.engine.missing(feed, sub.known, sub.maxEpoch)) {
      if (this.closed) return
      if (item.kind === 'entry') {
        await this.writer.write({ type: 'entry', entry: item.entry })
        const known = new Map(sub.known)
        known.set(replicaIdOf(item.entry.replica), item.entry.seq)
        sub.known = known
      } else {
        await this.sendSnapshot(item.snapshot)
        sub.known = mergeVV(sub.known, item.snapshot.vv)
      }
    }
  }

  private async sendSnapshot(snapshot: SnapshotHeader & { sealed: Uint8Array }): Promise<void> {
    const { sealed, ...header } = snapshot
    await this.writer.write({ type: 'snapshot', header })
    for (let offset = 0; offset < sealed.length; offset += SNAPSHOT_CHUNK_BYTES) {
      const bytes = sealed.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES)
      await this.writer.write({ type: 'chunk', offset, bytes })
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed) return
      try {
        await task()
      } catch (error) {
        // The stream failed under us (or the store did): end the session; the peer will retry.
        this.close()
        this.framed.abort(error instanceof Error ? error : new NetError('StreamError', 'write failed'))
      }
    })
  }

  async drain(): Promise<void> {
    await this.chain
  }

  close(): void {
    this.closed = true
    this.writer.close()
  }

  /** Ends the stream now (the service is stopping). */
  abort(): void {
    this.close()
    this.framed.abort(new FeedError('Stopped', 'feed sync is stopped'))
  }
}

/** The client side of one stream: sends HAVE, applies what comes back. */
class Puller {
  ended = false
  private round = 0
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>()
  private assembling:
    | { header: SnapshotHeader; parts: Uint8Array[]; received: number; discard: boolean }
    | undefined
  private resyncTimer: ReturnType<typeof setTimeout> | undefined
  private writes: Promise<void> = Promise.resolve()
  private consumed = 0
  private lastAck = 0
  private readonly inbox: Uint8Array[] = []
  private inboxBytes = 0
  private readerDone = false
  private wakeConsumer: (() => void) | undefined

  constructor(
    private readonly engine: FeedEngine,
    private readonly framed: FramedStream,
    readonly peer: string,
    private readonly events: Emitter<FeedSyncEvents>,
    private readonly log: Logger | undefined,
  ) {}

  /**
   * Sends HAVE for every feed we follow; resolves when the server answers SYNCED for it, rejects
   * (NetError Timeout) if it does not within SYNC_TIMEOUT_MS (the stream stays open).
   */
  sendHave(): Promise<void> {
    if (this.ended) return Promise.reject(new FeedError('Stopped', 'stream ended'))
    const round = ++this.round
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(round)
        reject(new NetError('Timeout', 'no SYNCED in time'))
      }, SYNC_TIMEOUT_MS)
      const done = () => clearTimeout(timer)
      this.waiting.set(round, {
        resolve: () => {
          done()
          resolve()
        },
        reject: (e) => {
          done()
          reject(e)
        },
      })
    })
    const feeds = this.engine.have().slice(0, MAX_HAVE_FEEDS)
    this.writes = this.writes
      .then(() => send(this.engine, this.framed, { type: 'have', round, feeds }))
      .then(
        () => undefined,
        (error) => this.fail(error),
      )
    return answered
  }

  private sendAck(): void {
    this.lastAck = this.consumed
    const consumed = this.consumed
    this.writes = this.writes
      .then(() => send(this.engine, this.framed, { type: 'ack', consumed }))
      .then(
        () => undefined,
        (error) => this.fail(error),
      )
  }

  /**
   * Reads until the stream ends; true if it ended cleanly. Frames are read as they arrive and
   * applied in order by a second loop, so that a run of ENTRY frames that piled up while a
   * snapshot was being applied goes into the store as one batch.
   */
  async run(): Promise<boolean> {
    let clean = false
    const reading = (async () => {
      try {
        for (;;) {
          const bytes = await this.framed.read()
          if (bytes === null) {
            clean = true
            return
          }
          this.engine.counters.add('framesIn')
          this.engine.counters.add('bytesIn', bytes.length)
          this.inbox.push(bytes)
          this.inboxBytes += bytes.length
          // A server that ignores the window would make us buffer without end.
          if (this.inboxBytes > WINDOW_BYTES + this.framed.maxFrameBytes) {
            throw new FeedError('Protocol', 'the server ignored the flow-control window')
          }
          this.wake()
        }
      } finally {
        this.readerDone = true
        this.wake()
      }
    })()
    reading.catch(() => undefined)
    try {
      await this.consume()
      await reading
      this.finish(new FeedError('Stopped', 'the server closed the stream'))
      return clean
    } catch (error) {
      this.fail(error)
      return false
    }
  }

  private wake(): void {
    const wake = this.wakeConsumer
    this.wakeConsumer = undefined
    wake?.()
  }

  /** Applies what the reader queued, in order, until the reader is done and the queue is empty. */
  private async consume(): Promise<void> {
    for (;;) {
      if (this.ended) return
      if (this.inbox.length === 0) {
        if (this.readerDone) return
        await new Promise<void>((resolve) => {
          this.wakeConsumer = resolve
        })
        continue
      }
      const batch = this.inbox.splice(0)
      let entries: SignedEntry[] = []
      let entryBytes = 0
      const flush = async () => {
        if (entries.length === 0) return
        const run = entries
        entries = []
        const verdicts = await this.engine.ingestEntries(run, this.peer)
        if (verdicts.some((v) => v?.code === 'OutOfOrder')) this.resyncSoon()
        this.done(entryBytes)
        entryBytes = 0
      }
      for (const bytes of batch) {
        const frame = decodeFrame(bytes)
        if (frame.type === 'entry' && this.assembling === undefined && entries.length < MAX_ENTRY_RUN) {
          entries.push(frame.entry)
          entryBytes += bytes.length
          continue
        }
        await flush()
        await this.handle(frame)
        this.done(bytes.length)
      }
      await flush()
    }
  }

  /** `bytes` of server frames are finished with: acknowledge now and then. */
  private done(bytes: number): void {
    this.inboxBytes -= bytes
    this.consumed += bytes
    if (this.consumed - this.lastAck >= ACK_EVERY_BYTES) this.sendAck()
  }

  private async handle(frame: SyncFrame): Promise<void> {
    switch (frame.type) {
      case 'entry':
        if (this.assembling !== undefined) throw new FeedError('Protocol', 'entry inside a snapshot')
        await this.tolerate(this.engine.ingestEntry(frame.entry, this.peer))
        return
      case 'snapshot': {
        if (this.assembling !== undefined) throw new FeedError('Protocol', 'snapshot inside a snapshot')
        let discard = false
        try {
          this.engine.checkSnapshotHeader(frame.header)
        } catch (error) {
          if (!isRejection(error)) throw error
          discard = true
        }
        this.assembling = { header: frame.header, parts: [], received: 0, discard }
        return
      }
      case 'chunk': {
        const a = this.assembling
        if (a === undefined) throw new FeedError('Protocol', 'chunk without a snapshot')
        if (frame.offset !== a.received || a.received + frame.bytes.length > a.header.sealedBytes) {
          throw new FeedError('Protocol', 'chunk out of place')
        }
        a.received += frame.bytes.length
        if (!a.discard) a.parts.push(frame.bytes)
        if (a.received < a.header.sealedBytes) return
        this.assembling = undefined
        if (a.discard) return
        const sealed = new Uint8Array(a.received)
        let offset = 0
        for (const p of a.parts) {
          sealed.set(p, offset)
          offset += p.length
        }
        await this.tolerate(this.engine.ingestSnapshot({ ...a.header, sealed }, this.peer))
        return
      }
      case 'synced':
        for (const [round, w] of this.waiting) {
          if (round <= frame.round) {
            w.resolve()
            this.waiting.delete(round)
          }
        }
        this.events.emit('synced', { peer: this.peer, round: frame.round })
        return
      case 'have':
      case 'ack':
        throw new FeedError('Protocol', 'a client accepts no HAVE or ACK')
    }
  }

  /** Rejections are counted by the engine and do not end the stream; a gap asks again. */
  private async tolerate(work: Promise<void>): Promise<void> {
    try {
      await work
    } catch (error) {
      if (!isRejection(error)) throw error
      if (error.code === 'OutOfOrder') this.resyncSoon()
    }
  }

  private resyncSoon(): void {
    if (this.resyncTimer !== undefined || this.ended) return
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined
      void this.sendHave().catch(() => undefined)
    }, RESYNC_DELAY_MS)
  }

  private fail(error: unknown): void {
    if (this.ended) return
    const code = codeOf(error)
    // Engine rejections inside a frame were counted by the engine and tolerated; this is the rest.
    countFailure(this.engine.counters, code)
    this.log?.debug('feed pull failed', { code, peer: this.peer })
    this.framed.abort(error instanceof Error ? error : new FeedError('Protocol', 'pull failed'))
    this.finish(error)
  }

  private finish(error: unknown): void {
    this.ended = true
    clearTimeout(this.resyncTimer)
    for (const w of this.waiting.values()) w.reject(error)
    this.waiting.clear()
  }

  close(): void {
    if (this.ended) return
    this.framed.abort(new FeedError('Stopped', 'feed sync is stopped'))
    this.finish(new FeedError('Stopped', 'feed sync is stopped'))
  }
}
