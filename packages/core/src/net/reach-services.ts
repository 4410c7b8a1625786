/**
 * Reach beyond one LAN (DESIGN "Reach"), on Node peers (nodeNetwork adds them), from libp2p's own services: DCUtR (hole punching that
 * upgrades a relayed connection to a direct one), AutoNAT (do others reach the addresses we
 * listen on?), UPnP (the home router forwards a public port to us: upnp.ts), and `reach`, which keeps a reservation on this peer's home node and says what the
 * ready line and status report (`nat`, `relays`).
 *
 * What js-libp2p 3 can and cannot punch (measured in apps/node/test/reach-netns.test.ts, read in
 * @libp2p/identify 4 and @libp2p/dcutr 3): identify drops every observed TCP address (a TCP dial
 * does not leave from the listening port, so each dial is seen at a new port: js-libp2p#2620),
 * and AutoNAT confirms only addresses that other peers could dial back. A peer behind a NAT
 * that maps ports per connection (Linux MASQUERADE, most home routers) therefore has no public
 * address to offer, and DCUtR's exchange ends with "no dialable multiaddrs". What does upgrade is
 * DCUtR's unilateral step: when the side that dialled through the relay has a public address
 * (a forwarded port it announces, UPnP, a public IP), the other side dials it directly and the
 * relayed connection closes.
 */
import { autoNAT } from '@libp2p/autonat'
import { dcutr } from '@libp2p/dcutr'
import { type ReachInit, reachService } from './reach-service.js'
import { type UpnpInit, upnpPortMapping } from './upnp.js'

export type { GuestRelay, NatStatus, Reach, ReachInit, ReachStatus } from './reach-service.js'
export type { UpnpInit } from './upnp.js'

export interface ReachServicesInit extends ReachInit {
  /** Hole punching (default true). */
  readonly dcutr?: boolean
  /** AutoNAT client and server (default true). */
  readonly autoNat?: boolean
  /**
   * UPnP port mapping on the home router (upnp.ts); default on. `false` turns it off
   * (`jiayi start --no-upnp`; a home node, `start --serve`, runs without it).
   */
  readonly upnp?: boolean | UpnpInit
}

/** The services to add to a Node peer's libp2p (node-factory.ts). */
export function reachServices(init: ReachServicesInit = {}) {
  return {
    reach: reachService(init),
    ...(init.dcutr === false ? {} : { dcutr: dcutr() }),
    ...(init.autoNat === false ? {} : { autoNAT: autoNAT() }),
    ...(init.upnp === false ? {} : { upnp: upnpPortMapping(init.upnp === true ? {} : init.upnp) }),
  }
}
