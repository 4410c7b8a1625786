/**
 * libp2p's connection gater for every Jiayi node: the dial policy (dial-policy.ts) applied to
 * each address libp2p is about to dial or to store for a peer.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { DialPolicy } from './dial-policy.js'

export interface GaterInit {
  readonly policy: DialPolicy
  /** This node's peer id: our own addresses are stored whatever their scope. */
  readonly self: PeerId
}

export function jiayiConnectionGater(init: GaterInit): ConnectionGater {
  const { policy, self } = init
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
  }
}
