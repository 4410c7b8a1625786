/**
 * Moments in search, between real peers on 127.0.0.1 with Alice on a sealed LevelDB: posts and
 * comments, ours and a contact's, found by English words and Chinese characters among the
 * messenger's results; an edit or a delete of a post or comment (ours, or one that arrives by
 * sync) takes the old words out; a feed held without its owner being an accepted contact is
 * never indexed, nor is a removed contact's any more; an index that is gone is built again at
 * start; on disk no word shows.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type ContactId,
  type LevelStore,
  openSealedStore,
  randomBytes,
  type SearchResult,
  type Store,
  storeKey,
} from '@jiayi/core'
import type { FeedId, PostView } from '../src/index.js'
import { befriend, eventually, type FeedPeer, feedPeer, levelDir } from './helpers/peers.js'

describe('moments search', () => {
  let dir: Awaited<ReturnType<typeof levelDir>>
  let inner: LevelStore
  let store: Store
  let alice: FeedPeer
  let bob: FeedPeer
  let dave: FeedPeer
  let bobAtAlice: ContactId
  let alicePost: PostView
  let bobPost: PostView

  const find = async (query: string, options: { contact?: string } = {}) =>
    (await alice.messenger.search(query, options)).filter((r) => r.kind === 'post' || r.kind === 'comment')
  const brief = (hits: SearchResult[]) => hits.map((h) => [h.kind, h.text])

  before(async () => {
    dir = await levelDir()
    inner = await dir.open()
    store = await openSealedStore(inner, { key: randomBytes(32) })
    alice = await feedPeer('Alice', store)
    bob = await feedPeer('Bob')
    dave = await feedPeer('Dave')
    bobAtAlice = (await befriend(alice, bob)).bAtA.id
    alicePost = await alice.feed.post('Our jasmine samples ship on Friday')
    bobPost = await bob.feed.post('Fresh 龙井 green tea from Hangzhou')
    await eventually(() => bob.feed.get(alicePost.id) && alice.feed.get(bobPost.id), 10_000, 'both posts')
    await bob.feed.comment(alicePost.id, '茉莉花茶 looks great')
    await alice.feed.comment(bobPost.id, 'Please send 100 samples')
    await eventually(() => alice.feed.get(alicePost.id)?.comments.length === 1, 10_000, "Bob's comment")
  })

  after(async () => {
    await Promise.all([alice?.stop(), bob?.stop(), dave?.stop()])
    await store?.close()
    await dir?.dispose()
  })

  it('finds posts and comments, ours and a contact’s, in English and Chinese', async () => {
    const [post] = await find('龙井')
    assert.deepEqual(post, {
      kind: 'post',
      id: bobPost.id,
      contactId: bobAtAlice,
      text: 'Fresh 龙井 green tea from Hangzhou',
      sentAt: bobPost.createdAt,
      postId: bobPost.id,
    })
    assert.deepEqual(brief(await find('hangzhou TEA')), [['post', 'Fresh 龙井 green tea from Hangzhou']])
    const [comment] = await find('茉莉')
    assert.equal(comment?.kind, 'comment')
    assert.equal(comment?.contactId, bobAtAlice)
    assert.equal(comment?.postId, alicePost.id, 'a comment names the post to open')
    assert.equal(comment?.id, alice.feed.get(alicePost.id)?.comments[0]?.id)
    // Ours: newest first, marked as ours, with our own id as the timeline's author has it.
    const ours = await find('samples')
    assert.deepEqual(brief(ours), [
      ['comment', 'Please send 100 samples'],
      ['post', 'Our jasmine samples ship on Friday'],
    ])
    assert.ok(ours.every((h) => h.me === true && h.contactId === alicePost.author.id))
    assert.equal(ours[0]?.postId, bobPost.id)
    assert.deepEqual(brief(await find('samples', { contact: bobAtAlice })), [], 'by that contact only')
    assert.deepEqual(brief(await find('great', { contact: 'Bob' })), [['comment', '茉莉花茶 looks great']])
    assert.deepEqual(await find('samples coffee'), [], 'every word must be there')
  })

  it('an edit or a delete takes the old words out, ours or one that arrives by sync', async () => {
    const [ours] = await find('send samples')
    await alice.feed.deleteComment(ours!.id)
    assert.deepEqual(brief(await find('send samples')), [], 'a deleted comment')
    await alice.feed.edit(alicePost.id, 'Our oolong samples ship on Monday')
    assert.deepEqual(brief(await find('jasmine')), [])
    assert.deepEqual(brief(await find('oolong')), [['post', 'Our oolong samples ship on Monday']])
    await alice.feed.deletePost(alicePost.id)
    assert.deepEqual(brief(await find('oolong')), [])
    assert.deepEqual(brief(await find('茉莉')), [], 'a comment on a post gone is not shown')
    await bob.feed.deletePost(bobPost.id)
    await eventually(() => alice.feed.get(bobPost.id) === undefined, 10_000, 'the delete at Alice')
    assert.deepEqual(brief(await find('龙井')), [])
  })

  it('a feed held without its owner as an accepted contact is never indexed', async () => {
    const held = await dave.feed.post('Dave sells 普洱 pu-erh cakes')
    // Dave's key and log reach Alice's engine by hand: the index must still leave them out.
    const daveFeed: FeedId = dave.feed.id
    const { epoch, key } = dave.feed.engine.currentKey()
    await alice.feed.engine.addKey(daveFeed, epoch, key)
    for await (const item of dave.feed.engine.missing(daveFeed, new Map(), epoch)) {
      if (item.kind === 'entry') await alice.feed.engine.ingestEntry(item.entry)
      else await alice.feed.engine.ingestSnapshot(item.snapshot)
    }
    assert.ok(alice.feed.engine.doc(daveFeed)?.getMap('posts').has(held.id), 'Alice holds his feed')
    assert.deepEqual(await find('普洱'), [])
    assert.equal(await count(storeKey('fxdoc', daveFeed)), 0, 'nothing of his in the index')
  })

  it('an index that is gone is built again at start; on disk no word shows', async () => {
    const later = await bob.feed.post('New 碧螺春 harvest in spring')
    await eventually(() => alice.feed.get(later.id), 10_000, 'the new post at Alice')
    await alice.feed.comment(later.id, 'Reserve 碧螺春 for us')
    assert.equal((await find('碧螺春')).length, 2)
    await alice.stop()
    const lost: Uint8Array[] = []
    for (const family of ['fxb', 'fxref', 'fxdoc', 'fxmark', 'fxnext'])
      for await (const [k] of store.iterate({ prefix: storeKey(family) })) lost.push(k)
    assert.ok(lost.length > 10, 'the index was in the store')
    let records = 0
    for await (const [k, v] of inner.iterate({})) {
      records++
      for (const word of ['harvest', 'Reserve', '碧螺春'])
        assert.ok(!Buffer.from(k).includes(word) && !Buffer.from(v).includes(word), `"${word}" on disk`)
    }
    assert.ok(records > lost.length, 'the disk was read')
    await store.batch(lost.map((k) => ({ type: 'del' as const, key: k })))

    alice = await feedPeer('Alice', store)
    assert.deepEqual(brief(await find('碧螺春')), [
      ['comment', 'Reserve 碧螺春 for us'],
      ['post', 'New 碧螺春 harvest in spring'],
    ])
  })

  it("a removed contact's posts and comments leave the index", async () => {
    assert.equal((await find('harvest')).length, 1)
    await alice.messenger.reject(bobAtAlice)
    assert.deepEqual(await find('harvest'), [])
    assert.equal(await count(storeKey('fxdoc', bob.feed.id)), 0, 'nothing of his in the index')
  })

  async function count(prefix: Uint8Array): Promise<number> {
    let n = 0
    for await (const _ of alice.messenger.store.iterate({ prefix })) n++
    return n
  }
})
