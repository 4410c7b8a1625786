/**
 * The receiving side of /jiayi/file/1 on one stream: asks for the chunks from where its sink
 * stopped (Want), then for every chunk in order checks index and length, opens it (authenticates
 * it), stores it and acknowledges it (Ack). The last chunk carries the file's SHA-256 (bound to
 * it by its AEAD); it must equal the offer's when the offer had one, and it is kept before the
 * chunk is stored, so a restart after the last chunk still knows what to check. After the last
 * chunk the sink checks the SHA-256 of what it stored and moves the file into place; only then
 * does the receiver say Done.
 *
 * Opening runs a few chunks ahead of storing (the AEAD runs on WebCrypto's threads), so the
 * network, decryption and disk overlap. Nothing here throws: every end is an Outcome.
 */
import { equalBytes } from '../bytes.js'
import type { FramedStream } from '../net/framing.js'
import type { ChunkCipher } from './chunk-cipher.js'
import { decodeFrame, encodeFrame } from './frames.js'
import { ACK_EVERY_CHUNKS, CHUNK_TAG_BYTES, chunkCount, chunkLength } from './limits.js'
import {
  endStream,
  failed,
  type Outcome,
  OutcomeSignal,
  outcomeOfError,
  outcomeOfReject,
  retry,
} from './outcome.js'
import { BoundedQueue } from './pipe.js'
import type { FileSink } from './storage.js'

const OPEN_AHEAD = 3

export interface ReceiveContext {
  readonly fileId: Uint8Array
  readonly size: number
  readonly chunkSize: number
  /** The SHA-256 the file must have, when known before the last chunk (the offer, or a last chunk of an earlier attempt). */
  readonly sha256?: Uint8Array | undefined
  readonly cipher: ChunkCipher
  readonly sink: FileSink
  readonly timeoutMs: number
  readonly signal: AbortSignal
  /** Where this attempt starts (chunks already stored). */
  onResume?(fromChunk: number): void
  /** The last chunk said what the file hashes to: resolves once that is kept. */
  onDigest?(sha256: Uint8Array): Promise<void>
  /** Chunks 0..nextChunk-1 are stored. */
  onStored?(nextChunk: number): void
}

interface Opened {
  readonly plaintext: Promise<Uint8Array>
  /** The last chunk's. */
  readonly sha256?: Uint8Array | undefined
}

export async function receiveFile(framed: FramedStream, ctx: ReceiveContext): Promise<Outcome> {
  const outcome = await run(framed, ctx).catch(outcomeOfError)
  await endStream(framed, outcome)
  return outcome
}

async function run(framed: FramedStream, ctx: ReceiveContext): Promise<Outcome> {
  const total = chunkCount(ctx.size, ctx.chunkSize)
  const start = ctx.sink.storedChunks
  let expected = ctx.sha256
  const io = { timeoutMs: ctx.timeoutMs, signal: ctx.signal }
  await framed.write(encodeFrame({ type: 'want', fileId: ctx.fileId, nextChunk: start }), io)
  ctx.onResume?.(start)

  const opened = new BoundedQueue<Opened>(OPEN_AHEAD)
  const reader = (async () => {
    // Frames are read into one buffer: opening copies its input when it starts (chunk-cipher.ts).
    const into = new Uint8Array(framed.maxFrameBytes)
    for (let index = start; index < total; index++) {
      const bytes = await framed.read({ ...io, into })
      if (bytes === null) throw new OutcomeSignal(retry('truncated'))
      const frame = decodeFrame(bytes)
      if (frame.type === 'reject') throw new OutcomeSignal(outcomeOfReject(frame.reason))
      if (frame.type !== 'chunk' || frame.index !== index) throw new OutcomeSignal(failed('protocol'))
      if (frame.sealed.length - CHUNK_TAG_BYTES !== chunkLength(ctx.size, ctx.chunkSize, index)) {
        throw new OutcomeSignal(failed('size-mismatch'))
      }
      const last = index === total - 1
      // The digest comes with the last chunk and only with it.
      if (last !== (frame.sha256 !== undefined)) throw new OutcomeSignal(failed('protocol'))
      const sha256 = frame.sha256 && Uint8Array.from(frame.sha256)
      if (sha256 !== undefined && expected !== undefined && !equalBytes(sha256, expected)) {
        throw new OutcomeSignal(failed('hash-mismatch'))
      }
      const plaintext = ctx.cipher.open(index, frame.nonce, frame.sealed, sha256)
      plaintext.catch(() => undefined) // awaited (and its failure handled) by the writer below
      await opened.push({ plaintext, sha256 })
    }
  })()
  reader.catch((error) => opened.fail(error))

  let acked = start
  try {
    for (let index = start; index < total; index++) {
      const chunk = await opened.shift()
      const plaintext = await chunk.plaintext
      if (chunk.sha256 !== undefined) {
        await ctx.onDigest?.(chunk.sha256)
        expected = chunk.sha256
      }
      await ctx.sink.write(index, plaintext)
      ctx.onStored?.(index + 1)
      // Ack every ACK_EVERY_CHUNKS chunks, and whenever nothing more is waiting (the sender may be
      // blocked on its window): fewer small frames, never a stall.
      const next = index + 1
      if (next - acked >= ACK_EVERY_CHUNKS || opened.length === 0 || next === total) {
        acked = next
        await framed.write(encodeFrame({ type: 'ack', nextChunk: next }), io)
      }
    }
  } catch (error) {
    opened.fail(error)
    throw error
  }
  await reader
  // Everything was stored by an earlier attempt whose digest was not kept: nothing to check against.
  if (expected === undefined) return failed('protocol')
  const path = await ctx.sink.finish(expected)
  await framed.write(encodeFrame({ type: 'done', sha256: expected }), io)
  return { type: 'complete', path }
}
