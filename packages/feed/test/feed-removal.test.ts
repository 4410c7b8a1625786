/**
 * Removing a contact ends its feed streams, both ways (issue 15, item 10), between real peers on
 * 127.0.0.1: the stream it pulls on gets no more pushes (not even of feeds it still proves a key
 * for, which a removal does not rotate), and what it pushes on our pulls is no longer taken.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { makeClaims } from '../src/have-proof.js'
import { feedIdBytes } from '../src/ids.js'
import { encodeFrame } from '../src/wire.js'
import { holdProofStream } from './helpers/hostile.js'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

describe('a removed contact', () => {
  const peers: FeedPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })
  const peer = async (name: string) => {
    const p = await feedPeer(name)
    peers.push(p)
    return p
  }

  it('has its open feed streams ended: no more pushes to it, nothing more taken from it', async () => {
    const alice = await peer('Alice')
    const bob = await peer('Bob')
    const carol = await peer('Carol')
    const { bAtA: bobAtAlice } = await befriend(alice, bob)
    await befriend(alice, carol)
    await befriend(bob, carol)
    const first = await carol.feed.post('Carol before')
    await eventually(() => alice.feed.get(first.id) && bob.feed.get(first.id), 10_000, 'A and B hold it')

    // Bob's stream to Alice, pulling Carol's feed (relayed by Alice) with a proof of its key.
    const carolFeed = feedIdBytes(carol.feed.id)
    const held = await holdProofStream(bob, alice, (b) =>
      encodeFrame({
        type: 'have',
        round: 1,
        claims: makeClaims(bob.feed.engine, [{ feed: carolFeed, maxEpoch: 1, vv: new Map() }], b),
      }),
    )
    await eventually(() => held.frames.some((f) => f.type === 'synced'), 10_000, 'Bob synced')
    const entriesBefore = held.frames.filter((f) => f.type === 'entry').length
    assert.ok(entriesBefore >= 1, 'Alice relays Carol’s feed to Bob while he is her contact')

    await alice.messenger.reject(bobAtAlice.id)
    await eventually(() => held.ended(), 10_000, 'Alice ends the stream Bob pulls on')

    // Carol (still friends with both) posts: Alice holds it and must not push it to Bob.
    const second = await carol.feed.post('Carol after')
    await eventually(() => alice.feed.get(second.id), 10_000, 'Alice has Carol’s new post')
    await alice.feed.settled()
    assert.equal(held.frames.filter((f) => f.type === 'entry').length, entriesBefore, 'no push after removal')

    // Bob (who does not know) posts: nothing of his comes in on Alice's pulls any more.
    const keylessBefore = alice.feed.stats().rejected.Keyless ?? 0
    const bobs = await bob.feed.post('Bob, unaware')
    await eventually(() => carol.feed.get(bobs.id), 10_000, 'Carol, still his friend, has it')
    await bob.feed.settled()
    await alice.feed.settled()
    assert.equal((alice.feed.stats().rejected.Keyless ?? 0) - keylessBefore, 0, 'Alice took nothing from Bob')
    assert.equal(alice.feed.get(bobs.id), undefined)
    held.abort()
  })
})
