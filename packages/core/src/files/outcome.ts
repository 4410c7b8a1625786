/**
 * How one transfer stream ended, for either side, and how failures map to it. A final failure is
 * told to the other side with a Reject frame; anything transient (the stream broke, timed out or
 * ended early) leaves the transfer resumable.
 */
import { NetError } from '../net/errors.js'
import type { FramedStream } from '../net/framing.js'
import { FileError } from './errors.js'
import { encodeFrame, type RejectReason } from './frames.js'
import type { FailReason, TransferNote } from './transfer.js'

export type Outcome =
  | { readonly type: 'complete'; readonly path?: string | undefined }
  | { readonly type: 'failed'; readonly reason: FailReason; readonly tellPeer: boolean }
  | { readonly type: 'retry'; readonly note: TransferNote }
  /** The stream ended without changing the transfer (e.g. the peer was already on it). */
  | { readonly type: 'none' }

/** Thrown inside a pipeline to end it with a decided outcome. */
export class OutcomeSignal extends Error {
  constructor(readonly outcome: Outcome) {
    super(`transfer ends: ${outcome.type}`)
  }
}

export const failed = (reason: FailReason, tellPeer = true): Outcome => ({ type: 'failed', reason, tellPeer })
export const retry = (note: TransferNote): Outcome => ({ type: 'retry', note })

/** What a Reject from the peer means for our side of the transfer. */
export function outcomeOfReject(reason: RejectReason): Outcome {
  if (reason === 'busy') return { type: 'none' }
  return failed(reason, false)
}

/** Maps anything thrown while a transfer ran to its outcome. */
export function outcomeOfError(error: unknown): Outcome {
  if (error instanceof OutcomeSignal) return error.outcome
  if (FileError.is(error)) {
    switch (error.code) {
      case 'BadChunk':
        return failed('bad-chunk')
      case 'SizeMismatch':
        return failed('size-mismatch')
      case 'HashMismatch':
        return failed('hash-mismatch')
      case 'BadFrame':
        return failed('protocol')
      case 'SourceChanged':
        return failed('source-changed')
      case 'SourceGone':
        return failed('source-gone')
      case 'Storage':
        return failed('storage')
      default:
        return retry('interrupted')
    }
  }
  if (NetError.is(error, 'FrameTooLarge') || NetError.is(error, 'MalformedFrame')) return failed('protocol')
  if (NetError.is(error, 'TruncatedFrame')) return retry('truncated')
  return retry('interrupted')
}

/** Ends the stream after a transfer: tells the peer about a final failure, best effort. */
export async function endStream(framed: FramedStream, outcome: Outcome): Promise<void> {
  try {
    if (outcome.type === 'failed' && outcome.tellPeer) {
      const reason: RejectReason = outcome.reason === 'too-large' ? 'refused' : outcome.reason
      await framed.write(encodeFrame({ type: 'reject', reason }), { timeoutMs: 2_000 })
      await framed.close({ signal: AbortSignal.timeout(2_000) })
    } else if (outcome.type === 'complete' || outcome.type === 'none') {
      await framed.close({ signal: AbortSignal.timeout(2_000) })
    } else {
      framed.abort(new FileError('Stopped', 'transfer interrupted'))
    }
  } catch {
    framed.abort(new FileError('Stopped', 'transfer stream failed'))
  }
}

/** Answers a stream with a Reject and closes it (unknown file, busy, out of turn). */
export async function rejectStream(framed: FramedStream, reason: RejectReason): Promise<void> {
  try {
    await framed.write(encodeFrame({ type: 'reject', reason }), { timeoutMs: 2_000 })
    await framed.close({ signal: AbortSignal.timeout(2_000) })
  } catch {
    framed.abort(new FileError('Stopped', 'transfer stream failed'))
  }
}
