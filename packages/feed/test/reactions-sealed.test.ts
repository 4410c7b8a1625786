/**
 * WeChat's rule for comments and likes (issue 15, item 7), between real peers on 127.0.0.1: a
 * comment or like lives in its writer's feed and is sealed again under the post owner's feed key,
 * so only people who are friends of both see it. Alice posts; Bob (a friend of Alice and of Carol)
 * comments and likes; Carol holds Bob's feed but not Alice's: she can read neither the comment
 * nor which post (or whose) it is about. Alice and Dan (a friend of Alice and Bob) read both.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { hexToBytes, utf8 } from '@jiayi/core'
import * as Y from 'yjs'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

/** What of `needles` a feed's doc, as `reader` holds it, carries in any form (text, hex, bytes). */
function found(reader: FeedPeer, feed: string, needles: Record<string, string>): string[] {
  const doc = reader.feed.engine.doc(feed as never)
  assert.ok(doc !== undefined, `${reader.name} holds the feed`)
  const state = Y.encodeStateAsUpdate(doc)
  return Object.entries(needles)
    .filter(([, text]) => {
      const forms = [utf8(text)]
      if (/^[0-9a-f]+$/.test(text) && text.length % 2 === 0) forms.push(hexToBytes(text))
      return forms.some((n) => contains(state, n))
    })
    .map(([what]) => what)
}

describe('comments and likes are sealed under the post owner’s key', () => {
  const peers: FeedPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })
  const peer = async (name: string) => {
    const p = await feedPeer(name)
    peers.push(p)
    return p
  }

  it('only friends of both read a comment or a like, or learn what it is about', async () => {
    const alice = await peer('Alice')
    const bob = await peer('Bob')
    const carol = await peer('Carol')
    const dan = await peer('Dan')
    await befriend(alice, bob)
    await befriend(bob, carol)
    await befriend(alice, dan)
    await befriend(bob, dan)

    const post = await alice.feed.post('Alice’s holiday photos')
    await eventually(() => bob.feed.get(post.id) && dan.feed.get(post.id), 10_000, 'B and D see the post')
    const text = 'Bob’s remark only mutual friends may read 只给共同好友'
    const comment = await bob.feed.comment(post.id, text)
    await bob.feed.like(post.id)
    await bob.feed.settled()

    // Alice and Dan, friends of both, read the comment and the like under the post.
    for (const reader of [alice, dan]) {
      const seen = await eventually(
        () => {
          const p = reader.feed.get(post.id)
          return p !== undefined && p.comments.length === 1 && p.likes.length === 1 ? p : undefined
        },
        10_000,
        `${reader.name} reads Bob’s comment and like`,
      )
      assert.equal(seen.comments[0]!.text, text)
      assert.equal(seen.comments[0]!.id, comment.id)
      assert.equal(seen.comments[0]!.author.name, 'Bob')
      assert.equal(seen.likes[0]!.author.name, 'Bob')
    }

    // Carol holds Bob's feed, comment and like included, and finds in it nothing of them.
    const bobsPost = await bob.feed.post('Bob’s own news')
    await eventually(() => carol.feed.get(bobsPost.id), 10_000, 'Carol has Bob’s feed up to date')
    await carol.feed.settled()
    assert.deepEqual(
      found(carol, bob.feed.id, {
        'the comment’s text': text,
        'the post’s id': post.id,
        'the post owner’s feed id': alice.feed.id,
      }),
      [],
    )
    assert.equal(carol.feed.get(post.id), undefined)
    assert.deepEqual(
      carol.feed.timeline().map((p) => p.id),
      [bobsPost.id],
    )
    assert.deepEqual(carol.feed.get(bobsPost.id)?.comments, [])

    // Bob takes his like back and deletes his comment: gone for Alice and Dan too.
    await bob.feed.unlike(post.id)
    await bob.feed.deleteComment(comment.id)
    for (const reader of [alice, dan]) {
      await eventually(
        () => {
          const p = reader.feed.get(post.id)
          return p !== undefined && p.comments.length === 0 && p.likes.length === 0
        },
        10_000,
        `${reader.name} sees them gone`,
      )
    }
  })

  it('a friend made after the owner’s key rotated still reads the older comments', async () => {
    const alice = await peer('Alice')
    const bob = await peer('Bob')
    const xena = await peer('Xena')
    await befriend(alice, bob)
    const { bAtA: xenaAtAlice } = await befriend(alice, xena)
    const post = await alice.feed.post('before Xena left')
    await eventually(() => bob.feed.get(post.id), 10_000, 'Bob sees the post')
    await bob.feed.comment(post.id, 'Bob, in epoch 1')
    await alice.feed.comment(post.id, 'Alice, in epoch 1')

    // Alice drops Xena (epoch 2), then makes a new friend, Erin, who is Bob's friend too.
    await alice.messenger.reject(xenaAtAlice.id)
    await eventually(() => bob.feed.engine.maxEpoch(alice.feed.id) === 2, 10_000, 'Bob gets epoch 2')
    const erin = await peer('Erin')
    await befriend(alice, erin)
    await befriend(bob, erin)
    assert.deepEqual(erin.feed.engine.epochs(alice.feed.id), [2], 'Erin holds the new key only')
    const seen = await eventually(
      () => {
        const p = erin.feed.get(post.id)
        return p?.comments.length === 2 ? p : undefined
      },
      15_000,
      'Erin reads both comments',
    )
    assert.deepEqual(seen.comments.map((c) => c.text).sort(), ['Alice, in epoch 1', 'Bob, in epoch 1'])
  })
})
