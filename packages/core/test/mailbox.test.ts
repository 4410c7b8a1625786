// /jiayi/mailbox/1 between real libp2p nodes on 127.0.0.1: a keyless home node certified by its
// owner keeps its owner's contacts' envelopes for the owner only. The attacker's side: strangers,
// removed contacts, non-owners, another owner, a full quota, an expired certificate and expired
// items are refused (typed codes, counted) and the home node keeps serving.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { generateIdentity } from '../src/identity/identity.js'
import {
  ackMail,
  certifyHomeNode,
  createDepositorList,
  createHomeCertificate,
  decodeHomeLink,
  depositMail,
  fetchMail,
  type HomeNodeRef,
  homeLink,
  ITEM_OVERHEAD_BYTES,
  MailboxError,
  MailboxServer,
  sendDepositors,
} from '../src/mailbox/index.js'
import { MailboxRequest, MailboxResponse, MailItem } from '../src/mailbox/mailbox-wire.pb.js'
import { openFramed } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { key } from '../src/store/keys.js'
import { MemoryStore } from '../src/store/memory.js'
import { startTestNode, stopAll } from './net-helpers.js'

const TCP = { listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: false } as const
const DAY_MS = 24 * 3600 * 1000

async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => MailboxError.is(e) && e.code === code)
}

