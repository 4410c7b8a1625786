import type { Connection } from '@libp2p/interface'
import { isPrivate } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * How a connection (or an address) travels, in the words the UI shows:
 * - 'lan': straight to the peer at a private, loopback or link-local IP (same network, no internet);
 * - 'direct': straight to the peer at a public address;
 * - 'relayed': through a circuit-relay-v2 hop; the relay sees encrypted bytes only, and usually
 *   limits time and data (see `limited`).
 * - 'mailbox': not a connection but a message's way: left in the recipient's mailbox on their
 *   home node and fetched from there (mailbox/); never what a connection reports.
 *
 * A browser-to-browser WebRTC connection is signalled through a relay but then runs peer to peer;
 * its address names the relay's IP on the dialling side and no IP at all on the answering side.
 * Jiayi configures no STUN/TURN servers, so ICE only finds host candidates: such a connection is
 * 'lan' when the relay it was signalled through is, and when no IP is known.
 */
export type ConnectionRoute = 'lan' | 'direct' | 'relayed' | 'mailbox'

export type TransportName = 'tcp' | 'websockets' | 'webrtc-direct' | 'webrtc' | 'circuit-relay' | 'other'

export interface ConnectionInfo {
  route: ConnectionRoute
  transport: TransportName
  /** A relay limits this connection's duration or bytes; large transfers should wait for a direct one. */
  limited: boolean
  /** Who opened it: 'outbound' = this device dialled. */
  direction: 'inbound' | 'outbound'
  /** The remote multiaddr as text (contains IPs: show it, never log it with user content). */
  remoteAddr: string
}

export interface AddressInfo {
  route: ConnectionRoute
  transport: TransportName
}

/** Classifies a multiaddr by its components, without resolving or dialling anything. */
export function describeAddress(addr: Multiaddr): AddressInfo {
  const names = addr.getComponents().map((c) => c.name)
  const transport = transportOf(names)
  if (transport === 'circuit-relay') return { route: 'relayed', transport }
  // The answering side of a browser-to-browser WebRTC connection only knows `/webrtc/p2p/<id>`;
  // with no STUN/TURN configured ICE has host candidates only, so it is on the LAN.
  const hasIp = names.includes('ip4') || names.includes('ip6')
  if (transport === 'webrtc' && !hasIp) return { route: 'lan', transport }
  return { route: isPrivate(addr) ? 'lan' : 'direct', transport }
}

export function describeConnection(
  connection: Pick<Connection, 'remoteAddr' | 'direct' | 'limits' | 'direction'>,
): ConnectionInfo {
  const address = describeAddress(connection.remoteAddr)
  const limited = connection.limits != null
  // libp2p marks a connection indirect when its address is a bare circuit; a relay's limits mean
  // the same even if the address says otherwise.
  const relayed = address.route === 'relayed' || !connection.direct || limited
  return {
    route: relayed ? 'relayed' : address.route,
    transport: relayed && address.transport !== 'webrtc' ? 'circuit-relay' : address.transport,
    limited,
    direction: connection.direction,
    remoteAddr: connection.remoteAddr.toString(),
  }
}

/** A connection's route, worked out once per connection (it cannot change): messages record it. */
const routes = new WeakMap<object, ConnectionRoute>()
export function connectionRoute(
  connection: Pick<Connection, 'remoteAddr' | 'direct' | 'limits' | 'direction'>,
): ConnectionRoute {
  let route = routes.get(connection)
  if (route === undefined) {
    route = describeConnection(connection).route
    routes.set(connection, route)
  }
  return route
}

/** The outermost transport wins: `/…/p2p-circuit/webrtc` is WebRTC that was signalled via a relay. */
function transportOf(names: readonly string[]): TransportName {
  const circuitAt = names.lastIndexOf('p2p-circuit')
  const after = names.slice(circuitAt + 1)
  if (after.includes('webrtc')) return 'webrtc'
  if (circuitAt >= 0) return 'circuit-relay'
  if (after.includes('webrtc-direct')) return 'webrtc-direct'
  if (after.includes('ws') || after.includes('wss')) return 'websockets'
  if (after.includes('tcp')) return 'tcp'
  return 'other'
}
