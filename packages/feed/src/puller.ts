/**
 * The client side of one /jiayi/feed/2 stream: waits for the server's challenge, sends HAVE (a
 * proof of each feed key it holds, bound to that challenge), applies what comes back (entries in
 * batched runs, snapshots reassembled from their chunks), acknowledges what it finished with.
 */

import type { Emitter } from '@jiayi/core'
import { type FramedStream, type Logger, NetError } from '@jiayi/core'
import { codeOf, countFailure } from './counters.js'
import type { FeedEngine } from './engine.js'
import { FeedError, isRejection } from './errors.js'
import { makeClaims } from './have-proof.js'
import { ACK_EVERY_BYTES, send, WINDOW_BYTES } from './serve-session.js'
import { decodeFrame, type SignedEntry, type SnapshotHeader, type SyncFrame } from './wire.js'

export interface FeedSyncEvents extends Record<string, unknown> {
  /** A server told us it has sent everything we asked for in HAVE round `round`. */
  synced: { readonly peer: string; readonly round: number }
}

const RESYNC_DELAY_MS = 200
/** Entries applied (and stored) together at most. */
const MAX_ENTRY_RUN = 256
/** How long `pull` waits for the server's SYNCED (a large first sync may take a while). */
const SYNC_TIMEOUT_MS = 60_000

/** The client side of one stream: sends HAVE, applies what comes back. */
export class Puller {
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
  /** The server's challenge: HAVE waits for it (every proof is bound to it). */
  private challenge: Uint8Array | undefined
  private readonly challenged: Promise<Uint8Array>
  private onChallenge!: { resolve: (nonce: Uint8Array) => void; reject: (e: unknown) => void }
  /** The server's peer id. */
  readonly peer: string

  constructor(
    private readonly engine: FeedEngine,
    private readonly framed: FramedStream,
    private readonly ends: { readonly server: string; readonly client: string },
    private readonly events: Emitter<FeedSyncEvents>,
    private readonly log: Logger | undefined,
  ) {
    this.peer = ends.server
    this.challenged = new Promise<Uint8Array>((resolve, reject) => {
      this.onChallenge = { resolve, reject }
    })
    this.challenged.catch(() => undefined)
  }

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
    this.writes = this.writes
      .then(async () => {
        const challenge = await this.challenged
        // The claims are made when the HAVE goes out, with the keys held then.
        const claims = makeClaims(this.engine, this.engine.have(), { ...this.ends, challenge })
        await send(this.engine, this.framed, { type: 'have', round, claims })
      })
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
        if ((this.challenge === undefined) !== (frame.type === 'challenge')) {
          throw new FeedError(
            'Protocol',
            'a stream starts with one challenge, and only the first frame is one',
          )
        }
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
      case 'challenge':
        this.challenge = frame.nonce
        this.onChallenge.resolve(frame.nonce)
        return
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
    this.onChallenge.reject(error)
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