describe('mailbox on a home node', () => {
  let home: JiayiNode
  let owner: JiayiNode
  let bob: JiayiNode
  let carol: JiayiNode
  let stranger: JiayiNode
  let server: MailboxServer
  let ref: HomeNodeRef
  const store = new MemoryStore()
  let clock = Date.now()
  const ownerId = generateIdentity()

  before(async () => {
    ;[home, owner, bob, carol, stranger] = await Promise.all([
      startTestNode(TCP),
      startTestNode(TCP),
      startTestNode(TCP),
      startTestNode(TCP),
      startTestNode(TCP),
    ])
    server = await MailboxServer.open({
      node: home,
      store,
      now: () => clock,
      limits: { bytesPerDepositor: 4 * (1000 + ITEM_OVERHEAD_BYTES) },
    })
    ref = decodeHomeLink(
      homeLink({ peerId: home.peerId.toString(), addrs: home.getMultiaddrs().map(String) }),
    )
  })

  after(async () => {
    await server.stop()
    await stopAll(home, owner, bob, carol, stranger)
  })

  const ownerDevice = () => owner.peerId.toString()
  const cert = (identity = ownerId, devices = [owner.peerId.toString()], notAfterMs = clock + 365 * DAY_MS) =>
    createHomeCertificate(identity, {
      homePeerId: home.peerId.toString(),
      devices,
      addrs: ref.addrs,
      notAfter: notAfterMs / 1000,
      issuedAt: Math.floor(clock / 1000),
    })

  test('before it has an owner, nobody may deposit', async () => {
    await refusedWith(
      depositMail(bob, ref, ownerDevice(), [{ type: 'message', body: new Uint8Array(10) }]),
      'NotAllowed',
    )
  })

  test('the owner certifies it and names its contacts; a contact deposits; the owner fetches and acknowledges', async () => {
    assert.equal(ref.peerId, home.peerId.toString())
    await certifyHomeNode(owner, ref, cert())
    await sendDepositors(
      owner,
      ref,
      createDepositorList(ownerId, ref.peerId, [bob.peerId.toString(), carol.peerId.toString()]),
    )
    await depositMail(bob, ref, ownerDevice(), [
      { type: 'prekey', body: Uint8Array.of(1, 2, 3) },
      { type: 'message', body: Uint8Array.of(4, 5) },
    ])
    await depositMail(carol, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(6) }])
    const items = await fetchMail(owner, ref)
    assert.deepEqual(
      items.map((i) => [i.sender, i.type, [...i.body]]),
      [
        [bob.peerId.toString(), 'prekey', [1, 2, 3]],
        [bob.peerId.toString(), 'message', [4, 5]],
        [carol.peerId.toString(), 'message', [6]],
      ],
    )
    await ackMail(
      owner,
      ref,
      items.map((i) => i.id),
    )
    assert.deepEqual(await fetchMail(owner, ref), [])
    // An acknowledgement that comes twice (a retry) changes nothing.
    await ackMail(
      owner,
      ref,
      items.map((i) => i.id),
    )
    assert.equal(server.stats().items, 0)
  })

  test('a stranger cannot deposit, nor fetch, nor take the home node over', async () => {
    const before = server.stats().refused
    await refusedWith(
      depositMail(stranger, ref, ownerDevice(), [{ type: 'message', body: new Uint8Array(10) }]),
      'NotAllowed',
    )
    await refusedWith(fetchMail(stranger, ref), 'NotOwner')
    await refusedWith(ackMail(stranger, ref, [1n]), 'NotOwner')
    const other = generateIdentity()
    await refusedWith(
      certifyHomeNode(stranger, ref, cert(other, [stranger.peerId.toString()])),
      'BadCertificate',
    )
    await refusedWith(
      sendDepositors(stranger, ref, createDepositorList(other, ref.peerId, [stranger.peerId.toString()])),
      'NotOwner',
    )
    // The owner's own certificate presented by another device does not make it the owner.
    await refusedWith(certifyHomeNode(stranger, ref, cert()), 'NotOwner')
    const after = server.stats().refused
    assert.equal((after.NotAllowed ?? 0) - (before.NotAllowed ?? 0), 1)
    assert.equal((after.NotOwner ?? 0) - (before.NotOwner ?? 0), 4)
    assert.equal((after.BadCertificate ?? 0) - (before.BadCertificate ?? 0), 1)
  })

  test('a contact may not fetch the owner’s mail', async () => {
    await depositMail(bob, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(7) }])
    await refusedWith(fetchMail(bob, ref), 'NotOwner')
    const items = await fetchMail(owner, ref)
    assert.equal(items.length, 1)
    await ackMail(
      owner,
      ref,
      items.map((i) => i.id),
    )
  })

  test('a contact over its quota is refused; the others are not', async () => {
    const kib = (n: number) => ({ type: 'message' as const, body: new Uint8Array(n).fill(9) })
    await depositMail(bob, ref, ownerDevice(), [kib(1000), kib(1000), kib(1000)])
    await refusedWith(depositMail(bob, ref, ownerDevice(), [kib(1000), kib(1000)]), 'OverQuota')
    await depositMail(bob, ref, ownerDevice(), [kib(1000)])
    await refusedWith(depositMail(bob, ref, ownerDevice(), [kib(1)]), 'OverQuota')
    await depositMail(carol, ref, ownerDevice(), [kib(1000)])
    const items = await fetchMail(owner, ref)
    assert.equal(items.length, 5)
    await ackMail(
      owner,
      ref,
      items.map((i) => i.id),
    )
    // Acknowledged items free the share.
    await depositMail(bob, ref, ownerDevice(), [kib(1000)])
    await ackMail(
      owner,
      ref,
      (await fetchMail(owner, ref)).map((i) => i.id),
    )
    assert.ok((server.stats().refused.OverQuota ?? 0) >= 2)
  })

  test('items older than the time-to-live are dropped and counted', async () => {
    await depositMail(bob, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(1) }])
    clock += 31 * DAY_MS
    await depositMail(carol, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(2) }])
    const items = await fetchMail(owner, ref)
    assert.deepEqual(
      items.map((i) => i.sender),
      [carol.peerId.toString()],
    )
    await ackMail(
      owner,
      ref,
      items.map((i) => i.id),
    )
    assert.ok((server.stats().refused.Expired ?? 0) >= 1)
  })

  test('a removed contact is refused once the owner sends a new list', async () => {
    await sendDepositors(
      owner,
      ref,
      createDepositorList(ownerId, ref.peerId, [carol.peerId.toString()], clock),
    )
    await refusedWith(
      depositMail(bob, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(1) }]),
      'NotAllowed',
    )
    await depositMail(carol, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(1) }])
    // An older list that arrives late does not bring Bob back.
    await sendDepositors(
      owner,
      ref,
      createDepositorList(ownerId, ref.peerId, [bob.peerId.toString()], clock - 1000),
    )
    await refusedWith(
      depositMail(bob, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(1) }]),
      'NotAllowed',
    )
  })

  test('what the home node acknowledged survives its restart', async () => {
    await server.stop()
    await home.unhandle('/jiayi/mailbox/1').catch(() => undefined)
    server = await MailboxServer.open({ node: home, store, now: () => clock })
    const items = await fetchMail(owner, ref)
    assert.deepEqual(
      items.map((i) => i.sender),
      [carol.peerId.toString()],
    )
    await ackMail(
      owner,
      ref,
      items.map((i) => i.id),
    )
  })

  test('an expired certificate stops deposits until the owner renews it', async () => {
    await certifyHomeNode(owner, ref, cert(ownerId, [owner.peerId.toString()], clock + 1000))
    clock += 2000
    await refusedWith(
      depositMail(carol, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(1) }]),
      'Expired',
    )
    await refusedWith(
      certifyHomeNode(owner, ref, cert(ownerId, [owner.peerId.toString()], clock - 1)),
      'Expired',
    )
    await certifyHomeNode(owner, ref, cert())
    await depositMail(carol, ref, ownerDevice(), [{ type: 'message', body: Uint8Array.of(1) }])
  })

  test('garbage is refused and the home node keeps serving', async () => {
    const { openFramed } = await import('../src/net/framed-handler.js')
    const framed = await openFramed(stranger, home.peerId, '/jiayi/mailbox/1')
    await framed.write(Uint8Array.of(0xff, 0xff, 0xff))
    const answer = await framed.read()
    assert.ok(answer !== null)
    const before = server.stats().refused.BadRequest ?? 0
    assert.ok(before >= 1)
    assert.equal((await fetchMail(owner, ref)).length, 1)
  })
})

