/** Tools for hostile-input tests: raw feed streams, a scripted server, byte mutations. */
import { framedHandler, MAX_FRAME_BYTES, openFramed, PROTOCOL_FEED, randomBytes } from '@jiayi/core'
import { decodeFrame, encodeFrame, type SyncFrame } from '../../src/index.js'
import type { FeedPeer } from './peers.js'

/** Frame type bytes worth trying: the seven real ones and some that do not exist. */
export const FRAME_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0xff]

/** Flips a bit, truncates, or appends a byte, chosen by `i` and `j` (never returns the input). */
export function mutate(bytes: Uint8Array, i: number, j: number): Uint8Array {
  const at = Math.abs(i) % Math.max(1, bytes.length)
  switch (Math.abs(j) % 3) {
    case 0: {
      const out = Uint8Array.from(bytes)
      out[at] = (out[at] ?? 0) ^ (1 << (Math.abs(j) % 8))
      return out
    }
    case 1:
      return bytes.slice(0, at)
    default:
      return Uint8Array.from([...bytes, Math.abs(i) & 0xff])
  }
}

/**
 * Opens /jiayi/feed/1 from `from` to `to` and writes `frames` as they are (plus raw bytes), then
 * closes and waits for the server to finish. With `read`, returns the frames the server sent.
 */
export async function rawStream(
  from: FeedPeer,
  to: FeedPeer,
  frames: readonly Uint8Array[],
  options: { rawPrefix?: Uint8Array; read?: boolean } = {},
): Promise<SyncFrame[]> {
  const got: SyncFrame[] = []
  try {
    const framed = await openFramed(from.messenger.node, to.messenger.node.peerId, PROTOCOL_FEED, {
      signal: AbortSignal.timeout(5_000),
    })
    if (options.rawPrefix !== undefined) framed.stream.send(options.rawPrefix)
    for (const f of frames) await framed.write(f)
    await framed.close()
    for (;;) {
      const bytes = await framed.read({ timeoutMs: 2_000 })
      if (bytes === null) break
      got.push(decodeFrame(bytes))
      if (!options.read) continue
    }
  } catch {
    // The server resets streams that send garbage: that is the expected outcome.
  }
  return got
}

/**
 * Replaces `p`'s feed server with one that sends a challenge (unless `script.challenge` is false),
 * answers the HAVE with `script.frames`, then closes.
 */
export async function hostileServer(
  p: FeedPeer,
  script: { frames: readonly Uint8Array[]; challenge?: boolean },
): Promise<void> {
  await p.messenger.node.unhandle(PROTOCOL_FEED).catch(() => undefined)
  const handler = framedHandler(
    PROTOCOL_FEED,
    async (framed) => {
      if (script.challenge !== false) {
        await framed.write(encodeFrame({ type: 'challenge', nonce: randomBytes(32) }))
        await framed.read({ timeoutMs: 5_000 })
      }
      for (const f of script.frames) await framed.write(f)
      await framed.close()
    },
    { maxFrameBytes: MAX_FRAME_BYTES[PROTOCOL_FEED] },
  )
  await p.messenger.node.handle(PROTOCOL_FEED, handler, { maxInboundStreams: 64 })
}

/**
 * A requester speaking /jiayi/feed/2 by hand: opens a stream from `from` to `to`, reads the
 * challenge, sends the HAVE that `have` makes for it, closes its side and returns every frame the
 * server sent (the challenge first).
 */
export async function proofStream(
  from: FeedPeer,
  to: FeedPeer,
  have: (binding: { challenge: Uint8Array; server: string; client: string }) => Uint8Array,
): Promise<SyncFrame[]> {
  const framed = await openFramed(from.messenger.node, to.messenger.node.peerId, PROTOCOL_FEED, {
    signal: AbortSignal.timeout(5_000),
  })
  const got: SyncFrame[] = []
  const first = await framed.read({ timeoutMs: 5_000 })
  if (first === null) return got
  const challenge = decodeFrame(first)
  got.push(challenge)
  if (challenge.type !== 'challenge') return got
  const binding = {
    challenge: challenge.nonce,
    server: to.messenger.node.peerId.toString(),
    client: from.messenger.node.peerId.toString(),
  }
  await framed.write(have(binding))
  await framed.close()
  for (;;) {
    const bytes = await framed.read({ timeoutMs: 5_000 })
    if (bytes === null) break
    got.push(decodeFrame(bytes))
  }
  return got
}

/** A requester's stream held open: every frame the server sends, and whether it ended the stream. */
export interface HeldStream {
  readonly frames: SyncFrame[]
  ended(): boolean
  abort(): void
}

/** Like proofStream, but the requester keeps its side open (as a real client does) to get pushes. */
export async function holdProofStream(
  from: FeedPeer,
  to: FeedPeer,
  have: (binding: { challenge: Uint8Array; server: string; client: string }) => Uint8Array,
): Promise<HeldStream> {
  const framed = await openFramed(from.messenger.node, to.messenger.node.peerId, PROTOCOL_FEED, {
    signal: AbortSignal.timeout(5_000),
  })
  const frames: SyncFrame[] = []
  let ended = false
  const first = await framed.read({ timeoutMs: 5_000 })
  const challenge = first === null ? undefined : decodeFrame(first)
  if (challenge?.type !== 'challenge') throw new Error('the server sent no challenge')
  frames.push(challenge)
  await framed.write(
    have({
      challenge: challenge.nonce,
      server: to.messenger.node.peerId.toString(),
      client: from.messenger.node.peerId.toString(),
    }),
  )
  void (async () => {
    try {
      for (;;) {
        const bytes = await framed.read()
        if (bytes === null) break
        frames.push(decodeFrame(bytes))
      }
    } catch {
      // reset by the server: ended all the same
    }
    ended = true
  })()
  return { frames, ended: () => ended, abort: () => framed.abort(new Error('done')) }
}
