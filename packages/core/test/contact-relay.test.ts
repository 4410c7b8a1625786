/**
 * A relay slot on a contact's home node, between in-process peers on 127.0.0.1: Carol only dials
 * (as behind a NAT) and has no home node; Bob has one. Carol reserves a slot on Bob's home node
 * (it admits Bob's contacts) and tells Bob, and Bob only, her address through it: Bob reaches her
 * there (messages say `relayed`); her card, identify and Dave (her contact, not Bob's) never see
 * it. A stranger gets no slot and Dave no connection through it (both refused and counted). With
 * three contacts' home nodes she holds two.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { generateDeviceKey } from '../src/identity/device.js'
import { openHomeNode, type RunningHomeNode } from '../src/mailbox/home-node.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { MemoryStore } from '../src/store/memory.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const nodeOf = (p: TestPeer) => (p.messenger as unknown as { core: { node: JiayiNode } }).core.node

describe('a relay slot on a contact’s home node', () => {
  let home: RunningHomeNode
  let bob: TestPeer
  let carol: TestPeer
  let dave: TestPeer
  let stranger: JiayiNode | undefined
  const others: { stop(): Promise<void> }[] = []
  let carolAtBob: string
  let bobAtCarol: string
  let daveAtCarol: string

  before(async () => {
    home = await openHomeNode({
      store: new MemoryStore(),
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
    })
    bob = await testPeer('Bob')
    carol = await testPeer('Carol', new MemoryStore(), { listen: [], alsoDial: ['loopback'] })
    dave = await testPeer('Dave')
    // Carol dials both; each accepts her request on her connection.
    bobAtCarol = (await carol.messenger.addContact(bob.messenger.card().link)).id
    daveAtCarol = (await carol.messenger.addContact(dave.messenger.card().link)).id
    carolAtBob = await eventually(
      () => bob.messenger.contactList().find((c) => c.name === 'Carol')?.id,
      10_000,
      'her request to Bob',
    )
    const carolAtDave = await eventually(
      () => dave.messenger.contactList().find((c) => c.name === 'Carol')?.id,
      10_000,
      'her request to Dave',
    )
    await bob.messenger.accept(carolAtBob)
    await dave.messenger.accept(carolAtDave)
    await eventually(() => carol.messenger.contact(bobAtCarol).state === 'accepted', 10_000, 'Bob accepted')
    await eventually(() => carol.messenger.contact(daveAtCarol).state === 'accepted', 10_000, 'Dave accepted')
  })
  after(async () => {
    await Promise.all([bob?.stop(), carol?.stop(), dave?.stop(), stranger?.stop()])
    await Promise.all([home, ...others].map((h) => h?.stop()))
  })

  const homeId = () => home.node.peerId.toString()
  const homeAddr = () => home.node.getMultiaddrs()[0]!.toString()
  const throughHome = (addrs: readonly { toString(): string }[]) =>
    addrs.map(String).filter((a) => a.includes(`/p2p/${homeId()}/p2p-circuit`))

  it('Carol reserves on Bob’s home node once Bob links it, and tells Bob alone', async () => {
    await bob.messenger.addHomeNode(home.link())
    await eventually(() => carol.messenger.reach().relays.includes(homeId()), 15_000, 'reserved')
    await eventually(
      () => throughHome(bob.messenger.contact(carolAtBob).addrs).length === 1,
      15_000,
      'Bob learns the circuit from her address update',
    )
    // Not in her card, nor in what libp2p tells anyone (identify, her peer record).
    assert.deepEqual(throughHome(carol.messenger.card().addrs), [])
    assert.deepEqual(throughHome(nodeOf(carol).getMultiaddrs()), [])
    // Dave hears from her (identify runs on her connection to him) and learns nothing of it.
    const sent = await carol.messenger.send(daveAtCarol, 'hello Dave')
    const carolAtDave = dave.messenger.contactList().find((c) => c.name === 'Carol')!.id
    await eventually(
      async () => (await dave.messenger.messages(carolAtDave)).some((m) => m.id === sent.id),
      10_000,
      'Dave got it',
    )
    const carolId = peerIdFromString(carol.messenger.whoami().peerId)
    await eventually(
      async () => (await nodeOf(dave).peerStore.get(carolId)).protocols.includes(PROTOCOL_MSG),
      10_000,
      'identify ran',
    )
    const known = await nodeOf(dave).peerStore.get(carolId)
    assert.deepEqual(throughHome(known.addresses.map((a) => a.multiaddr)), [])
    assert.deepEqual(throughHome(dave.messenger.contact(carolAtDave).addrs), [])
  })

  it('Bob reaches Carol through his home node: his message says relayed', async () => {
    await Promise.all([bob.messenger.settled(), carol.messenger.settled()])
    await nodeOf(carol).hangUp(nodeOf(bob).peerId)
    await eventually(() => nodeOf(bob).getConnections(nodeOf(carol).peerId).length === 0, 10_000, 'apart')
    const sent = await bob.messenger.send(carolAtBob, 'through my home node')
    const got = await eventually(
      async () => (await carol.messenger.messages(bobAtCarol)).find((m) => m.id === sent.id),
      15_000,
      'delivered through the relay',
    )
    assert.equal(got.route, 'relayed')
    // Identify on that connection did not make Bob forget the circuit.
    await bob.messenger.settled()
    assert.equal(throughHome(bob.messenger.contact(carolAtBob).addrs).length, 1)
  })

  it('a stranger gets no slot, and Dave no connection to Carol through it (attacker)', async () => {
    stranger = await createJiayiNode({
      privateKey: await generateDeviceKey(),
      network: nodeNetwork({ mdns: false }),
      listen: [],
      alsoDial: ['loopback'],
      relayServer: false,
    })
    const refused = home.relayRefused()
    stranger.services.reach?.keepGuestReservations([homeAddr()])
    await eventually(() => home.relayRefused().reservation > refused.reservation, 10_000, 'slot refused')
    assert.deepEqual(stranger.services.reach?.status().relays, [])
    // Dave holds Carol's card, not Bob's: the home node connects only Bob's devices to her.
    const carolId = carol.messenger.whoami().peerId
    await assert.rejects(
      nodeOf(dave).dial(multiaddr(`${homeAddr()}/p2p-circuit/p2p/${carolId}`), { force: true }),
    )
    assert.equal(home.relayRefused().connection, refused.connection + 1)
  })

  it('at most two contacts’ home nodes; the slot held is kept', async () => {
    // Dave links a home node too, and Erin, a new contact of Carol's, has one.
    const erin = await testPeer('Erin')
    others.push(erin)
    const erinAtCarol = (await carol.messenger.addContact(erin.messenger.card().link)).id
    const carolAtErin = await eventually(
      () => erin.messenger.contactList().find((c) => c.name === 'Carol')?.id,
      10_000,
      'her request to Erin',
    )
    await erin.messenger.accept(carolAtErin)
    await eventually(() => carol.messenger.contact(erinAtCarol).state === 'accepted', 10_000, 'Erin accepted')
    for (const owner of [dave, erin]) {
      const h = await openHomeNode({
        store: new MemoryStore(),
        network: nodeNetwork({ mdns: false }),
        listen: ['/ip4/127.0.0.1/tcp/0'],
      })
      others.push(h)
      await owner.messenger.addHomeNode(h.link())
    }
    await eventually(
      () =>
        carol.messenger.contactHome(daveAtCarol) !== undefined &&
        carol.messenger.contactHome(erinAtCarol) !== undefined,
      10_000,
      'Carol knows three home nodes',
    )
    await eventually(() => carol.messenger.reach().relays.length === 2, 15_000, 'two slots')
    const reach = nodeOf(carol).services.reach!
    assert.equal(reach.guestRelays().length, 2, 'no third reservation is asked for')
    assert.ok(carol.messenger.reach().relays.includes(homeId()), 'Bob’s home node kept')
  })
})
