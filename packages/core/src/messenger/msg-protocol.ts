/**
 * /jiayi/msg/1: the dialler writes Envelope frames, the listener answers each with an Ack frame
 * once the envelope is durably processed (or refused). Frames are MsgFrame protobufs, each
 * length-prefixed and at most MAX_FRAME_BYTES['/jiayi/msg/1']. See PROTOCOL.md.
 *
 * The sender pipelines up to WINDOW unacknowledged envelopes; the listener reads up to READ_AHEAD
 * of them ahead of its acks and processes them one after another, in order, which keeps the
 * order of each conversation.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { type ConnectionRoute, connectionRoute } from '../net/connection-info.js'
import { NetError } from '../net/errors.js'
import { openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import type { JiayiNode } from '../net/network-stack.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import { Ack, Envelope, MsgFrame } from './wire.pb.js'

/**
 * The most envelopes a sender keeps unacknowledged on a stream. At full speed acks come back in
 * bursts (ACK_COALESCE_MS, and the listener's disk writes are grouped), so the window must cover
 * a few of those bursts or the listener runs dry while the sender waits: at 256 the receiving
 * peer idled a quarter of the time at full speed.
 */
export const WINDOW = 1024
/**
 * How much of a full window must be acknowledged before the sender writes again. Acks are read
 * one frame at a time; refilling the window per ack sent ~1.2 envelopes per write at full speed,
 * and each write costs a Yamux frame, a Noise encryption and a socket write here and a read on the
 * other side. Refilled half a window at a time, a backlog goes out in a few large writes.
 */
export const REFILL = WINDOW / 2
/**
 * The most envelope bytes a sender keeps unacknowledged. The listener reads only READ_AHEAD
 * envelopes ahead of its acks; the rest of the window waits in its read buffer, which resets the
 * stream past 4 MiB (framing.ts). Half of that leaves room for the frames it has read; a backlog
 * of 16 KiB texts is ~120 envelopes in flight.
 */
export const WINDOW_BYTES = 2 * 1024 * 1024
/**
 * How many envelopes a listener reads ahead of its acks (the rest wait in the muxer's flow
 * control): this bounds what one stream makes it hold, at most READ_AHEAD frames of 64 KiB.
 */
export const READ_AHEAD = 256
/** How long a sender waits for the next ack before it gives the stream up. */
export const ACK_TIMEOUT_MS = 20_000
/** How long a listener keeps an idle stream open. */
export const IDLE_TIMEOUT_MS = 120_000
/**
 * How long a listener holds a ready ack for the ones behind it. Each ack is a frame the listener
 * encrypts and writes and the sender reads and decrypts; at 1,000 msg/s they came one per write.
 * Nothing waits on an ack but the sender's 'sent' tick and the windows (10 ms of held acks keep
 * fewer than READ_AHEAD envelopes unanswered up to 25,000 msg/s). At 1,000 msg/s, 2 ms still meant
 * an ack frame for every two envelopes; 10 ms makes it one for ten.
 */
export const ACK_COALESCE_MS = 10

export type EnvelopeType = 'prekey' | 'message'
/** 'stale': a PreKey message names prekeys the peer no longer holds; the sender starts anew. */
export type AckStatus = 'ok' | 'rejected' | 'retry' | 'stale'

const ACK_STATUS: Record<AckStatus, Ack.Status> = {
  ok: Ack.Status.OK,
  rejected: Ack.Status.REJECTED,
  retry: Ack.Status.RETRY,
  stale: Ack.Status.STALE,
}

export interface OutgoingEnvelope {
  readonly ref: number
  readonly type: EnvelopeType
  readonly body: Uint8Array
}

export interface IncomingEnvelope {
  readonly type: EnvelopeType
  readonly body: Uint8Array
}

export class MalformedFrameError extends Error {
  readonly code = 'MalformedFrame'
}

export function encodeEnvelopeFrame(e: OutgoingEnvelope): Uint8Array {
  return MsgFrame.encode({
    envelope: {
      ref: e.ref,
      type: e.type === 'prekey' ? Envelope.Type.PREKEY : Envelope.Type.MESSAGE,
      body: e.body as Uint8Array<ArrayBuffer>,
    },
  })
}

function decodeFrame(bytes: Uint8Array): MsgFrame {
  try {
    return MsgFrame.decode(bytes)
  } catch {
    throw new MalformedFrameError('frame is not a MsgFrame')
  }
}

/**
 * Serves one inbound stream: each envelope goes to `onEnvelope`, whose verdict is sent back as the
 * ack, in order. Envelopes are handed over as they arrive (up to READ_AHEAD awaiting their verdict),
 * so their disk writes can be grouped, and acks leave together: ready ones wait ACK_COALESCE_MS
 * for those behind them while the stream is still being read.
 * `onEnvelope` must start its per-conversation work synchronously to keep the order. Throws
 * MalformedFrameError on a frame that is not an envelope (the caller counts it and resets the
 * stream), after acknowledging the envelopes before it.
 */
