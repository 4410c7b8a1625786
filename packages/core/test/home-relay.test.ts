/**
 * A home node's relay between in-process peers on 127.0.0.1: Bob only dials (as behind a NAT)
 * and keeps a reservation on his home node; his card carries the circuit through it; Alice, who
 * holds only that card, reaches him through it, and their messages record `relayed`. Strangers
 * get no reservation and no connection to anyone but the owner; files do not cross the relay.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { generateDeviceKey } from '../src/identity/device.js'
import { openHomeNode, type RunningHomeNode } from '../src/mailbox/home-node.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { PROTOCOL_FILE } from '../src/net/protocols.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { MemoryStore } from '../src/store/memory.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('home node relay', () => {
  let home: RunningHomeNode
  let alice: TestPeer
  let bob: TestPeer
  const strangers: JiayiNode[] = []
  let bobAtAlice: string
  let aliceAtBob: string

  before(async () => {
    home = await openHomeNode({
      store: new MemoryStore(),
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
    })
    // Both dial only, as peers behind two NATs are for each other: the relay is their one way.
    alice = await testPeer('Alice', new MemoryStore(), { listen: [], alsoDial: ['loopback'] })
    bob = await testPeer('Bob', new MemoryStore(), { listen: [], alsoDial: ['loopback'] })
  })
  after(async () => {
    await Promise.all([alice?.stop(), bob?.stop(), ...strangers.map((s) => s.stop())])
    await home?.stop()
  })

  async function stranger(): Promise<JiayiNode> {
    const node = await createJiayiNode({
      privateKey: await generateDeviceKey(),
      network: nodeNetwork({ mdns: false }),
      listen: [],
      alsoDial: ['loopback'],
      relayServer: false,
    })
    strangers.push(node)
    return node
  }

  const homeAddr = () => `${home.node.getMultiaddrs()[0]!.toString()}`

  it("the owner's device keeps a reservation and its card carries the circuit", async () => {
    await bob.messenger.addHomeNode(home.link())
    const circuit = `${homeAddr()}/p2p-circuit`
    await eventually(
      () => bob.messenger.reach().relays.includes(home.node.peerId.toString()),
      10_000,
      'reserved',
    )
    await eventually(() => bob.messenger.card().addrs.includes(circuit), 10_000, 'the card names the circuit')
    assert.deepEqual(
      bob.messenger.card().addrs,
      [circuit],
      'a dial-only peer is reached through its home only',
    )
  })

  it('a contact holding only the card reaches the owner through the relay: messages say relayed', async () => {
    bobAtAlice = (await alice.messenger.addContact(bob.messenger.card().link)).id
    aliceAtBob = await eventually(
      () => bob.messenger.contactList().find((c) => c.name === 'Alice')?.id,
      15_000,
      'the request through the relay',
    )
    await bob.messenger.accept(aliceAtBob)
    await eventually(() => alice.messenger.contact(bobAtAlice).state === 'accepted', 15_000, 'accepted')
    const sent = await alice.messenger.send(bobAtAlice, 'through your home node')
    const got = await eventually(
      async () => (await bob.messenger.messages(aliceAtBob)).find((m) => m.id === sent.id),
      15_000,
      'delivered through the relay',
    )
    assert.equal(got.route, 'relayed')
    await eventually(
      async () =>
        (await alice.messenger.messages(bobAtAlice)).find((m) => m.id === sent.id)?.route === 'relayed',
      10_000,
      'the sender records the route',
    )
    assert.equal(alice.messenger.contact(bobAtAlice).reach, 'relayed')
    assert.equal(bob.messenger.contact(aliceAtBob).reach, 'relayed')
  })

  it('files never cross the relay: their protocol is refused on a limited connection', async () => {
    const bobId = bob.messenger.whoami().peerId
    const node = (alice.messenger as unknown as { core: { node: JiayiNode } }).core.node
    await assert.rejects(
      node.dialProtocol(multiaddr(`${homeAddr()}/p2p-circuit/p2p/${bobId}`), PROTOCOL_FILE),
    )
  })

  it('a contact (on the depositor list) may reserve a slot too', async () => {
    const node = (alice.messenger as unknown as { core: { node: JiayiNode } }).core.node
    await eventually(() => home.mailbox.isOwnersContact(node.peerId.toString()), 10_000, 'depositor list')
    node.services.reach?.keepReservation(homeAddr())
    await eventually(
      () => alice.messenger.reach().relays.includes(home.node.peerId.toString()),
      10_000,
      'reserved',
    )
  })

  it('a stranger gets no reservation (attacker)', async () => {
    const s = await stranger()
    const before = home.relayRefused().reservation
    s.services.reach?.keepReservation(homeAddr())
    await eventually(() => home.relayRefused().reservation > before, 10_000, 'refused')
    assert.deepEqual(s.services.reach?.status().relays, [])
  })

  it('a stranger cannot use the relay to reach anyone but the owner (attacker)', async () => {
    const s = await stranger()
    const aliceId = alice.messenger.whoami().peerId
    const before = home.relayRefused().connection
    // Alice holds a slot (a contact's), yet the home node connects only its owner to her.
    await assert.rejects(s.dial(multiaddr(`${homeAddr()}/p2p-circuit/p2p/${aliceId}`)))
    assert.equal(home.relayRefused().connection, before + 1)
    // The owner's door is open to anyone holding the card (his peer decides what they may do).
    const bobId = bob.messenger.whoami().peerId
    const connection = await s.dial(multiaddr(`${homeAddr()}/p2p-circuit/p2p/${bobId}`))
    assert.ok(connection.limits != null, 'a relayed connection, with the home relay limits')
  })
})
