/**
 * The public network layer (public-dht.ts, dht-finder.ts) on real libp2p nodes on 127.0.0.1,
 * forming a DHT of their own on a test protocol, with loopback addresses kept (`lan`: the public
 * DHT keeps public ones only): two DHT servers, and Alice and Bob as clients, as on the public
 * network. Alice only dials (she listens nowhere, so nothing but her own
 * lookup can bring her and Bob together); Bob moves to a new port while she holds his old one.
 * Mallory, a DHT server that is no contact of anybody, answers lookups for Bob with addresses
 * that must never be dialled.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { createAccount, loadAccount } from '../src/messenger/account.js'
import { Messenger } from '../src/messenger/messenger.js'
import { createJiayiNode, type JiayiNode } from '../src/net/node-factory.js'
import { bootstrapAddrs, type PublicDhtOptions } from '../src/net/public-dht-config.js'
import { loadPublicNetwork, savePublicNetwork } from '../src/net/public-network-setting.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { MemoryStore } from '../src/store/memory.js'
import type { Store } from '../src/store/store.js'
import { eventually } from './helpers/messenger-peer.js'

const PROTOCOL = '/jiayi-test/kad/1.0.0'

interface Peer {
  readonly node: JiayiNode
  readonly messenger: Messenger
  stop(): Promise<void>
}

async function dhtPeer(name: string, store: Store, listen: string[], dht: PublicDhtOptions): Promise<Peer> {
  const account = (await loadAccount(store)) ?? (await createAccount(store, name))
  const node = await createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen,
    relayServer: false,
    alsoDial: ['loopback'],
    // The clients keep loopback addresses too (the public DHT drops private ones).
    publicDht: { protocol: PROTOCOL, lan: true, ...dht },
  })
  const messenger = await Messenger.open({ store, node, account })
  return {
    node,
    messenger,
    async stop() {
      await messenger.stop()
      await node.stop()
    },
  }
}

/** A DHT server on 127.0.0.1 that is nobody's contact (a public bootstrap peer, say). */
async function dhtServer(bootstrap: string[]): Promise<JiayiNode> {
  const store = new MemoryStore()
  const account = await createAccount(store, 'server')
  return createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    publicDht: { protocol: PROTOCOL, lan: true, server: true, bootstrap, autoRelay: false },
  })
}

const addrOf = (n: { getMultiaddrs(): { toString(): string }[] }) => n.getMultiaddrs()[0]!.toString()

