/**
 * Files offered from a person's second device, between real peers on 127.0.0.1 (real LevelDB,
 * files on disk). Ann has two devices (made by hand as in devices-sessions.test.ts); the phone
 * holds the bytes of what it offers, so receivers fetch from the phone, not from the laptop their
 * card names: Bob, her contact, gets a file she sends him from the phone, and a file he sends her
 * reaches both of her devices; Bob and Carol (who is no
 * contact of Ann's) get a picture she sends their group from the phone, and both of Ann's devices
 * get one Bob sends the group (each fetches it from Bob). A group file message that
 * names a device off the sender's list is refused and counted, and nothing of it shows.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { hexToBytes, randomBytes, utf8 } from '../src/bytes.js'
import { ownDeviceListKey } from '../src/devices/own-list.js'
import { encodeGroupFile } from '../src/groups/group-files.js'
import { devicePeerId, devicePublicKey, generateDeviceKey } from '../src/identity/device.js'
import { createDeviceList } from '../src/identity/device-list.js'
import { accountRecord, loadAccount } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { newMessageId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { LevelStore } from '../src/store/level.js'
import { openSealedStore } from '../src/store/unlock.js'
import { befriend, type FilePeer, filePeer, newHome, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core

/** Waits for `p`'s transfer `id` to be complete; a timeout says where it stood. */
async function complete(p: FilePeer, id: string, what: string) {
  try {
    return await eventually(
      () => {
        const t = p.files.transfer(id)
        return t?.status === 'complete' ? t : undefined
      },
      30_000,
      what,
    )
  } catch (error) {
    const t = p.files.transfer(id)
    throw new Error(`${String(error)} (${t?.status} ${t?.note ?? ''} ${t?.bytes ?? 0} bytes)`)
  }
}

