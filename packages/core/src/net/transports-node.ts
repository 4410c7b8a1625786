import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import { type TransportCertificate, type WebRTCTransportInit, webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { lanBeacon } from './lan-beacon.js'
import type { NetworkStack } from './network-stack.js'
import { type ReachServicesInit, reachServices } from './reach-services.js'

// @libp2p/websockets dials with the global WebSocket, which Node 22 has and Node 20 lacks (there
// the dial dies with "ReferenceError: WebSocket is not defined"). Fill it from `ws`, the library
// the websockets listener already uses for its server side. Remove when Node 20 support ends.
if (typeof globalThis.WebSocket === 'undefined') {
  // A computed specifier: `ws` ships no types and core has no Node types; never bundled.
  const specifier = 'ws'
  const ws: { WebSocket: typeof WebSocket } = await import(specifier)
  globalThis.WebSocket = ws.WebSocket
}

/**
 * The Node peer's transports and discovery. Only Node code imports this file: @libp2p/tcp and
 * @libp2p/mdns need node:net and node:dgram, and the browser bundle of core must not contain them
 * (test/browser/net-smoke.test.ts fails if it does). It is therefore not exported from index.ts.
 *
 * Listeners: TCP (Node peers), WebSockets and WebRTC-Direct (what a browser can dial). Dialers for
 * WebRTC and circuit relay too, so a Node peer can reach a browser peer through a relay.
 */
export interface NodeNetworkInit {
  /**
   * LAN discovery; on by default: contacts find each other by rotating names only they can make
   * (lan-beacon.ts). `{ open: true }` also runs libp2p's open mDNS, which announces this device's
   * peer id to everyone and finds every peer that does the same. `false` turns both off
   * (`jiayi start --no-mdns`).
   */
  mdns?: boolean | MdnsOptions
  /**
   * The WebRTC-Direct TLS certificate (ECDSA P-256). Its hash is part of the address on the card,
   * so a peer that wants a stable card must persist one and pass it back on every start; without
   * it (and without a libp2p keychain) a new certificate, hence a new certhash, is made each start.
   */
  webrtcDirectCertificate?: TransportCertificate
  /** ICE servers for node-to-browser WebRTC; default none (LAN only, no third-party STUN). */
  rtcConfiguration?: WebRTCTransportInit['rtcConfiguration']
  /** DCUtR, AutoNAT, UPnP and the home node reservation (reach-services.ts); on unless `false`. */
  reach?: ReachServicesInit | false
}

/**
 * What @libp2p/mdns puts on the LAN (with `open` only): a PTR record `<random 63-char
 * name>._p2p._udp.local` (a new random name per start, never the host name) and one TXT record
 * `dnsaddr=<multiaddr>/p2p/<peer id>` per private or loopback listen address. Nothing else: no
 * SRV/A records, no display name, no identity key (checked in packages/core/test/net-mdns.test.ts).
 * The rendezvous (always, unless mdns is false) puts rotating labels and ciphertext only.
 */
export interface MdnsOptions {
  /** Also announce the peer id to, and discover, every peer on the LAN (libp2p's mDNS). */
  open?: boolean
  /**
   * DNS-SD service name; default libp2p's `_p2p._udp.local` for open mDNS and
   * `_jiayi._udp.local` for the rendezvous. Tests use their own (for both).
   */
  serviceTag?: string
  /** UDP port; default 5353. */
  port?: number
  /** Milliseconds between queries; default 10 s. */
  intervalMs?: number
}

export const DEFAULT_NODE_LISTEN: readonly string[] = [
  '/ip4/0.0.0.0/tcp/0',
  '/ip4/0.0.0.0/tcp/0/ws',
  '/ip4/0.0.0.0/udp/0/webrtc-direct',
]

export function nodeNetwork(init: NodeNetworkInit = {}): NetworkStack {
  const mdnsInit = init.mdns ?? true
  const lan = mdnsInit === false ? undefined : mdnsInit === true ? {} : mdnsInit
  const directInit =
    init.webrtcDirectCertificate === undefined ? {} : { certificate: init.webrtcDirectCertificate }
  return {
    environment: 'node',
    transports: [
      tcp(),
      webSockets(),
      webRTCDirect(directInit),
      webRTC({ rtcConfiguration: init.rtcConfiguration ?? { iceServers: [] } }),
      circuitRelayTransport(),
    ],
    peerDiscovery: lan?.open === true ? [mdnsDiscovery(lan)] : [],
    services: {
      ...(init.reach === false ? {} : reachServices(init.reach)),
      ...(lan === undefined
        ? {}
        : {
            lanRendezvous: lanBeacon({
              serviceTag: lan.serviceTag,
              port: lan.port,
              intervalMs: lan.intervalMs,
            }),
          }),
    },
    defaultListen: DEFAULT_NODE_LISTEN,
  }
}

function mdnsDiscovery(options: MdnsOptions) {
  // @libp2p/mdns falls back to its defaults for undefined fields.
  return mdns({ serviceTag: options.serviceTag, port: options.port, interval: options.intervalMs })
}
