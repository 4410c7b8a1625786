/**
 * The messenger says why a contact cannot be reached (reach.ts), on real libp2p nodes on
 * 127.0.0.1: Bob listens nowhere, so his card has no address and Alice's request cannot leave;
 * her contact view carries `lastError` (NoDialableAddress) and a contact event says so. When
 * Bob dials her (he adds her card; he only dials), the connection clears it and her request goes
 * out on it.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { ContactView } from '../src/messenger/views.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('why a contact cannot be reached', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('a failed dial is the contact’s lastError until a connection opens', async () => {
    const alice = await testPeer('Alice')
    const bob = await testPeer('Bob 小明', undefined, { listen: [], alsoDial: ['loopback'] })
    peers.push(alice, bob)
    assert.deepEqual(bob.messenger.card().addrs, [])

    const seen: ContactView[] = []
    alice.messenger.events.on('contact', (e) => {
      if (e.contact !== undefined) seen.push(e.contact)
    })
    const added = await alice.messenger.addContact(bob.messenger.card().link)
    assert.equal(added.lastError, null)
    const failed = await eventually(() => alice.messenger.contact(added.id).lastError, 10_000, 'lastError')
    assert.equal(failed.code, 'NoDialableAddress')
    assert.equal(
      failed.message,
      "Bob 小明 can't be reached from this device: their peer has no address this device can dial",
    )
    assert.ok(seen.some((c) => c.id === added.id && c.lastError?.code === 'NoDialableAddress'))
    assert.equal(alice.messenger.contact(added.id).state, 'pending-out')

    // Bob adds Alice: his dial reaches her, which clears it; her request leaves on his connection.
    const aliceAtBob = await bob.messenger.addContact(alice.messenger.card().link)
    await eventually(() => alice.messenger.contact(added.id).lastError === null, 10_000, 'cleared')
    assert.ok(seen.some((c) => c.id === added.id && c.lastError === null && c.online))
    await eventually(() => bob.messenger.contact(aliceAtBob.id).state === 'accepted', 10_000, 'both accepted')
  })
})
