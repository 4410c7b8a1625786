/**
 * Reach beyond one LAN, in a small internet of network namespaces (helpers/internet-netns.ts):
 * a home node on the public bridge; Alice behind home router 1, Bob behind home router 2, both
 * NATed (MASQUERADE), each a separate `jiayi` process (`ip netns exec`).
 *
 * - Bob links the home node and holds a reservation on it; his card carries the circuit.
 * - Alice adds Bob's card and reaches him through his home node (his LAN address is unreachable
 *   from her home); her first message arrives.
 * - DCUtR upgrades the relayed connection to a direct one and later messages say `direct`. Alice's
 *   router forwards her port (as UPnP or the owner would) and she announces it (`--announce`):
 *   js-libp2p 3 has no address to punch with behind a port-mapping NAT, see
 *   packages/core/src/net/reach-services.ts for exactly why.
 * - Bob moves to a new address behind his router (and Alice's port is no longer forwarded): what
 *   Alice sends at once waits in his mailbox; once he holds a reservation from his new address,
 *   Alice reaches him through the home node's relay (`relayed`).
 *
 * One topology, three processes, for all cases. The namespaces (and with them every veth and
 * iptables rule) are removed in after(), whatever happened.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cleanup, eventually, jiayiJson, PeerProcess, tempHome } from './helpers/cli.js'
import type { MessageView as View } from './helpers/control.js'
import { createInternet, type Internet, internetUnavailable } from './helpers/internet-netns.js'
import { TestPeer } from './helpers/peers.js'

type MessageView = View & { readonly route?: string }
type ContactView = { id: string; peerId: string; state: string; reach: string }
type Reach = { nat: string; relays: string[] }

const ALICE_PORT = 4101

describe('reach through a home node across NATs', { skip: internetUnavailable() }, () => {
  let net: Internet
  let homeNode: PeerProcess
  let alice: TestPeer
  let bob: TestPeer
  let bobAtAlice: string
  let aliceAtBob: string
  const homePeer = () => homeNode.ready.peerId

  before(async () => {
    net = createInternet()
    const [h1, h2] = net.homes
    net.forward(h1, ALICE_PORT)
    homeNode = await PeerProcess.start(
      await tempHome(),
      ['--serve', '--listen', `/ip4/${net.pubIp}/tcp/4001`],
      {
        netns: net.pub,
      },
    )
    alice = await TestPeer.create(
      'Alice',
      [
        '--listen',
        `/ip4/0.0.0.0/tcp/${ALICE_PORT}`,
        '--no-mdns',
        '--announce',
        `/ip4/${h1.publicIp}/tcp/${ALICE_PORT}`,
      ],
      { netns: h1.host },
    )
    bob = await TestPeer.create('Bob', ['--listen', '/ip4/0.0.0.0/tcp/0', '--no-mdns'], { netns: h2.host })
  })

  after(async () => {
    await Promise.all([alice?.stop(), bob?.stop(), homeNode?.stop()].map((p) => p?.catch(() => undefined)))
    await cleanup()
    net?.remove()
  })

  const reachOf = async (peer: TestPeer) => (await peer.control.call<{ reach: Reach }>('stats')).reach
  const contactOf = async (peer: TestPeer, id: string) =>
    (await peer.control.call<ContactView[]>('contactList')).find((c) => c.id === id)
  const incoming = async (peer: TestPeer, contact: string, id: string) =>
    (await peer.control.call<MessageView[]>('messages', { contact, limit: 100, peek: true })).find(
      (m) => m.id === id,
    )

  it('Bob keeps a reservation on his home node; his card carries the circuit', async () => {
    const link = (homeNode.ready as unknown as { serveLink: string }).serveLink
    await jiayiJson(bob.home, ['home-node', 'add', link])
    const reach = await eventually(
      async () => {
        const r = await reachOf(bob)
        return r.relays.includes(homePeer()) ? r : undefined
      },
      20_000,
      'reservation',
    )
    assert.deepEqual(reach.relays, [homePeer()])
    const card = await bob.control.call<{ addrs: string[] }>('card')
    assert.ok(
      card.addrs.includes(`/ip4/${net.pubIp}/tcp/4001/p2p/${homePeer()}/p2p-circuit`),
      card.addrs.join(' '),
    )
  })

  it('Alice adds his card and reaches him through his home node', async () => {
    bobAtAlice = (await alice.control.call<ContactView>('addContact', { link: await bob.card() })).id
    aliceAtBob = await eventually(
      async () =>
        (await bob.control.call<ContactView[]>('contactList')).find((c) => c.peerId === alice.peerId)?.id,
      30_000,
      'the request at Bob',
    )
    await bob.control.call('accept', { contact: aliceAtBob })
    await eventually(
      async () => (await contactOf(alice, bobAtAlice))?.state === 'accepted',
      30_000,
      'accepted',
    )
    const sent = await alice.control.send(bobAtAlice, 'hello across two NATs')
    const got = await eventually(() => incoming(bob, aliceAtBob, sent.id), 30_000, 'first message at Bob')
    // Relayed, or already direct if DCUtR won the race with the first message.
    assert.ok(got.route === 'relayed' || got.route === 'direct', String(got.route))
  })

  it('DCUtR upgrades to a direct connection and later messages say direct', async () => {
    await eventually(
      async () => (await contactOf(bob, aliceAtBob))?.reach === 'direct',
      30_000,
      'direct at Bob',
    )
    await eventually(
      async () => (await contactOf(alice, bobAtAlice))?.reach === 'direct',
      30_000,
      'direct at Alice',
    )
    const sent = await alice.control.send(bobAtAlice, 'now straight')
    const got = await eventually(() => incoming(bob, aliceAtBob, sent.id), 20_000, 'direct message at Bob')
    assert.equal(got.route, 'direct')
    const back = await bob.control.send(aliceAtBob, 'straight back')
    const gotBack = await eventually(() => incoming(alice, bobAtAlice, back.id), 20_000, 'reply at Alice')
    assert.equal(gotBack.route, 'direct')
    // Behind a NAT: a public peer (the home node) sees Bob at his router's address.
    assert.equal((await reachOf(bob)).nat, 'private')
  })

  it('Bob moves to a new address: Alice finds him again through the home node', async () => {
    // Alice's router stops forwarding her port: nobody can dial her now, so the one way between
    // them is Alice's dial through Bob's home node (and DCUtR has nothing to upgrade to).
    net.unforward(net.homes[0], ALICE_PORT)
    net.moveHost(net.homes[1], 3)
    // Sent at once, before anyone noticed: the old connections are dead, Bob's old reservation
    // too, so it waits in his mailbox on the home node until he is back on it.
    const first = await alice.control.send(bobAtAlice, 'where did you go?')
    const got = await eventually(() => incoming(bob, aliceAtBob, first.id), 60_000, 'message after the move')
    assert.ok(got.route === 'mailbox' || got.route === 'relayed', String(got.route))
    // His reservation is back, from his new address (libp2p's pings found the old one dead).
    await eventually(async () => (await reachOf(bob)).relays.includes(homePeer()), 30_000, 'reserved again')
    const next = await alice.control.send(bobAtAlice, 'there you are')
    const gotNext = await eventually(() => incoming(bob, aliceAtBob, next.id), 30_000, 'through the relay')
    assert.equal(gotNext.route, 'relayed')
    assert.equal((await contactOf(alice, bobAtAlice))?.reach, 'relayed')
  })
})
