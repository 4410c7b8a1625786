/**
 * The mailbox with several devices, end to end between in-process messengers on real libp2p nodes
 * on 127.0.0.1: Ann has a laptop with a home node, and links a phone to it (the real linking
 * protocol): the phone is handed the home node record, and the laptop certifies the home node again
 * for both devices. With both away, Bob's messages go to the mailbox once per device, each
 * in that device's box; each device fetches its own copy, once, and its acknowledgements leave the
 * other's box alone. Once the phone is removed from her list, the home node refuses it (counted)
 * and what waited in its box is gone.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { fromBase64 } from '../src/bytes.js'
import { verifyHomeCertificate } from '../src/mailbox/certificate.js'
import { fetchMail, homeLink, MailboxError, MailboxServer } from '../src/mailbox/index.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { Keys } from '../src/messenger/keys.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { contactDevices } from '../src/messenger/records.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { MemoryStore } from '../src/store/memory.js'
import { linkNewDevice } from './helpers/link-device.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'
import { startTestNode } from './net-helpers.js'

const N = 5
const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const incoming = async (m: Messenger, cid: string, prefix: string) =>
  (await m.messages(cid, { limit: 200, peek: true }))
    .filter((x) => x.direction === 'in' && x.text.startsWith(prefix))
    .map((x) => x.text)

describe('mailbox with several devices', () => {
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

  it('each device gets its own copy from the mailbox, once; a removed device is refused', async () => {
    const homeNode = await startTestNode({ listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: false })
    const server = await MailboxServer.open({ node: homeNode, store: new MemoryStore() })
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
    await eventually(() => server.stats().depositors === 1, 10_000, 'Bob may deposit')
    const laptopId = laptop.messenger.whoami().peerId
    assert.deepEqual(server.certificate()!.devices, [laptopId])

    // The phone links to the laptop: it gets Bob and the home node record with the rest.
    const phoneStore = new MemoryStore()
    const phoneKey = await linkNewDevice(laptop.messenger, phoneStore)
    assert.ok((await phoneStore.get(Keys.homeNode())) !== undefined, 'the phone has the home node record')
    let phone = await peer('Ann', phoneStore)
    const phoneId = phone.messenger.whoami().peerId
    assert.equal(phone.messenger.homeNode()?.peerId, ref.peerId)
    await eventually(
      () => server.certificate()!.devices.join() === [laptopId, phoneId].join(),
      15_000,
      'the certificate names both devices',
    )
    assert.equal(server.certificate()!.deviceListVersion, laptop.messenger.ownDeviceList().version)

    // Bob learns the list and the certificate from Ann's address update, and meets the phone
    // once (its session needs the phone's prekeys).
    const annAtBobRecord = () => coreOf(bob.messenger).contacts.get(annAtBob)!
    await eventually(
      () => {
        const c = annAtBobRecord()
        return (
          contactDevices(c).includes(phoneId) &&
          c.home !== undefined &&
          verifyHomeCertificate(fromBase64(c.home)).devices.includes(phoneId)
        )
      },
      15_000,
      'Bob knows both devices and the new certificate',
    )
    await phone.messenger.node.dial(bob.messenger.node.getMultiaddrs()[0]!)
    await bob.messenger.send(annAtBob, 'hello both')
    for (const device of [laptop, phone])
      await eventually(
        async () => (await incoming(device.messenger, bobAtAnn, 'hello both')).length === 1,
        15_000,
        'hello on both devices',
      )
    await laptop.messenger.settled()
    await phone.messenger.settled()
    await laptop.stop()
    await phone.stop()

    // Both away: Bob's messages go to the mailbox, once for each device, each into its own box.
    const sent: string[] = []
    for (let i = 0; i < N; i++) sent.push((await bob.messenger.send(annAtBob, `away ${i}`)).id)
    await eventually(
      async () => {
        const boxes = server.stats().boxes
        return (boxes[laptopId] ?? 0) >= N && (boxes[phoneId] ?? 0) >= N
      },
      20_000,
      'both boxes hold the messages',
    )
    await eventually(
      async () =>
        (await bob.messenger.messages(annAtBob, { peek: true }))
          .filter((m) => sent.includes(m.id))
          .every((m) => m.status === 'stored' && m.route === 'mailbox'),
      10_000,
      'stored at Bob',
    )
    const laptopBox = server.stats().boxes[laptopId]!

    // The phone comes back: its own copy, once; the laptop's box is untouched by its acks.
    phone = await peer('Ann', phoneStore)
    await eventually(
      async () => (await incoming(phone.messenger, bobAtAnn, 'away ')).length >= N,
      15_000,
      'the messages on the phone',
    )
    await eventually(() => server.stats().boxes[phoneId] === undefined, 10_000, 'the phone’s box is empty')
    assert.ok((server.stats().boxes[laptopId] ?? 0) >= laptopBox, 'the laptop’s box keeps all it held')
    await phone.messenger.settled()
    assert.equal((await incoming(phone.messenger, bobAtAnn, 'away ')).length, N, 'once on the phone')
    await phone.stop()

    // The laptop comes back: its own copy, once.
    laptop = await peer('Ann', laptopStore)
    await eventually(
      async () => (await incoming(laptop.messenger, bobAtAnn, 'away ')).length >= N,
      15_000,
      'the messages on the laptop',
    )
    await eventually(() => server.stats().boxes[laptopId] === undefined, 10_000, 'the laptop’s box is empty')
    await laptop.messenger.settled()
    assert.equal((await incoming(laptop.messenger, bobAtAnn, 'away ')).length, N, 'once on the laptop')

    // The phone is removed (while away): the home node is certified for the laptop only.
    await laptop.messenger.removeDevice(phoneId)
    await eventually(
      () => server.certificate()!.devices.join() === laptopId,
      15_000,
      'the certificate names the laptop only',
    )
    // The attacker's side: the removed phone's key asks for mail and is refused, counted.
    const stolen = await createJiayiNode({
      privateKey: phoneKey,
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      relayServer: false,
    })
    cleanup.push(async () => {
      await stolen.stop()
    })
    const before = server.stats().refused.NotOwner ?? 0
    // Refused, not unreachable (the home node may reset a connection from a host that made many
    // in the last second, as this test's peers just did: that one is tried again).
    const refusal = await eventually(
      () =>
        fetchMail(stolen, ref).then(
          () => 'fetched',
          (e: unknown) => (MailboxError.is(e) && e.code !== 'Unavailable' ? e.code : undefined),
        ),
      10_000,
      'an answer to the removed device',
    )
    assert.equal(refusal, 'NotOwner')
    assert.equal((server.stats().refused.NotOwner ?? 0) - before, 1)
  })
})