describe('files from a second device', () => {
  let bob: FilePeer
  let carol: FilePeer
  let ann1: FilePeer
  let ann2: FilePeer
  let annAtBob: string
  let bobAtAnn: string
  let gid: string
  const connect = (a: FilePeer, b: FilePeer) => a.messenger.node.dial(b.messenger.node.getMultiaddrs()[0]!)

  before(async () => {
    ;[bob, carol, ann1] = (await Promise.all(['Bob', 'Carol', 'Ann'].map((n) => filePeer(n)))) as [
      FilePeer,
      FilePeer,
      FilePeer,
    ]
    ;({ bAtA: bobAtAnn, aAtB: annAtBob } = await befriend(ann1, bob))
    await befriend(bob, carol)
    await ann1.messenger.settled()

    // Ann's phone: her identity, a device key of its own, Bob as a contact; a list naming both.
    const account = (await loadAccount(ann1.store))!
    const phoneKey = await generateDeviceKey()
    const list = createDeviceList(account.identity, 2, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
      { deviceKey: devicePublicKey(phoneKey), name: 'phone', linkedAt: 2 },
    ])
    const home = await newHome()
    const key = randomBytes(32)
    const store = await openSealedStore(await LevelStore.open(join(home, 'store')), { key })
    await store.put(Keys.account(), accountRecord({ ...account, deviceKey: phoneKey }))
    await store.put(Keys.contact(bobAtAnn as never), (await ann1.store.get(Keys.contact(bobAtAnn as never)))!)
    await store.put(ownDeviceListKey(), list)
    await store.close()
    ann2 = await filePeer('Ann', { home, key })
    await coreOf(ann1.messenger).setOwnDeviceList(list)
    // Bob, her contact, hears of it by address update.
    await eventually(
      () => bob.messenger.contact(annAtBob).devices.length === 2,
      15_000,
      'both of Ann’s devices at Bob',
    )
    for (const other of [bob, ann1, carol]) await connect(ann2, other)
  })

  after(async () => {
    await Promise.all([bob, carol, ann1, ann2].map((p) => p?.stop()))
    await removeHomes()
  })

  it('a file Ann sends Bob from her phone is fetched from the phone', async () => {
    const bytes = new Uint8Array(nodeRandomBytes(200 * 1024 + 3))
    const path = join(ann2.home, 'notes.bin')
    await writeFile(path, bytes)
    const sent = await ann2.files.sendFile(bobAtAnn, await ann2.storage.openSource(path))
    const got = await complete(bob, sent.id, 'the file complete at Bob')
    assert.equal(got.contactId, annAtBob)
    assert.equal(sha256Hex(await readFile(got.path!)), sha256Hex(bytes))
    await eventually(
      () => ann2.files.transfer(sent.id)?.status === 'complete',
      15_000,
      'complete on the phone too',
    )
  })

  it('a file Bob sends Ann reaches both of her devices, each fetching it from Bob', async () => {
    const bytes = new Uint8Array(nodeRandomBytes(180 * 1024 + 9))
    const path = join(bob.home, 'report.bin')
    await writeFile(path, bytes)
    const sent = await bob.files.sendFile(annAtBob, await bob.storage.openSource(path))
    for (const [name, p] of [
      ['laptop', ann1],
      ['phone', ann2],
    ] as const) {
      const got = await complete(p, sent.id, `the file complete on Ann’s ${name}`)
      assert.equal(sha256Hex(await readFile(got.path!)), sha256Hex(bytes))
    }
    await eventually(() => bob.files.transfer(sent.id)?.status === 'complete', 15_000, 'complete at Bob')
  })

  it('a picture Ann sends the group from her phone reaches Bob and Carol, who is no contact of hers', async () => {
    const carolAtBob = bob.messenger.contactList().find((c) => c.name === 'Carol')!.id
    gid = (await bob.messenger.groups.create('Photos 照片', [annAtBob, carolAtBob])).id
    const phone = ann2.messenger.whoami().peerId
    for (const p of [ann1, ann2, carol])
      await eventually(() => p.messenger.groups.list().length === 1, 15_000, 'the group on every peer')
    await eventually(
      () => carol.messenger.contact(annAtBob).devices.includes(phone),
      15_000,
      'the phone on Ann’s list at Carol',
    )
    const picture = new Uint8Array(nodeRandomBytes(150 * 1024 + 11))
    const path = join(ann2.home, 'cat.jpg')
    await writeFile(path, picture)
    const sent = await ann2.files.sendFile(gid, await ann2.storage.openSource(path))
    for (const p of [bob, carol]) {
      const got = await complete(p, sent.id, `the picture complete at ${p.name}`)
      assert.equal(got.contactId, annAtBob)
      assert.equal(sha256Hex(await readFile(got.path!)), sha256Hex(picture))
    }
  })

  it('a picture Bob sends the group reaches both of Ann’s devices, each fetching it from Bob', async () => {
    const picture = new Uint8Array(nodeRandomBytes(90 * 1024 + 5))
    const path = join(bob.home, 'dog.jpg')
    await writeFile(path, picture)
    const sent = await bob.files.sendFile(gid, await bob.storage.openSource(path))
    for (const [name, p] of [
      ['laptop', ann1],
      ['phone', ann2],
    ] as const) {
      const got = await complete(p, sent.id, `the picture complete on Ann’s ${name}`)
      assert.equal(sha256Hex(await readFile(got.path!)), sha256Hex(picture))
    }
  })

  it('a group file message naming a device off the sender’s list is refused, counted, not shown', async () => {
    const carolCore = coreOf(carol.messenger)
    const notADevice = () => carolCore.counters.snapshot().refused['/jiayi/msg/1']?.['not-a-device'] ?? 0
    const before = notADevice()
    // Ann's laptop, as an attacker would, seals a file message naming a device not on her list.
    const stranger = devicePeerId(await generateDeviceKey()).toString()
    const offer = {
      kind: 'file' as const,
      name: 'x.bin',
      mime: 'application/octet-stream',
      size: 10,
      sha256: randomBytes(32),
      key: randomBytes(32),
      chunkSize: 64 * 1024,
    }
    const id = newMessageId()
    const content = {
      id,
      text: '',
      sentAt: Date.now(),
      mentions: [],
      file: encodeGroupFile(offer),
      device: stranger,
    }
    const groups = ann1.messenger.groups as unknown as {
      loaded: Map<
        string,
        {
          log: { id: string; state(): never }
          channel: { encrypt(s: never, p: Uint8Array): { message: { bytes: Uint8Array } } }
        }
      >
      sendTraffic(cid: string, t: unknown, g: unknown): Promise<void>
    }
    const g = groups.loaded.get(gid)!
    const { message } = g.channel.encrypt(g.log.state(), utf8(JSON.stringify(content)))
    const carolId = ann1.messenger.groups.get(gid).members.find((m) => m.name === 'Carol')!.id
    const annId = ann1.messenger.groups.get(gid).members.find((m) => m.name === 'Ann')!.id
    await groups.sendTraffic(
      carolId,
      { groupId: hexToBytes(gid), messages: [{ sender: hexToBytes(annId), message: message.bytes }] },
      g,
    )
    await eventually(() => notADevice() > before, 15_000, 'the message refused at Carol')
    assert.equal(carol.files.transfer(id), undefined)
    assert.equal(
      (await carol.messenger.groups.messages(gid, { peek: true })).some((m) => m.id === id),
      false,
    )
  })
})
