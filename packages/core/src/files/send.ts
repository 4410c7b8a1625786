/**
 * The sending side of /jiayi/file/1 on one stream, once the receiver said where to start (Want):
 * reads, seals and sends chunks in order while at most `windowChunks` of them are unacknowledged,
 * and listens for the receiver's Acks, Done or Reject at the same time. Reading and sealing run a
 * few chunks ahead of the network, and whatever is sealed when the window opens leaves in one
 * write. Unless the offer carried the file's SHA-256, each chunk is counted into it as it is read,
 * and the digest goes out with the last chunk, bound to it by the chunk's AEAD. Nothing here
 * throws: every end is an Outcome.
 */
import { equalBytes } from '../bytes.js'
import type { FramedStream } from '../net/framing.js'
import type { ChunkCipher } from './chunk-cipher.js'
import { decodeFrame, encodeChunkFrame } from './frames.js'
import { chunkCount, chunkLength } from './limits.js'
import {
  endStream,
  failed,
  type Outcome,
  OutcomeSignal,
  outcomeOfError,
  outcomeOfReject,
  retry,
} from './outcome.js'
import { BoundedQueue, Notifier } from './pipe.js'
import type { SourceHash } from './source-hash.js'
import type { FileSource } from './storage.js'

const SEAL_AHEAD = 4

export interface SendContext {
  readonly size: number
  readonly chunkSize: number
  /** The file's SHA-256 when the offer carried it; otherwise `hash` computes it on the way. */
  readonly sha256?: Uint8Array | undefined
  readonly hash: SourceHash
  readonly cipher: ChunkCipher
  readonly source: FileSource
  readonly windowChunks: number
  readonly timeoutMs: number
  /** How long to wait for Done once every chunk is acknowledged (the receiver hashes and syncs). */
  readonly finishTimeoutMs: number
  readonly signal: AbortSignal
  /** The digest is known, before the last chunk carries it away: resolves once it is kept. */
  onDigest?(sha256: Uint8Array): Promise<void>
  /** Chunks 0..nextChunk-1 are stored at the receiver. */
  onAcked?(nextChunk: number): void
  onChunkSent?(index: number, bytes: number): void
}

export async function sendFile(framed: FramedStream, fromChunk: number, ctx: SendContext): Promise<Outcome> {
  const outcome = await run(framed, fromChunk, ctx).catch(outcomeOfError)
  await endStream(framed, outcome)
  return outcome
}

async function run(framed: FramedStream, fromChunk: number, ctx: SendContext): Promise<Outcome> {
  const total = chunkCount(ctx.size, ctx.chunkSize)
  if (!Number.isInteger(fromChunk) || fromChunk < 0 || fromChunk > total) return failed('protocol')
  if (ctx.source.size !== ctx.size) return failed('source-changed')
  let acked = fromChunk
  /** What the last chunk carried (or the offer, when there is no chunk left to send). */
  let digest = ctx.sha256
  const ackChanged = new Notifier()

  // The receiver's side: Acks move the window; Done or Reject end the transfer.
  const replies = (async (): Promise<Outcome> => {
    for (;;) {
      const timeoutMs = acked === total ? ctx.finishTimeoutMs : ctx.timeoutMs
      const bytes = await framed.read({ timeoutMs, signal: ctx.signal })
      if (bytes === null) return retry('interrupted')
      const frame = decodeFrame(bytes)
      if (frame.type === 'ack') {
        if (frame.nextChunk < acked || frame.nextChunk > total) return failed('protocol')
        acked = frame.nextChunk
        ctx.onAcked?.(acked)
        ackChanged.notify()
      } else if (frame.type === 'done') {
        if (acked !== total) return failed('protocol')
        // Nothing sent on this stream and no digest known here: the receiver checked the one it got.
        if (digest !== undefined && !equalBytes(frame.sha256, digest)) return failed('protocol')
        return { type: 'complete' }
      } else if (frame.type === 'reject') {
        return outcomeOfReject(frame.reason)
      } else {
        return failed('protocol')
      }
    }
  })()
  // Whatever the receiver says first ends the sending loop too.
  const ended = replies.then(
    (outcome) => {
      ackChanged.fail(new OutcomeSignal(outcome))
      return outcome
    },
    (error: unknown) => {
      ackChanged.fail(error)
      throw error
    },
  )
  ended.catch(() => undefined) // awaited below unless the sending loop fails first

  const sealed = new BoundedQueue<Promise<Uint8Array[]>>(SEAL_AHEAD)
  const producer = (async () => {
    // Chunks are read one after another into one buffer: sealing copies its input when it starts
    // (chunk-cipher.ts), so no chunk of the file is allocated anew.
    const buffer = new Uint8Array(ctx.chunkSize)
    const read = (offset: number, length: number) => ctx.source.read(offset, length)
    for (let index = fromChunk; index < total; index++) {
      const offset = index * ctx.chunkSize
      const plaintext = await ctx.source.read(offset, chunkLength(ctx.size, ctx.chunkSize, index), buffer)
      if (ctx.sha256 === undefined) ctx.hash.add(offset, plaintext)
      let last: Uint8Array | undefined
      if (index === total - 1) {
        last = ctx.sha256 ?? (await ctx.hash.digest(read))
        await ctx.onDigest?.(last)
        digest = last
      }
      const frame = sealFrame(ctx.cipher, index, plaintext, last)
      frame.catch(() => undefined) // awaited (and its failure handled) by the sending loop
      await sealed.push(frame)
    }
  })()
  producer.catch((error) => sealed.fail(error))

  try {
    for (let index = fromChunk; index < total; ) {
      while (index >= acked + ctx.windowChunks) await ackChanged.wait()
      // Every chunk already sealed that the window allows goes in the same write.
      const take = Math.min(1 + sealed.length, acked + ctx.windowChunks - index, total - index)
      const frames: Uint8Array[][] = []
      for (let i = 0; i < take; i++) frames.push(await await sealed.shift())
      await framed.writeMany(frames, { timeoutMs: ctx.timeoutMs, signal: ctx.signal })
      for (const frame of frames) ctx.onChunkSent?.(index++, frameLength(frame))
    }
  } catch (error) {
    sealed.fail(error)
    // The receiver's verdict, if it already gave one, explains the failure best.
    if (error instanceof OutcomeSignal) return error.outcome
    throw error
  }
  return ended
}

/** Seals chunk `index` (copying `plaintext` before it returns) into its frame's parts. */
async function sealFrame(
  cipher: ChunkCipher,
  index: number,
  plaintext: Uint8Array,
  sha256: Uint8Array | undefined,
): Promise<Uint8Array[]> {
  const { nonce, sealed } = await cipher.seal(index, plaintext, sha256)
  return encodeChunkFrame({ index, nonce, sealed, sha256 })
}

function frameLength(parts: readonly Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.length, 0)
}
