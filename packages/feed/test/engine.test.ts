/**
 * The signed update log without a network: what is applied, what is rejected (and that a
 * rejection leaves the doc byte-identical), compaction, key rotation, two replicas of one owner,
 * and reloading from the store.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIdentity, MemoryStore, randomBytes } from '@jiayi/core'
import * as Y from 'yjs'
import { type CommentId, newItemId, replicaIdBytes } from '../src/ids.js'
import {
  type FeedEngine,
  FeedError,
  GENESIS_LINK,
  type PostId,
  type SignedEntry,
  sealEntry,
} from '../src/index.js'
import { reactionKeys, sealReaction } from '../src/reactions.js'
import { readPosts, writeDeletePost, writePost, writeReaction } from '../src/schema.js'
import { contentOf, copyFeed, engine, readerOf, stateOf } from './helpers/owners.js'

async function post(owner: FeedEngine, text: string, createdAt = Date.now()): Promise<PostId> {
  const id = newItemId<PostId>()
  await owner.write((doc) => writePost(doc, id, { text, links: [], attachments: [], createdAt }))
  return id
}

/** The entries of `owner`'s feed that `reader` lacks, without applying them. */
async function pending(owner: FeedEngine, reader: FeedEngine): Promise<SignedEntry[]> {
  const out: SignedEntry[] = []
  for await (const item of owner.missing(owner.self, reader.versionVector(owner.self), 1 << 30)) {
    if (item.kind === 'entry') out.push(item.entry)
  }
  return out
}

function texts(e: FeedEngine, feed: string): string[] {
  return [...readPosts(e.doc(feed as never)!)].map(([, p]) => p.text).sort()
}

/** Runs `attempt` and checks it is rejected with `code`, counted, and the doc is unchanged. */
async function rejects(reader: FeedEngine, feed: string, code: string, attempt: () => Promise<void>) {
  const before = stateOf(reader, feed as never)
  const counted = reader.counters.snapshot().rejected[code as 'Forged'] ?? 0
  await assert.rejects(attempt, (e: unknown) => e instanceof FeedError && e.code === code)
  assert.deepEqual(stateOf(reader, feed as never), before, `${code} left the doc byte-identical`)
  assert.equal(reader.counters.snapshot().rejected[code as 'Forged'], counted + 1, `${code} counted`)
}

