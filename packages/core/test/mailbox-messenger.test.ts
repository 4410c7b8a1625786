/**
 * The mailbox end to end between in-process messengers on real libp2p nodes: Bob's messages to
 * Alice, who is offline, go to her home node (`stored`, route `mailbox`); she gets them once and in
 * order when she starts again, and Bob sees them delivered when he is back. And what Alice cannot
 * open from her mailbox (a PreKey message naming prekeys she no longer holds) is not lost: Bob
 * sends it again through a new session.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { fromBase64, toBase64 } from '../src/bytes.js'
import { createHomeCertificate, verifyHomeCertificate } from '../src/mailbox/certificate.js'
import { certifyHomeNode } from '../src/mailbox/client.js'
import { homeLink, MailboxServer } from '../src/mailbox/index.js'
import { Keys } from '../src/messenger/keys.js'
import { ROTATE_MS, SIGNED_PREKEY_GRACE_MS } from '../src/messenger/prekey-store.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { MemoryStore } from '../src/store/memory.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'
import { startTestNode } from './net-helpers.js'

/** Enough that a drain hands over a batch of items at once. */
const N = 40

describe('mailbox between messengers', () => {
  const running = new Set<TestPeer>()
  const cleanup: (() => Promise<void>)[] = []
  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    for (const c of cleanup) await c()
  })

  /** A peer; started again, it listens where it did (as `jiayi start` does), so contacts find it. */
  async function peer(
    name: string,
    store = new MemoryStore(),
    listen?: string[],
    options: Parameters<typeof testPeer>[2] = {},
  ) {
    const p = await testPeer(name, store, listen === undefined ? options : { ...options, listen })
    running.add(p)
    return {
      ...p,
      async stop() {
        running.delete(p)
        await p.stop()
      },
    }
  }

  it('stored while the recipient is away, fetched once and in order, then delivered', async () => {
    const homeNode = await startTestNode({ listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: false })
    const server = await MailboxServer.open({ node: homeNode, store: new MemoryStore() })
    cleanup.push(async () => {
      await server.stop()
      await homeNode.stop()
    })
    const aliceStore = new MemoryStore()
    const bobStore = new MemoryStore()
    // Both come back on their ports, as `jiayi start` does: ports below Linux's ephemeral range
    // (32768-60999), which no other socket is given while they are down.
    const stable = () => [`/ip4/127.0.0.1/tcp/${20_000 + Math.floor(Math.random() * 12_000)}`]
    const aliceAddrs = stable()
    const bobAddrs = stable()
    let alice = await peer('Alice', aliceStore, aliceAddrs)
    let bob = await peer('Bob', bobStore, bobAddrs)
    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const aliceAtBob = await bob.messenger.addContact(alice.messenger.card().link)
    await eventually(() => alice.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    await eventually(() => bob.messenger.contact(aliceAtBob.id).state === 'accepted', 10_000, 'accepted')

    const link = homeLink({ peerId: homeNode.peerId.toString(), addrs: homeNode.getMultiaddrs().map(String) })
    const view = await alice.messenger.addHomeNode(link)
    assert.equal(view.peerId, homeNode.peerId.toString())
    assert.deepEqual(alice.messenger.homeNode(), view)
    // Bob learns it from Alice's address update; the home node learns Bob may deposit.
    await eventually(() => server.stats().depositors === 1, 10_000, 'depositors')
    await eventually(
      async () => {
        await alice.messenger.settled()
        return bobHasHome()
      },
      10_000,
      'bob knows the home node',
    )
    function bobHasHome() {
      return (
        (
          bob.messenger as unknown as { core: { contacts: { get(id: string): { home?: string } } } }
        ).core.contacts.get(aliceAtBob.id)?.home !== undefined
      )
    }
    await alice.messenger.settled()
    await alice.stop()

    const ids: string[] = []
    for (let i = 0; i < N; i++) ids.push((await bob.messenger.send(aliceAtBob.id, `while away ${i}`)).id)
    await eventually(
      async () => {
        const list = await bob.messenger.messages(aliceAtBob.id, { limit: 50, peek: true })
        const mine = list.filter((m) => ids.includes(m.id))
        return mine.length === N && mine.every((m) => m.status === 'stored' && m.route === 'mailbox')
      },
      15_000,
      'stored',
    )
    // Receipts and the like may ride along: at least the messages are there.
    assert.ok(server.stats().items >= N)
    await bob.messenger.settled()
    await bob.stop()

    alice = await peer('Alice', aliceStore, aliceAddrs)
    const got = await eventually(
      async () => {
        const list = await alice.messenger.messages(bobAtAlice.id, { limit: 50, peek: true })
        const incoming = list.filter((m) => m.text.startsWith('while away '))
        return incoming.length >= N ? incoming : undefined
      },
      15_000,
      'fetched',
    )
    assert.deepEqual(
      got.map((m) => m.text),
      Array.from({ length: N }, (_, i) => `while away ${i}`),
    )
    assert.ok(got.every((m) => m.route === 'mailbox'))
    await eventually(() => server.stats().items === 0, 10_000, 'acknowledged')

    bob = await peer('Bob', bobStore, bobAddrs)
    await eventually(
      async () => {
        const list = await bob.messenger.messages(aliceAtBob.id, { limit: 50, peek: true })
        return list.filter((m) => ids.includes(m.id)).every((m) => m.status === 'delivered')
      },
      20_000,
      'delivered',
    )
    const again = await alice.messenger.messages(bobAtAlice.id, { limit: 50, peek: true })
    assert.equal(again.filter((m) => m.text.startsWith('while away ')).length, N)
  })

  it('a stale PreKey message in the mailbox is not lost: the sender sends it again in a new session', async () => {
    const homeNode = await startTestNode({ listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: false })
    const server = await MailboxServer.open({ node: homeNode, store: new MemoryStore() })
    cleanup.push(async () => {
      await server.stop()
      await homeNode.stop()
    })
    let clock = Date.now()
    const now = () => clock
    const aliceStore = new MemoryStore()
    const bobStore = new MemoryStore()
    const stable = () => [`/ip4/127.0.0.1/tcp/${20_000 + Math.floor(Math.random() * 12_000)}`]
    const aliceAddrs = stable()
    const bobAddrs = stable()
    let alice = await peer('Alice', aliceStore, aliceAddrs, { now })
    let bob = await peer('Bob', bobStore, bobAddrs)
    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const aliceAtBob = await bob.messenger.addContact(alice.messenger.card().link)
    await eventually(() => alice.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    await eventually(() => bob.messenger.contact(aliceAtBob.id).state === 'accepted', 10_000, 'accepted')
    const link = homeLink({ peerId: homeNode.peerId.toString(), addrs: homeNode.getMultiaddrs().map(String) })
    await alice.messenger.addHomeNode(link)
    await eventually(() => server.stats().depositors === 1, 10_000, 'depositors')
    await eventually(
      async () => {
        await alice.messenger.settled()
        return (
          (
            bob.messenger as unknown as { core: { contacts: { get(id: string): { home?: string } } } }
          ).core.contacts.get(aliceAtBob.id)?.home !== undefined
        )
      },
      10_000,
      'bob knows the home node',
    )
    await bob.messenger.settled()
    await bob.stop()
    // While Bob is away, Alice's signed prekey (the one her card, kept by Bob, names) is replaced
    // and, past its grace, deleted.
    clock += ROTATE_MS
    await alice.messenger.rotatePrekeys()
    clock += SIGNED_PREKEY_GRACE_MS
    await alice.messenger.rotatePrekeys()
    await alice.messenger.settled()
    await alice.stop()

    // Bob comes back with his sessions gone (a restored backup): his new session with Alice starts
    // from her card, as she cannot be asked for fresh prekeys, and all he sends goes to her mailbox.
    bob = await peer('Bob', bobStore, bobAddrs, { resetSessions: true })
    const texts = ['after the backup 1', 'after the backup 2', 'after the backup 3']
    const ids: string[] = []
    for (const text of texts) ids.push((await bob.messenger.send(aliceAtBob.id, text)).id)
    await eventually(
      async () => {
        const list = await bob.messenger.messages(aliceAtBob.id, { limit: 50, peek: true })
        return list.filter((m) => ids.includes(m.id)).every((m) => m.status === 'stored')
      },
      15_000,
      'stored',
    )

    // Alice cannot open them (stale), and says so by a new session; Bob sends them again.
    alice = await peer('Alice', aliceStore, aliceAddrs, { now })
    const got = await eventually(
      async () => {
        const list = await alice.messenger.messages(bobAtAlice.id, { limit: 50, peek: true })
        const incoming = list.filter((m) => m.text.startsWith('after the backup'))
        return incoming.length >= texts.length ? incoming : undefined
      },
      20_000,
      'the messages, sent again',
    )
    assert.ok(
      (alice.messenger.stats().refused[PROTOCOL_MSG]?.['unknown-prekey'] ?? 0) >= 1,
      'they were stale',
    )
    assert.deepEqual(
      got.map((m) => m.text),
      texts,
    )
    await eventually(
      async () => {
        const list = await bob.messenger.messages(aliceAtBob.id, { limit: 50, peek: true })
        return list.filter((m) => ids.includes(m.id)).every((m) => m.status === 'delivered')
      },
      20_000,
      'delivered',
    )
    await eventually(() => server.stats().items === 0, 10_000, 'acknowledged')
    const again = await alice.messenger.messages(bobAtAlice.id, { limit: 50, peek: true })
    assert.equal(again.filter((m) => m.text.startsWith('after the backup')).length, texts.length, 'once')
  })

  it('a home node certificate near its end is renewed when the owner reaches the home node', async () => {
    const homeNode = await startTestNode({ listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: false })
    const server = await MailboxServer.open({ node: homeNode, store: new MemoryStore() })
    cleanup.push(async () => {
      await server.stop()
      await homeNode.stop()
    })
    const store = new MemoryStore()
    let alice = await peer('Alice', store)
    const link = homeLink({ peerId: homeNode.peerId.toString(), addrs: homeNode.getMultiaddrs().map(String) })
    await alice.messenger.addHomeNode(link)
    const yearOut = server.certificate()!.notAfter

    // Her certificate has a day left (as a year on): given to the home node and kept as hers.
    const ref = { peerId: homeNode.peerId.toString(), addrs: homeNode.getMultiaddrs().map(String) }
    const short = createHomeCertificate(alice.messenger.account.identity, {
      homePeerId: ref.peerId,
      devices: [alice.messenger.node.peerId.toString()],
      addrs: ref.addrs,
      notAfter: Math.floor(Date.now() / 1000) + 24 * 3600,
      // Issued a minute on: a renewal in the same second still replaces it.
      issuedAt: Math.floor(Date.now() / 1000) + 60,
      deviceListVersion: alice.messenger.ownDeviceList().version,
    })
    await certifyHomeNode(alice.messenger.node, ref, short)
    const record = JSON.parse(new TextDecoder().decode(await store.get(Keys.homeNode())))
    await store.put(
      Keys.homeNode(),
      new TextEncoder().encode(JSON.stringify({ ...record, certificate: toBase64(short) })),
    )
    assert.ok(server.certificate()!.notAfter < yearOut, 'the home node holds the short certificate')

    await alice.stop()
    alice = await peer('Alice', store)
    await eventually(
      () => server.certificate()!.notAfter >= yearOut,
      15_000,
      'the home node holds a renewed certificate',
    )
    // She keeps it once the home node took it.
    await eventually(
      async () => {
        const kept = JSON.parse(new TextDecoder().decode(await store.get(Keys.homeNode())))
        return verifyHomeCertificate(fromBase64(kept.certificate)).notAfter >= yearOut
      },
      15_000,
      'and so does she',
    )
  })
})
