/**
 * A device that stays connected to its home node gets new mail at once: the home node sends a
 * notice on /jiayi/mailbox-notice/1 when a contact deposits, and the device fetches on the
 * connection it holds (no reconnection, no polling). Real libp2p nodes on 127.0.0.1: Alice only
 * dials and holds no relay slot, so Bob has no way to her but her mailbox. A notice from anyone
 * but her home node is refused and counted.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { homeLink, MailboxServer } from '../src/mailbox/index.js'
import { MailboxNotice } from '../src/mailbox/mailbox-wire.pb.js'
import { framedStreamFor } from '../src/net/framing.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { PROTOCOL_MAILBOX_NOTICE } from '../src/net/protocols.js'
import { MemoryStore } from '../src/store/memory.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'
import { startTestNode } from './net-helpers.js'

const nodeOf = (p: TestPeer) => (p.messenger as unknown as { core: { node: JiayiNode } }).core.node

describe('mailbox notices', () => {
  const cleanup: (() => Promise<void>)[] = []
  after(async () => {
    for (const c of cleanup.reverse()) await c()
  })

  it('a deposit reaches the owner’s connected device at once, on the connection it holds', async () => {
    const homeNode = await startTestNode({ listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: false })
    const server = await MailboxServer.open({ node: homeNode, store: new MemoryStore() })
    cleanup.push(async () => {
      await server.stop()
      await homeNode.stop()
    })
    // Alice listens nowhere and reserves no relay slot: her card carries no address at all.
    const alice = await testPeer('Alice', new MemoryStore(), {
      listen: [],
      alsoDial: ['loopback'],
      network: { reach: false },
    })
    const bob = await testPeer('Bob')
    cleanup.push(alice.stop, bob.stop)
    const link = homeLink({ peerId: homeNode.peerId.toString(), addrs: homeNode.getMultiaddrs().map(String) })
    await alice.messenger.addHomeNode(link)
    // Bob learns her home node from her card; she reaches him, he answers on her connection.
    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const aliceAtBob = await eventually(
      () => bob.messenger.contactList().find((c) => c.name === 'Alice')?.id,
      10_000,
      'her request',
    )
    await bob.messenger.accept(aliceAtBob)
    await eventually(() => alice.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    await eventually(() => server.stats().depositors === 1, 10_000, 'Bob may deposit')

    // Attacker: Bob's peer (a contact, not her home node) sends her a notice: refused, counted.
    const stream = await nodeOf(bob).dialProtocol(nodeOf(alice).peerId, PROTOCOL_MAILBOX_NOTICE)
    const framed = framedStreamFor(stream, PROTOCOL_MAILBOX_NOTICE)
    await framed.write(MailboxNotice.encode({ items: 1 })).catch(() => undefined)
    await eventually(
      () => alice.messenger.stats().refused[PROTOCOL_MAILBOX_NOTICE]?.['not-allowed'] === 1,
      10_000,
      'the forged notice is refused and counted',
    )

    await Promise.all([alice.messenger.settled(), bob.messenger.settled()])
    const home = homeNode.peerId.toString()
    const held = nodeOf(alice).getConnections(peerIdFromString(home))
    assert.equal(held.length, 1, 'Alice holds a connection to her home node')
    let reconnected = 0
    nodeOf(alice).addEventListener('peer:connect', (e: CustomEvent<PeerId>) => {
      if (e.detail.toString() === home) reconnected++
    })
    await nodeOf(alice).hangUp(nodeOf(bob).peerId)
    await eventually(() => nodeOf(bob).getConnections(nodeOf(alice).peerId).length === 0, 10_000, 'apart')

    const sent = await bob.messenger.send(aliceAtBob, 'while you are connected to your home node')
    await eventually(
      async () =>
        (await bob.messenger.messages(aliceAtBob, { peek: true })).find((m) => m.id === sent.id)?.route ===
        'mailbox',
      10_000,
      'deposited',
    )
    const got = await eventually(
      async () =>
        (await alice.messenger.messages(bobAtAlice.id, { peek: true })).find((m) => m.id === sent.id),
      10_000,
      'fetched on the notice',
    )
    assert.equal(got.route, 'mailbox')
    assert.ok(server.stats().notices >= 1, 'the home node sent a notice')
    assert.equal(reconnected, 0, 'no reconnection was needed')
    assert.equal(
      nodeOf(alice).getConnections(peerIdFromString(home))[0]?.id,
      held[0]?.id,
      'the same connection',
    )
  })
})
