/**
 * The server side of one /jiayi/feed/2 stream: what the requester holds per feed, and the frames
 * it lacks, written under flow control (PROTOCOL.md, "Sync").
 */
import { type FramedStream, NetError } from '@jiayi/core'
import type { FeedEngine } from './engine.js'
import { FeedError } from './errors.js'
import { type FeedId, feedIdOf, replicaIdOf } from './ids.js'
import { MAX_HAVE_FEEDS } from './limits.js'
import { mergeVV, type VersionVector } from './version-vector.js'
import { encodeFrame, type FeedHave, type SnapshotHeader, type SyncFrame, snapshotFrames } from './wire.js'

/** Unacknowledged bytes a server may have in flight on one stream (core's framing buffers 4 MiB). */
export const WINDOW_BYTES = 2 * 1024 * 1024
/** A client acknowledges after finishing with this many bytes. */
export const ACK_EVERY_BYTES = 256 * 1024

/** Frames we write, counted. */
export async function send(engine: FeedEngine, framed: FramedStream, frame: SyncFrame): Promise<number> {
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
export class ServeSession {
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

  /** The stream's first frame: the challenge the requester's proofs are bound to. */
  challenge(nonce: Uint8Array): void {
    this.enqueue(() => this.writer.write({ type: 'challenge', nonce }))
  }

  /** A HAVE whose claims proved the current key of `feeds` (have-proof.ts); nothing else is served. */
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
    // The feed's key moved on since the requester proved it (a contact was removed): it gets
    // nothing more until it proves the new one.
    if (this.engine.maxEpoch(feed) !== sub.maxEpoch) {
      this.subs.delete(feed)
      return
    }
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
    for (const frame of snapshotFrames(snapshot)) await this.writer.write(frame)
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
