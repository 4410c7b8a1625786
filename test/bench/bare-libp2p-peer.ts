/**
 * The baseline of cli.bench.ts's peer.* figures: a bare js-libp2p node with the transports and
 * protocols a `jiayi` peer runs (TCP, WebSockets and WebRTC-Direct listeners on 127.0.0.1; Noise,
 * Yamux, identify, ping), built with libp2p's own API (not @jiayi/core) and bundled with esbuild
 * by the bench. Prints {"event":"ready"} once it listens; on SIGTERM or SIGINT it stops the node
 * and exits as soon as node.stop() resolves (libp2p alone arms debounce timers while stopping
 * that would keep a process waiting ~1 s more: see packages/core/src/net/node-factory.ts).
 */
import '../../polyfill.mjs'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'

const node = await createLibp2p({
  addresses: {
    listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/udp/0/webrtc-direct'],
  },
  transports: [tcp(), webSockets(), webRTCDirect()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), ping: ping() },
})
const stop = async () => {
  await node.stop()
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
process.stdout.write(`${JSON.stringify({ event: 'ready', addrs: node.getMultiaddrs().map(String) })}\n`)
