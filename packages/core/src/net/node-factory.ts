import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify, identifyPush } from '@libp2p/identify'
import type { ConnectionGater, Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { announcedAddrs } from './announced-addrs.js'
import { jiayiConnectionGater } from './connection-gater.js'
import { DialPolicy, type LocalScope } from './dial-policy.js'
import { NetError } from './errors.js'
import { type HomeRelayAccess, homeRelayGater, homeRelayServerInit, type RelayRefusal } from './home-relay.js'
import type { JiayiNode, JiayiServices, NetworkStack } from './network-stack.js'
import type { PublicDhtOptions } from './public-dht-config.js'
import { lanRelayServerInit, type RelayServerLimits } from './relay-limits.js'
import { connectionManagerInit, RESOURCE_LIMITS, type ResourceLimits, yamuxInit } from './resource-limits.js'
import { installHalfWindowUpdates } from './yamux-window.js'

/**
 * Builds a Jiayi libp2p node. What differs between Node and the browser (transports, discovery,
 * default listen addresses) comes in as a `NetworkStack` from `nodeNetwork()` (transports-node.ts,
 * imported only by Node code because it pulls in TCP and mDNS) or `browserNetwork()`
 * (transports-browser.ts). Everything else is the same on both: Noise, Yamux, identify (and push,
 * so contacts learn new addresses), ping, on Node a LAN-sized circuit-relay-v2 server, and the dial
 * policy (dial-policy.ts) as the connection gater and as the `dialPolicy` service, which the
 * messenger asks where addresses enter.
 */
export interface JiayiNodeOptions {
  /** The device key (Ed25519): its peer id is the one the identity certifies on the card. */
  privateKey: Ed25519PrivateKey
  network: NetworkStack
  /** Multiaddrs to listen on; default `network.defaultListen`. Pass [] to only dial. */
  listen?: readonly string[]
  /** Node only: run the circuit-relay-v2 server (default true) and/or override its limits. */
  relayServer?: boolean | Partial<RelayServerLimits>
  /**
   * Node only: loopback or link-local addresses this peer may dial although it does not listen
   * there (it only dials, or listens only through a relay on this machine). Default none: such
   * addresses are dialled only by a peer that listens on them (dial-policy.ts).
   */
  alsoDial?: readonly LocalScope[]
  /** Connection and stream limits (resource-limits.ts); default RESOURCE_LIMITS. */
  limits?: Partial<ResourceLimits>
  /**
   * Node only: relay for a home node's owner instead of the LAN (home-relay.ts): reservations
   * for the owner's devices and contacts, connections to the owner's devices.
   */
  homeRelay?: {
    access: HomeRelayAccess
    limits?: Partial<RelayServerLimits>
    onRefused?: (what: RelayRefusal, peer: PeerId) => void
  }
  /** Start listening at once (default true). */
  start?: boolean
  /** Join the public libp2p network (Kad-DHT peer routing, AutoRelay): public-dht.ts. Default off. */
  publicDht?: PublicDhtOptions | undefined
}

/** Sent in identify instead of libp2p's default, which names the OS, runtime or full browser UA. */
export const JIAYI_USER_AGENT = 'jiayi/1'

export async function createJiayiNode(options: JiayiNodeOptions): Promise<JiayiNode> {
  const { privateKey, network } = options
  if (privateKey == null || privateKey.type !== 'Ed25519') {
    throw new NetError('BadOptions', 'the device key must be a libp2p Ed25519 private key')
  }
  if (network.environment === 'browser' && options.relayServer) {
    throw new NetError('BadOptions', 'a browser cannot run a relay server')
  }

  installHalfWindowUpdates()
  const relay = network.environment === 'node' && options.relayServer !== false
  const relayLimits = typeof options.relayServer === 'object' ? options.relayServer : {}
  const home = network.environment === 'node' ? options.homeRelay : undefined
  const relayInit = home === undefined ? lanRelayServerInit(relayLimits) : homeRelayServerInit(home.limits)

  // Loaded only when asked for: the browser bundle (which never joins) leaves Kad-DHT in its own chunk.
  const dht =
    options.publicDht === undefined
      ? undefined
      : (await import('./public-dht.js')).publicDht(options.publicDht)
  const listen = [...(options.listen ?? network.defaultListen), ...(dht?.listen ?? [])]
  const policy = new DialPolicy(network.environment, listen, options.alsoDial)
  const services: Libp2pOptions<JiayiServices>['services'] = {
    dialPolicy: () => policy,
    announcedAddrs: announcedAddrs(),
    identify: identify(),
    identifyPush: identifyPush(),
    ping: ping(),
    ...(relay || home !== undefined ? { relay: circuitRelayServer(relayInit) } : {}),
    ...network.services,
    ...dht?.services,
  }

  const limits = { ...RESOURCE_LIMITS, ...options.limits }
  // The gater counts a peer's connections on the node it guards, which exists only after
  // createLibp2p returns; no connection can arrive before that.
  let node: JiayiNode | undefined
  const init: Libp2pOptions<JiayiServices> = {
    privateKey,
    start: options.start ?? true,
    nodeInfo: { userAgent: JIAYI_USER_AGENT },
    addresses: {
      listen,
      // Circuits through contacts' home nodes are for those contacts only (reach-service.ts):
      // never in identify, our peer record or anything else libp2p tells other peers.
      announceFilter: (addrs) => node?.services.reach?.announceable(addrs) ?? addrs,
    },
    transports: [...network.transports],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(yamuxInit(limits))],
    connectionManager: connectionManagerInit(limits),
    peerDiscovery: [...network.peerDiscovery],
    services,
    // Also replaces libp2p's browser default, which refuses private and loopback addresses and
    // plain ws://: exactly where Jiayi's peers are (a node on the same LAN).
    connectionGater: {
      ...jiayiConnectionGater({
        policy,
        self: peerIdFromPrivateKey(privateKey),
        maxConnectionsPerPeer: limits.maxConnectionsPerPeer,
        connectionsOf: (peer) => node?.getConnections(peer).length ?? 0,
      }),
      ...(home === undefined ? {} : homeRelayGater(home.access, home.onRefused)),
    },
  }
  node = await createLibp2p(init)
  clearTimersWhenStopped(node)
  return node
}