describe('feed engine', () => {
  it('applies the owner’s signed entries in order', async () => {
    const owner = await engine()
    const reader = await readerOf(owner)
    await post(owner, 'one')
    await post(owner, 'two')
    await copyFeed(owner, reader)
    assert.deepEqual(texts(reader, owner.self), ['one', 'two'])
    assert.deepEqual(contentOf(reader, owner.self), contentOf(owner, owner.self))
    assert.equal(reader.counters.snapshot().entriesApplied, 2)
  })

  it('rejects forged, replayed, unsigned, out-of-place and keyless updates, leaving the doc byte-identical', async () => {
    const ownerIdentity = generateIdentity()
    const owner = await engine(ownerIdentity)
    const reader = await readerOf(owner)
    await post(owner, 'first')
    await copyFeed(owner, reader)
    await post(owner, 'second')
    await post(owner, 'third')
    const [second, third] = await pending(owner, reader)
    assert.ok(second && third)
    const feed = owner.self

    // Forged: a bit flipped in the signature, in the sealed bytes, or a different sequence number.
    const badSig = Uint8Array.from(second.signature)
    badSig[5] = badSig[5]! ^ 1
    await rejects(reader, feed, 'Forged', () => reader.ingestEntry({ ...second, signature: badSig }))
    const badSealed = Uint8Array.from(second.sealed)
    badSealed[30] = badSealed[30]! ^ 1
    await rejects(reader, feed, 'Forged', () => reader.ingestEntry({ ...second, sealed: badSealed }))
    await rejects(reader, feed, 'Forged', () => reader.ingestEntry({ ...third, seq: 2 }))
    // Forged: signed by someone else (a contact who holds the feed key) claiming the owner's feed.
    const mallory = generateIdentity()
    const impostor = sealEntry({
      identity: mallory,
      key: owner.currentKey().key,
      replica: second.replica,
      seq: 2,
      epoch: second.epoch,
      prev: second.prev,
      update: Y.encodeStateAsUpdate(new Y.Doc()),
    })
    await rejects(reader, feed, 'Forged', () => reader.ingestEntry({ ...impostor, feed: second.feed }))
    // Unsigned.
    await rejects(reader, feed, 'Unsigned', () =>
      reader.ingestEntry({ ...second, signature: new Uint8Array(0) }),
    )
    // Out of place: the third before the second.
    await rejects(reader, feed, 'OutOfOrder', () => reader.ingestEntry(third))
    // Keyless: an epoch we were never given, and a feed we hold no key for.
    await rejects(reader, feed, 'Keyless', () => reader.ingestEntry({ ...second, epoch: 7 }))
    const stranger = await engine()
    await rejects(reader, feed, 'Keyless', async () => {
      const id = newItemId<PostId>()
      const entry = await stranger.write((doc) =>
        writePost(doc, id, { text: 'x', links: [], attachments: [], createdAt: 1 }),
      )
      await reader.ingestEntry(entry!)
    })

    // The genuine ones still apply, once: a replay is rejected.
    await reader.ingestEntry(second)
    await reader.ingestEntry(third)
    assert.deepEqual(texts(reader, feed), ['first', 'second', 'third'])
    await rejects(reader, feed, 'Replayed', () => reader.ingestEntry(second))
    await rejects(reader, feed, 'Replayed', () => reader.ingestEntry(third))
  })

  it('a run is one hash chain: a forged entry costs only itself and what follows it', async () => {
    const owner = await engine()
    const reader = await readerOf(owner)
    for (let i = 0; i < 5; i++) await post(owner, `p${i}`)
    const first = await pending(owner, reader)
    assert.deepEqual(await reader.ingestEntries(first), Array(5).fill(undefined))

    for (let i = 5; i < 10; i++) await post(owner, `p${i}`)
    const run = await pending(owner, reader)
    const last = run[4]!
    run[4] = { ...last, signature: Uint8Array.from(last.signature, (b, i) => (i === 9 ? b ^ 1 : b)) }
    const verdicts = await reader.ingestEntries(run)
    assert.deepEqual(
      verdicts.map((v) => v?.code),
      [undefined, undefined, undefined, undefined, 'Forged'],
    )
    await reader.ingestEntry(last)

    for (let i = 10; i < 13; i++) await post(owner, `p${i}`)
    const [a, b, c] = await pending(owner, reader)
    assert.ok(a && b && c)
    const before = stateOf(reader, owner.self)
    const tampered = { ...b, sealed: Uint8Array.from(b.sealed, (x, i) => (i === 30 ? x ^ 1 : x)) }
    const out = await reader.ingestEntries([a, tampered, c])
    assert.deepEqual(
      out.map((v) => v?.code),
      [undefined, 'Forged', 'Forged'],
    )
    assert.notDeepEqual(stateOf(reader, owner.self), before, 'the good prefix applied')
    assert.equal(texts(reader, owner.self).length, 11)
    // Out of place inside a run, and a wrong link to the previous entry.
    assert.deepEqual(
      (await reader.ingestEntries([c, b])).map((v) => v?.code),
      ['OutOfOrder', undefined],
    )
    await rejects(reader, owner.self, 'Forged', () => reader.ingestEntry({ ...c, prev: a.prev }))
    await reader.ingestEntry(c)
    assert.equal(texts(reader, owner.self).length, 13)
  })

  it('rejects a signed update that is not Yjs, and a snapshot that is forged, unsigned or old', async () => {
    const identity = generateIdentity()
    const owner = await engine(identity, new MemoryStore(), { snapshotEveryUpdates: 2 })
    const reader = await readerOf(owner)
    const { epoch, key } = owner.currentKey()
    const garbage = sealEntry({
      identity,
      key,
      replica: replicaIdBytes(owner.replica),
      seq: 1,
      epoch,
      prev: GENESIS_LINK,
      update: randomBytes(64),
    })
    await rejects(reader, owner.self, 'BadUpdate', () => reader.ingestEntry(garbage))

    await post(owner, 'a')
    await post(owner, 'b') // the second update triggers a snapshot
    const items = []
    for await (const item of owner.missing(owner.self, new Map(), epoch)) items.push(item)
    const snap = items.find((i) => i.kind === 'snapshot')
    assert.ok(snap?.kind === 'snapshot', 'a fresh reader is served a snapshot')
    const s = snap.snapshot
    const flipped = Uint8Array.from(s.sealed)
    flipped[40] = flipped[40]! ^ 1
    await rejects(reader, owner.self, 'Forged', () => reader.ingestSnapshot({ ...s, sealed: flipped }))
    const sig = Uint8Array.from(s.signature)
    sig[0] = sig[0]! ^ 1
    await rejects(reader, owner.self, 'Forged', () => reader.ingestSnapshot({ ...s, signature: sig }))
    await rejects(reader, owner.self, 'Forged', () =>
      reader.ingestSnapshot({ ...s, vv: new Map([[owner.replica, 1]]) }),
    )
    await rejects(reader, owner.self, 'Forged', () =>
      reader.ingestSnapshot({ ...s, heads: new Map([[owner.replica, new Uint8Array(32)]]) }),
    )
    await rejects(reader, owner.self, 'Unsigned', () =>
      reader.ingestSnapshot({ ...s, signature: new Uint8Array(0) }),
    )
    await rejects(reader, owner.self, 'Keyless', () => reader.ingestSnapshot({ ...s, epoch: 9 }))
    await reader.ingestSnapshot(s)
    assert.deepEqual(texts(reader, owner.self), ['a', 'b'])
    await rejects(reader, owner.self, 'Replayed', () => reader.ingestSnapshot(s))
  })

  it('compacts: a fresh reader gets one snapshot plus the few entries after it', async () => {
    const owner = await engine(generateIdentity(), new MemoryStore(), { snapshotEveryUpdates: 10 })
    for (let i = 0; i < 25; i++) await post(owner, `post ${i}`)
    const stats = owner.counters.snapshot()
    assert.equal(stats.snapshotsMade, 2)
    const kinds: string[] = []
    for await (const item of owner.missing(owner.self, new Map(), 1)) kinds.push(item.kind)
    assert.deepEqual(kinds, ['snapshot', 'entry', 'entry', 'entry', 'entry', 'entry'])
    // A reader 12 behind is served entries only (the entries after the previous snapshot are kept).
    const reader = await readerOf(owner)
    const partial = new Map([[owner.replica, 13]])
    const served: string[] = []
    for await (const item of owner.missing(owner.self, partial, 1)) served.push(item.kind)
    assert.deepEqual(served, Array(12).fill('entry'))
    await copyFeed(owner, reader)
    assert.equal(texts(reader, owner.self).length, 25)
    assert.deepEqual(contentOf(reader, owner.self), contentOf(owner, owner.self))
  })

  it('rotating the key: later updates are unreadable with the old key; a newcomer with the new key reads all', async () => {
    const owner = await engine()
    const old = await readerOf(owner)
    await post(owner, 'before')
    await copyFeed(owner, old)
    const { epoch } = await owner.rotateKey()
    assert.equal(epoch, 2)
    await post(owner, 'after')
    // The old reader asks with its newest epoch (1): nothing it could not read is sent.
    let offered = 0
    for await (const _ of owner.missing(owner.self, old.versionVector(owner.self), old.maxEpoch(owner.self)))
      offered++
    assert.equal(offered, 0)
    // Handed anyway, it is rejected as keyless.
    const [later] = await pending(owner, old)
    assert.ok(later)
    assert.equal(later.epoch, 2)
    await rejects(old, owner.self, 'Keyless', () => old.ingestEntry(later))
    assert.deepEqual(texts(old, owner.self), ['before'])

    const newcomer = await readerOf(owner) // holds epoch 2 only
    assert.equal(newcomer.maxEpoch(owner.self), 2)
    await copyFeed(owner, newcomer)
    assert.deepEqual(texts(newcomer, owner.self), ['after', 'before'])
  })

  it('two replicas of one owner edit concurrently and converge (and so does a reader)', async () => {
    const identity = generateIdentity()
    const phone = await engine(identity)
    const laptopStore = new MemoryStore()
    // The second device shares the identity and the feed key (device linking is a later issue).
    const laptop = await engine(identity, laptopStore)
    await assert.rejects(laptop.addKey(phone.self, 1, phone.currentKey().key), { code: 'BadInput' })
    await laptop.adoptOwnKeys(phone.currentEpoch(), phone.ownKeys())
    const shared = await post(phone, 'shared post', 1000)
    await copyFeed(phone, laptop)
    assert.deepEqual(texts(laptop, phone.self), ['shared post'])

    // Concurrently: both edit the shared post, each posts, phone deletes what laptop likes.
    const doomed = await post(phone, 'doomed', 2000)
    await copyFeed(phone, laptop)
    await phone.write((doc) =>
      writePost(doc, shared, {
        text: 'edited on phone',
        links: [],
        attachments: [],
        createdAt: 1000,
        editedAt: 3,
      }),
    )
    await laptop.write((doc) =>
      writePost(doc, shared, {
        text: 'edited on laptop',
        links: [],
        attachments: [],
        createdAt: 1000,
        editedAt: 4,
      }),
    )
    await post(phone, 'from phone', 3000)
    await post(laptop, 'from laptop', 3001)
    await phone.write((doc) => writeDeletePost(doc, doomed, 5))
    // The owner's own like and comment, sealed under its own key as every reaction is.
    const own = reactionKeys(laptop.key(phone.self, 1)!, phone.self, 1)
    const [likeId, commentId] = [newItemId<CommentId>(), newItemId<CommentId>()]
    await laptop.write((doc) => {
      writeReaction(
        doc,
        likeId,
        sealReaction(own, phone.self, likeId, { kind: 'like', post: doomed, text: '', createdAt: 6 }),
      )
      writePost(doc, doomed, {
        text: 'resurrected?',
        links: [],
        attachments: [],
        createdAt: 2000,
        editedAt: 6,
      })
      writeReaction(
        doc,
        commentId,
        sealReaction(own, phone.self, commentId, {
          kind: 'comment',
          post: shared,
          text: 'note to self',
          createdAt: 7,
        }),
      )
    })

    const reader = await readerOf(phone)
    await copyFeed(laptop, reader) // the reader hears the laptop first
    await copyFeed(phone, laptop)
    await copyFeed(laptop, phone)
    await copyFeed(phone, reader)
    assert.deepEqual(contentOf(phone, phone.self), contentOf(laptop, phone.self))
    assert.deepEqual(contentOf(reader, phone.self), contentOf(phone, phone.self))
    const visible = texts(phone, phone.self)
    assert.equal(visible.length, 3, 'the tombstone wins over the concurrent edit')
    assert.ok(visible.includes('from phone') && visible.includes('from laptop'))
    assert.ok(
      visible.includes('edited on phone') !== visible.includes('edited on laptop'),
      'one edit wins whole',
    )
    assert.equal(phone.versionVector(phone.self).size, 2, 'two replica logs')
  })

  it('reloads every feed from the store without the network', async () => {
    const ownerStore = new MemoryStore()
    const identity = generateIdentity()
    const owner = await engine(identity, ownerStore, { snapshotEveryUpdates: 4 })
    const readerStore = new MemoryStore()
    const readerIdentity = generateIdentity()
    const reader = await engine(readerIdentity, readerStore)
    await reader.addKey(owner.self, 1, owner.currentKey().key)
    for (let i = 0; i < 10; i++) await post(owner, `p${i}`)
    await copyFeed(owner, reader)
    const before = contentOf(reader, owner.self)
    const ownBefore = contentOf(owner, owner.self)
    await reader.close()
    await owner.close()

    const owner2 = await engine(identity, ownerStore, { snapshotEveryUpdates: 4 })
    const reader2 = await engine(readerIdentity, readerStore)
    assert.deepEqual(contentOf(owner2, owner2.self), ownBefore)
    assert.deepEqual(contentOf(reader2, owner.self), before)
    assert.deepEqual(reader2.versionVector(owner.self), reader.versionVector(owner.self))
    assert.equal(reader2.counters.snapshot().entriesApplied, 0, 'nothing re-synced')
    // The owner continues its log where it stopped.
    await post(owner2, 'after restart')
    await copyFeed(owner2, reader2)
    assert.equal(texts(reader2, owner.self).length, 11)
  })
})
