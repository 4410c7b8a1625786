import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { Identify, IdentifyPush } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Libp2pOptions } from 'libp2p'
import type { AnnouncedAddrs } from './announced-addrs.js'
import type { DialPolicy } from './dial-policy.js'
import type { LanRendezvous } from './lan-rendezvous.js'
import type { DhtBootstrap } from './public-dht.js'
import type { Reach } from './reach-services.js'

export type NetEnvironment = 'node' | 'browser'

/** The environment-specific half of a node: built by `nodeNetwork()` or `browserNetwork()`. */
export interface NetworkStack {
  readonly environment: NetEnvironment
  readonly transports: NonNullable<Libp2pOptions['transports']>
  readonly peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']>
  /** Services of this environment only (the LAN rendezvous on Node), beside the common ones. */
  readonly services?: Partial<Libp2pOptions<JiayiServices>['services']>
  readonly defaultListen: readonly string[]
}

// A type alias, not an interface: libp2p's ServiceMap needs an index signature.
export type JiayiServices = {
  /** Which addresses this node may dial (also its connection gater). */
  dialPolicy: DialPolicy
  /** Addresses served for this node by another server (the web app's HTTPS port). */
  announcedAddrs: AnnouncedAddrs
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  /** Present on Node peers unless turned off. */
  relay?: CircuitRelayService
  /** Node peers: the home node reservation and NAT status (reach-services.ts). */
  reach?: Reach
  /** Node peers: libp2p's DCUtR and AutoNAT (reach-services.ts). */
  dcutr?: unknown
  autoNAT?: unknown
  /** Node peers: libp2p's UPnP port mapping (upnp.ts). */
  upnp?: unknown
  /** Present where the environment can find contacts on the LAN (lan-rendezvous.ts). */
  lanRendezvous?: LanRendezvous
  /** Present when the peer joined the public network (public-dht.ts). */
  dht?: KadDHT
  dhtBootstrap?: DhtBootstrap
}

export type JiayiNode = Libp2p<JiayiServices>
