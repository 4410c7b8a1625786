/**
 * What a handover with part of the history left out says about unread messages, between real
 * peers on 127.0.0.1 with real stores on disk. Bob writes to Ann, in a chat and in a group, before
 * and after a moment `split`; the handover of the last day, as it would run a day after `split`,
 * holds only what came after. The new device (a messenger opened on the handed-over records, as
 * linking leaves them) counts unread exactly what it holds: the conversation's unread count and
 * read marker, the group's unread and mention counts. With no history it counts nothing, and
 * its read marker leaves the next message unread; with all of it, it counts what the existing
 * device does.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { randomBytes } from '../src/bytes.js'
import { asNewDevice, type HistoryChoice, handoverRecords } from '../src/devices/handover.js'
import { generateDeviceKey } from '../src/identity/device.js'
import { accountRecord, loadAccount } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { type ContactId, contactIdFor } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { LevelStore } from '../src/store/level.js'
import type { Store } from '../src/store/store.js'
import { openSealedStore } from '../src/store/unlock.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core

describe('handover of part of the history: unread counts what the new device holds', () => {
  const dirs: string[] = []
  const stores: Store[] = []
  const peers: TestPeer[] = []
  let ann: TestPeer
  let bob: TestPeer
  let bobAtAnn: ContactId
  let groupId: string
  let split = 0

  async function diskStore(): Promise<Store> {
    const dir = await mkdtemp(join(tmpdir(), 'jiayi-handover-'))
    dirs.push(dir)
    const store = await openSealedStore(await LevelStore.open(dir), { key: randomBytes(32) })
    stores.push(store)
    return store
  }

  async function peer(name: string, store: Store): Promise<TestPeer> {
    const p = await testPeer(name, store)
    peers.push(p)
    return p
  }

  /** A messenger on what the handover of `history` gives a new device `now`. */
  async function newDevice(history: HistoryChoice, now: number): Promise<TestPeer> {
    const store = await diskStore()
    const account = (await loadAccount(ann.store))!
    const me = contactIdFor(account.identity.signing.publicKey)
    // What the messenger committed reaches the store first (as the linker does).
    const held = coreOf(ann.messenger).store
    await held.flushed()
    for await (const [key, value] of handoverRecords(held, { history, me, now }))
      await store.put(key, asNewDevice(key, value))
    await store.put(Keys.account(), accountRecord({ ...account, deviceKey: await generateDeviceKey() }))
    return peer('Ann', store)
  }

  /**
   * Bob's messages as the device shows them. The new devices here hold no session with Bob (as
   * linking leaves them) and start one at once: its local notice, a read line, is not his.
   */
  const chat = async (p: TestPeer) =>
    (await p.messenger.messages(bobAtAnn, { limit: 100, peek: true }))
      .filter((m) => !m.text.endsWith('was reset.'))
      .map((m) => [m.text, m.status])

  const groupUnread = (p: TestPeer) => {
    const g = p.messenger.groups.get(groupId)
    return [g.unread, g.mentions]
  }

  before(async () => {
    ann = await peer('Ann', await diskStore())
    bob = await peer('Bob', await diskStore())
    const annAtBob = (await bob.messenger.addContact(ann.messenger.card().link)).id
    bobAtAnn = (await ann.messenger.addContact(bob.messenger.card().link)).id
    await eventually(() => bob.messenger.contact(annAtBob).state === 'accepted', 10_000, 'Ann accepted')
    await eventually(() => ann.messenger.contact(bobAtAnn).state === 'accepted', 10_000, 'Bob accepted')
    groupId = (await bob.messenger.groups.create('Tea', [annAtBob])).id
    await eventually(() => ann.messenger.groups.list().length === 1, 15_000, 'the group at Ann')

    await bob.messenger.send(annAtBob, 'read before')
    await eventually(async () => (await ann.messenger.unreadCount(bobAtAnn)) === 1, 15_000, 'the first')
    await ann.messenger.markRead(bobAtAnn)
    for (const t of ['old 1', 'old 2']) await bob.messenger.send(annAtBob, t)
    await bob.messenger.groups.send(groupId, 'group old')
    await bob.messenger.groups.send(groupId, '@Ann group old, for you')
    await eventually(
      async () => (await ann.messenger.unreadCount(bobAtAnn)) === 2 && groupUnread(ann)[0] === 2,
      15_000,
      'the old ones at Ann',
    )
    // Everything so far arrived before `split`; everything after, later.
    split = Date.now() + 1
    await eventually(() => Date.now() > split, 1_000, 'the clock past split')
    for (const t of ['new 1', 'new 2', 'new 3']) await bob.messenger.send(annAtBob, t)
    await bob.messenger.groups.send(groupId, 'group new')
    await bob.messenger.groups.send(groupId, '@Ann group new, for you')
    await eventually(
      async () => (await ann.messenger.unreadCount(bobAtAnn)) === 5 && groupUnread(ann)[0] === 4,
      15_000,
      'the new ones at Ann',
    )
    assert.deepEqual(groupUnread(ann), [4, 2])
  })

  after(async () => {
    for (const p of peers) await p.stop()
    for (const s of stores) await s.close().catch(() => undefined)
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it('the last day: what came after split, unread', async () => {
    const phone = await newDevice({ days: 1 }, split + 86_400_000)
    assert.deepEqual(await chat(phone), [
      ['new 1', 'received'],
      ['new 2', 'received'],
      ['new 3', 'received'],
    ])
    assert.equal(await phone.messenger.unreadCount(bobAtAnn), 3)
    assert.deepEqual(groupUnread(phone), [2, 1])
    // Reading it leaves nothing unread.
    await phone.messenger.markRead(bobAtAnn)
    assert.equal(await phone.messenger.unreadCount(bobAtAnn), 0)
    await phone.messenger.groups.messages(groupId)
    assert.deepEqual(groupUnread(phone), [0, 0])
  })

  it('nothing of the history is older than split, or no history: nothing unread, and the next message will be', async () => {
    for (const phone of [
      await newDevice({ days: 1 }, Date.now() + 2 * 86_400_000),
      await newDevice('none', Date.now()),
    ]) {
      assert.deepEqual(await chat(phone), [])
      assert.equal(await phone.messenger.unreadCount(bobAtAnn), 0)
      assert.deepEqual(groupUnread(phone), [0, 0])
      // Its messages are numbered from 1: none of them may read as read already.
      assert.equal(await coreOf(phone.messenger).conversations.readTo(bobAtAnn), 0)
    }
  })

  it('all of the history: unread as on the existing device', async () => {
    const phone = await newDevice('all', Date.now())
    assert.equal(await phone.messenger.unreadCount(bobAtAnn), 5)
    assert.deepEqual(groupUnread(phone), [4, 2])
  })
})
