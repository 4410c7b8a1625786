/**
 * A member's devices in a group, between real peers on 127.0.0.1: Ann has two devices (made by
 * hand as in devices-sessions.test.ts: one identity in two stores, a list naming both); Carol is
 * in Bob's group with Ann but is not Ann's contact, and her card of Ann (the one Bob held) names
 * one device. Carol learns Ann's list through the group: the phone's group messages reach her,
 * hers reach both of Ann's devices. Once Ann's newer list drops the phone, what it sends to the
 * group is refused at Carol and counted, and so is a message sealed with the phone's chain that
 * another member carries to her; a forged list is refused and counted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { hexToBytes, utf8 } from '../src/bytes.js'
import { decodeCardBytes } from '../src/card/card.js'
import { decodeCardPayload } from '../src/card/link.js'
import { ownDeviceListKey } from '../src/devices/own-list.js'
import { GroupTraffic } from '../src/groups/group-wire.pb.js'
import { devicePublicKey, generateDeviceKey } from '../src/identity/device.js'
import { createDeviceList } from '../src/identity/device-list.js'
import { SignedDeviceList } from '../src/identity/device-list.pb.js'
import { generateIdentity } from '../src/identity/identity.js'
import { accountRecord, loadAccount } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { type ContactId, newMessageId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { MemoryStore } from '../src/store/memory.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const refused = (m: Messenger, reason: string) =>
  coreOf(m).counters.snapshot().refused['/jiayi/msg/1']?.[reason] ?? 0
const groupTexts = async (m: Messenger, gid: string) =>
  (await m.groups.messages(gid, { peek: true })).map((x) => `${x.sender.id}: ${x.text}`)

describe('a member’s devices in a group', () => {
  const peers: TestPeer[] = []
  let bob: TestPeer
  let carol: TestPeer
  let ann1: TestPeer
  let ann2: TestPeer
  let annId: ContactId
  let gid: string
  const connect = (a: TestPeer, b: TestPeer) => a.messenger.node.dial(b.messenger.node.getMultiaddrs()[0]!)

  before(async () => {
    bob = await testPeer('Bob')
    carol = await testPeer('Carol')
    ann1 = await testPeer('Ann')
    peers.push(bob, carol, ann1)
    const annAtBob = (await bob.messenger.addContact(ann1.messenger.card().link)).id
    const carolAtBob = (await bob.messenger.addContact(carol.messenger.card().link)).id
    const bobAtAnn = (await ann1.messenger.addContact(bob.messenger.card().link)).id
    await carol.messenger.addContact(bob.messenger.card().link)
    await eventually(
      () =>
        bob.messenger.contact(annAtBob).state === 'accepted' &&
        bob.messenger.contact(carolAtBob).state === 'accepted',
      10_000,
      'Ann and Carol accepted at Bob',
    )
    await ann1.messenger.settled()
    annId = annAtBob

    // Ann's phone: her identity, a device key of its own, Bob as a contact; both devices hold a
    // list naming both. Bob gets it as his contact's list; Carol has never heard of it.
    const account = (await loadAccount(ann1.store))!
    const phoneKey = await generateDeviceKey()
    const list = createDeviceList(account.identity, 2, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
      { deviceKey: devicePublicKey(phoneKey), name: 'phone', linkedAt: 2 },
    ])
    const phoneStore = new MemoryStore()
    await phoneStore.put(Keys.account(), accountRecord({ ...account, deviceKey: phoneKey }))
    await phoneStore.put(Keys.contact(bobAtAnn), (await ann1.store.get(Keys.contact(bobAtAnn)))!)
    await phoneStore.put(ownDeviceListKey(), list)
    ann2 = await testPeer('Ann', phoneStore)
    peers.push(ann2)
    await coreOf(ann1.messenger).setOwnDeviceList(list)
    // Bob, her contact, hears of it by address update.
    await eventually(
      () => bob.messenger.contact(annAtBob).devices.length === 2,
      15_000,
      'both of Ann’s devices at Bob',
    )
    for (const other of [bob, ann1, carol]) await connect(ann2, other)
    // Bob's record of Ann names both; the card of hers he holds, which the group carries, the laptop.
    assert.equal(
      decodeCardBytes(decodeCardPayload(coreOf(bob.messenger).contacts.get(annAtBob)!.card)).deviceList,
      undefined,
    )
  })

  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('Carol learns Ann’s devices through the group; the phone reaches her and she reaches both', async () => {
    const phone = ann2.messenger.whoami().peerId
    const laptop = ann1.messenger.whoami().peerId
    const carolAtBob = bob.messenger.contactList().find((c) => c.name === 'Carol')!.id
    gid = (await bob.messenger.groups.create('Picnic 野餐', [annId, carolAtBob])).id
    for (const p of [ann1, ann2, carol])
      await eventually(() => p.messenger.groups.list().length === 1, 15_000, 'the group on every peer')
    // Ann's laptop told Carol her list when it saw itself added: Carol's record of Ann names both.
    await eventually(
      () => {
        const devices = carol.messenger.contact(annId).devices
        return devices.includes(phone) && devices.includes(laptop)
      },
      15_000,
      'both of Ann’s devices at Carol',
    )
    await ann2.messenger.groups.send(gid, 'from Ann’s phone 手机')
    await eventually(
      async () => (await groupTexts(carol.messenger, gid)).includes(`${annId}: from Ann’s phone 手机`),
      15_000,
      'the phone’s message at Carol, from Ann',
    )
    await carol.messenger.groups.send(gid, 'Carol to all')
    for (const [name, device] of [
      ['laptop', ann1],
      ['phone', ann2],
    ] as const)
      await eventually(
        async () => (await groupTexts(device.messenger, gid)).some((t) => t.endsWith(': Carol to all')),
        15_000,
        `Carol’s message on Ann’s ${name}`,
      )
  })

  it('a list signed by someone else is refused and counted; Ann’s devices at Carol stay', async () => {
    const bobAccount = (await loadAccount(bob.store))!
    const annKey = hexToBytes(carol.messenger.contact(annId).identityKey)
    // Bob signs a list naming only his own device and claims it is Ann's.
    const mine = SignedDeviceList.decode(
      createDeviceList(bobAccount.identity, 99, [
        { deviceKey: devicePublicKey(bobAccount.deviceKey), name: 'Ann?', linkedAt: 1 },
      ]),
    )
    const forged = SignedDeviceList.encode({ ...mine, ownerKey: annKey as Uint8Array<ArrayBuffer> })
    // And a list of someone in no group of Carol's.
    const stranger = createDeviceList(generateIdentity(), 1, [
      { deviceKey: devicePublicKey(await generateDeviceKey()), name: 'x', linkedAt: 1 },
    ])
    const bad = refused(carol.messenger, 'bad-device-list')
    const notAllowed = refused(carol.messenger, 'not-allowed')
    const carolAtBob = bob.messenger.contactList().find((c) => c.name === 'Carol')!.id
    await bob.messenger.sendExtension(
      carolAtBob,
      'group',
      GroupTraffic.encode({
        groupId: hexToBytes(gid) as Uint8Array<ArrayBuffer>,
        deviceLists: [forged, stranger as Uint8Array<ArrayBuffer>],
      } as GroupTraffic),
    )
    await eventually(
      () =>
        refused(carol.messenger, 'bad-device-list') > bad &&
        refused(carol.messenger, 'not-allowed') > notAllowed,
      15_000,
      'both lists refused at Carol',
    )
    assert.equal(carol.messenger.contact(annId).devices.length, 2)
  })

  it('once Ann’s newer list drops the phone, its group message is refused at Carol, counted, not shown', async () => {
    const account = (await loadAccount(ann1.store))!
    const laptop = ann1.messenger.whoami().peerId
    const newer = createDeviceList(account.identity, 3, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
    ])
    await coreOf(ann1.messenger).setOwnDeviceList(newer)
    await eventually(
      () => carol.messenger.contact(annId).devices.join() === laptop,
      15_000,
      'Carol holds the newer list',
    )
    const before = refused(carol.messenger, 'not-a-contact')
    // The removed phone still holds Ann's identity, the group and its sessions.
    await ann2.messenger.groups.send(gid, 'from the removed phone')
    await eventually(
      () => refused(carol.messenger, 'not-a-contact') > before,
      15_000,
      'the phone refused at Carol',
    )
    assert.equal(
      (await groupTexts(carol.messenger, gid)).some((t) => t.endsWith('from the removed phone')),
      false,
    )
    // Carried: a member who had not heard of the removal passes on what the phone sealed with its
    // own chain (Bob here, as such a carrier would). Carol knows the phone handed her that key.
    type Internals = {
      loaded: Map<
        string,
        {
          log: { state(): never }
          channel: { encrypt(s: never, p: Uint8Array): { message: { bytes: Uint8Array } } }
        }
      >
      sendTraffic(cid: string, t: unknown, g: unknown): Promise<void>
    }
    const phoneGroups = ann2.messenger.groups as unknown as Internals
    const pg = phoneGroups.loaded.get(gid)!
    const content = {
      id: newMessageId(),
      text: 'carried from the removed phone',
      sentAt: Date.now(),
      mentions: [],
    }
    const { message } = pg.channel.encrypt(pg.log.state(), utf8(JSON.stringify(content)))
    const bobGroups = bob.messenger.groups as unknown as Internals
    const carolAtBob = bob.messenger.contactList().find((c) => c.name === 'Carol')!.id
    const notADevice = refused(carol.messenger, 'not-a-device')
    await bobGroups.sendTraffic(
      carolAtBob,
      { groupId: hexToBytes(gid), messages: [{ sender: hexToBytes(annId), message: message.bytes }] },
      bobGroups.loaded.get(gid),
    )
    await eventually(
      () => refused(carol.messenger, 'not-a-device') > notADevice,
      15_000,
      'the carried message refused at Carol',
    )
    assert.equal(
      (await groupTexts(carol.messenger, gid)).some((t) => t.endsWith('carried from the removed phone')),
      false,
    )
    // The laptop still speaks for Ann.
    await ann1.messenger.groups.send(gid, 'laptop still here')
    await eventually(
      async () => (await groupTexts(carol.messenger, gid)).includes(`${annId}: laptop still here`),
      15_000,
      'the laptop’s message at Carol',
    )
  })
})
