import type { AbortOptions, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { NetError } from './errors.js'
import { type JiayiProtocol, MAX_FRAME_BYTES } from './protocols.js'
import { decodeLengthPrefix, encodeLengthPrefix, lengthPrefixBytes } from './varint.js'

/**
 * Length-prefixed frames on a libp2p v3 stream: an unsigned varint byte count, then that many
 * bytes (the same framing as libp2p's own protocols, see PROTOCOL-net.md). Built on
 * `lpStream` from @libp2p/utils, with three additions every Jiayi protocol needs:
 *
 * - a hard per-protocol maximum, enforced from the length prefix alone (NetError FrameTooLarge)
 *   on read and before anything is sent on write;
 * - `read()` returns `null` when the remote closed its side cleanly between two frames
 *   (lpStream throws the same UnexpectedEOFError for that and for a truncated frame);
 * - timeouts and abort signals that surface as NetError Timeout / Aborted.
 *
 * A failed read leaves the stream mid-frame, so it aborts the stream: after any read error the
 * framed stream is dead and every later call throws. A refused write (too large) sends nothing
 * and leaves the stream usable.
 */

export interface FrameOptions extends AbortOptions {
  /** Give up after this many milliseconds (NetError Timeout). */
  timeoutMs?: number
}

export interface ReadOptions extends FrameOptions {
  /**
   * Copy the frame into this buffer and return a view of it, when it fits (else into a new one):
   * a reader that is done with each frame before the next read needs no buffer per frame.
   */
  into?: Uint8Array
}

/** One frame's payload: whole, or in parts written one after another (never copied together). */
export type FrameBytes = Uint8Array | readonly Uint8Array[]

export interface FramedStreamInit {
  /** Largest payload accepted or sent, in bytes. */
  maxFrameBytes: number
  /**
   * Bytes received but not yet read that may pile up before the stream is aborted (lpStream does
   * not apply backpressure to the sender). Default: the larger of 4 MiB and two frames.
   */
  maxBufferBytes?: number
}

export interface FramedStream {
  /** The next frame (a copy the caller owns), or null when the remote closed its writable end between frames. */
  read(options?: ReadOptions): Promise<Uint8Array | null>
  write(frame: FrameBytes, options?: FrameOptions): Promise<void>
  /** Several frames in one write (one send to the muxer); all are checked before any is sent. */
  writeMany(frames: readonly FrameBytes[], options?: FrameOptions): Promise<void>
  /** Close our writable end gracefully once queued frames are out (the remote's read gets null). */
  close(options?: AbortOptions): Promise<void>
  /** Reset the stream now; the remote sees an error. */
  abort(err: Error): void
  readonly stream: Stream
  readonly maxFrameBytes: number
}

const DEFAULT_MAX_BUFFER_BYTES = 4 * 1024 * 1024

/** Frames limited to `protocol`'s maximum from protocols.ts. */
export function framedStreamFor(stream: Stream, protocol: JiayiProtocol): FramedStream {
  return framedStream(stream, { maxFrameBytes: MAX_FRAME_BYTES[protocol] })
}

export function framedStream(stream: Stream, init: FramedStreamInit): FramedStream {
  const { maxFrameBytes } = init
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
    throw new NetError('BadOptions', 'maxFrameBytes must be a positive integer')
  }
  const maxLengthBytes = lengthPrefixBytes(maxFrameBytes)

  // Per-read state: lpStream calls the decoder once per length byte received, so "the decoder was
  // never called" tells a clean end between frames apart from an end inside a frame.
  let lengthBytesSeen = 0
  let failure: NetError | undefined
  let reading = false

  const lp = lpStream(stream, {
    maxDataLength: maxFrameBytes,
    maxLengthLength: maxLengthBytes,
    maxBufferSize:
      init.maxBufferBytes ?? Math.max(DEFAULT_MAX_BUFFER_BYTES, 2 * (maxFrameBytes + maxLengthBytes)),
    lengthEncoder: encodeLengthPrefix,
    lengthDecoder: (buffer) => {
      lengthBytesSeen = buffer.byteLength
      // Throws RangeError while incomplete (lpStream then reads another byte), NetError when the
      // prefix is malformed or announces more than maxFrameBytes.
      return decodeLengthPrefix(buffer, maxFrameBytes)
    },
  })

  const fail = (err: NetError): NetError => {
    failure = err
    // The stream may already be closed or reset; abort is then a no-op.
    stream.abort(err)
    return err
  }

  async function writeMany(frames: readonly FrameBytes[], options?: FrameOptions): Promise<void> {
    if (failure !== undefined) throw failure
    const payloads = frames.map(payload)
    for (const frame of payloads) {
      if (frame.byteLength > maxFrameBytes) {
        throw new NetError('FrameTooLarge', `frame of ${frame.byteLength} bytes exceeds ${maxFrameBytes}`)
      }
    }
    if (payloads.length === 0) return
    // A write that fits the stream's buffer never looks at the signal: refuse it here instead,
    // with nothing written (so the stream stays usable).
    if (options?.signal?.aborted) throw new NetError('Aborted', 'aborted by the caller')
    const deadline = withDeadline(options)
    try {
      // One write for all of them: one muxer frame and one socket write instead of many.
      if (payloads.length === 1) await lp.write(payloads[0]!, { signal: deadline.signal })
      else await lp.writeV(payloads, { signal: deadline.signal })
    } catch (err) {
      // Part of the frame may be queued: the stream can no longer be trusted.
      throw fail(toNetError(err, deadline.reason(), 'write'))
    } finally {
      deadline.clear()
    }
  }

  return {
    stream,
    maxFrameBytes,

    async read(options) {
      if (failure !== undefined) throw failure
      if (reading) throw new NetError('BadOptions', 'concurrent reads on one framed stream')
      reading = true
      lengthBytesSeen = 0
      const deadline = withDeadline(options)
      try {
        const frame = await lp.read({ signal: deadline.signal })
        // A plain Uint8Array the caller owns: subarray() would hand out a Node Buffer that may
        // share (and keep alive) a larger socket buffer.
        const into = options?.into
        const out =
          into !== undefined && into.byteLength >= frame.byteLength
            ? into.subarray(0, frame.byteLength)
            : new Uint8Array(frame.byteLength)
        let offset = 0
        for (const chunk of frame) {
          out.set(chunk, offset)
          offset += chunk.byteLength
        }
        return out
      } catch (err) {
        if (isEndOfStream(err) && lengthBytesSeen === 0 && deadline.reason() === undefined) {
          // lpStream reports a stream reset before this read as a plain end of stream too.
          if (stream.status === 'reset' || stream.status === 'aborted') {
            throw fail(new NetError('StreamError', `stream ${stream.status}`, { cause: err }))
          }
          return null
        }
        throw fail(toNetError(err, deadline.reason(), 'read'))
      } finally {
        deadline.clear()
        reading = false
      }
    },

    write(frame, options) {
      return writeMany([frame], options)
    },

    writeMany,

    async close(options) {
      await stream.close(options)
    },

    abort(err) {
      failure ??= new NetError('StreamError', 'stream aborted locally', { cause: err })
      stream.abort(err)
    },
  }
}

