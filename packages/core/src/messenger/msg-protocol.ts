/**
 * /jiayi/msg/1: the dialler writes Envelope frames, the listener answers each with an Ack frame
 * once the envelope is durably processed (or refused). Frames are MsgFrame protobufs, each
 * length-prefixed and at most MAX_FRAME_BYTES['/jiayi/msg/1']. See PROTOCOL.md.
 *
 * The sender pipelines up to WINDOW unacknowledged envelopes; the listener processes them one
 * after another, in order, which keeps the order of each conversation.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import type { JiayiNode } from '../net/network-stack.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import { Ack, Envelope, MsgFrame } from './wire.pb.js'

export const WINDOW = 64
/** How long a sender waits for the next ack before it gives the stream up. */
export const ACK_TIMEOUT_MS = 20_000
/** How long a listener keeps an idle stream open. */
export const IDLE_TIMEOUT_MS = 120_000

export type EnvelopeType = 'prekey' | 'message'
export type AckStatus = 'ok' | 'rejected' | 'retry'

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
 * ack, in order. Envelopes are handed over as they arrive (up to WINDOW awaiting their verdict),
 * so their disk writes can be grouped; `onEnvelope` must start its per-conversation work
 * synchronously to keep the order. Throws MalformedFrameError on a frame that is not an envelope
 * (the caller counts it and resets the stream).
 */
export async function serveMsgStream(
  framed: FramedStream,
  connection: Connection,
  onEnvelope: (from: PeerId, envelope: IncomingEnvelope, connection: Connection) => Promise<AckStatus>,
): Promise<void> {
  const verdicts: Promise<Uint8Array>[] = []
  let wake: (() => void) | undefined
  let reading = true
  let writeError: unknown
  const writer = (async () => {
    try {
      for (;;) {
        const next = verdicts.shift()
        if (next === undefined) {
          if (!reading) return
          await new Promise<void>((resolve) => (wake = resolve))
          continue
        }
        await framed.write(await next)
        wake?.()
      }
    } catch (error) {
      writeError = error
    }
  })()
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  try {
    for (;;) {
      if (writeError !== undefined) throw writeError
      while (verdicts.length >= WINDOW) await new Promise<void>((resolve) => (wake = resolve))
      const bytes = await framed.read({ timeoutMs: IDLE_TIMEOUT_MS })
      if (bytes === null) break
      const frame = decodeFrame(bytes)
      const envelope = frame.envelope
      if (envelope === undefined || frame.ack !== undefined)
        throw new MalformedFrameError('expected an envelope')
      if (envelope.type !== Envelope.Type.MESSAGE && envelope.type !== Envelope.Type.PREKEY) {
        throw new MalformedFrameError('unknown envelope type')
      }
      const type = envelope.type === Envelope.Type.PREKEY ? 'prekey' : 'message'
      const ref = envelope.ref
      verdicts.push(
        onEnvelope(connection.remotePeer, { type, body: envelope.body }, connection).then((status) =>
          encodeAck(ref, status),
        ),
      )
      notify()
    }
  } finally {
    reading = false
    notify()
    await writer
  }
  if (writeError !== undefined) throw writeError
  await framed.close()
}

function encodeAck(ref: number, status: AckStatus): Uint8Array {
  return MsgFrame.encode({
    ack: {
      ref,
      status:
        status === 'ok' ? Ack.Status.OK : status === 'rejected' ? Ack.Status.REJECTED : Ack.Status.RETRY,
    },
  })
}

/**
 * Sends `envelopes` in order over one stream and reports each ack, in order, to `onAck` (awaited,
 * so the caller can commit before the next ack is read). Resolves when every envelope is acked;
 * throws when the stream fails or an ack does not come in time (what was acked stays acked).
 */
export async function sendEnvelopes(
  node: JiayiNode,
  peer: PeerId,
  envelopes: readonly OutgoingEnvelope[],
  onAck: (ref: number, status: AckStatus) => Promise<void>,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  if (envelopes.length === 0) return
  const framed = await openFramed(node, peer, PROTOCOL_MSG, { signal: options.signal })
  try {
    const pending = new Set<number>()
    let written = 0
    let acked = 0
    let writeError: unknown
    let wake: (() => void) | undefined
    const writer = (async () => {
      try {
        while (written < envelopes.length) {
          while (written - acked >= WINDOW) await new Promise<void>((r) => (wake = r))
          const e = envelopes[written]!
          pending.add(e.ref)
          written++
          await framed.write(encodeEnvelopeFrame(e), { signal: options.signal })
        }
      } catch (error) {
        writeError = error
      }
    })()
    while (acked < envelopes.length) {
      if (writeError !== undefined) throw writeError
      const bytes = await framed.read({ timeoutMs: ACK_TIMEOUT_MS, signal: options.signal })
      if (bytes === null)
        throw new MalformedFrameError('stream closed before every envelope was acknowledged')
      const ack = decodeFrame(bytes).ack
      if (ack === undefined || !pending.has(ack.ref)) throw new MalformedFrameError('unexpected ack')
      pending.delete(ack.ref)
      acked++
      wake?.()
      wake = undefined
      const status: AckStatus =
        ack.status === Ack.Status.OK ? 'ok' : ack.status === Ack.Status.REJECTED ? 'rejected' : 'retry'
      await onAck(ack.ref, status)
    }
    await writer
    await framed.close()
  } catch (error) {
    framed.abort(error instanceof Error ? error : new Error('send failed'))
    throw error
  }
}
