import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify, identifyPush } from '@libp2p/identify'
import type { ConnectionGater, Ed25519PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { NetError } from './errors.js'
import type { JiayiNode, JiayiServices, NetworkStack } from './network-stack.js'
import { lanRelayServerInit, type RelayServerLimits } from './relay-limits.js'
import { installHalfWindowUpdates } from './yamux-window.js'

/**
 * Builds a Jiayi libp2p node. What differs between Node and the browser (transports, discovery,
 * default listen addresses) comes in as a `NetworkStack` from `nodeNetwork()` (transports-node.ts,
 * imported only by Node code because it pulls in TCP and mDNS) or `browserNetwork()`
 * (transports-browser.ts). Everything else is the same on both: Noise, Yamux, identify (and push,
 * so contacts learn new addresses), ping, and on Node a LAN-sized circuit-relay-v2 server.
 */
export interface JiayiNodeOptions {
  /** The device key (Ed25519): its peer id is the one the identity certifies on the card. */
  privateKey: Ed25519PrivateKey
  network: NetworkStack
  /** Multiaddrs to listen on; default `network.defaultListen`. Pass [] to only dial. */
  listen?: readonly string[]
  /** Node only: run the circuit-relay-v2 server (default true) and/or override its limits. */
  relayServer?: boolean | Partial<RelayServerLimits>
  /** Start listening at once (default true). */
  start?: boolean
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

  const services: Libp2pOptions<JiayiServices>['services'] = {
    identify: identify(),
    identifyPush: identifyPush(),
    ping: ping(),
    ...(relay ? { relay: circuitRelayServer(lanRelayServerInit(relayLimits)) } : {}),
    ...network.services,
  }

  const init: Libp2pOptions<JiayiServices> = {
    privateKey,
    start: options.start ?? true,
    nodeInfo: { userAgent: JIAYI_USER_AGENT },
    addresses: { listen: [...(options.listen ?? network.defaultListen)] },
    transports: [...network.transports],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [...network.peerDiscovery],
    services,
  }
  if (network.environment === 'browser') init.connectionGater = browserConnectionGater()
  return createLibp2p(init)
}

/**
 * libp2p's browser default refuses private and loopback addresses and plain ws://, which is
 * exactly where Jiayi's peers are (a node on the same LAN). Browsers still enforce their own
 * rules (mixed content, Private Network Access) on top of this.
 */
export function browserConnectionGater(): ConnectionGater {
  return {
    denyDialMultiaddr: async () => false,
  }
}

export type { JiayiNode, JiayiServices }
