/**
 * A remark (备注) is the user's private name for a contact: it finds the contact wherever a name
 * does, it survives a restart and a new card from them, an empty one clears it, it follows the
 * name rules, and the contact never learns it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('remarks', () => {
  let alice: TestPeer
  let bob: TestPeer
  let bobId: string
  let aliceId: string

  before(async () => {
    alice = await testPeer('Alice')
    bob = await testPeer('王建国 Bob')
    const [bobAtAlice, aliceAtBob] = await Promise.all([
      alice.messenger.addContact(bob.messenger.card().link),
      bob.messenger.addContact(alice.messenger.card().link),
    ])
    bobId = bobAtAlice.id
    aliceId = aliceAtBob.id
    await eventually(() => alice.messenger.contact(bobId).state === 'accepted', 10_000, 'accepted')
  })
  after(async () => {
    await alice?.stop()
    await bob?.stop()
  })

  it('is shown beside the card name and finds the contact as a name does', async () => {
    const view = await alice.messenger.setRemark(bobId, '  老王 supplier  ')
    assert.equal(view.remark, '老王 supplier')
    assert.equal(view.name, '王建国 Bob', 'the card name is kept')
    assert.equal(alice.messenger.contact('老王 supplier').id, bobId)
    assert.equal(alice.messenger.contact('supplier').id, bobId, 'a word of the remark')
    assert.equal(alice.messenger.contact('老王').id, bobId, 'the start of the remark')
    assert.equal(alice.messenger.contact('Bob').id, bobId, 'the card name still finds them')
    assert.equal(alice.messenger.contactList().find((c) => c.id === bobId)?.remark, '老王 supplier')
  })

  it('stays on this device: the contact sees nothing of it, and a new card from them keeps it', async () => {
    await bob.messenger.setName('Bob Wang')
    await eventually(() => alice.messenger.contact(bobId).name === 'Bob Wang', 10_000, 'the new name')
    assert.equal(alice.messenger.contact(bobId).remark, '老王 supplier')
    const meAtBob = bob.messenger.contact(aliceId)
    assert.equal(meAtBob.name, 'Alice')
    assert.equal(meAtBob.remark, undefined)
  })

  it('follows the name rules; an empty one clears it', async () => {
    await assert.rejects(alice.messenger.setRemark(bobId, 'Bank\u202eof China'), { code: 'BadInput' })
    await assert.rejects(alice.messenger.setRemark(bobId, 'x'.repeat(65)), { code: 'BadInput' })
    await assert.rejects(alice.messenger.setRemark('nobody at all', 'Eve'), { code: 'UnknownContact' })
    assert.equal(alice.messenger.contact(bobId).remark, '老王 supplier', 'a refused remark changes nothing')
    const cleared = await alice.messenger.setRemark(bobId, '   ')
    assert.equal(cleared.remark, undefined)
    assert.ok(!('remark' in cleared), 'no remark field once cleared')
    await alice.messenger.setRemark(bobId, '老王')
  })

  it('survives a restart', async () => {
    const store = alice.store
    await alice.stop()
    alice = await testPeer('Alice', store)
    assert.equal(alice.messenger.contact(bobId).remark, '老王')
    assert.equal(alice.messenger.contact('老王').id, bobId)
  })
})