describe('mailbox boxes per owner device', () => {
  let home: JiayiNode
  let laptop: JiayiNode
  let phone: JiayiNode
  let bob: JiayiNode
  let server: MailboxServer
  let ref: HomeNodeRef
  const store = new MemoryStore()
  const ownerId = generateIdentity()
  const now = Math.floor(Date.now() / 1000)

  before(async () => {
    ;[home, laptop, phone, bob] = await Promise.all([
      startTestNode(TCP),
      startTestNode(TCP),
      startTestNode(TCP),
      startTestNode(TCP),
    ])
    server = await MailboxServer.open({ node: home, store })
    ref = { peerId: home.peerId.toString(), addrs: home.getMultiaddrs().map((a) => a.toString()) }
  })

  after(async () => {
    await server.stop()
    await stopAll(home, laptop, phone, bob)
  })

  const cert = (devices: JiayiNode[], deviceListVersion: number, issuedAt = now) =>
    createHomeCertificate(ownerId, {
      homePeerId: ref.peerId,
      devices: devices.map((d) => d.peerId.toString()),
      addrs: ref.addrs,
      notAfter: now + 365 * 24 * 3600,
      issuedAt,
      deviceListVersion,
    })
  const body = (n: number) => [{ type: 'message' as const, body: Uint8Array.of(n) }]
  const bodies = (items: { body: Uint8Array }[]) => items.map((i) => i.body[0])

  /** A deposit as a peer from before boxes per device sends it: no device named. */
  async function untagged(n: number): Promise<MailboxResponse.Status> {
    const framed = await openFramed(bob, home.peerId, '/jiayi/mailbox/1')
    await framed.write(MailboxRequest.encode({ deposit: [{ type: 2, body: Uint8Array.of(n) }] }))
    const answer = MailboxResponse.decode((await framed.read())!)
    await framed.close()
    return answer.status
  }

  test('each device fetches and acknowledges only its own box; a deposit naming no device goes to the first named', async () => {
    const answer = await certifyHomeNode(laptop, ref, cert([laptop, phone], 2))
    assert.equal(answer.perDevice, true)
    await sendDepositors(laptop, ref, createDepositorList(ownerId, ref.peerId, [bob.peerId.toString()]))
    await depositMail(bob, ref, laptop.peerId.toString(), body(1))
    await depositMail(bob, ref, phone.peerId.toString(), body(2))
    await depositMail(bob, ref, laptop.peerId.toString(), body(3))
    assert.equal(await untagged(4), MailboxResponse.Status.OK)
    assert.deepEqual(server.stats().boxes, { [laptop.peerId.toString()]: 3, [phone.peerId.toString()]: 1 })

    const atPhone = await fetchMail(phone, ref)
    assert.deepEqual(bodies(atPhone), [2])
    const atLaptop = await fetchMail(laptop, ref)
    assert.deepEqual(bodies(atLaptop), [1, 3, 4])
    // The phone acknowledging the laptop's items deletes nothing of the laptop's.
    await ackMail(
      phone,
      ref,
      atLaptop.map((i) => i.id),
    )
    assert.deepEqual(bodies(await fetchMail(laptop, ref)), [1, 3, 4])
    await ackMail(
      phone,
      ref,
      atPhone.map((i) => i.id),
    )
    assert.deepEqual(await fetchMail(phone, ref), [])
    assert.deepEqual(bodies(await fetchMail(laptop, ref)), [1, 3, 4], 'the laptop’s box is untouched')
    await ackMail(
      laptop,
      ref,
      atLaptop.map((i) => i.id),
    )
    assert.equal(server.stats().items, 0)
  })

  test('a deposit for a device the certificate does not name is refused and counted', async () => {
    const before = server.stats().refused.NotAllowed ?? 0
    await refusedWith(depositMail(bob, ref, bob.peerId.toString(), body(5)), 'NotAllowed')
    assert.equal((server.stats().refused.NotAllowed ?? 0) - before, 1)
    assert.equal(server.stats().items, 0)
  })

  test('a device removed from the list is refused, its box is emptied, and its older certificate does not bring it back', async () => {
    await depositMail(bob, ref, phone.peerId.toString(), body(6))
    await depositMail(bob, ref, laptop.peerId.toString(), body(7))
    // Issued earlier by the clock (another device's), yet from the newer list: it replaces the held one.
    await certifyHomeNode(laptop, ref, cert([laptop], 3, now - 60))
    assert.deepEqual(server.stats().boxes, { [laptop.peerId.toString()]: 1 })
    const refused = () => server.stats().refused
    const before = refused()
    await refusedWith(fetchMail(phone, ref), 'NotOwner')
    await refusedWith(ackMail(phone, ref, [1n]), 'NotOwner')
    await refusedWith(certifyHomeNode(phone, ref, cert([laptop, phone], 2, now + 60)), 'BadCertificate')
    await refusedWith(depositMail(bob, ref, phone.peerId.toString(), body(8)), 'NotAllowed')
    const after = refused()
    assert.equal((after.NotOwner ?? 0) - (before.NotOwner ?? 0), 2)
    assert.equal((after.BadCertificate ?? 0) - (before.BadCertificate ?? 0), 1)
    assert.equal((after.NotAllowed ?? 0) - (before.NotAllowed ?? 0), 1)
    assert.deepEqual(bodies(await fetchMail(laptop, ref)), [7])
  })

  test('items kept before boxes per device move to the first named device’s box', async () => {
    const old = new MemoryStore()
    await old.put(key('home', 'certificate'), cert([laptop, phone], 4, now + 120))
    // As an older home node wrote it: under `mailbox <id>`, no recipient.
    const item = {
      id: 7n,
      sender: bob.peerId.toString(),
      storedAt: BigInt(Date.now()),
      envelope: { type: 2, body: Uint8Array.of(9) },
    }
    await old.put(key('mailbox', 7), MailItem.encode(item))
    await server.stop()
    server = await MailboxServer.open({ node: home, store: old })
    assert.deepEqual(server.stats().boxes, { [laptop.peerId.toString()]: 1 })
    assert.deepEqual(await fetchMail(phone, ref), [])
    const moved = await fetchMail(laptop, ref)
    assert.deepEqual(bodies(moved), [9])
    await ackMail(
      laptop,
      ref,
      moved.map((i) => i.id),
    )
    assert.equal(server.stats().items, 0)
    // Its next ids follow the moved ones.
    await sendDepositors(laptop, ref, createDepositorList(ownerId, ref.peerId, [bob.peerId.toString()]))
    await depositMail(bob, ref, phone.peerId.toString(), body(10))
    assert.equal((await fetchMail(phone, ref))[0]!.id, 8n)
  })
})