export async function serveMsgStream(
  framed: FramedStream,
  connection: Connection,
  onEnvelope: (from: PeerId, envelope: IncomingEnvelope, connection: Connection) => Promise<AckStatus>,
  options: { idleTimeoutMs?: number } = {},
): Promise<void> {
  const queue: { ack?: Uint8Array; ready: Promise<void> }[] = []
  const signal = new Signal()
  let reading = true
  let awaitingFrame = false
  const idle = new QuietWatchdog(options.idleTimeoutMs ?? IDLE_TIMEOUT_MS, () => awaitingFrame)
  let writeError: unknown
  const writer = (async () => {
    try {
      for (;;) {
        const head = queue[0]
        if (head === undefined) {
          if (!reading) return
          await signal.wait()
          continue
        }
        await head.ready
        if (reading) await delay(ACK_COALESCE_MS)
        let n = 0
        while (n < queue.length && queue[n]!.ack !== undefined) n++
        const acks = queue.splice(0, n).map((item) => item.ack!)
        signal.notify()
        await framed.writeMany(acks)
      }
    } catch (error) {
      writeError = error
      signal.notify()
    }
  })()
  try {
    for (;;) {
      while (queue.length >= READ_AHEAD && writeError === undefined) await signal.wait()
      if (writeError !== undefined) throw writeError
      awaitingFrame = true
      idle.progress()
      let bytes: Uint8Array | null
      try {
        bytes = await framed.read({ signal: idle.signal })
      } catch (error) {
        throw idle.timedOut ? new NetError('Timeout', 'the stream stayed idle too long') : error
      }
      awaitingFrame = false
      if (bytes === null) break
      const frame = decodeFrame(bytes)
      const envelope = frame.envelope
      if (envelope === undefined || frame.ack !== undefined)
        throw new MalformedFrameError('expected an envelope')
      if (envelope.type !== Envelope.Type.MESSAGE && envelope.type !== Envelope.Type.PREKEY) {
        throw new MalformedFrameError('unknown envelope type')
      }
      const type = envelope.type === Envelope.Type.PREKEY ? 'prekey' : 'message'
      const item: { ack?: Uint8Array; ready: Promise<void> } = { ready: Promise.resolve() }
      const ref = envelope.ref
      item.ready = onEnvelope(connection.remotePeer, { type, body: envelope.body }, connection).then(
        (status) => {
          item.ack = encodeAck(ref, status)
        },
      )
      queue.push(item)
      signal.notify()
    }
  } finally {
    idle.stop()
    reading = false
    signal.notify()
    await writer
  }
  if (writeError !== undefined) throw writeError
  await framed.close()
}