/**
 * libp2p arms two one-second debounce timers while it stops and never clears them (libp2p 3.3.11,
 * @libp2p/identify 4.1.14): the address manager's, when a listener closes (`transport:close`), and
 * identify push's, when unhandling the protocols changes our own peer record
 * (`self:peer:update`). Neither does anything once the node has stopped, but each keeps the
 * process alive: a peer that had stopped in ~30 ms took 1–2 s more to exit. Both debounces have a
 * `stop()`; they are called once the node has stopped. (Internals, hence the guards; the clean-stop
 * test in net-lifecycle.test.ts notices when a libp2p update moves them.)
 */
function clearTimersWhenStopped(node: JiayiNode): void {
  interface Debounced {
    stop?: () => void
  }
  const internals = node as unknown as {
    components?: { addressManager?: { _updatePeerStoreAddresses?: Debounced } }
  }
  const push = node.services.identifyPush as unknown as { _push?: Debounced }
  node.addEventListener('stop', () => {
    internals.components?.addressManager?._updatePeerStoreAddresses?.stop?.()
    push._push?.stop?.()
  })
}

/**
 * The browser's gater on its own (createJiayiNode installs it for browser nodes): private,
 * loopback and plain ws:// addresses are allowed; browsers still enforce their own rules (mixed
 * content, Private Network Access) on top of this.
 */
export function browserConnectionGater(): ConnectionGater {
  const policy = new DialPolicy('browser', [])
  return { denyDialMultiaddr: (addr) => !policy.mayDial(addr) }
}

export type { JiayiNode, JiayiServices }
