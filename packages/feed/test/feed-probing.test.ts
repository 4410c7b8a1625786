/**
 * Feed probing (issue 15, item 2), between real peers on 127.0.0.1. Bob is Alice's friend and
 * runs a modified copy of Jiayi: he asks Alice for feeds he holds no key for, and for epochs he
 * was never given, to learn who else is Alice's friend and when they post. Alice serves a feed
 * only to a requester that proves it holds the feed's current key, and answers every other
 * request the way she answers a feed id nobody has: with nothing.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateIdentity, randomBytes } from '@jiayi/core'
import { makeClaims } from '../src/have-proof.js'
import type { HeldKeys } from '../src/held-keys.js'
import { type FeedId, feedIdBytes, feedIdOf } from '../src/ids.js'
import { encodeFrame, type FeedHave, type HaveClaim, type SyncFrame } from '../src/wire.js'
import { proofStream } from './helpers/hostile.js'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

type Binding = Parameters<typeof makeClaims>[2]

/** A key holder that holds `key` for every feed at every epoch (a requester making keys up). */
function madeUp(key: Uint8Array): HeldKeys {
  return {
    self: feedIdOf(randomBytes(32)),
    feedIds: () => [],
    maxEpoch: () => 1,
    epochs: () => [1],
    key: () => key,
    keyVersion: 0,
  }
}

const haveFrame = (claims: readonly HaveClaim[]) => encodeFrame({ type: 'have', round: 1, claims })
const shape = (frames: readonly SyncFrame[]) =>
  frames.map((f) => (f.type === 'synced' ? `synced ${f.round}` : f.type))

/** What Bob's engine refused of what Alice sent him: each one is a feed she should not have served. */
function leaked(p: FeedPeer): number {
  const r = p.feed.stats().rejected
  return (r.Keyless ?? 0) + (r.Undecryptable ?? 0) + (r.Forged ?? 0)
}

describe('a friend probing for other feeds', () => {
  const peers: FeedPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })
  const peer = async (name: string) => {
    const p = await feedPeer(name)
    peers.push(p)
    return p
  }

  it('learns neither who else is a friend nor when they post', async () => {
    const alice = await peer('Alice')
    const bob = await peer('Bob')
    const carol = await peer('Carol')
    const dan = await peer('Dan')
    await befriend(alice, bob)
    await befriend(alice, carol)
    await befriend(alice, dan)
    await befriend(bob, dan)
    const carols = await carol.feed.post('Carol’s first post')
    await eventually(() => alice.feed.get(carols.id), 10_000, 'Alice holds Carol’s feed')

    // Dan drops Bob: Dan's feed moves to epoch 2, and Bob keeps only epoch 1.
    const bobAtDan = dan.messenger.contactList().find((c) => c.name === 'Bob')!
    await dan.messenger.reject(bobAtDan.id)
    await eventually(() => dan.feed.stats().epoch === 2, 10_000, 'Dan rotates his key')
    const dans = await dan.feed.post('Dan, after Bob left')
    await eventually(() => alice.feed.get(dans.id), 10_000, 'Alice holds Dan’s new post')
    await alice.feed.settled()
    assert.equal(bob.feed.engine.maxEpoch(dan.feed.id), 1)

    // Bob's modified client follows Carol's feed with a key he made up, claims an epoch of Dan's
    // feed he was never given, and follows a feed id nobody has (the baseline answer).
    const nobody = feedIdOf(generateIdentity().signing.publicKey) as FeedId
    await bob.feed.engine.addKey(carol.feed.id, 1, randomBytes(32))
    await bob.feed.engine.addKey(dan.feed.id, 99, randomBytes(32))
    await bob.feed.engine.addKey(nobody, 1, randomBytes(32))
    const before = leaked(bob)
    await bob.feed.syncNow()
    await bob.feed.settled()

    // Carol and Dan post again while Bob's stream to Alice stays open.
    const carols2 = await carol.feed.post('Carol, later')
    const dans2 = await dan.feed.post('Dan, later')
    await eventually(() => alice.feed.get(carols2.id) && alice.feed.get(dans2.id), 10_000, 'Alice has both')
    await alice.feed.settled()
    await bob.feed.syncNow()
    await bob.feed.settled()

    assert.equal(leaked(bob) - before, 0, 'Alice sent Bob nothing of feeds he cannot prove a key for')
    assert.deepEqual(bob.feed.engine.versionVector(carol.feed.id), new Map(), 'nothing of Carol’s feed')
    assert.deepEqual(bob.feed.engine.versionVector(nobody), new Map(), 'the same as for a feed nobody has')
    assert.equal(bob.feed.get(carols.id), undefined)
    assert.equal(bob.feed.get(dans2.id), undefined)
  })
})

