/**
 * Resource limits (net/resource-limits.ts) between real peers on 127.0.0.1: a stranger who opens
 * connection after connection, and on each as many streams as Yamux lets it (holding them before
 * protocol negotiation, where they cost the most), gets a few connections and a bounded number of
 * streams; meanwhile Alice keeps exchanging messages with her contact Bob.
 *
 * The stranger runs modified code: it opens raw Yamux streams under libp2p's protocol layer.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { MAX_GROUP_MEMBERS } from '../src/groups/ops.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { RESOURCE_LIMITS } from '../src/net/resource-limits.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface RawMuxer {
  createStream(): Promise<{ send(data: Uint8Array): boolean }>
}

describe('one stranger cannot pin a peer with connections and streams', () => {
  let alice: TestPeer
  let bob: TestPeer
  let stranger: JiayiNode

  before(async () => {
    ;[alice, bob] = await Promise.all([testPeer('Alice'), testPeer('Bob')])
    await alice.messenger.addContact(bob.messenger.card().link)
    await bob.messenger.addContact(alice.messenger.card().link)
    await eventually(
      () =>
        alice.messenger.contactList()[0]?.state === 'accepted' &&
        bob.messenger.contactList()[0]?.state === 'accepted',
      15_000,
      'Alice and Bob are contacts',
    )
    stranger = await createJiayiNode({
      privateKey: await generateKeyPair('Ed25519'),
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      relayServer: false,
    })
  })
  after(async () => {
    await stranger?.stop()
    await Promise.all([alice?.stop(), bob?.stop()])
  })

  it('keeps the stranger to its share and serves Bob meanwhile', async () => {
    const aliceNode = alice.messenger.node
    const aliceAddr = aliceNode.getMultiaddrs()[0]!
    const strangerId = stranger.peerId
    const aliceId = peerIdFromString(alice.messenger.whoami().peerId)

    // Connection after connection, under the per-host rate (5 a second) so that is not what stops it.
    const dials = 8
    for (let i = 0; i < dials; i++) {
      await stranger.dial(aliceAddr, { force: true }).catch(() => undefined)
      await pause(300)
    }
    const connections = aliceNode.getConnections(strangerId).length
    assert.ok(
      connections <= RESOURCE_LIMITS.maxConnectionsPerPeer,
      `Alice holds ${connections} connections from one stranger`,
    )
    assert.ok(connections >= 1, 'the stranger did get a connection: the limit is what counts')

    // On each, streams that never name a protocol: a partial multistream-select header each.
    const perConnection = 200
    for (const conn of stranger.getConnections(aliceId)) {
      const muxer = (conn as Connection & { muxer: RawMuxer }).muxer
      for (let i = 0; i < perConnection; i++) {
        try {
          const stream = await muxer.createStream()
          stream.send(Uint8Array.of(0x13, 0x2f))
        } catch {
          break
        }
      }
    }
    await pause(500)
    const held = aliceNode.getConnections(strangerId).reduce((n, c) => n + c.streams.length, 0)
    const bound = RESOURCE_LIMITS.maxConnectionsPerPeer * RESOURCE_LIMITS.maxInboundStreamsPerConnection
    assert.ok(held <= bound, `Alice holds ${held} streams for one stranger (bound ${bound})`)

    // Bob is served all along, both ways.
    const bobAtAlice = alice.messenger.contactList()[0]!.id
    const aliceAtBob = bob.messenger.contactList()[0]!.id
    await bob.messenger.send(aliceAtBob, 'still there?')
    await eventually(
      async () => (await alice.messenger.messages(bobAtAlice)).some((m) => m.text === 'still there?'),
      15_000,
      "Bob's message reaches Alice",
    )
    const reply = await alice.messenger.send(bobAtAlice, 'yes')
    await eventually(
      async () => (await alice.messenger.message(bobAtAlice, reply.id))?.status === 'delivered',
      15_000,
      "Alice's reply is delivered",
    )
  })
})

describe('the connection cap', () => {
  it('holds a connection to every other member of the largest group, with room for contacts', () => {
    assert.ok(RESOURCE_LIMITS.maxConnections >= MAX_GROUP_MEMBERS - 1 + 50)
  })
})
