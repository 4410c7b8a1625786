/**
 * What one of the owner's devices mirrors to another (sync.ts) goes through the owner's own home
 * node when the other is away. On real libp2p nodes on 127.0.0.1:
 * - the home node's rules: a device its certificate names deposits into another named device's box
 *   (not its own); the owner's devices share one depositor's quota; a device the newest
 *   certificate no longer names is refused like a stranger, and counted;
 * - end to end with in-process messengers: Ann's laptop and phone meet once after linking (the
 *   laptop starts a session with the phone, nothing sent); the phone is off; the laptop sends
 *   Bob texts (their mirrors go to the phone's box on her home node) and closes; the phone comes
 *   back, fetches its mail and shows the texts as sent in Bob's conversation, once.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateIdentity } from '../src/identity/identity.js'
import {
  ackMail,
  certifyHomeNode,
  createDepositorList,
  createHomeCertificate,
  depositMail,
  fetchMail,
  type HomeNodeRef,
  homeLink,
  ITEM_OVERHEAD_BYTES,
  MailboxError,
  MailboxServer,
  sendDepositors,
} from '../src/mailbox/index.js'
import { MailItem } from '../src/mailbox/mailbox-wire.pb.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { Keys } from '../src/messenger/keys.js'
import { laneOf } from '../src/messenger/lanes.js'
import type { Messenger } from '../src/messenger/messenger.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { key } from '../src/store/keys.js'
import { MemoryStore } from '../src/store/memory.js'
import { linkNewDevice } from './helpers/link-device.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'
import { startTestNode, stopAll } from './net-helpers.js'

const TCP = { listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: false } as const
const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core

async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => MailboxError.is(e) && e.code === code)
}

describe('the home node takes deposits from the owner’s own devices', () => {
  let home: JiayiNode
  let laptop: JiayiNode
  let phone: JiayiNode
  let bob: JiayiNode
  let server: MailboxServer
  let ref: HomeNodeRef
  const ownerId = generateIdentity()
  const now = Math.floor(Date.now() / 1000)
  const kib = (n: number) => ({ type: 'message' as const, body: new Uint8Array(n).fill(7) })

  before(async () => {
    ;[home, laptop, phone, bob] = await Promise.all([
      startTestNode(TCP),
      startTestNode(TCP),
      startTestNode(TCP),
      startTestNode(TCP),
    ])
    server = await MailboxServer.open({
      node: home,
      store: new MemoryStore(),
      limits: { bytesPerDepositor: 4 * (1000 + ITEM_OVERHEAD_BYTES) },
    })
    ref = { peerId: home.peerId.toString(), addrs: home.getMultiaddrs().map(String) }
  })

  after(async () => {
    await server.stop()
    await stopAll(home, laptop, phone, bob)
  })

  const cert = (devices: JiayiNode[], deviceListVersion: number) =>
    createHomeCertificate(ownerId, {
      homePeerId: ref.peerId,
      devices: devices.map((d) => d.peerId.toString()),
      addrs: ref.addrs,
      notAfter: now + 365 * 24 * 3600,
      issuedAt: now,
      deviceListVersion,
    })

  it('a named device deposits for another, not for itself; the devices share one quota', async () => {
    await certifyHomeNode(laptop, ref, cert([laptop, phone], 2))
    await sendDepositors(laptop, ref, createDepositorList(ownerId, ref.peerId, [bob.peerId.toString()]))
    // Neither is on the depositor list (the owner's contacts): the certificate is what admits them.
    await depositMail(laptop, ref, phone.peerId.toString(), [kib(1000), kib(1000)])
    await depositMail(phone, ref, laptop.peerId.toString(), [kib(1000)])
    const atPhone = await fetchMail(phone, ref)
    assert.deepEqual(
      atPhone.map((i) => [i.sender, i.body.length]),
      [
        [laptop.peerId.toString(), 1000],
        [laptop.peerId.toString(), 1000],
      ],
    )
    const refused = () => server.stats().refused
    const before = refused()
    await refusedWith(depositMail(laptop, ref, laptop.peerId.toString(), [kib(10)]), 'NotAllowed')
    // Three of the four shares are taken by the two devices together: two more do not fit.
    await refusedWith(depositMail(phone, ref, laptop.peerId.toString(), [kib(1000), kib(1000)]), 'OverQuota')
    await refusedWith(depositMail(laptop, ref, phone.peerId.toString(), [kib(1000), kib(1000)]), 'OverQuota')
    // A contact's share is its own.
    await depositMail(bob, ref, phone.peerId.toString(), [kib(1000), kib(1000), kib(1000)])
    assert.equal((refused().NotAllowed ?? 0) - (before.NotAllowed ?? 0), 1)
    assert.equal((refused().OverQuota ?? 0) - (before.OverQuota ?? 0), 2)
    // Acknowledged items free the shared quota.
    await ackMail(
      phone,
      ref,
      atPhone.map((i) => i.id),
    )
    await depositMail(laptop, ref, phone.peerId.toString(), [kib(1000), kib(1000)])
  })

  it('a device the newest certificate no longer names may not deposit (refused, counted)', async () => {
    await certifyHomeNode(laptop, ref, cert([laptop], 3))
    const before = server.stats().refused.NotAllowed ?? 0
    const held = server.stats().boxes[laptop.peerId.toString()]
    await refusedWith(depositMail(phone, ref, laptop.peerId.toString(), [kib(10)]), 'NotAllowed')
    assert.equal((server.stats().refused.NotAllowed ?? 0) - before, 1)
    assert.equal(server.stats().boxes[laptop.peerId.toString()], held, 'nothing more in the laptop’s box')
  })
})

describe('a sync for an own device that is away waits on the home node', () => {
  const running = new Set<TestPeer>()
  const cleanup: (() => Promise<void>)[] = []
  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    for (const c of cleanup) await c()
  })

  async function peer(name: string, store = new MemoryStore()) {
    const p = await testPeer(name, store)
    const wrapped: TestPeer = {
      ...p,
      async stop() {
        running.delete(wrapped)
        await p.stop()
      },
    }
    running.add(wrapped)
    return wrapped
  }

  const outgoing = async (m: Messenger, cid: string, text: string) =>
    (await m.messages(cid, { limit: 200, peek: true })).filter(
      (x) => x.direction === 'out' && x.text === text,
    )

  it('the laptop’s text to Bob reaches the phone through the mailbox, as sent, once', async () => {
    const homeNode = await startTestNode(TCP)
    const homeStore = new MemoryStore()
    const server = await MailboxServer.open({ node: homeNode, store: homeStore })
    // Who left what in a device's box (Bob's receipts go there too while the phone is off).
    const sendersIn = async (device: string) => {
      const senders: string[] = []
      for await (const [, v] of homeStore.iterate({ prefix: key('mailbox', device) }))
        senders.push(MailItem.decode(v).sender)
      return senders
    }
    cleanup.push(async () => {
      await server.stop()
      await homeNode.stop()
    })
    const ref = { peerId: homeNode.peerId.toString(), addrs: homeNode.getMultiaddrs().map(String) }

    const laptopStore = new MemoryStore()
    let laptop = await peer('Ann', laptopStore)
    const bob = await peer('Bob')
    const annAtBob = (await bob.messenger.addContact(laptop.messenger.card().link)).id
    const bobAtAnn = (await laptop.messenger.addContact(bob.messenger.card().link)).id
    await eventually(() => bob.messenger.contact(annAtBob).state === 'accepted', 10_000, 'Ann accepted')
    await eventually(() => laptop.messenger.contact(bobAtAnn).state === 'accepted', 10_000, 'Bob accepted')
    await laptop.messenger.addHomeNode(homeLink(ref))
    const laptopId = laptop.messenger.whoami().peerId

    // The phone links to the laptop (the real linking protocol) and gets the home node record.
    const phoneStore = new MemoryStore()
    const phoneKey = await linkNewDevice(laptop.messenger, phoneStore)
    assert.ok((await phoneStore.get(Keys.homeNode())) !== undefined, 'the phone has the home node record')
    let phone = await peer('Ann', phoneStore)
    const phoneId = phone.messenger.whoami().peerId
    await eventually(
      () => server.certificate()!.devices.join() === [laptopId, phoneId].join(),
      15_000,
      'the certificate names both devices',
    )

    // They meet (the phone is on): the laptop starts a session with it, with nothing to send yet.
    const laptopCore = coreOf(laptop.messenger)
    const phoneLane = laneOf(laptopCore.selfRecord(), phoneId)
    await phone.messenger.node.dial(laptop.messenger.node.getMultiaddrs()[0]!)
    await eventually(
      async () => (await laptopCore.sessionSet(phoneLane)).length > 0,
      15_000,
      'the laptop holds a session with the phone',
    )
    await phone.messenger.settled()
    await phone.stop()

    // The phone is off: the laptop's texts reach Bob, their mirrors the phone's box; the laptop closes.
    const away = await laptop.messenger.send(bobAtAnn, 'while the phone sleeps')
    const next = await laptop.messenger.send(bobAtAnn, 'and another')
    await eventually(
      async () =>
        (await bob.messenger.messages(annAtBob, { peek: true })).filter((m) =>
          ['while the phone sleeps', 'and another'].includes(m.text),
        ).length === 2,
      15_000,
      'Bob has the texts',
    )
    await eventually(
      async () => (await sendersIn(phoneId)).filter((s) => s === laptopId).length >= 2,
      20_000,
      'the mirrors in the phone’s box',
    )
    assert.equal(server.stats().boxes[laptopId], undefined, 'nothing for the laptop')
    await laptop.messenger.settled()
    await laptop.stop()

    // The phone comes back alone: it fetches its mail and shows the text as sent to Bob, once.
    phone = await peer('Ann', phoneStore)
    await eventually(
      async () => (await outgoing(phone.messenger, bobAtAnn, 'and another')).length >= 1,
      15_000,
      'the mirrored texts on the phone',
    )
    await eventually(() => server.stats().boxes[phoneId] === undefined, 10_000, 'the phone’s box is empty')
    await phone.messenger.settled()
    for (const [text, sent] of [
      ['while the phone sleeps', away],
      ['and another', next],
    ] as const) {
      const shown = await outgoing(phone.messenger, bobAtAnn, text)
      assert.equal(shown.length, 1, `${text}: once`)
      assert.equal(shown[0]!.id, sent.id, `${text}: the same message`)
      // Sent, or further on if Bob's receipt (left in the phone's box too) came after the mirror.
      assert.ok(['sent', 'delivered'].includes(shown[0]!.status), shown[0]!.status)
    }

    // The attacker's side: once the phone is removed, its key may leave nothing for the laptop.
    await phone.stop()
    laptop = await peer('Ann', laptopStore)
    await laptop.messenger.removeDevice(phoneId)
    await eventually(
      () => server.certificate()!.devices.join() === laptopId,
      15_000,
      'the certificate names the laptop only',
    )
    const stolen = await createJiayiNode({
      privateKey: phoneKey,
      network: nodeNetwork({ mdns: false }),
      ...TCP,
    })
    cleanup.push(async () => {
      await stolen.stop()
    })
    const before = server.stats().refused.NotAllowed ?? 0
    // Refused, not unreachable (the home node may reset a connection from a host that made many
    // in the last second, as this test's peers just did: that one is tried again).
    const refusal = await eventually(
      () =>
        depositMail(stolen, ref, laptopId, [{ type: 'message', body: new Uint8Array(32) }]).then(
          () => 'deposited',
          (e: unknown) => (MailboxError.is(e) && e.code !== 'Unavailable' ? e.code : undefined),
        ),
      10_000,
      'an answer to the removed device',
    )
    assert.equal(refusal, 'NotAllowed')
    assert.equal((server.stats().refused.NotAllowed ?? 0) - before, 1)
    assert.equal(server.stats().boxes[laptopId], undefined, 'nothing in the laptop’s box')
  })
})
