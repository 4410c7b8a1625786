import {
  type AbortOptions,
  type Connection,
  type DialTarget,
  isPeerId,
  type Libp2p,
  type PeerId,
  type StreamHandler,
} from '@libp2p/interface'
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
  node: Pick<Libp2p, 'dialProtocol'> & Partial<Pick<Libp2p, 'getConnections'>>,
  target: DialTarget,
  protocol: string,
  options: OpenFramedOptions = {},
): Promise<FramedStream> {
  const maxFrameBytes = frameLimit(protocol, options.maxFrameBytes)
  const limited = options.runOnLimitedConnection === true ? limitedOnly(node, target) : undefined
  // libp2p never reuses a limited connection for a dial: it dials the peer's addresses again,
  // and a peer reached only through a relay (it dialled us through our home node) has none.
  const stream =
    limited === undefined
      ? await node.dialProtocol(target, protocol, {
          signal: options.signal,
          runOnLimitedConnection: options.runOnLimitedConnection ?? false,
        })
      : await limited.newStream(protocol, { signal: options.signal, runOnLimitedConnection: true })
  return framedStream(stream, { maxFrameBytes })
}

/** The open relayed connection to `target` when it has no other (the one way to it now). */
function limitedOnly(
  node: Partial<Pick<Libp2p, 'getConnections'>>,
  target: DialTarget,
): Connection | undefined {
  if (node.getConnections === undefined || !isPeerId(target)) return undefined
  const open = node.getConnections(target).filter((c) => c.status === 'open')
  if (open.some((c) => c.limits == null)) return undefined
  return open[0]
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