describe('the public DHT, opt-in', () => {
  const stops: (() => Promise<void>)[] = []
  let boot: JiayiNode
  let second: JiayiNode
  let mallory: Libp2p
  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined)
  })

  before(async () => {
    boot = await dhtServer([])
    stops.push(async () => boot.stop())
    second = await dhtServer([addrOf(boot)])
    stops.push(async () => second.stop())
    // Mallory runs plain libp2p without Jiayi's dial policy, so her peer store holds anything.
    mallory = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({ protocol: PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper }),
      },
    })
    stops.push(async () => mallory.stop())
    await mallory.dial(multiaddr(addrOf(boot)))
  })

  it('keeps only bootstrap addresses that name a peer, at most 16', () => {
    const id = boot.peerId.toString()
    const list = ['/ip4/127.0.0.1/tcp/1', 'not an address', `/ip4/127.0.0.1/tcp/2/p2p/${id}`]
    assert.deepEqual(
      bootstrapAddrs(list).map((a) => a.toString()),
      [`/ip4/127.0.0.1/tcp/2/p2p/${id}`],
    )
    assert.equal(bootstrapAddrs(Array(40).fill(`/ip4/127.0.0.1/tcp/2/p2p/${id}`)).length, 16)
    assert.ok(bootstrapAddrs(undefined).length >= 4, 'the public list by default')
  })

  it('the setting: off until saved, kept across a reopen of the store, bad addresses dropped', async () => {
    const store = new MemoryStore()
    assert.deepEqual(await loadPublicNetwork(store), { publicDht: false, bootstrap: [] })
    const good = `${addrOf(boot)}`
    const saved = await savePublicNetwork(store, {
      publicDht: true,
      bootstrap: [good, '/ip4/1.2.3.4/tcp/1', 'junk'],
    })
    assert.deepEqual(saved, { publicDht: true, bootstrap: [good] })
    assert.deepEqual(await loadPublicNetwork(store), saved)
  })

  it('Alice finds Bob by peer id when his stored addresses are stale, and delivers', async (t) => {
    const bootAddrs = [addrOf(boot), addrOf(second)]
    const bobStore = new MemoryStore()
    let bob = await dhtPeer('Bob', bobStore, ['/ip4/127.0.0.1/tcp/0'], { bootstrap: bootAddrs })
    stops.push(() => bob.stop())
    // Alice dials only: no listen address, no relay reservation, so Bob can never dial her.
    const alice = await dhtPeer('Alice', new MemoryStore(), [], {
      bootstrap: [...bootAddrs, addrOf(mallory)],
      autoRelay: false,
    })
    stops.push(() => alice.stop())
    assert.equal(alice.node.services.dht?.getMode(), 'client')
    assert.equal(bob.node.services.dht?.getMode(), 'client')

    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const aliceAtBob = await eventually(() => bob.messenger.contactList()[0], 10_000, 'request at Bob')
    await bob.messenger.accept(aliceAtBob.id)
    await eventually(() => alice.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    const oldAddrs = alice.messenger.contact(bobAtAlice.id).addrs
    const bobId = bob.node.peerId

    // Bob moves: the same device on a new port. Alice holds the old one only.
    await bob.stop()
    bob = await dhtPeer('Bob', bobStore, ['/ip4/127.0.0.1/tcp/0'], { bootstrap: bootAddrs })
    stops.push(() => bob.stop())
    assert.notDeepEqual(bob.messenger.card().addrs, oldAddrs)
    await eventually(() => boot.getConnections(bobId).length > 0, 10_000, 'Bob back on the DHT')
    await eventually(() => alice.node.getConnections(bobId).length === 0, 10_000, 'old connection gone')
    // Mallory tells lies about Bob: a Unix socket and a wildcard address.
    await mallory.peerStore.merge(bobId, {
      multiaddrs: [multiaddr('/unix/%2Fvar%2Frun%2Fdocker.sock'), multiaddr('/ip4/0.0.0.0/tcp/2375')],
    })

    const sentAt = Date.now()
    const sent = await alice.messenger.send(bobAtAlice.id, 'found you through the DHT')
    const got = await eventually(
      async () =>
        (await bob.messenger.messages(aliceAtBob.id, { peek: true })).find(
          (m) => m.text === 'found you through the DHT',
        ),
      40_000,
      'the message at Bob',
    )
    assert.equal(got.direction, 'in')
    t.diagnostic(`send to arrival through the DHT: ${Date.now() - sentAt} ms`)
    // Alice's outbox took Bob's acknowledgement: it left her over the connection the DHT found.
    await eventually(
      async () =>
        (await alice.messenger.messages(bobAtAlice.id, { peek: true })).find((m) => m.id === sent.id)
          ?.status !== 'queued',
      10_000,
      'acknowledged',
    )
    const stored = (await alice.node.peerStore.get(bobId)).addresses.map((a) => a.multiaddr.toString())
    assert.ok(
      stored.some((a) => bob.node.getMultiaddrs().some((m) => m.toString().startsWith(a))),
      'the new address',
    )
    assert.ok(!stored.some((a) => a.startsWith('/unix') || a.startsWith('/ip4/0.0.0.0')), stored.join(' '))

    // A client answers no stranger's DHT query: the protocol is not even spoken.
    assert.ok(!bob.node.getProtocols().includes(PROTOCOL))
    await assert.rejects(mallory.dialProtocol(bob.node.getMultiaddrs()[0]!, PROTOCOL), /protocol/i)
  })

  it('what a liar answers for a contact is never dialled', async () => {
    // Dave is a real contact's device that never joined this DHT and is now off: only Mallory
    // "knows" where he is, and she names a Unix socket and a wildcard address.
    const dave = await dhtPeer('Dave', new MemoryStore(), ['/ip4/127.0.0.1/tcp/0'], {
      bootstrap: [],
      autoRelay: false,
    })
    const link = dave.messenger.card().link
    const daveId = dave.node.peerId
    await dave.stop()
    await mallory.peerStore.merge(daveId, {
      multiaddrs: [multiaddr('/unix/%2Fvar%2Frun%2Fdocker.sock'), multiaddr('/ip4/0.0.0.0/tcp/2375')],
    })
    const erin = await dhtPeer('Erin', new MemoryStore(), [], {
      bootstrap: [addrOf(boot), addrOf(mallory)],
      autoRelay: false,
    })
    stops.push(() => erin.stop())
    await eventually(() => erin.node.getConnections(mallory.peerId).length > 0, 10_000, 'Erin on the DHT')
    // Her request cannot leave (Dave is off): the failed delivery asks the DHT, Mallory answers.
    await erin.messenger.addContact(link)
    const policy = erin.node.services.dialPolicy
    await eventually(() => (policy.refused().unix ?? 0) > 0, 30_000, 'the lie seen and refused')
    assert.ok((policy.refused().unspecified ?? 0) > 0)
    const stored = (await erin.node.peerStore.get(daveId).catch(() => undefined))?.addresses ?? []
    assert.deepEqual(
      stored
        .map((a) => a.multiaddr.toString())
        .filter((a) => a.startsWith('/unix') || a.startsWith('/ip4/0.0.0.0')),
      [],
    )
  })

  it('a peer with AutoRelay holds a reservation on a relay it met and has a relayed address', async () => {
    // The servers run Jiayi's relay server (on by default); Carol's transport finds one.
    const carol = await dhtPeer('Carol', new MemoryStore(), ['/ip4/127.0.0.1/tcp/0'], {
      bootstrap: [addrOf(boot)],
    })
    stops.push(() => carol.stop())
    const relayed = await eventually(
      () => carol.node.getMultiaddrs().find((a) => a.toString().includes('/p2p-circuit')),
      15_000,
      'a relayed address',
    )
    assert.ok(relayed.toString().includes(boot.peerId.toString()))
  })
})
