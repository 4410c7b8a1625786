/**
 * Offline delivery and restarts with the real store on disk: a peer that is away gets every queued
 * message exactly once and in order when it comes back, even on new ports.
 */
import assert from 'node:assert/strict'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { randomBytes } from '../src/bytes.js'
import { Conversations } from '../src/messenger/conversations.js'
import type { ContactId, MessageId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { StoreError } from '../src/store/errors.js'
import { key } from '../src/store/keys.js'
import { LevelStore } from '../src/store/level.js'
import { openSealedStore } from '../src/store/unlock.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

/** The physical prefix of a record family in a fresh store's namespace (store/layout.ts). */
const rawFamily = (family: string) => Uint8Array.of(0x10, ...key(family))

describe('offline and restart', () => {
  const dirs: string[] = []
  const running = new Set<TestPeer>()
  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  async function diskPeer(name: string, dir?: string, key = randomBytes(32)) {
    const location = dir ?? (await mkdtemp(join(tmpdir(), 'jiayi-peer-')))
    if (dir === undefined) dirs.push(location)
    const store = await openSealedStore(await LevelStore.open(location), { key })
    const peer = await testPeer(name, store)
    const stop = peer.stop
    const wrapped: TestPeer = {
      ...peer,
      async stop() {
        running.delete(wrapped)
        await stop()
        await store.close()
      },
    }
    running.add(wrapped)
    return { peer: wrapped, dir: location, key }
  }

  /** Alice and Bob on disk, each with the other as an accepted contact. */
  async function diskPair() {
    const a = await diskPeer('Alice')
    const b = await diskPeer('Bob')
    const bobAtAlice = await a.peer.messenger.addContact(b.peer.messenger.card().link)
    const aliceAtBob = await b.peer.messenger.addContact(a.peer.messenger.card().link)
    await eventually(() => a.peer.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    return { a, b, bobAtAlice, aliceAtBob }
  }

  it('50 messages queued while the peer is stopped arrive once, in order, after it restarts on new ports', async () => {
    const { a, b, bobAtAlice, aliceAtBob } = await diskPair()
    await eventually(
      () => b.peer.messenger.contact(aliceAtBob.id).state === 'accepted',
      10_000,
      'accepted at bob',
    )
    await a.peer.messenger.settled()
    await b.peer.messenger.settled()
    await b.peer.stop()

    const ids: string[] = []
    for (let i = 0; i < 50; i++)
      ids.push((await a.peer.messenger.send(bobAtAlice.id, `offline ${i} 离线`)).id)
    assert.ok((await a.peer.messenger.outboxSize(bobAtAlice.id)) >= 50)

    const again = await diskPeer('Bob', b.dir, b.key)
    const got = await eventually(
      async () => {
        const list = await again.peer.messenger.messages(aliceAtBob.id, { limit: 500, peek: true })
        const incoming = list.filter((m) => m.text.startsWith('offline '))
        return incoming.length >= 50 ? incoming : undefined
      },
      30_000,
      '50 messages at Bob',
    )
    assert.deepEqual(
      got.map((m) => m.id),
      ids,
      'each message exactly once, in the order sent',
    )
    await eventually(
      async () => (await a.peer.messenger.outboxSize(bobAtAlice.id)) === 0,
      10_000,
      'outbox drained',
    )

    // Alice's payload numbers never go back, also with an empty outbox and after a restart: the
    // counters were written with the acks (she sent a request or accept, and 50 texts).
    await a.peer.stop()
    const store = await openSealedStore(await LevelStore.open(a.dir), { key: a.key })
    try {
      const next = await new Conversations(store).nextOutboxSeq(bobAtAlice.id)
      assert.ok(next > 51, `numbering goes on after the last payload sent (next is ${next})`)
    } finally {
      await store.close()
    }
  })

  it('queued ratchet messages wait as the ciphertext they are; PreKey messages stay sealed', async () => {
    /** Alice's outbox records as they are on disk (the peer stopped, its store closed). */
    const rawOutbox = async (dir: string, cid: ContactId) => {
      const raw = await LevelStore.open(dir)
      try {
        const records: Uint8Array[] = []
        // On disk the family name stays and the contact id is a keyed hash (store/layout.ts):
        // Alice has one contact, so every outbox record there is Bob's.
        for await (const [, v] of raw.iterate({ prefix: rawFamily('outbox') })) records.push(v)
        assert.ok(!records.some((r) => hasText(r, cid)), 'the contact id is not in a record')
        return records
      } finally {
        await raw.close()
      }
    }
    const hasText = (record: Uint8Array, text: string) =>
      Buffer.from(record).includes(Buffer.from(text, 'utf8'))

    // Bob is away when Alice adds him: her request and first text are PreKey messages.
    const b = await diskPeer('Bob')
    const link = b.peer.messenger.card().link
    await b.peer.stop()
    let a = await diskPeer('Alice')
    const bob = await a.peer.messenger.addContact(link)
    await a.peer.messenger.send(bob.id, 'early 早')
    await a.peer.stop()
    const early = await rawOutbox(a.dir, bob.id as ContactId)
    assert.equal(early.length, 2)
    assert.deepEqual(
      early.map((r) => r[0]),
      [0x02, 0x02],
      'a PreKey message (our public keys in the clear) is sealed whole by the store',
    )

    // Bob accepts; once he has answered, Alice's texts are ratchet messages.
    a = await diskPeer('Alice', a.dir, a.key)
    let bobAgain = await diskPeer('Bob', b.dir, b.key)
    // Bob does not know Alice yet, and listens on new ports: his new card tells her where.
    await a.peer.messenger.addContact(bobAgain.peer.messenger.card().link)
    const alice = await eventually(
      () => bobAgain.peer.messenger.contactList().find((c) => c.state === 'pending-in'),
      15_000,
      'the request at Bob',
    )
    await bobAgain.peer.messenger.accept(alice.id)
    await eventually(() => a.peer.messenger.contact(bob.id).state === 'accepted', 10_000, 'accepted')
    await bobAgain.peer.messenger.settled()
    await bobAgain.peer.stop()
    const texts = ['later 1 晚', 'later 2 晚']
    for (const text of texts) await a.peer.messenger.send(bob.id, text)
    await a.peer.stop()
    const later = await rawOutbox(a.dir, bob.id as ContactId)
    assert.ok(later.length >= 2)
    for (const record of later) {
      // %x03: the envelope stored as it is after a sealed box that holds the record's own fields.
      assert.equal(record[0], 0x03, 'the envelope is not sealed a second time')
      for (const text of texts) assert.ok(!hasText(record, text), 'and no text in it')
    }

    // Read back from the disk after restarts, they still go, once and in order.
    a = await diskPeer('Alice', a.dir, a.key)
    bobAgain = await diskPeer('Bob', b.dir, b.key)
    await a.peer.messenger.addContact(bobAgain.peer.messenger.card().link) // both on new ports
    const got = await eventually(
      async () => {
        const list = await bobAgain.peer.messenger.messages(alice.id, { limit: 50, peek: true })
        return list.length >= 3 ? list : undefined
      },
      30_000,
      'every text at Bob',
    )
    assert.deepEqual(
      got.map((m) => m.text),
      ['early 早', ...texts],
    )
  })

  it('the id index is sealed; what it points to is still checked', async () => {
    const { a, b, bobAtAlice, aliceAtBob } = await diskPair()
    const first = await a.peer.messenger.send(bobAtAlice.id, 'first 第一')
    const second = await a.peer.messenger.send(bobAtAlice.id, 'second 第二')
    await eventually(
      async () => (await b.peer.messenger.unreadCount(aliceAtBob.id)) === 2,
      10_000,
      'two unread at Bob',
    )
    await b.peer.stop()

    // On disk: index entries and messages are all sealed records, and no message id is in a key
    // or a value; unread is a counter in the conversation's sealed counters record, not a record
    // per message.
    const raw = await LevelStore.open(b.dir)
    const family = async (name: string) => {
      const out: [Uint8Array, Uint8Array][] = []
      for await (const entry of raw.iterate({ prefix: rawFamily(name) })) out.push(entry)
      return out
    }
    const index = await family('msgid')
    assert.equal((await family('unread')).length, 0)
    for (const [k, v] of [...index, ...(await family('meta')), ...(await family('msg'))]) {
      assert.equal(v[0], 0x02, 'sealed')
      for (const id of [first.id, second.id])
        for (const bytes of [Buffer.from(id, 'hex'), Buffer.from(id)])
          assert.ok(!Buffer.from(k).includes(bytes) && !Buffer.from(v).includes(bytes), 'no message id')
    }
    await raw.close()
    // Someone with (a copy of) the disk shifts every index entry's value to the next entry: a
    // seal is bound to its key on disk, so none is believed.
    assert.ok(index.length >= 2)
    const copy = await mkdtemp(join(tmpdir(), 'jiayi-copy-'))
    dirs.push(copy)
    await cp(b.dir, copy, { recursive: true })
    const forged = await LevelStore.open(copy)
    await forged.batch(
      index.map(([k], i) => ({ type: 'put' as const, key: k, value: index[(i + 1) % index.length]![1] })),
    )
    const opened = await openSealedStore(forged, { key: b.key })
    const cid = aliceAtBob.id as ContactId
    for (const id of [first.id, second.id])
      await assert.rejects(opened.get(Keys.msgId(cid, id as MessageId)), (e) => StoreError.is(e, 'Corrupt'))
    await opened.close()

    const again = await diskPeer('Bob', b.dir, b.key)
    const m2 = again.peer.messenger
    assert.equal((await m2.message(aliceAtBob.id, first.id))?.text, 'first 第一')
    assert.equal((await m2.message(aliceAtBob.id, second.id))?.text, 'second 第二')
    // The counter survives the restart: reading tells Alice of both messages.
    assert.equal(await m2.unreadCount(aliceAtBob.id), 2)
    await m2.markRead(aliceAtBob.id)
    assert.equal(await m2.unreadCount(aliceAtBob.id), 0)
    const statuses = (await m2.messages(aliceAtBob.id, { peek: true })).map((x) => [x.text, x.status])
    assert.deepEqual(statuses.slice(-2), [
      ['first 第一', 'read'],
      ['second 第二', 'read'],
    ])
    await eventually(
      async () => (await a.peer.messenger.message(bobAtAlice.id, second.id))?.status === 'read',
      10_000,
      'read receipt at Alice',
    )
  })
})
