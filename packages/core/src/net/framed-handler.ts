import type { AbortOptions, Connection, DialTarget, Libp2p, PeerId, StreamHandler } from '@libp2p/interface'
import { NetError } from './errors.js'
import { type FramedStream, framedStream } from './framing.js'
import { isJiayiProtocol, MAX_FRAME_BYTES } from './protocols.js'

/**
 * Glue between libp2p's stream handlers and framed protocol code, for both ends.
 *
 * Inbound: bad input from the network must never throw out of a handler (an unhandled rejection
 * would take the peer down); it is refused: the stream is reset, and `onRefused` is told the
 * peer, the protocol and a stable error code, so the caller can count and rate-limit. Frame
 * contents are never passed on, so nothing a peer sends can end up in a log line.
 */

export interface RefusedStream {
  protocol: string
  remotePeer: PeerId
  /** The thrown error's stable `code` (NetError or another typed error), else 'Unknown'. */
  code: string
  error: unknown
}

export interface FramedProtocolInit {
  /** Required for protocols not listed in protocols.ts. */
  maxFrameBytes?: number
  /**
   * Who may use the protocol (contacts, pending requests within their rate limit). Checked before
   * a byte is read; a refusal resets the stream and reports NetError NotAllowed. Default: anyone.
   */
  allow?: (remotePeer: PeerId, connection: Connection) => boolean | Promise<boolean>
  onRefused?: (refused: RefusedStream) => void
}

const CLOSE_TIMEOUT_MS = 5_000

export type FramedStreamHandler = (framed: FramedStream, connection: Connection) => Promise<void>

export function framedHandler(
  protocol: string,
  handle: FramedStreamHandler,
  init: FramedProtocolInit = {},
): StreamHandler {
  const maxFrameBytes = frameLimit(protocol, init.maxFrameBytes)
  return async (stream, connection) => {
    const framed = framedStream(stream, { maxFrameBytes })
    try {
      if (init.allow !== undefined && !(await init.allow(connection.remotePeer, connection))) {
        throw new NetError('NotAllowed', 'peer may not use this protocol')
      }
      await handle(framed, connection)
      // A handler that returns without closing (e.g. the remote sent nothing and closed) must
      // still end the stream, or it stays half-open, counted against maxInboundStreams, until
      // the connection goes. A no-op when the handler closed it already.
      await framed.close({ signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) })
    } catch (error) {
      // Reset so the remote sees a failure rather than a clean end; a no-op if already gone.
      stream.abort(error instanceof Error ? error : new NetError('StreamError', 'handler failed'))
      try {
        init.onRefused?.({ protocol, remotePeer: connection.remotePeer, code: codeOf(error), error })
      } catch {
        // A faulty counter must not turn a refusal into a crash.
      }
    }
  }
}

export interface OpenFramedOptions extends AbortOptions {
  maxFrameBytes?: number
  /** Allow a relayed (limited) connection: only for small exchanges such as prekey fetches. */
  runOnLimitedConnection?: boolean
}

/**
 * The dialling side: open `protocol` to `target` (a peer id, multiaddr(s); dials if not connected)
 * and frame it with the protocol's limit.
 */
export async function openFramed(
  node: Pick<Libp2p, 'dialProtocol'>,
  target: DialTarget,
  protocol: string,
  options: OpenFramedOptions = {},
): Promise<FramedStream> {
  const maxFrameBytes = frameLimit(protocol, options.maxFrameBytes)
  const stream = await node.dialProtocol(target, protocol, {
    signal: options.signal,
    runOnLimitedConnection: options.runOnLimitedConnection ?? false,
  })
  return framedStream(stream, { maxFrameBytes })
}

function frameLimit(protocol: string, override: number | undefined): number {
  if (override !== undefined) return override
  if (isJiayiProtocol(protocol)) return MAX_FRAME_BYTES[protocol]
  throw new NetError('BadOptions', 'maxFrameBytes is required for a protocol not in protocols.ts')
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return 'Unknown'
}