function encodeAck(ref: number, status: AckStatus): Uint8Array {
  return MsgFrame.encode({
    ack: {
      ref,
      status: ACK_STATUS[status],
    },
  })
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Wakes whoever waits; used by the two halves of a stream to wait for each other. */
class Signal {
  private waiters: (() => void)[] = []

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  notify(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

/**
 * Sends envelopes over one stream, pulling them in batches from `next` (an empty batch ends the
 * stream) as the window allows, several frames per write, and reports each ack in order to
 * `onAck` (awaited). Resolves when everything pulled is acknowledged; throws when the stream
 * fails or an ack does not come in time (what was acknowledged stays acknowledged).
 */
export async function sendEnvelopes(
  node: JiayiNode,
  peer: PeerId,
  next: () => Promise<readonly OutgoingEnvelope[]>,
  onAck: (ref: number, status: AckStatus, route: ConnectionRoute | undefined) => Promise<void>,
  options: { signal?: AbortSignal; ackTimeoutMs?: number } = {},
): Promise<void> {
  let batch = await next()
  if (batch.length === 0) return
  const framed = await openFramed(node, peer, PROTOCOL_MSG, {
    signal: options.signal,
    runOnLimitedConnection: true,
  })
  const window = new SendWindow()
  const route = routeOf(node, peer, framed.stream)
  const signal = new Signal()
  let done = false
  let stopped = false
  let writeError: unknown
  const writer = (async () => {
    try {
      while (batch.length > 0 && !stopped) {
        let offset = 0
        while (offset < batch.length) {
          // A full window (in envelopes or in bytes) waits until half of it is acknowledged, so
          // what is queued behind it goes out together instead of one envelope per ack read.
          if (!window.fits(batch[offset]!)) {
            while (!stopped && !window.halfEmpty()) await signal.wait()
          }
          if (stopped) return
          const slice: OutgoingEnvelope[] = []
          while (offset < batch.length && window.fits(batch[offset]!)) {
            const e = batch[offset++]!
            window.add(e)
            slice.push(e)
          }
          signal.notify()
          await framed.writeMany(slice.map(encodeEnvelopeFrame), { signal: options.signal })
        }
        batch = await next()
      }
    } catch (error) {
      writeError = error
    } finally {
      done = true
      signal.notify()
    }
  })()
  const watchdog = new QuietWatchdog(
    options.ackTimeoutMs ?? ACK_TIMEOUT_MS,
    () => window.size > 0,
    options.signal,
  )
  try {
    for (;;) {
      if (writeError !== undefined) throw writeError
      if (window.size === 0) {
        if (done) break
        await signal.wait()
        watchdog.progress() // nothing was due while nothing was pending
        continue
      }
      const bytes = await framed.read({ signal: watchdog.signal })
      if (bytes === null)
        throw new MalformedFrameError('stream closed before every envelope was acknowledged')
      const ack = decodeFrame(bytes).ack
      if (ack === undefined || !window.acknowledge(ack.ref)) throw new MalformedFrameError('unexpected ack')
      watchdog.progress()
      signal.notify()
      // A status this version does not know means "not now".
      const status: AckStatus =
        ack.status === Ack.Status.OK
          ? 'ok'
          : ack.status === Ack.Status.REJECTED
            ? 'rejected'
            : ack.status === Ack.Status.STALE
              ? 'stale'
              : 'retry'
      await onAck(ack.ref, status, route)
    }
    await writer
    await framed.close()
  } catch (error) {
    stopped = true
    signal.notify()
    framed.abort(error instanceof Error ? error : new Error('send failed'))
    await writer
    throw watchdog.timedOut ? new NetError('Timeout', 'the peer stopped acknowledging envelopes') : error
  } finally {
    watchdog.stop()
  }
}

/** The envelopes a sender has on the wire, unacknowledged: at most WINDOW, and WINDOW_BYTES. */
class SendWindow {
  readonly #bytes = new Map<number, number>()
  #total = 0

  get size(): number {
    return this.#bytes.size
  }

  /** Whether `e` may go now (one envelope always may, when nothing is pending). */
  fits(e: OutgoingEnvelope): boolean {
    if (this.#bytes.size === 0) return true
    return this.#bytes.size < WINDOW && this.#total + e.body.length <= WINDOW_BYTES
  }

  /** At most half full in both measures: anything may go again (an envelope is at most 64 KiB). */
  halfEmpty(): boolean {
    return this.#bytes.size <= WINDOW - REFILL && this.#total <= WINDOW_BYTES / 2
  }

  add(e: OutgoingEnvelope): void {
    this.#bytes.set(e.ref, e.body.length)
    this.#total += e.body.length
  }

  /** False for a ref that is not pending. */
  acknowledge(ref: number): boolean {
    const bytes = this.#bytes.get(ref)
    if (bytes === undefined) return false
    this.#bytes.delete(ref)
    this.#total -= bytes
    return true
  }
}

/**
 * Aborts `signal` once nothing happened (`progress`) for `ms` while something was `due`: one timer
 * for a whole stream, re-armed only when it fires, instead of a deadline (an AbortSignal with its
 * own timer) for every frame read. Used for the sender's ack timeout and the listener's idle one.
 */
class QuietWatchdog {
  timedOut = false
  readonly #controller = new AbortController()
  readonly signal = this.#controller.signal
  #last = performance.now()
  #timer: ReturnType<typeof setTimeout> | undefined
  #parent: AbortSignal | undefined
  /**
   * Passes the caller's abort on. Not AbortSignal.any: Node keeps every signal made from a
   * long-lived parent (the outbox pump's lives as long as the messenger) for as long as it lives.
   */
  readonly #onParentAbort = () => this.#controller.abort(this.#parent?.reason)

  constructor(
    private readonly ms: number,
    private readonly due: () => boolean,
    parent?: AbortSignal,
  ) {
    if (parent?.aborted) this.#controller.abort(parent.reason)
    else if (parent !== undefined) {
      this.#parent = parent
      parent.addEventListener('abort', this.#onParentAbort, { once: true })
    }
    this.#arm(ms)
  }

  /** Something came (or the wait for it starts now). */
  progress(): void {
    this.#last = performance.now()
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#parent?.removeEventListener('abort', this.#onParentAbort)
    this.#parent = undefined
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      const quiet = performance.now() - this.#last
      if (!this.due()) return this.#arm(this.ms)
      if (quiet < this.ms) return this.#arm(this.ms - quiet)
      this.timedOut = true
      this.#controller.abort(new NetError('Timeout', 'nothing came in time'))
    }, ms)
  }
}

/** How the stream's connection travels (what the message bubbles show). */
function routeOf(node: JiayiNode, peer: PeerId, stream: Stream): ConnectionRoute | undefined {
  const connection = node.getConnections(peer).find((c) => c.streams.includes(stream))
  return connection === undefined ? undefined : connectionRoute(connection)
}
