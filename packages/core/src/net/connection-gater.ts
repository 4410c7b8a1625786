/**
 * libp2p's connection gater for every Jiayi node: the dial policy (dial-policy.ts) applied to
 * each address libp2p is about to dial or to store for a peer, and the per-peer connection limit
 * (resource-limits.ts) applied to each inbound connection once Noise has authenticated its peer.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DialPolicy } from './dial-policy.js'

export interface GaterInit {
  readonly policy: DialPolicy
  /** This node's peer id: our own addresses are stored whatever their scope. */
  readonly self: PeerId
  /** Connections a peer may have open with us at once. */
  readonly maxConnectionsPerPeer: number
  /** How many connections `peer` has open with us now. */
  readonly connectionsOf: (peer: PeerId) => number
  /** Told of every inbound connection refused for being one too many. */
  readonly onRefusedConnection?: (peer: PeerId) => void
}

export function jiayiConnectionGater(init: GaterInit): ConnectionGater {
  const { policy, self } = init
  const tooMany = (peer: PeerId) => {
    if (init.connectionsOf(peer) < init.maxConnectionsPerPeer) return false
    init.onRefusedConnection?.(peer)
    return true
  }
  return {
    denyDialMultiaddr: (addr: Multiaddr) => {
      const why = policy.refusal(addr)
      if (why === undefined) return false
      policy.count(why)
      return true
    },
    // Identify and mDNS put what a peer claims into the peer store; refused addresses stay out,
    // so nothing that reads the store later (reconnects, the dialer) is handed them.
    filterMultiaddrForPeer: (peer: PeerId, addr: Multiaddr) => peer.equals(self) || policy.mayDial(addr),
    // Checked once the peer id is proven (after Noise), before the muxer runs: a peer with its
    // share of connections gets no further one on which to open streams.
    denyInboundEncryptedConnection: (peer: PeerId) => tooMany(peer),
  }
}
