/**
 * A home node seeds its owner's feed (in-process peers and a home node on real libp2p nodes on
 * 127.0.0.1, the home node on a LevelDB on disk): Alice posts while Bob is away, her peer pushes
 * the signed, sealed log to her home node, she goes offline, and Bob, back, reads her Moments from
 * it. The home node's disk holds no text. The attacker's side: a stranger cannot pull, a contact
 * cannot push, and the owner's device cannot push another feed's entries.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  type HomeNodeRef,
  homeLink,
  type LevelStore,
  MemoryStore,
  openHomeNode,
  openHomeStream,
  type RunningHomeNode,
} from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import {
  encodeFrame,
  FeedError,
  type FeedId,
  FeedSeeder,
  PROTOCOL_FEED_SEED,
  pullSeededFeed,
  pushOwnFeed,
  SeedStatus,
} from '../src/index.js'
import { befriend, eventually, type FeedPeer, feedPeer, levelDir } from './helpers/peers.js'

const refused = (code: string) => (e: unknown) =>
  FeedError.is(e, 'Refused') && e instanceof Error && e.message.includes(code)

describe('a home node seeds its owner’s feed', () => {
  let dir: Awaited<ReturnType<typeof levelDir>>
  let homeStore: LevelStore
  let home: RunningHomeNode
  let seeder: FeedSeeder
  let ref: HomeNodeRef
  let alice: FeedPeer
  let bob: FeedPeer
  let carol: FeedPeer
  const bobStore = new MemoryStore()
  const running = new Set<FeedPeer>()

  before(async () => {
    dir = await levelDir()
    homeStore = await dir.open()
    home = await openHomeNode({
      store: homeStore,
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
    })
    const mailbox = home.mailbox
    seeder = await openSeeder()
    ref = { peerId: home.node.peerId.toString(), addrs: home.node.getMultiaddrs().map(String) }
    ;[alice, bob, carol] = await Promise.all([
      feedPeer('Alice'),
      feedPeer('Bob', bobStore),
      feedPeer('Carol'),
    ])
    for (const p of [alice, bob, carol]) running.add(p)
    await befriend(alice, bob)
    await alice.messenger.addHomeNode(homeLink(ref))
    await eventually(() => mailbox.stats().depositors === 1, 10_000, 'Bob may deposit and pull')
    const aliceAtBob = bob.messenger.contactList().find((c) => c.identityKey === alice.feed.id)!
    await eventually(
      () => bob.messenger.contactHome(aliceAtBob.id) !== undefined,
      10_000,
      'Bob knows her home',
    )
    await eventually(() => bob.feed.engine.epochs(alice.feed.id).length > 0, 10_000, 'Bob holds her key')
  })

  after(async () => {
    for (const p of running) await p.stop()
    await seeder.stop()
    await home.stop()
    await homeStore.close()
    await dir.dispose()
  })

  /** As `jiayi start --serve` opens it: who may push and pull is what the mailbox says. */
  function openSeeder() {
    const mailbox = home.mailbox
    return FeedSeeder.open({
      node: home.node,
      store: homeStore,
      owner: () => mailbox.certificate()?.ownerKey,
      isOwnerDevice: (peer) => mailbox.isOwnerDevice(peer),
      isOwnersContact: (peer) => mailbox.isOwnersContact(peer),
    })
  }

  async function stop(p: FeedPeer) {
    running.delete(p)
    await p.stop()
  }

  it('only the owner’s devices push; only her contacts pull; only her own feed', async () => {
    await alice.feed.post('before anyone pulls')
    await alice.feed.pushToHomeNode()
    assert.ok(seeder.stats().entries >= 1)

    // A stranger may not read it (not on her depositor list), nor push anything.
    await assert.rejects(
      pullSeededFeed(carol.messenger.node, ref, carol.feed.engine, alice.feed.id),
      refused('NotAllowed'),
    )
    await assert.rejects(pushOwnFeed(carol.messenger.node, ref, carol.feed.engine), refused('NotOwner'))
    // Her contact may read but not write: his own feed does not go to her home node.
    await bob.feed.post('Bob’s own post')
    await assert.rejects(pushOwnFeed(bob.messenger.node, ref, bob.feed.engine), refused('NotOwner'))
    // Her own device may push only her feed: an entry of Bob's (which she holds) is refused.
    const bobsEntry = await eventually(
      async () => {
        for await (const item of alice.feed.engine.missing(bob.feed.id, new Map(), 1 << 30))
          if (item.kind === 'entry') return item.entry
        return undefined
      },
      10_000,
      'Alice holds an entry of Bob’s',
    )
    const framed = await openHomeStream(alice.messenger.node, ref, PROTOCOL_FEED_SEED, {
      maxFrameBytes: 2 * 1024 * 1024,
      signal: AbortSignal.timeout(10_000),
    })
    await framed.write(Uint8Array.of(1))
    assert.equal((await framed.read())?.[0], SeedStatus.Ok)
    await framed.write(encodeFrame({ type: 'entry', entry: bobsEntry }))
    assert.deepEqual(await framed.read(), Uint8Array.of(SeedStatus.Forged))
    // Garbage as a first frame is refused too; the seeder goes on.
    const garbage = await openHomeStream(alice.messenger.node, ref, PROTOCOL_FEED_SEED, {
      maxFrameBytes: 2 * 1024 * 1024,
      signal: AbortSignal.timeout(10_000),
    })
    await garbage.write(Uint8Array.of(9, 9, 9))
    assert.deepEqual(await garbage.read(), Uint8Array.of(SeedStatus.BadRequest))
    const counted = seeder.stats().refused
    assert.equal(counted.NotAllowed, 1)
    assert.equal(counted.NotOwner, 2)
    assert.equal(counted.Forged, 1)
    assert.equal(counted.BadRequest, 1)
    assert.equal(seeder.stats().entries >= 1, true, 'what it held is still there')
  })

  it('Alice posts while Bob is away and goes offline; Bob reads her Moments from her home node', async () => {
    await bob.messenger.settled()
    await stop(bob)
    const texts = ['seeded while you were away', 'seeded 2 离开了']
    for (const t of texts) await alice.feed.post(t)
    // Her peer pushes by itself after a change.
    const held = alice.feed.engine.versionVector(alice.feed.id)
    await eventually(
      () =>
        seeder.stats().entries + (seeder.stats().snapshot ? 1 : 0) >=
        [...held.values()].reduce((a, b) => a + b, 0),
      10_000,
      'pushed',
    )
    await alice.feed.settled()
    await stop(alice)

    // The host's disk: her feed id in the clear (entries name it: the scan reads the store), no text.
    const disk = await diskBytes(dir.dir)
    assert.ok(disk.includes(Buffer.from(alice.feed.id, 'hex')), 'the scan reads what the store holds')
    for (const t of [...texts, '离开了', 'before anyone pulls'])
      assert.ok(!disk.includes(Buffer.from(t)), `"${t}" is on the home node's disk`)

    // The seeder started again finds what it held in its store.
    const before = seeder.stats()
    await seeder.stop()
    seeder = await openSeeder()
    assert.deepEqual({ ...seeder.stats(), refused: {} }, { ...before, refused: {} })

    bob = await feedPeer('Bob', bobStore)
    running.add(bob)
    const aliceFeed = alice.feed.id as FeedId
    // At start it pulls from the home nodes of contacts who are offline; by hand too.
    await bob.feed.pullFromHomeNodes()
    const got = await eventually(
      () => {
        const mine = bob.feed.timeline().filter((p) => p.author.me === false && texts.includes(p.text))
        return mine.length === texts.length ? mine : undefined
      },
      10_000,
      'her posts from her home node',
    )
    assert.deepEqual(new Set(got.map((p) => p.text)), new Set(texts))
    assert.deepEqual(bob.feed.engine.versionVector(aliceFeed), alice.feed.engine.versionVector(aliceFeed))
  })
})

/** Every file of a LevelDB directory, concatenated. */
async function diskBytes(dir: string): Promise<Buffer> {
  const names = await readdir(dir)
  return Buffer.concat(
    await Promise.all(names.map((n) => readFile(join(dir, n)).catch(() => Buffer.alloc(0)))),
  )
}
