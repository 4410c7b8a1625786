// Two real Node peers on 127.0.0.1 connect over each transport a Node peer listens on, ping, and
// report how the connection travels.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { describeAddress, describeConnection } from '../src/net/connection-info.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { JIAYI_USER_AGENT } from '../src/net/node-factory.js'
import { addrFor, type LoopbackTransport, startTestNode, stopAll } from './net-helpers.js'

const expected: Record<LoopbackTransport, string> = {
  tcp: 'tcp',
  websockets: 'websockets',
  webrtcDirect: 'webrtc-direct',
}

describe('Node peer transports on 127.0.0.1', () => {
  let a: JiayiNode
  let b: JiayiNode

  before(async () => {
    ;[a, b] = await Promise.all([startTestNode(), startTestNode()])
  })
  after(() => stopAll(a, b))

  for (const transport of Object.keys(expected) as LoopbackTransport[]) {
    test(`connects and pings over ${transport}`, async () => {
      const target = addrFor(b, transport)
      const started = performance.now()
      const connection = await a.dial(target, { signal: AbortSignal.timeout(10_000) })
      const dialMs = performance.now() - started
      assert.equal(connection.remotePeer.toString(), b.peerId.toString())
      if (transport === 'webrtcDirect') {
        // DTLS encrypts and SCTP data channels multiplex (reported as '/webrtc'); Noise only authenticates the peer id
        // (its prologue binds both certificate hashes), so encryption is reported as 'native'.
        assert.equal(connection.encryption, 'native')
        assert.equal(connection.multiplexer, '/webrtc')
      } else {
        assert.equal(connection.encryption, '/noise')
        assert.equal(connection.multiplexer, '/yamux/1.0.0')
      }

      const info = describeConnection(connection)
      assert.equal(info.transport, expected[transport])
      assert.equal(info.route, 'lan')
      assert.equal(info.limited, false)
      assert.equal(info.direction, 'outbound')

      // The first ping also opens and negotiates the stream; the second is closer to the RTT.
      await a.services.ping.ping(target, { signal: AbortSignal.timeout(5000) })
      const rtt = await a.services.ping.ping(target, { signal: AbortSignal.timeout(5000) })
      assert.ok(rtt >= 0)
      // Figures for the report; timing never fails a test.
      console.log(`# ${transport}: dial ${dialMs.toFixed(1)} ms, ping ${rtt} ms`)

      // The other side sees the same kind of connection, inbound.
      const theirs = b.getConnections(a.peerId)[0]
      assert.ok(theirs)
      assert.equal(describeConnection(theirs).direction, 'inbound')
      await a.hangUp(b.peerId)
    })
  }

  test('identify does not leak the platform in the user agent', async () => {
    await a.dial(addrFor(b, 'tcp'))
    // identify runs on connection open; wait until b's record of a has the agent version.
    const deadline = Date.now() + 5000
    let agent: string | undefined
    while (Date.now() < deadline) {
      const peer = await b.peerStore.get(a.peerId).catch(() => undefined)
      const raw = peer?.metadata.get('AgentVersion')
      if (raw !== undefined) {
        agent = new TextDecoder().decode(raw)
        break
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.equal(agent, JIAYI_USER_AGENT)
    await a.hangUp(b.peerId)
  })
})

describe('describeAddress', () => {
  test('classifies addresses without dialling', async () => {
    const { multiaddr } = await import('@multiformats/multiaddr')
    const peer = '12D3KooWEZ4azJ4ota4DfpQwz3YiHvXiYknefBRwcr2BNCVqaft4'
    const cases: Array<[string, string, string]> = [
      ['/ip4/192.168.1.20/tcp/4001', 'lan', 'tcp'],
      ['/ip4/8.8.8.8/tcp/4001/ws', 'direct', 'websockets'],
      ['/ip6/fe80::1/udp/9/webrtc-direct', 'lan', 'webrtc-direct'],
      [`/ip4/10.0.0.2/tcp/1/ws/p2p/${peer}/p2p-circuit/p2p/${peer}`, 'relayed', 'circuit-relay'],
      [`/ip4/10.0.0.2/tcp/1/ws/p2p/${peer}/p2p-circuit/webrtc/p2p/${peer}`, 'lan', 'webrtc'],
      [`/ip4/8.8.8.8/tcp/1/ws/p2p/${peer}/p2p-circuit/webrtc/p2p/${peer}`, 'direct', 'webrtc'],
      // The answering browser of a WebRTC connection sees no IP at all.
      [`/webrtc/p2p/${peer}`, 'lan', 'webrtc'],
    ]
    for (const [addr, route, transport] of cases) {
      assert.deepEqual(describeAddress(multiaddr(addr)), { route, transport }, addr)
    }
  })

  test('a limited connection counts as relayed whatever its address says', async () => {
    const { multiaddr } = await import('@multiformats/multiaddr')
    const info = describeConnection({
      remoteAddr: multiaddr('/ip4/10.0.0.2/tcp/1'),
      direct: true,
      limits: { bytes: 100n },
      direction: 'inbound',
    })
    assert.equal(info.route, 'relayed')
    assert.equal(info.transport, 'circuit-relay')
    assert.equal(info.limited, true)
  })
})