/** A frame as lpStream writes it: parts become one list (its buffers are not copied). */
function payload(frame: FrameBytes): Uint8Array | Uint8ArrayList {
  if (frame instanceof Uint8Array) return frame
  if (!Array.isArray(frame) || !frame.every((part) => part instanceof Uint8Array))
    throw new NetError('BadOptions', 'a frame must be a Uint8Array or an array of them')
  return new Uint8ArrayList(...frame)
}

interface Deadline {
  /** What the read or write listens to; none when there is neither a caller's signal nor a timeout. */
  readonly signal: AbortSignal | undefined
  /** Why the deadline fired (Timeout or Aborted), once it has. */
  reason(): NetError | undefined
  clear(): void
}

const NO_DEADLINE: Deadline = { signal: undefined, reason: () => undefined, clear: () => {} }

/**
 * One signal for the caller's abort and our own timeout, with nothing left running afterwards.
 * A write or read with neither (every ack, every envelope of a running stream) gets no signal at
 * all: an AbortController and its listeners cost more than the frame's own bookkeeping.
 */
function withDeadline(options: FrameOptions | undefined): Deadline {
  const parent = options?.signal
  const timeoutMs = options?.timeoutMs
  if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
    throw new NetError('BadOptions', 'timeoutMs must be a non-negative number')
  }
  if (timeoutMs === undefined) {
    if (parent === undefined) return NO_DEADLINE
    // The caller's signal as it is; only its abort needs naming.
    return {
      signal: parent,
      reason: () => (parent.aborted ? new NetError('Aborted', 'aborted by the caller') : undefined),
      clear: () => {},
    }
  }
  const controller = new AbortController()
  const onParentAbort = () => controller.abort(new NetError('Aborted', 'aborted by the caller'))
  if (parent?.aborted) onParentAbort()
  else parent?.addEventListener('abort', onParentAbort, { once: true })
  const timer = setTimeout(
    () => controller.abort(new NetError('Timeout', `no frame within ${timeoutMs} ms`)),
    timeoutMs,
  )
  return {
    signal: controller.signal,
    reason: () =>
      controller.signal.aborted && NetError.is(controller.signal.reason)
        ? controller.signal.reason
        : undefined,
    clear() {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
    },
  }
}

function isEndOfStream(err: unknown): boolean {
  return err instanceof Error && err.name === 'UnexpectedEOFError'
}

function toNetError(err: unknown, deadline: NetError | undefined, op: 'read' | 'write'): NetError {
  if (NetError.is(err)) return err
  // The deadline's reason is already the right NetError (Timeout or Aborted).
  if (deadline !== undefined) return deadline
  const name = err instanceof Error ? err.name : 'unknown'
  if (op === 'read' && isEndOfStream(err)) {
    return new NetError('TruncatedFrame', 'stream ended inside a frame', { cause: err })
  }
  // lpStream's own limit checks; our decoder normally throws first, this is belt and braces.
  if (name === 'InvalidDataLengthError') {
    return new NetError('FrameTooLarge', 'frame length exceeds the maximum', { cause: err })
  }
  if (name === 'InvalidDataLengthLengthError' || name === 'InvalidMessageLengthError') {
    return new NetError('MalformedFrame', 'bad length prefix', { cause: err })
  }
  return new NetError('StreamError', `stream failed during ${op} (${name})`, { cause: err })
}
