/**
 * Sessions per device (Sesame), between real peers on 127.0.0.1 with real stores on disk. Ann has
 * two devices, made by hand here (linking is not what is tested): one identity in two stores,
 * each with its own device key, and a device list naming both under `account device-list` in
 * each. Bob gets the list as a contact's list (applyDeviceList). Bob's messages reach both of
 * Ann's devices; what Ann sends from one appears as sent on the other; a device that is away
 * holds back nothing for the other and gets its messages when it returns; a group message
 * reaches both; once Bob holds a newer list without a device, nothing more is encrypted to it
 * and what it sends is refused.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { randomBytes, utf8 } from '../src/bytes.js'
import { ownDeviceListKey } from '../src/devices/own-list.js'
import { devicePublicKey, generateDeviceKey } from '../src/identity/device.js'
import { createDeviceList } from '../src/identity/device-list.js'
import { accountRecord, loadAccount } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { laneOf } from '../src/messenger/lanes.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { LevelStore } from '../src/store/level.js'
import type { Store } from '../src/store/store.js'
import { openSealedStore } from '../src/store/unlock.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const texts = async (m: Messenger, cid: string, direction: 'in' | 'out') =>
  (await m.messages(cid, { limit: 500, peek: true }))
    .filter((x) => x.direction === direction)
    .map((x) => x.text)

describe('sessions per device', () => {
  const dirs: string[] = []
  const running = new Set<TestPeer>()
  let bob: TestPeer
  let ann1: TestPeer
  let ann2: TestPeer
  let ann2Dir: string
  let ann2Key: Uint8Array
  let annAtBob: ContactId
  let bobAtAnn: ContactId

  async function diskPeer(
    name: string,
    dir?: string,
    key = randomBytes(32),
    prepare?: (s: Store) => Promise<void>,
  ) {
    const location = dir ?? (await mkdtemp(join(tmpdir(), 'jiayi-dev-')))
    if (dir === undefined) dirs.push(location)
    const store = await openSealedStore(await LevelStore.open(location), { key })
    await prepare?.(store)
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

  /** Connects `a` to `b` (as a device that comes back dials its contacts). */
  const connect = (a: TestPeer, b: TestPeer) => a.messenger.node.dial(b.messenger.node.getMultiaddrs()[0]!)

  before(async () => {
    bob = (await diskPeer('Bob')).peer
    ann1 = (await diskPeer('Ann')).peer
    annAtBob = (await bob.messenger.addContact(ann1.messenger.card().link)).id
    bobAtAnn = (await ann1.messenger.addContact(bob.messenger.card().link)).id
    await eventually(() => bob.messenger.contact(annAtBob).state === 'accepted', 10_000, 'Ann accepted')
    await eventually(() => ann1.messenger.contact(bobAtAnn).state === 'accepted', 10_000, 'Bob accepted')
    await ann1.messenger.settled()

    // Ann's second device: her identity, its own device key, Bob as a contact (what linking hands
    // over), no sessions. Both devices hold a list naming both.
    const account = (await loadAccount(ann1.store))!
    const phoneKey = await generateDeviceKey()
    const list = createDeviceList(account.identity, 1, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
      { deviceKey: devicePublicKey(phoneKey), name: 'phone', linkedAt: 2 },
    ])
    const bobRecord = (await ann1.store.get(Keys.contact(bobAtAnn)))!
    const second = await diskPeer('Ann', undefined, randomBytes(32), async (store) => {
      await store.put(Keys.account(), accountRecord({ ...account, deviceKey: phoneKey }))
      await store.put(Keys.contact(bobAtAnn), bobRecord)
      await store.put(ownDeviceListKey(), list)
    })
    ann2 = second.peer
    ann2Dir = second.dir
    ann2Key = second.key
    await ann1.store.put(ownDeviceListKey(), list)
    assert.deepEqual(await ann1.messenger.reloadOwnDevices(), [
      ann1.messenger.whoami().peerId,
      ann2.messenger.whoami().peerId,
    ])
    assert.equal(await bob.messenger.applyDeviceList(annAtBob, list), true)
    // An old or repeated list changes nothing.
    assert.equal(await bob.messenger.applyDeviceList(annAtBob, list), false)
    await connect(ann2, bob)
    await connect(ann2, ann1)
  })

  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it("Bob's message reaches both of Ann's devices, each through its own session", async () => {
    const sent = await bob.messenger.send(annAtBob, 'hello both 你们好')
    for (const [name, device] of [
      ['laptop', ann1],
      ['phone', ann2],
    ] as const)
      await eventually(
        async () => (await texts(device.messenger, bobAtAnn, 'in')).includes('hello both 你们好'),
        15_000,
        `the message on Ann's ${name}`,
      )
    await eventually(
      async () =>
        (await bob.messenger.messages(annAtBob, { peek: true })).find((m) => m.id === sent.id)?.status ===
        'delivered',
      10_000,
      'delivered at Bob',
    )
    // Two sessions at Bob: the laptop's under Ann's own id (as before), the phone's in its lane.
    const core = coreOf(bob.messenger)
    const phoneLane = laneOf(core.contacts.get(annAtBob)!, ann2.messenger.whoami().peerId)
    assert.notEqual(phoneLane, annAtBob)
    assert.equal((await core.sessionSet(annAtBob)).length > 0, true)
    assert.equal((await core.sessionSet(phoneLane)).length > 0, true)
  })

  it("Ann's reply from her phone reaches Bob and shows as sent on her laptop", async () => {
    await ann2.messenger.send(bobAtAnn, 'from the phone 手机')
    await eventually(
      async () => (await texts(bob.messenger, annAtBob, 'in')).includes('from the phone 手机'),
      15_000,
      'the reply at Bob',
    )
    await eventually(
      async () => (await texts(ann1.messenger, bobAtAnn, 'out')).includes('from the phone 手机'),
      15_000,
      'the reply as sent on the laptop',
    )
    // The phone's first session with Bob reset nothing: no notice on either side.
    for (const [m, cid] of [
      [bob.messenger, annAtBob],
      [ann2.messenger, bobAtAnn],
    ] as const)
      assert.equal(
        (await m.messages(cid, { peek: true })).some((x) => x.extension?.kind === 'session-reset'),
        false,
      )
    const mirrored = (await ann1.messenger.messages(bobAtAnn, { peek: true })).find(
      (m) => m.text === 'from the phone 手机',
    )!
    assert.notEqual(mirrored.status, 'failed')
    // And the other way: what the laptop sends shows on the phone.
    await ann1.messenger.send(bobAtAnn, 'from the laptop')
    await eventually(
      async () => (await texts(ann2.messenger, bobAtAnn, 'out')).includes('from the laptop'),
      15_000,
      'the laptop message as sent on the phone',
    )
  })

  it('a reaction and reading on one device show on the other', async () => {
    const hello = (await ann1.messenger.messages(bobAtAnn, { peek: true })).find(
      (m) => m.text === 'hello both 你们好',
    )!
    await ann1.messenger.react(bobAtAnn, hello.id, '👍')
    await eventually(
      async () => (await ann2.messenger.message(bobAtAnn, hello.id))?.reactions?.mine === '👍',
      15_000,
      'the reaction on the phone',
    )
    assert.ok((await ann2.messenger.unreadCount(bobAtAnn)) > 0)
    await ann1.messenger.messages(bobAtAnn) // read on the laptop
    await eventually(
      async () => (await ann2.messenger.unreadCount(bobAtAnn)) === 0,
      15_000,
      'read on the phone',
    )
  })

  it('with the phone away the laptop gets Bob’s messages at once, and the phone gets them when it returns', async () => {
    await ann2.stop()
    for (const t of ['away 1', 'away 2', 'away 3']) await bob.messenger.send(annAtBob, t)
    await eventually(
      async () => (await texts(ann1.messenger, bobAtAnn, 'in')).includes('away 3'),
      15_000,
      'the messages on the laptop',
    )
    const again = await diskPeer('Ann', ann2Dir, ann2Key)
    ann2 = again.peer
    await connect(ann2, bob)
    await connect(ann2, ann1)
    const got = await eventually(
      async () => {
        const list = (await texts(ann2.messenger, bobAtAnn, 'in')).filter((t) => t.startsWith('away '))
        return list.length === 3 ? list : undefined
      },
      20_000,
      'the messages on the phone after it returned',
    )
    assert.deepEqual(got, ['away 1', 'away 2', 'away 3'])
  })

  it("a group message reaches both of Ann's devices", async () => {
    const group = await bob.messenger.groups.create('Family 家', [annAtBob])
    for (const device of [ann1, ann2])
      await eventually(() => device.messenger.groups.list().length === 1, 15_000, 'the group on each device')
    await bob.messenger.groups.send(group.id, 'dinner at 7')
    for (const device of [ann1, ann2])
      await eventually(
        async () =>
          (await device.messenger.groups.messages(group.id, { peek: true })).some(
            (m) => m.text === 'dinner at 7',
          ),
        15_000,
        'the group message on each device',
      )
  })

  it('after a newer list without the phone, nothing more is encrypted to it and what it sends is refused', async () => {
    const account = (await loadAccount(ann1.store))!
    const newer = createDeviceList(account.identity, 2, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
    ])
    assert.equal(await bob.messenger.applyDeviceList(annAtBob, newer), true)
    // The laptop holds the newer list too (unlinking writes it): the phone is no device of hers.
    await ann1.store.put(ownDeviceListKey(), newer)
    assert.deepEqual(await ann1.messenger.reloadOwnDevices(), [ann1.messenger.whoami().peerId])
    const core = coreOf(bob.messenger)
    const phone = ann2.messenger.whoami().peerId
    const phoneLane = `${annAtBob}.${phone}` as ContactId
    await bob.messenger.send(annAtBob, 'laptop only')
    await eventually(
      async () => (await texts(ann1.messenger, bobAtAnn, 'in')).includes('laptop only'),
      15_000,
      'the message on the laptop',
    )
    // Nothing queued for the phone, and the phone never got it.
    let queued = 0
    for await (const _ of bob.store.iterate({ prefix: Keys.outboxPrefix(phoneLane) })) queued++
    assert.equal(queued, 0)
    assert.equal((await texts(ann2.messenger, bobAtAnn, 'in')).includes('laptop only'), false)
    assert.equal(core.contacts.byPeerId(phone), undefined)

    // The removed phone still holds Ann's identity and its session: Bob refuses what it sends.
    const before = core.counters.snapshot().refused['/jiayi/msg/1']?.['not-a-contact'] ?? 0
    const laptop = coreOf(ann1.messenger)
    const laptopBefore = laptop.counters.snapshot().refused['/jiayi/msg/1']?.['not-a-contact'] ?? 0
    const attempt = await ann2.messenger.send(bobAtAnn, 'from the removed phone')
    await eventually(
      async () =>
        (await ann2.messenger.messages(bobAtAnn, { peek: true })).find((m) => m.id === attempt.id)?.status ===
        'failed',
      15_000,
      'refused at Bob',
    )
    assert.ok((core.counters.snapshot().refused['/jiayi/msg/1']?.['not-a-contact'] ?? 0) > before)
    assert.equal((await texts(bob.messenger, annAtBob, 'in')).includes('from the removed phone'), false)
    // Its mirror of that message to the laptop is refused there as well.
    await eventually(
      () => (laptop.counters.snapshot().refused['/jiayi/msg/1']?.['not-a-contact'] ?? 0) > laptopBefore,
      15_000,
      'the mirror refused at the laptop',
    )
    assert.equal((await texts(ann1.messenger, bobAtAnn, 'out')).includes('from the removed phone'), false)
  })

  it('a contact cannot pass a sync off as one of ours', async () => {
    const laptop = coreOf(ann1.messenger)
    const before = laptop.counters.snapshot().refused['/jiayi/msg/1']?.['not-allowed'] ?? 0
    const forged = {
      kind: 'sent',
      contact: bobAtAnn,
      id: 'ab'.repeat(16),
      sentAt: Date.now(),
      text: 'I never wrote this',
    }
    await bob.messenger.sendExtension(annAtBob, 'sync', utf8(JSON.stringify(forged)))
    await eventually(
      () => (laptop.counters.snapshot().refused['/jiayi/msg/1']?.['not-allowed'] ?? 0) > before,
      15_000,
      'the forged sync refused',
    )
    assert.equal(await ann1.messenger.message(bobAtAnn, forged.id), undefined)
  })
})
