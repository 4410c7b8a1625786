/** The feed between real messengers on real libp2p nodes on 127.0.0.1. */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { MemoryStore, utf8 } from '@jiayi/core'
import * as Y from 'yjs'
import type { PostView, ServeItem } from '../src/index.js'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

/** Whether any value in `store` contains `needle` (a plaintext check on an unsealed store). */
async function storeContains(store: MemoryStore, needle: string): Promise<boolean> {
  const bytes = utf8(needle)
  for await (const [k, v] of store.iterate()) {
    for (const hay of [k, v]) {
      outer: for (let i = 0; i + bytes.length <= hay.length; i++) {
        for (let j = 0; j < bytes.length; j++) if (hay[i + j] !== bytes[j]) continue outer
        return true
      }
    }
  }
  return false
}

/** Benign counts (a duplicate that came two ways, a pull before an accept) aside, nothing was refused. */
function assertNothingHostile(p: FeedPeer): void {
  const { rejected } = p.feed.stats()
  for (const code of [
    'Malformed',
    'Unsigned',
    'Forged',
    'OutOfOrder',
    'Keyless',
    'Undecryptable',
    'BadUpdate',
  ] as const) {
    assert.equal(rejected[code] ?? 0, 0, `${p.name}: ${code}`)
  }
}

