/**
 * Own devices in step in a group (sync.ts `group-sent`, `group-read`, `group-reaction`), between
 * real peers on 127.0.0.1 with real stores on disk. Ann has two devices made by hand as in
 * devices-sync.test.ts; she and Bob share a group. What Ann says on the laptop shows on the phone
 * as hers, once, in that group; a picture she sends from the laptop is fetched by the phone from
 * the laptop (the same SHA-256, complete only once it is there), and a big one waits for Accept
 * there and, with the laptop away, comes from Bob, who holds it; how far she read and her
 * reactions follow; Bob sees each message of hers once; after a restart the phone carries none of
 * them on. Bob, a member of the group but no device of Ann's, cannot pass a message off as one Ann
 * sent from another device, nor can a device removed from her list, which cannot fetch her files
 * from the laptop either.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { bytesToHex, hexToBytes, randomBytes, utf8 } from '../src/bytes.js'
import { ownDeviceListKey } from '../src/devices/own-list.js'
import { encodeFrame } from '../src/files/frames.js'
import type { FileMessageData } from '../src/files/transfer.js'
import type { GroupChannel } from '../src/groups/channel.js'
import type { GroupMessageView, GroupView } from '../src/groups/service.js'
import { devicePublicKey, generateDeviceKey } from '../src/identity/device.js'
import { createDeviceList } from '../src/identity/device-list.js'
import { accountRecord, loadAccount } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { openFramed } from '../src/net/framed-handler.js'
import { PROTOCOL_FILE } from '../src/net/protocols.js'
import { LevelStore } from '../src/store/level.js'
import type { Store } from '../src/store/store.js'
import { openSealedStore } from '../src/store/unlock.js'
import { type FilePeer, type FilePeerOptions, filePeer, newHome, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

type TestPeer = FilePeer
const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const notAllowed = (m: Messenger) =>
  coreOf(m).counters.snapshot().refused['/jiayi/msg/1']?.['not-allowed'] ?? 0

describe('own devices in step in a group', () => {
  const running = new Set<TestPeer>()
  let laptop: TestPeer
  let phone: TestPeer
  let bob: TestPeer
  let annId: ContactId
  let group: GroupView

  /** A device with a file service, its store and files on disk (helpers/files-peers.ts). */
  async function diskPeer(
    name: string,
    prepare?: (s: Store) => Promise<void>,
    place?: { home: string; key: Uint8Array },
    options: FilePeerOptions = {},
  ) {
    const home = place?.home ?? (await newHome())
    const key = place?.key ?? randomBytes(32)
    if (prepare !== undefined) {
      const store = await openSealedStore(await LevelStore.open(join(home, 'store')), { key })
      await prepare(store)
      await store.close()
    }
    const peer = await filePeer(name, { ...options, home, key })
    const wrapped: TestPeer = {
      ...peer,
      async stop() {
        running.delete(wrapped)
        await peer.stop()
      },
    }
    running.add(wrapped)
    return wrapped
  }

  /** The same device again, from its store on disk. */
  async function restart(p: TestPeer, options: FilePeerOptions = {}) {
    await p.stop()
    return diskPeer('Ann', undefined, { home: p.home, key: p.key }, options)
  }

  const phoneLimits: FilePeerOptions = { autoDownload: { askAboveBytes: 1_000_000 } }
  const connect = (a: TestPeer, b: TestPeer) => a.messenger.node.dial(b.messenger.node.getMultiaddrs()[0]!)
  const peek = (p: TestPeer) => p.messenger.groups.messages(group.id, { peek: true })
  const stored = async (p: TestPeer) => (await peek(p)).filter((m) => m.extension?.kind !== 'group-change')

  before(async () => {
    laptop = await diskPeer('Ann')
    const account = (await loadAccount(laptop.store))!
    const phoneKey = await generateDeviceKey()
    const list = createDeviceList(account.identity, 1, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
      { deviceKey: devicePublicKey(phoneKey), name: 'phone', linkedAt: 2 },
    ])
    // The phone asks before anything over 1 MB downloads.
    phone = await diskPeer(
      'Ann',
      async (store) => {
        await store.put(Keys.account(), accountRecord({ ...account, deviceKey: phoneKey }))
        await store.put(ownDeviceListKey(), list)
      },
      undefined,
      phoneLimits,
    )
    await laptop.store.put(ownDeviceListKey(), list)
    await laptop.messenger.reloadOwnDevices()
    bob = await diskPeer('Bob')
    await connect(phone, laptop)
    await connect(phone, bob)
    const bobId = (await laptop.messenger.addContact(bob.messenger.card().link)).id
    annId = await eventually(
      () => bob.messenger.contactList().find((c) => c.state === 'pending-in')?.id,
      15_000,
      "Ann's request at Bob",
    )
    await bob.messenger.accept(annId)
    await eventually(
      () => phone.messenger.contactList().find((c) => c.id === bobId)?.state === 'accepted',
      15_000,
      'Bob accepted on the phone',
    )
    group = await laptop.messenger.groups.create('Hikers 徒步', [bobId])
    for (const p of [phone, bob])
      await eventually(
        () => p.messenger.groups.list().find((g) => g.id === group.id)?.members.length === 2,
        15_000,
        'the group everywhere',
      )
  })

  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    await removeHomes()
  })

  it('a message Ann sends from the laptop shows on the phone as hers, once; Bob has it once', async () => {
    const sent = await laptop.messenger.groups.send(group.id, 'from the laptop 笔记本')
    const onPhone = await eventually(
      async () => (await stored(phone)).find((m) => m.id === sent.id),
      15_000,
      'the message on the phone',
    )
    assert.equal(onPhone.direction, 'out')
    assert.equal(onPhone.sender.id, annId)
    assert.equal(onPhone.text, 'from the laptop 笔记本')
    assert.equal(onPhone.groupId, group.id)
    assert.equal(onPhone.sentAt, sent.sentAt)
    await eventually(
      async () => (await stored(bob)).some((m) => m.id === sent.id),
      15_000,
      'the message at Bob',
    )
    // A second one, answering the first: in order after it on the phone.
    const second = await laptop.messenger.groups.send(group.id, 'and again 再来', { replyTo: sent.id })
    await eventually(
      async () => (await stored(phone)).some((m) => m.id === second.id),
      15_000,
      'the second on the phone',
    )
    // Bob carries what he holds to the phone when they sync: the phone still shows each once.
    await bob.messenger.groups.peerConnected(phone.messenger.node.peerId)
    await phone.messenger.groups.peerConnected(bob.messenger.node.peerId)
    await eventually(
      async () => (await stored(bob)).filter((m) => m.sender.id === annId).length === 2,
      15_000,
      'both at Bob',
    )
    const mine = (await stored(phone)).filter((m) => m.sender.id === annId)
    assert.deepEqual(
      mine.map((m) => [m.id, m.direction, m.replyTo]),
      [
        [sent.id, 'out', undefined],
        [second.id, 'out', sent.id],
      ],
    )
    const atBob = (await stored(bob)).filter((m) => m.sender.id === annId)
    assert.deepEqual(
      atBob.map((m) => [m.id, m.direction]),
      [
        [sent.id, 'in'],
        [second.id, 'in'],
      ],
    )
  })

  const picture = new Uint8Array(nodeRandomBytes(300 * 1024 + 5))
  let pictureId: string

  it('a picture Ann sends to the group from the laptop is fetched by the phone from the laptop: complete once it is there', async () => {
    const path = join(laptop.home, 'summit.jpg')
    await writeFile(path, picture)
    // How the phone shows it when it arrives: ours, and not complete before its bytes are here.
    const arrived: GroupMessageView[] = []
    const off = phone.messenger.events.on('group-message', (e) => void arrived.push(e.message))
    const sent = await laptop.files.sendFile(group.id, await laptop.storage.openSource(path), {
      name: 'summit 山顶.jpg',
    })
    pictureId = sent.id
    try {
      const first = await eventually(
        () => arrived.find((m) => m.id === sent.id),
        15_000,
        'the picture on the phone',
      )
      assert.equal(first.direction, 'out')
      assert.equal(first.extension?.kind, 'file-offer')
      const data = first.extension?.data as FileMessageData
      assert.deepEqual([data.name, data.kind, data.size], ['summit 山顶.jpg', 'image', picture.length])
      assert.notEqual(data.status, 'complete')
    } finally {
      off()
    }
    const done = await eventually(
      () => {
        const t = phone.files.transfer(sent.id)
        return t?.status === 'complete' ? t : undefined
      },
      20_000,
      'the picture downloaded on the phone',
    )
    assert.equal(sha256Hex(await readFile(done.path!)), sha256Hex(picture))
    const shown = (await stored(phone)).find((m) => m.id === sent.id)
    assert.equal(shown?.direction, 'out')
    assert.equal((shown?.extension?.data as FileMessageData | undefined)?.status, 'complete')
    // Bob, a member, has it too, from the laptop.
    await eventually(() => bob.files.transfer(sent.id)?.status === 'complete', 20_000, 'the picture at Bob')
  })

  it('a big file Ann sends from the laptop waits for Accept on the phone; with the laptop away it comes from Bob, who holds it', async () => {
    const big = new Uint8Array(nodeRandomBytes(1_200_000))
    const path = join(laptop.home, 'route.gpx')
    await writeFile(path, big)
    const sent = await laptop.files.sendFile(group.id, await laptop.storage.openSource(path), {})
    const waiting = await eventually(
      () => {
        const t = phone.files.transfer(sent.id)
        return t?.note === 'needs-accept' ? t : undefined
      },
      15_000,
      'the file waiting on the phone',
    )
    assert.equal(waiting.hold, 'large')
    const shown = (await stored(phone)).find((m) => m.id === sent.id)
    assert.equal(shown?.direction, 'out')
    assert.equal((shown?.extension?.data as FileMessageData | undefined)?.status, 'incoming')
    await eventually(() => bob.files.transfer(sent.id)?.status === 'complete', 20_000, 'the file at Bob')
    await laptop.stop()
    const served = bob.files.stats().chunksSent
    await phone.files.accept(sent.id)
    const done = await eventually(
      () => {
        const t = phone.files.transfer(sent.id)
        return t?.status === 'complete' ? t : undefined
      },
      20_000,
      'the file on the phone, from Bob',
    )
    assert.equal(sha256Hex(await readFile(done.path!)), sha256Hex(big))
    assert.ok(bob.files.stats().chunksSent > served, 'Bob served it')
    laptop = await restart(laptop)
    await connect(laptop, bob)
    await connect(laptop, phone)
  })

  it('Bob’s message read on the laptop is read on the phone; Ann’s reaction on the laptop stands on the phone', async () => {
    const fromBob = await bob.messenger.groups.send(group.id, 'hello Ann 你好')
    const unread = (p: TestPeer) => p.messenger.groups.list().find((g) => g.id === group.id)?.unread
    await eventually(() => unread(phone) === 1 && unread(laptop) === 1, 15_000, 'unread on both devices')
    await laptop.messenger.groups.messages(group.id)
    await eventually(() => unread(phone) === 0, 15_000, 'read on the phone')
    await laptop.messenger.groups.react(group.id, fromBob.id, '👍')
    await eventually(
      async () => (await stored(phone)).find((m) => m.id === fromBob.id)?.reactions?.mine === '👍',
      15_000,
      'the reaction on the phone',
    )
    await eventually(
      async () => (await stored(bob)).find((m) => m.id === fromBob.id)?.reactions?.theirs === '👍',
      15_000,
      'the reaction at Bob',
    )
  })

  it('after a restart the phone still shows them once, and carries none of them on', async () => {
    const before = (await stored(phone)).map((m) => m.id)
    phone = await restart(phone, phoneLimits)
    await connect(phone, bob)
    await connect(phone, laptop)
    assert.deepEqual(
      (await stored(phone)).map((m) => m.id),
      before,
    )
    // What the phone would offer a member who was away (its high-water marks): nothing of Ann's,
    // since it holds no sender-key message of hers (the laptop's are the laptop's to carry).
    const held = (phone.messenger.groups as unknown as { loaded: Map<string, { channel: GroupChannel }> })
      .loaded
    assert.equal(held.get(group.id)?.channel.marks()[annId], undefined)
    const sent = await laptop.messenger.groups.send(group.id, 'after the restart 重启后')
    await eventually(
      async () => (await stored(phone)).filter((m) => m.id === sent.id).length === 1,
      15_000,
      'a new message on the phone',
    )
  })

  it('a group member who is no device of Ann’s cannot pass a message off as hers', async () => {
    const before = notAllowed(phone.messenger)
    const forged = bytesToHex(randomBytes(16))
    await bob.messenger.sendExtension(
      annId,
      'sync',
      utf8(
        JSON.stringify({
          kind: 'group-sent',
          group: group.id,
          id: forged,
          sentAt: Date.now(),
          text: 'Ann never said this',
          mentions: [],
        }),
      ),
    )
    await eventually(() => notAllowed(phone.messenger) > before, 15_000, 'the forgery refused')
    assert.equal(
      (await stored(phone)).some((m) => m.id === forged),
      false,
    )
  })

  it('a device removed from Ann’s list cannot mirror a group message to the laptop', async () => {
    const account = (await loadAccount(laptop.store))!
    const newer = createDeviceList(account.identity, 2, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
    ])
    await laptop.store.put(ownDeviceListKey(), newer)
    await laptop.messenger.reloadOwnDevices()
    const notAContact = () =>
      coreOf(laptop.messenger).counters.snapshot().refused['/jiayi/msg/1']?.['not-a-contact'] ?? 0
    const before = notAContact()
    // The phone still holds Ann's identity, the group and its session with the laptop.
    const attempt = await phone.messenger.groups.send(group.id, 'from the removed phone')
    await eventually(() => notAContact() > before, 15_000, 'the mirror refused at the laptop')
    assert.equal(
      (await stored(laptop)).some((m) => m.id === attempt.id),
      false,
    )
  })

  it('a device removed from Ann’s list cannot fetch her group file from the laptop: refused, counted', async () => {
    // The laptop's list no longer names the phone (the test before).
    const refused = () => laptop.files.stats().refused['not-a-contact'] ?? 0
    const before = refused()
    await phone.messenger.node.peerStore.merge(laptop.messenger.node.peerId, {
      multiaddrs: laptop.messenger.node.getMultiaddrs(),
    })
    await assert.rejects(async () => {
      const s = await openFramed(phone.messenger.node, laptop.messenger.node.peerId, PROTOCOL_FILE)
      try {
        await s.write(encodeFrame({ type: 'want', fileId: hexToBytes(pictureId), nextChunk: 0 }))
        const answer = await s.read({ timeoutMs: 5_000 })
        if (answer === null) throw new Error('closed without an answer')
      } finally {
        s.abort(new Error('asked enough'))
      }
    })
    await eventually(() => refused() > before, 5_000, 'counted at the laptop')
  })
})
