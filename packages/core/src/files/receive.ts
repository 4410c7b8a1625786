/**
 * The receiving side of /jiayi/file/1 on one stream: asks for the chunks from where its sink
 * stopped (Want), then for every chunk in order checks index and length, opens it (authenticates
 * it), stores it and acknowledges it (Ack). After the last chunk the sink checks the SHA-256 and
 * moves the file into place; only then does the receiver say Done.
 *
 * Opening runs a few chunks ahead of storing (the AEAD runs on WebCrypto's threads), so the
 * network, decryption and disk overlap. Nothing here throws: every end is an Outcome.
 */
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
  readonly sha256: Uint8Array
  readonly cipher: ChunkCipher
  readonly sink: FileSink
  readonly timeoutMs: number
  readonly signal: AbortSignal
  /** Where this attempt starts (chunks already stored). */
  onResume?(fromChunk: number): void
  /** Chunks 0..nextChunk-1 are stored. */
  onStored?(nextChunk: number): void
}

export async function receiveFile(framed: FramedStream, ctx: ReceiveContext): Promise<Outcome> {
  const outcome = await run(framed, ctx).catch(outcomeOfError)
  await endStream(framed, outcome)
  return outcome
}

async function run(framed: FramedStream, ctx: ReceiveContext): Promise<Outcome> {
  const total = chunkCount(ctx.size, ctx.chunkSize)
  const start = ctx.sink.storedChunks
  const io = { timeoutMs: ctx.timeoutMs, signal: ctx.signal }
  await framed.write(encodeFrame({ type: 'want', fileId: ctx.fileId, nextChunk: start }), io)
  ctx.onResume?.(start)

  const opened = new BoundedQueue<Promise<Uint8Array>>(OPEN_AHEAD)
  const reader = (async () => {
    for (let index = start; index < total; index++) {
      const bytes = await framed.read(io)
      if (bytes === null) throw new OutcomeSignal(retry('truncated'))
      const frame = decodeFrame(bytes)
      if (frame.type === 'reject') throw new OutcomeSignal(outcomeOfReject(frame.reason))
      if (frame.type !== 'chunk' || frame.index !== index) throw new OutcomeSignal(failed('protocol'))
      if (frame.sealed.length - CHUNK_TAG_BYTES !== chunkLength(ctx.size, ctx.chunkSize, index)) {
        throw new OutcomeSignal(failed('size-mismatch'))
      }
      const plaintext = ctx.cipher.open(index, frame.nonce, frame.sealed)
      plaintext.catch(() => undefined) // awaited (and its failure handled) by the writer below
      await opened.push(plaintext)
    }
  })()
  reader.catch((error) => opened.fail(error))

  let acked = start
  try {
    for (let index = start; index < total; index++) {
      const plaintext = await await opened.shift()
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
  const path = await ctx.sink.finish()
  await framed.write(encodeFrame({ type: 'done', sha256: ctx.sha256 }), io)
  return { type: 'complete', path }
}