describe('proofs in HAVE (/jiayi/feed/2)', () => {
  const peers: FeedPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })
  const peer = async (name: string) => {
    const p = await feedPeer(name)
    peers.push(p)
    return p
  }

  it('serve only a proof of the current key, bound to this stream and these two peers', async () => {
    const alice = await peer('Alice')
    const bob = await peer('Bob')
    const carol = await peer('Carol')
    const dan = await peer('Dan')
    await befriend(alice, bob)
    await befriend(alice, carol)
    await befriend(bob, carol)
    await befriend(carol, dan)
    const first = await carol.feed.post('Carol, epoch 1')
    await eventually(() => alice.feed.get(first.id) && bob.feed.get(first.id), 10_000, 'A and B hold it')

    const carolFeed = feedIdBytes(carol.feed.id)
    const claim =
      (epoch: number, keys: HeldKeys = bob.feed.engine) =>
      (b: Binding) =>
        makeClaims(keys, [{ feed: carolFeed, maxEpoch: epoch, vv: new Map() } satisfies FeedHave], b)

    // Bob holds Carol's key: Alice (who holds it too) serves him Carol's feed.
    const served = await proofStream(bob, alice, (b) => haveFrame(claim(1)(b)))
    assert.deepEqual(shape(served), ['challenge', 'entry', 'synced 1'])

    // Carol drops Dan: epoch 2 for everyone she keeps.
    const danAtCarol = carol.messenger.contactList().find((c) => c.name === 'Dan')!
    await carol.messenger.reject(danAtCarol.id)
    const second = await carol.feed.post('Carol, epoch 2')
    await eventually(() => alice.feed.get(second.id) && bob.feed.get(second.id), 10_000, 'A and B, epoch 2')
    assert.equal(alice.feed.engine.maxEpoch(carol.feed.id), 2)
    assert.equal(bob.feed.engine.maxEpoch(carol.feed.id), 2)
    await alice.feed.settled()

    const current = await proofStream(bob, alice, (b) => haveFrame(claim(2)(b)))
    assert.ok(
      shape(current).includes('snapshot') || shape(current).includes('entry'),
      'the current key is served',
    )

    const forgedBefore = alice.feed.stats().rejected.Forged ?? 0
    const nobody = feedIdBytes(feedIdOf(randomBytes(32)))
    const attempts: Record<string, (b: Binding) => Uint8Array> = {
      'a feed nobody has': (b) =>
        haveFrame(makeClaims(madeUp(randomBytes(32)), [{ feed: nobody, maxEpoch: 1, vv: new Map() }], b)),
      'the old epoch of a key he holds': (b) => haveFrame(claim(1)(b)),
      'a key he made up': (b) => haveFrame(claim(1, madeUp(randomBytes(32)))(b)),
      'an epoch he was never given': (b) => haveFrame(claim(3, madeUp(randomBytes(32)))(b)),
      'a random tag': () => haveFrame([{ tag: randomBytes(32), box: randomBytes(60) }]),
      'a proof made for another stream': (b) => haveFrame(claim(2)({ ...b, challenge: randomBytes(32) })),
      'a proof made for another server (relayed)': (b) =>
        haveFrame(claim(2)({ ...b, server: carol.messenger.node.peerId.toString() })),
      'a proof made by another requester': (b) =>
        haveFrame(claim(2)({ ...b, client: carol.messenger.node.peerId.toString() })),
      'a right tag with a box that does not open': (b) =>
        haveFrame(claim(2)(b).map((c) => ({ tag: c.tag, box: randomBytes(c.box.length) }))),
    }
    for (const [what, have] of Object.entries(attempts)) {
      const answer = await proofStream(bob, alice, have)
      assert.deepEqual(shape(answer), ['challenge', 'synced 1'], `${what}: the answer to a feed nobody has`)
    }
    assert.equal((alice.feed.stats().rejected.Forged ?? 0) - forgedBefore, 1, 'the bad box is counted')

    // Each stream has its own challenge.
    const challenges = await Promise.all([0, 1].map(() => proofStream(bob, alice, () => haveFrame([]))))
    const nonces = challenges.map((c) => (c[0]?.type === 'challenge' ? c[0].nonce : undefined))
    assert.ok(nonces[0] !== undefined && nonces[1] !== undefined)
    assert.notDeepEqual(nonces[0], nonces[1])
  })
})
