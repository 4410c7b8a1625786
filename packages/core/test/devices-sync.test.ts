/**
 * Own devices in step (sync.ts), between real peers on 127.0.0.1 with real stores on disk. Ann has
 * two devices made by hand as in devices-sessions.test.ts (one identity, two device keys, a list
 * naming both in each store). What she does with contacts on one device happens on the other: a
 * contact added, a request accepted, a remark and labels, a contact removed, a group made and
 * changed, a group joined by invite; her newer device list reaches the other device. A contact or someone who only asked cannot pass a sync off as hers.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { randomBytes, toBase64, utf8 } from '../src/bytes.js'
import { linkPayload } from '../src/card/link.js'
import { ownDeviceListKey } from '../src/devices/own-list.js'
import { devicePublicKey, generateDeviceKey } from '../src/identity/device.js'
import { createDeviceList } from '../src/identity/device-list.js'
import { generateIdentity } from '../src/identity/identity.js'
import { accountRecord, loadAccount } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { LevelStore } from '../src/store/level.js'
import type { Store } from '../src/store/store.js'
import { openSealedStore } from '../src/store/unlock.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const known = (m: Messenger, id: string) => m.contactList().find((c) => c.id === id)
const notAllowed = (m: Messenger) =>
  coreOf(m).counters.snapshot().refused['/jiayi/msg/1']?.['not-allowed'] ?? 0

describe('own devices in step', () => {
  const dirs: string[] = []
  const running = new Set<TestPeer>()
  let laptop: TestPeer
  let phone: TestPeer
  let bob: TestPeer
  let carol: TestPeer
  let dave: TestPeer
  let erin: TestPeer
  let frank: TestPeer
  let bobId: ContactId
  let carolId: ContactId

  async function diskPeer(name: string, prepare?: (s: Store) => Promise<void>) {
    const location = await mkdtemp(join(tmpdir(), 'jiayi-sync-'))
    dirs.push(location)
    const store = await openSealedStore(await LevelStore.open(location), { key: randomBytes(32) })
    await prepare?.(store)
    const peer = await testPeer(name, store)
    const wrapped: TestPeer = {
      ...peer,
      async stop() {
        running.delete(wrapped)
        await peer.stop()
        await store.close()
      },
    }
    running.add(wrapped)
    return wrapped
  }

  const connect = (a: TestPeer, b: TestPeer) => a.messenger.node.dial(b.messenger.node.getMultiaddrs()[0]!)

  before(async () => {
    laptop = await diskPeer('Ann')
    const account = (await loadAccount(laptop.store))!
    const phoneKey = await generateDeviceKey()
    const list = createDeviceList(account.identity, 1, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
      { deviceKey: devicePublicKey(phoneKey), name: 'phone', linkedAt: 2 },
    ])
    phone = await diskPeer('Ann', async (store) => {
      await store.put(Keys.account(), accountRecord({ ...account, deviceKey: phoneKey }))
      await store.put(ownDeviceListKey(), list)
    })
    await laptop.store.put(ownDeviceListKey(), list)
    await laptop.messenger.reloadOwnDevices()
    bob = await diskPeer('Bob')
    carol = await diskPeer('Carol')
    dave = await diskPeer('Dave')
    erin = await diskPeer('Erin')
    frank = await diskPeer('Frank')
    await connect(phone, laptop)
  })

  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it('a contact added on the laptop is one on the phone too, and the phone talks to them', async () => {
    bobId = (await laptop.messenger.addContact(bob.messenger.card().link)).id
    await eventually(() => known(phone.messenger, bobId)?.state === 'pending-out', 15_000, 'Bob on the phone')
    await connect(phone, bob) // as the phone dials its contacts when it comes online
    const annAtBob = await eventually(
      () => bob.messenger.contactList().find((c) => c.state === 'pending-in')?.id,
      15_000,
      "Ann's request at Bob",
    )
    await bob.messenger.accept(annAtBob)
    for (const [name, device] of [
      ['laptop', laptop],
      ['phone', phone],
    ] as const)
      await eventually(
        () => known(device.messenger, bobId)?.state === 'accepted',
        15_000,
        `accepted on ${name}`,
      )
    await phone.messenger.send(bobId, 'from the phone 手机')
    await eventually(
      async () =>
        (await bob.messenger.messages(annAtBob, { peek: true })).some(
          (m) => m.text === 'from the phone 手机',
        ),
      15_000,
      "the phone's message at Bob",
    )
  })

  it('an accept that reaches only the laptop makes the contact accepted on the phone too', async () => {
    // The phone never connects to Frank: his accept cannot reach it, only the laptop's word.
    const frankId = (await laptop.messenger.addContact(frank.messenger.card().link)).id
    await eventually(() => known(phone.messenger, frankId)?.state === 'pending-out', 15_000, 'on the phone')
    const annAtFrank = await eventually(
      () => frank.messenger.contactList().find((c) => c.state === 'pending-in')?.id,
      15_000,
      "Ann's request at Frank",
    )
    await frank.messenger.accept(annAtFrank)
    await eventually(() => known(laptop.messenger, frankId)?.state === 'accepted', 15_000, 'on the laptop')
    await eventually(() => known(phone.messenger, frankId)?.state === 'accepted', 15_000, 'on the phone')
  })

  it('a remark and labels set on the phone show on the laptop', async () => {
    await phone.messenger.setRemark(bobId, '老鲍')
    await phone.messenger.addLabel('friends 朋友', [bobId])
    await eventually(
      () => {
        const b = known(laptop.messenger, bobId)
        return b?.remark === '老鲍' && b.labels.join() === 'friends 朋友'
      },
      15_000,
      'remark and label on the laptop',
    )
    await phone.messenger.setRemark(bobId, '')
    await eventually(() => known(laptop.messenger, bobId)?.remark === undefined, 15_000, 'remark cleared')
    assert.deepEqual(known(laptop.messenger, bobId)?.labels, ['friends 朋友'])
  })

  it('a request accepted on the phone is accepted on the laptop', async () => {
    await connect(carol, phone)
    const annAtCarol = (await carol.messenger.addContact(laptop.messenger.card().link)).id
    carolId = await eventually(
      () => laptop.messenger.contactList().find((c) => c.name === 'Carol')?.id,
      15_000,
      "Carol's request on the laptop",
    )
    await eventually(() => known(phone.messenger, carolId)?.state === 'pending-in', 15_000, 'on the phone')
    await phone.messenger.accept(carolId)
    await eventually(
      () => known(laptop.messenger, carolId)?.state === 'accepted',
      15_000,
      'accepted on the laptop',
    )
    await eventually(
      () => carol.messenger.contact(annAtCarol).state === 'accepted',
      15_000,
      'Ann accepted at Carol',
    )
  })

  it('a contact or someone who only asked cannot pass a contact sync off as ours', async () => {
    // Carol, a contact, says Bob was removed; Dave, who only sent a request, that he is accepted.
    // Only a device on Ann's own list may send a sync: each is refused and counted.
    const before = notAllowed(laptop.messenger)
    await carol.messenger.sendExtension(
      carol.messenger.contactList()[0]!.id,
      'sync',
      utf8(JSON.stringify({ kind: 'contact-removed', contact: bobId })),
    )
    const annAtDave = (await dave.messenger.addContact(laptop.messenger.card().link)).id
    const daveId = await eventually(
      () => laptop.messenger.contactList().find((c) => c.name === 'Dave')?.id,
      15_000,
      "Dave's request on the laptop",
    )
    const daveCard = linkPayload(dave.messenger.card().link)
    await dave.messenger.sendExtension(
      annAtDave,
      'sync',
      utf8(
        JSON.stringify({ kind: 'contact', contact: daveId, card: daveCard, state: 'accepted', labels: [] }),
      ),
    )
    // And Carol, a group op as if Ann had made it on another device (a group of Carol's own).
    const carols = await carol.messenger.groups.create('Not Ann’s 不是安的')
    await carol.messenger.sendExtension(
      carol.messenger.contactList()[0]!.id,
      'sync',
      utf8(JSON.stringify({ kind: 'group', group: carols.id, op: toBase64(randomBytes(64)) })),
    )
    await eventually(() => notAllowed(laptop.messenger) >= before + 3, 15_000, 'all three refused')
    assert.equal(
      laptop.messenger.groups.list().some((g) => g.id === carols.id),
      false,
    )
    assert.equal(known(laptop.messenger, bobId)?.state, 'accepted')
    assert.equal(known(laptop.messenger, daveId)?.state, 'pending-in')
  })

  it('a newer device list made on the laptop reaches the phone; one from a contact is refused', async () => {
    const account = (await loadAccount(laptop.store))!
    const held = coreOf(laptop.messenger).ownDeviceList()
    const tablet = await generateDeviceKey()
    const next = createDeviceList(account.identity, held.version + 1, [
      ...held.devices.map((d) => ({ deviceKey: d.deviceKey, name: d.name, linkedAt: d.linkedAt })),
      { deviceKey: devicePublicKey(tablet), name: 'tablet', linkedAt: 3 },
    ])
    await coreOf(laptop.messenger).setOwnDeviceList(next)
    await eventually(
      () => coreOf(phone.messenger).ownDeviceList().version === held.version + 1,
      15_000,
      'the new list on the phone',
    )
    assert.equal(coreOf(phone.messenger).ownDevices.devices.length, 3)
    assert.deepEqual(await phone.store.get(ownDeviceListKey()), next)

    // Carol sends a list of her own making (another identity signs it) as a sync: refused.
    const before = notAllowed(phone.messenger)
    const forged = createDeviceList(generateIdentity(), held.version + 5, [
      { deviceKey: devicePublicKey(tablet), name: 'tablet', linkedAt: 3 },
    ])
    await carol.messenger.sendExtension(
      carol.messenger.contactList()[0]!.id,
      'sync',
      utf8(JSON.stringify({ kind: 'device-list', list: toBase64(forged) })),
    )
    await eventually(() => notAllowed(phone.messenger) > before, 15_000, 'the forged list refused')
    assert.equal(coreOf(phone.messenger).ownDeviceList().version, held.version + 1)
  })

  it('a group made, renamed, grown and left on the laptop is the same on the phone', async () => {
    const group = await laptop.messenger.groups.create('Team', [carolId])
    const onPhone = () => phone.messenger.groups.list().find((g) => g.id === group.id)
    await eventually(() => onPhone()?.members.length === 2, 15_000, 'the group on the phone')
    await laptop.messenger.groups.rename(group.id, 'Team 团队')
    await laptop.messenger.groups.add(group.id, bobId)
    await eventually(
      () => onPhone()?.name === 'Team 团队' && onPhone()?.members.length === 3,
      15_000,
      'renamed and grown on the phone',
    )
    await laptop.messenger.groups.transfer(group.id, carolId)
    await laptop.messenger.groups.leave(group.id)
    await eventually(() => onPhone() === undefined, 15_000, 'left on the phone')
    // Carol, still in it, sees Ann gone.
    await eventually(
      () => carol.messenger.groups.list().find((g) => g.id === group.id)?.members.length === 2,
      15_000,
      'Ann gone at Carol',
    )
  })

  it('a group joined by invite on the laptop, from someone the phone does not know, is on the phone', async () => {
    const group = await erin.messenger.groups.create('Book club 读书会')
    await erin.messenger.groups.settings(group.id, { joinApproval: false, adminsOnly: false })
    const invite = await erin.messenger.groups.invite(group.id)
    const joined = await laptop.messenger.groups.join(invite.link)
    assert.equal(joined.state, 'joined')
    await eventually(
      () => phone.messenger.groups.list().find((g) => g.id === group.id)?.members.length === 2,
      15_000,
      'the group on the phone',
    )
    assert.equal(
      phone.messenger.contactList().some((c) => c.name === 'Erin'),
      false,
    )
  })

  it('a contact removed on the phone is removed (and blocked) on the laptop', async () => {
    await phone.messenger.reject(bobId)
    await eventually(() => known(laptop.messenger, bobId) === undefined, 15_000, 'Bob gone from the laptop')
    assert.equal(coreOf(laptop.messenger).trustOf(bob.messenger.whoami().peerId), 'blocked')
    // Added again on the laptop: the phone has him again, no longer blocked.
    await laptop.messenger.addContact(bob.messenger.card().link)
    await eventually(() => known(phone.messenger, bobId) !== undefined, 15_000, 'Bob back on the phone')
    assert.notEqual(coreOf(phone.messenger).trustOf(bob.messenger.whoami().peerId), 'blocked')
  })
})
