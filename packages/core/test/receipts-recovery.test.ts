/**
 * Receipts wait a few milliseconds in memory for company before they go into the outbox. A peer
 * stopped (or killed) in between used to lose them for good: the sender's messages stayed `sent`
 * (or `delivered`, never `read`). The conversation's counters now say up to where receipts are in
 * the outbox, and a start sends the rest.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { MemoryStore } from '../src/store/memory.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('receipts across a restart', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('delivered and read receipts a stop kept from leaving go out when the receiver starts again', async () => {
    const a = await testPeer('A')
    const bStore = new MemoryStore()
    let b = await testPeer('B', bStore)
    peers.push(a)
    const bAtA = (await a.messenger.addContact(b.messenger.card().link)).id
    const aAtB = await eventually(() => b.messenger.contactList()[0]?.id, 10_000, 'request')
    await b.messenger.accept(aAtB)
    await eventually(() => a.messenger.contact(bAtA).state === 'accepted', 10_000, 'accepted')

    // Delivered receipts: one message and its receipt first, so that the receipts of the next
    // ones wait for company (up to 250 ms); B stops the moment those are stored.
    await a.messenger.send(bAtA, 'warm')
    await eventually(
      async () => (await a.messenger.messages(bAtA, { peek: true }))[0]?.status === 'delivered',
    )
    for (let i = 0; i < 5; i++) await a.messenger.send(bAtA, `hello ${i}`)
    await eventually(async () => (await b.messenger.messages(aAtB, { peek: true })).length === 6)
    await b.stop()
    const statusesAt = async () =>
      (await a.messenger.messages(bAtA, { peek: true }))
        .filter((m) => m.direction === 'out')
        .map((m) => m.status)
    assert.ok(
      (await statusesAt()).some((s) => s !== 'delivered'),
      'some receipts were cut off by the stop',
    )
    b = await testPeer('B', bStore)
    await eventually(
      async () => (await statusesAt()).every((s) => s === 'delivered'),
      10_000,
      'all delivered',
    )

    // Read receipts: B reads, and stops before they leave.
    await b.messenger.markRead(aAtB)
    await b.stop()
    assert.ok(
      (await statusesAt()).some((s) => s !== 'read'),
      'read receipts were cut off by the stop',
    )
    b = await testPeer('B', bStore)
    peers.push(b)
    await eventually(async () => (await statusesAt()).every((s) => s === 'read'), 10_000, 'all read')
  })
})
