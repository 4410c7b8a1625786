/**
 * Reading a conversation moves one read marker and zeroes one counter (`meta <cid>`), instead of
 * rewriting every unread message: checked on the real store on disk between two real peers, for
 * the counts, the statuses every reader sees, the read receipts the sender still gets, restarts,
 * stores written before the marker (per-message `unread` markers), and page cursors.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { randomBytes } from '../src/bytes.js'
import type { ContactId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { decodeRecord, encodeRecord, type MessageRecord } from '../src/messenger/records.js'
import { key } from '../src/store/keys.js'
import { LevelStore } from '../src/store/level.js'
import type { Store } from '../src/store/store.js'
import { openSealedStore } from '../src/store/unlock.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const rawFamily = (family: string) => Uint8Array.of(0x10, ...key(family))

describe('read marker and unread counter', () => {
  const dirs: string[] = []
  const running = new Set<TestPeer>()
  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  async function diskPeer(name: string, dir?: string, storeKey = randomBytes(32)) {
    const location = dir ?? (await mkdtemp(join(tmpdir(), 'jiayi-read-')))
    if (dir === undefined) dirs.push(location)
    const store = await openSealedStore(await LevelStore.open(location), { key: storeKey })
    const peer = await testPeer(name, store)
    const wrapped: TestPeer = {
      ...peer,
      async stop() {
        if (!running.delete(wrapped)) return
        await peer.stop()
        await store.close()
      },
    }
    running.add(wrapped)
    return { peer: wrapped, dir: location, key: storeKey }
  }

  async function diskPair() {
    const a = await diskPeer('Alice')
    const b = await diskPeer('Bob')
    const bobAtAlice = await a.peer.messenger.addContact(b.peer.messenger.card().link)
    const aliceAtBob = await b.peer.messenger.addContact(a.peer.messenger.card().link)
    await eventually(() => a.peer.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    await eventually(() => b.peer.messenger.contact(aliceAtBob.id).state === 'accepted', 10_000, 'accepted')
    return { a, b, bob: bobAtAlice.id, alice: aliceAtBob.id as ContactId }
  }

  /** Opens a stopped peer's store directly. */
  async function rawStore(dir: string, storeKey: Uint8Array): Promise<Store> {
    return openSealedStore(await LevelStore.open(dir), { key: storeKey })
  }

  async function sendAll(from: TestPeer, to: string, texts: string[]): Promise<string[]> {
    const ids: string[] = []
    for (const text of texts) ids.push((await from.messenger.send(to, text)).id)
    return ids
  }

  it('counts unread without reading messages, reads them in one go, and the sender gets read receipts', async () => {
    const { a, b, bob, alice } = await diskPair()
    const texts = Array.from({ length: 300 }, (_, i) => `unread ${i} 未读`)
    const ids = await sendAll(a.peer, bob, texts)
    await eventually(async () => (await b.peer.messenger.unreadCount(alice)) === 300, 20_000, '300 unread')

    // Across a restart the count is the stored counter.
    await b.peer.stop()
    const b2 = await diskPeer('Bob', b.dir, b.key)
    assert.equal(await b2.peer.messenger.unreadCount(alice), 300)
    const peeked = await b2.peer.messenger.messages(alice, { limit: 500, peek: true })
    assert.ok(peeked.filter((m) => m.direction === 'in').every((m) => m.status === 'received'))

    // Opening the conversation: the page shows the newest 50 as read, then everything is read.
    const page = await b2.peer.messenger.messages(alice, { limit: 50 })
    assert.deepEqual(
      page.map((m) => m.text),
      texts.slice(-50),
    )
    assert.ok(page.every((m) => m.status === 'read'))
    assert.equal(await b2.peer.messenger.unreadCount(alice), 0)
    const all = await b2.peer.messenger.messages(alice, { limit: 500, peek: true })
    assert.ok(
      all.filter((m) => m.direction === 'in').every((m) => m.status === 'read'),
      'older ones too',
    )
    assert.equal((await b2.peer.messenger.message(alice, ids[0]!))?.status, 'read')

    // Alice learns that every one of them was read.
    await eventually(
      async () =>
        (await a.peer.messenger.messages(bob, { limit: 500, peek: true })).every((m) => m.status === 'read'),
      20_000,
      'read receipts for all 300 at Alice',
    )

    // A new message is unread again, the old ones stay read, after another restart too.
    await a.peer.messenger.send(bob, 'after 之后')
    await eventually(async () => (await b2.peer.messenger.unreadCount(alice)) === 1, 10_000, 'one unread')
    await b2.peer.stop()
    const b3 = await diskPeer('Bob', b.dir, b.key)
    assert.equal(await b3.peer.messenger.unreadCount(alice), 1)
    const again = await b3.peer.messenger.messages(alice, { limit: 500, peek: true })
    assert.equal(again.at(-1)?.status, 'received')
    assert.ok(again.slice(0, -1).every((m) => m.status === 'read'))
    // Nothing is written per message: no `unread` records on disk.
    await b3.peer.stop()
    const raw = await LevelStore.open(b.dir)
    let markers = 0
    for await (const _ of raw.iterate({ prefix: rawFamily('unread') })) markers++
    await raw.close()
    assert.equal(markers, 0)
  })

  it('a store written before the marker keeps what was read, counts what was not, and drops its markers', async () => {
    const { a, b, bob, alice } = await diskPair()
    const texts = Array.from({ length: 10 }, (_, i) => `old ${i} 旧`)
    await sendAll(a.peer, bob, texts)
    await eventually(async () => (await b.peer.messenger.unreadCount(alice)) === 10, 10_000, '10 unread')
    await a.peer.messenger.settled()
    await b.peer.messenger.settled()
    await b.peer.stop()

    // The previous layout: the first four read one by one (their records say 'read'), the other
    // six with an `unread` marker each, and a counters record without the marker.
    const store = await rawStore(b.dir, b.key)
    const incoming: MessageRecord[] = []
    for await (const [, v] of store.iterate({ prefix: Keys.msgPrefix(alice) })) {
      const m = decodeRecord<MessageRecord>(v)
      if (m.direction === 'in') incoming.push(m)
    }
    assert.equal(incoming.length, 10)
    const meta = decodeRecord<Record<string, unknown>>((await store.get(Keys.convMeta(alice)))!)
    delete meta.read
    await store.batch([
      { type: 'put', key: Keys.convMeta(alice), value: encodeRecord(meta) },
      ...incoming.slice(0, 4).map((m) => ({
        type: 'put' as const,
        key: Keys.msg(alice, m.seq),
        value: encodeRecord({ ...m, status: 'read' }),
      })),
      ...incoming.slice(4).map((m) => ({
        type: 'put' as const,
        key: Keys.unread(alice, m.seq),
        value: new Uint8Array(0),
      })),
    ])
    await store.close()

    const b2 = await diskPeer('Bob', b.dir, b.key)
    assert.equal(await b2.peer.messenger.unreadCount(alice), 6)
    const statuses = (await b2.peer.messenger.messages(alice, { limit: 50, peek: true }))
      .filter((m) => m.direction === 'in')
      .map((m) => m.status)
    assert.deepEqual(statuses, [...Array(4).fill('read'), ...Array(6).fill('received')])
    // Still so after a restart that wrote nothing.
    await b2.peer.stop()
    const b3 = await diskPeer('Bob', b.dir, b.key)
    assert.equal(await b3.peer.messenger.unreadCount(alice), 6)
    // A new message after the upgrade: counted with the rest; the old markers go with that write.
    await a.peer.messenger.send(bob, 'new 新')
    await eventually(async () => (await b3.peer.messenger.unreadCount(alice)) === 7, 10_000, '7 unread')
    await (await b3.peer.messenger.markRead(alice)).receipts
    assert.equal(await b3.peer.messenger.unreadCount(alice), 0)
    await eventually(
      async () =>
        (await a.peer.messenger.messages(bob, { limit: 50, peek: true }))
          .slice(-7)
          .every((m) => m.status === 'read'),
      10_000,
      'the six and the new one read at Alice',
    )
    await b3.peer.stop()
    const raw = await LevelStore.open(b.dir)
    let markers = 0
    for await (const _ of raw.iterate({ prefix: rawFamily('unread') })) markers++
    await raw.close()
    assert.equal(markers, 0, 'the old markers are gone')
    const b4 = await diskPeer('Bob', b.dir, b.key)
    assert.equal(await b4.peer.messenger.unreadCount(alice), 0)
    const after = (await b4.peer.messenger.messages(alice, { limit: 50, peek: true })).filter(
      (m) => m.direction === 'in',
    )
    assert.ok(after.every((m) => m.status === 'read'))
  })

  it('pages back with a cursor: no gap and no repeat while new messages keep arriving', async () => {
    const { a, b, bob, alice } = await diskPair()
    const texts = Array.from({ length: 120 }, (_, i) => `page ${i} 页`)
    await sendAll(a.peer, bob, texts)
    await eventually(
      async () => (await b.peer.messenger.messages(alice, { limit: 500, peek: true })).length === 120,
      20_000,
      '120 at Bob',
    )
    // New messages arrive while Bob pages back through the 120.
    const arriving = sendAll(
      a.peer,
      bob,
      Array.from({ length: 40 }, (_, i) => `late ${i} 晚`),
    )
    const seen: string[] = []
    let page = await b.peer.messenger.messages(alice, { limit: 13 })
    const newest = page.at(-1)!.text
    for (;;) {
      seen.unshift(...page.map((m) => m.text))
      if (page.length < 13) break
      page = await b.peer.messenger.messages(alice, { limit: 13, before: page[0]!.id, peek: true })
    }
    await arriving
    const expected = [...texts, ...Array.from({ length: 40 }, (_, i) => `late ${i} 晚`)]
    const upTo = expected.indexOf(newest)
    assert.deepEqual(seen, expected.slice(0, upTo + 1))
    assert.equal(new Set(seen).size, seen.length)
    // Those that arrived after the first page was read stay unread.
    await eventually(
      async () => (await b.peer.messenger.unreadCount(alice)) === expected.length - upTo - 1,
      10_000,
      'the late ones unread',
    )
    // And forward again from the first, with `after`.
    const first = (await b.peer.messenger.messages(alice, { limit: 500, peek: true }))[0]!
    const forward: string[] = [first.text]
    let next = await b.peer.messenger.messages(alice, { limit: 13, after: first.id, peek: true })
    for (;;) {
      forward.push(...next.map((m) => m.text))
      if (next.length < 13) break
      next = await b.peer.messenger.messages(alice, { limit: 13, after: next.at(-1)!.id, peek: true })
    }
    assert.deepEqual(forward, expected)
    await assert.rejects(
      b.peer.messenger.messages(alice, { before: 'ab'.repeat(16) }),
      (e: unknown) => (e as { code?: string }).code === 'UnknownMessage',
    )
  })
})