describe('feed over the network', () => {
  const peers: FeedPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })
  const peer = async (name: string, store = new MemoryStore(), init = {}) => {
    const p = await feedPeer(name, store, init)
    peers.push(p)
    return p
  }

  it('A–B and B–C are contacts, A–C not: A posts, B sees it; C comments on B’s post, B sees it, A does not', async () => {
    const aStore = new MemoryStore()
    const a = await peer('Alice', aStore)
    const b = await peer('Bob')
    const c = await peer('Carol')
    await befriend(a, b)
    await befriend(b, c)

    const hello = await a.feed.post({ text: 'Hello from Alice 你好', links: ['https://example.com/news'] })
    const atB = await eventually(() => b.feed.get(hello.id), 10_000, 'B sees A’s post')
    assert.equal(atB.text, 'Hello from Alice 你好')
    assert.equal(atB.author.name, 'Alice')
    assert.deepEqual(atB.links, [{ url: 'https://example.com/news' }])
    assert.equal(c.feed.get(hello.id), undefined, 'C does not hold A’s feed')

    const bobs = await b.feed.post('Bob’s news')
    await eventually(() => a.feed.get(bobs.id) && c.feed.get(bobs.id), 10_000, 'A and C see B’s post')
    const secret = 'Carol’s comment that only mutual friends see'
    await c.feed.comment(bobs.id, secret)
    await c.feed.like(bobs.id)
    await a.feed.like(bobs.id)
    await a.feed.comment(bobs.id, 'Alice was here')

    const seenByB = await eventually(
      () => {
        const p = b.feed.get(bobs.id)
        return p !== undefined && p.comments.length === 2 && p.likes.length === 2 ? p : undefined
      },
      10_000,
      'B sees both comments and likes',
    )
    assert.deepEqual(seenByB.comments.map((x) => x.author.name).sort(), ['Alice', 'Carol'])
    assert.ok(seenByB.comments.some((x) => x.text === secret))
    // C sees A's like and comment? No: C does not hold A's feed either.
    const seenByC = await eventually(
      () => {
        const p = c.feed.get(bobs.id)
        return p?.comments.length === 1 ? p : undefined
      },
      10_000,
      'C sees its own comment',
    )
    assert.deepEqual(
      seenByC.comments.map((x) => x.author.name),
      ['Carol'],
    )
    await b.feed.settled()
    // Give sync every chance to (wrongly) leak Carol's feed to Alice.
    await a.feed.syncNow()
    const seenByA = a.feed.get(bobs.id)!
    assert.deepEqual(
      seenByA.comments.map((x) => x.author.name),
      ['Alice'],
    )
    assert.deepEqual(
      seenByA.likes.map((x) => x.author.name),
      ['Alice'],
    )
    assert.equal(seenByA.liked, true)
    assert.equal(a.feed.timeline().length, 2)
    assert.equal(await storeContains(aStore, secret), false, 'A’s store holds nothing of C’s in plaintext')
    assert.equal(await storeContains(aStore, c.messenger.whoami().identityKey), false, 'nor C’s feed id')
    for (const p of [a, b, c]) assertNothingHostile(p)
  })

  it('a peer offline while posts, likes and comments happen catches up on reconnect', async () => {
    const a = await peer('Ann', new MemoryStore(), { snapshotEveryUpdates: 4 })
    const bStore = new MemoryStore()
    const b1 = await feedPeer('Ben', bStore)
    await befriend(a, b1)
    const bens = await b1.feed.post('Ben before going offline')
    await eventually(() => a.feed.get(bens.id), 10_000, 'A sees B’s post')
    await b1.stop()

    // While B is away: posts (enough to cross two snapshots), an edit, a deletion, likes, comments.
    const posts: PostView[] = []
    for (let i = 0; i < 9; i++) posts.push(await a.feed.post(`while you were away ${i}`))
    await a.feed.edit(posts[0]!.id, 'edited while you were away')
    await a.feed.deletePost(posts[1]!.id)
    await a.feed.like(bens.id)
    await a.feed.comment(bens.id, 'welcome back')
    await a.feed.comment(posts[2]!.id, 'a note on my own post')
    assert.ok(a.feed.stats().snapshotsMade >= 2)

    const b = await peer('Ben', bStore)
    const caughtUp = await eventually(
      () => {
        const mine = b.feed.get(bens.id)
        return b.feed.timeline().length === 9 && mine?.comments.length === 1 ? mine : undefined
      },
      15_000,
      'B catches up',
    )
    assert.deepEqual(
      caughtUp.likes.map((l) => l.author.name),
      ['Ann'],
    )
    assert.equal(caughtUp.comments[0]!.text, 'welcome back')
    assert.equal(b.feed.get(posts[0]!.id)?.text, 'edited while you were away')
    assert.equal(b.feed.get(posts[1]!.id), undefined, 'the deletion arrived')
    assert.equal(b.feed.get(posts[2]!.id)?.comments[0]?.text, 'a note on my own post')
    assert.deepEqual(b.feed.engine.versionVector(a.feed.id), a.feed.engine.versionVector(a.feed.id))
    assertNothingHostile(b)
  })

  it('removing a contact rotates the key: later posts are unreadable to the removed contact', async () => {
    const a = await peer('Ada')
    const b = await peer('Bea')
    const c = await peer('Cyd')
    const { bAtA } = await befriend(a, b)
    await befriend(a, c)
    await befriend(b, c) // C could relay A's feed to B
    const before = await a.feed.post('before the removal')
    await eventually(() => b.feed.get(before.id) && c.feed.get(before.id), 10_000, 'B and C see it')

    await a.messenger.reject(bAtA.id)
    await eventually(() => a.feed.stats().epoch === 2, 10_000, 'A rotates its feed key')
    assert.equal(a.feed.engine.doc(b.feed.id), undefined, 'A forgot B’s feed')
    const later = await a.feed.post('after the removal')
    await eventually(() => c.feed.get(later.id), 10_000, 'C, still a contact, reads the new post')
    assert.equal(c.feed.engine.maxEpoch(a.feed.id), 2)

    await b.feed.syncNow() // B asks C (and A, who refuses it) for everything
    await c.feed.settled()
    assert.equal(b.feed.get(later.id), undefined, 'B sees nothing new')
    assert.equal(b.feed.get(before.id)?.text, 'before the removal', 'what B had stays')
    assert.equal(b.feed.engine.maxEpoch(a.feed.id), 1)
    // Even handed the sealed update directly, B cannot read it.
    const sealed: ServeItem[] = []
    for await (const item of a.feed.engine.missing(a.feed.id, b.feed.engine.versionVector(a.feed.id), 99)) {
      sealed.push(item)
    }
    assert.ok(sealed.length > 0)
    const before2 = Y.encodeStateAsUpdate(b.feed.engine.doc(a.feed.id)!)
    for (const item of sealed) {
      const attempt =
        item.kind === 'entry'
          ? b.feed.engine.ingestEntry(item.entry)
          : b.feed.engine.ingestSnapshot(item.snapshot)
      await assert.rejects(attempt, { code: 'Keyless' })
    }
    assert.deepEqual(Y.encodeStateAsUpdate(b.feed.engine.doc(a.feed.id)!), before2)
    assert.equal(b.feed.get(later.id), undefined)
  })
})
