import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { type WebRTCTransportInit, webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import type { NetworkStack } from './network-stack.js'

/**
 * A browser tab can only dial: WebSockets and WebRTC-Direct to a Node peer, and WebRTC to another
 * browser, signalled through a Node peer's relay (circuitRelayTransport). It becomes reachable by
 * other browsers by listening on `/p2p-circuit` (a reservation on a relay it is connected to) and
 * `/webrtc` (accepting the WebRTC upgrade that comes through it).
 */
export interface BrowserNetworkInit {
  /**
   * ICE configuration for browser-to-browser WebRTC. Default: no STUN/TURN servers, so nothing
   * leaves the LAN and no third party learns the user's address (libp2p's own default would ask
   * Google, Twilio, Cloudflare and Mozilla STUN servers).
   */
  rtcConfiguration?: WebRTCTransportInit['rtcConfiguration']
}

export const DEFAULT_BROWSER_LISTEN: readonly string[] = ['/p2p-circuit', '/webrtc']

export function browserNetwork(init: BrowserNetworkInit = {}): NetworkStack {
  return {
    environment: 'browser',
    transports: [
      webSockets(),
      webRTCDirect(),
      webRTC({ rtcConfiguration: init.rtcConfiguration ?? { iceServers: [] } }),
      circuitRelayTransport(),
    ],
    peerDiscovery: [],
    defaultListen: DEFAULT_BROWSER_LISTEN,
  }
}
