/**
 * Offline delivery and restarts with the real store on disk: a peer that is away gets every queued
 * message exactly once and in order when it comes back, even on new ports.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { randomBytes } from '../src/bytes.js'
import { Conversations, seqBytes } from '../src/messenger/conversations.js'
import type { ContactId, MessageId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { LevelStore } from '../src/store/level.js'
import { openSealedStore } from '../src/store/unlock.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

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
        for await (const [, v] of raw.iterate({ prefix: Keys.outboxPrefix(cid) })) records.push(v)
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
      [0x01, 0x01],
      'a PreKey message (our public keys in the clear) is sealed by the store',
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
      assert.deepEqual([record[0], record[1]], [0x00, 0x01], 'stored as it is: %x00, then the record')
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

  it('the id index and unread markers are hints in the clear; a wrong one is not believed', async () => {
    const { a, b, bobAtAlice, aliceAtBob } = await diskPair()
    const first = await a.peer.messenger.send(bobAtAlice.id, 'first 第一')
    const second = await a.peer.messenger.send(bobAtAlice.id, 'second 第二')
    await eventually(
      async () => (await b.peer.messenger.unreadCount(aliceAtBob.id)) === 2,
      10_000,
      'two unread at Bob',
    )
    await b.peer.stop()

    // On disk: the index maps each id to its place in the clear (%x00 seq), an unread marker is a
    // bare %x00, and the messages themselves stay sealed.
    const cid = aliceAtBob.id as ContactId
    const raw = await LevelStore.open(b.dir)
    const index = async (id: string) => (await raw.get(Keys.msgId(cid, id as MessageId)))!
    const [hintFirst, hintSecond] = [await index(first.id), await index(second.id)]
    assert.deepEqual([hintFirst.length, hintFirst[0]], [9, 0x00])
    const seqSecond = Number(Buffer.from(hintSecond.subarray(1)).readBigUInt64BE())
    const markers: Uint8Array[] = []
    for await (const [, v] of raw.iterate({ prefix: Keys.unreadPrefix(cid) })) markers.push(v)
    assert.deepEqual(markers, [Uint8Array.of(0x00), Uint8Array.of(0x00)])
    assert.equal((await raw.get(Keys.msg(cid, seqSecond)))![0], 0x01, 'the message is sealed')
    // Someone with the disk points the first id at the second message.
    await raw.put(Keys.msgId(cid, first.id as MessageId), Uint8Array.of(0x00, ...seqBytes(seqSecond)))
    await raw.close()

    const again = await diskPeer('Bob', b.dir, b.key)
    const m = again.peer.messenger
    assert.equal(
      await m.message(aliceAtBob.id, first.id),
      undefined,
      'the index is checked against the message',
    )
    assert.equal((await m.message(aliceAtBob.id, second.id))?.text, 'second 第二')
    // Key-only markers: reading still finds both messages and tells Alice.
    assert.equal(await m.unreadCount(aliceAtBob.id), 2)
    await m.markRead(aliceAtBob.id)
    assert.equal(await m.unreadCount(aliceAtBob.id), 0)
    const statuses = (await m.messages(aliceAtBob.id, { peek: true })).map((x) => [x.text, x.status])
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
