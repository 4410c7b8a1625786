/**
 * "Safety number changed" between real peers on 127.0.0.1 with the store on disk: a contact's
 * device that starts a session under other identity keys (a wholly new identity, or the contact's
 * signing key with another agreement key) is refused, never takes the contact's place, and the
 * user sees it: `identityChanged`, `verified` cleared, a system line in the conversation.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { bytesToHex } from '../src/bytes.js'
import { generateIdentity } from '../src/identity/identity.js'
import type { Account } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { SAFETY_NUMBER_CHANGED } from '../src/messenger/identity-change.js'
import type { ContactId } from '../src/messenger/ids.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { type DiskPeer, DiskPeers } from './helpers/disk-peer.js'
import { eventually } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const refused = (m: Messenger, reason: string) => m.stats().refused[PROTOCOL_MSG]?.[reason] ?? 0

describe('a contact’s device under other identity keys', () => {
  const peers = new DiskPeers()
  after(() => peers.cleanup())

  /** Alice and Bob, accepted both ways, Alice having verified Bob. */
  async function friends() {
    const alice = await peers.start('Alice')
    const bob = await peers.start('Bob')
    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const aliceAtBob = await bob.messenger.addContact(alice.messenger.card().link)
    await eventually(() => alice.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    await eventually(() => bob.messenger.contact(aliceAtBob.id).state === 'accepted', 10_000, 'accepted')
    await alice.messenger.verify(bobAtAlice.id, true)
    return { alice, bob, bobAtAlice: bobAtAlice.id, aliceAtBob: aliceAtBob.id }
  }

  /** Mallory: Bob's device key (his peer id) with `identity`, on a new store. */
  async function impostor(bob: DiskPeer, identity: Account['identity']): Promise<DiskPeer> {
    const account: Account = { ...bob.messenger.account, name: 'Bob', identity }
    await bob.stop()
    return peers.start('Mallory', { account })
  }

  async function assertChangeShown(alice: DiskPeer, bobId: ContactId, sessionsBefore: string) {
    const m = alice.messenger
    const bob = await eventually(
      () => (m.contact(bobId).identityChanged ? m.contact(bobId) : undefined),
      10_000,
      'identityChanged',
    )
    assert.equal(bob.verified, false, 'verified is cleared')
    assert.equal(m.contactList().length, 1, 'no second contact for the same device')
    assert.equal(m.trustOf(bob.peerId), 'accepted')
    const lines = (await m.messages(bobId)).filter((x) => x.extension?.kind === SAFETY_NUMBER_CHANGED)
    assert.equal(lines.length, 1, 'one system line in the conversation')
    assert.ok(refused(m, 'identity-changed') >= 1, 'refused and counted')
    const sessions = await coreOf(m).sessionSet(bobId)
    assert.equal(sessionsKey(sessions), sessionsBefore, 'the sessions with Bob are untouched')
    assert.ok(
      (await m.messages(bobId)).every((x) => x.text !== 'it is me, Bob'),
      'nothing under the new keys is shown as Bob’s',
    )
  }

  it('a new identity on a contact’s device is refused and shown, not made a second contact', async () => {
    const { alice, bob, bobAtAlice } = await friends()
    const before = sessionsKey(await coreOf(alice.messenger).sessionSet(bobAtAlice))
    const mallory = await impostor(bob, generateIdentity())
    const aliceAtMallory = await mallory.messenger.addContact(alice.messenger.card().link)
    await mallory.messenger.send(aliceAtMallory.id, 'it is me, Bob')
    await assertChangeShown(alice, bobAtAlice, before)

    // Every further session under the new keys is refused too, without another line.
    const refusedSoFar = refused(alice.messenger, 'identity-changed')
    await mallory.messenger.send(aliceAtMallory.id, 'it is me, Bob')
    await eventually(() => refused(alice.messenger, 'identity-changed') > refusedSoFar, 10_000, 'refused')
    await assertChangeShown(alice, bobAtAlice, before)

    // Comparing safety numbers again (marking verified) is how the user acknowledges it.
    await alice.messenger.verify(bobAtAlice, true)
    const acknowledged = alice.messenger.contact(bobAtAlice)
    assert.equal(acknowledged.identityChanged, false)
    assert.equal(acknowledged.verified, true)
  })

  it('the contact’s own signing key with another agreement key is refused the same way', async () => {
    const { alice, bob, bobAtAlice } = await friends()
    const before = sessionsKey(await coreOf(alice.messenger).sessionSet(bobAtAlice))
    const other = generateIdentity()
    // Whoever holds Bob's device and signing key, pairing it with an agreement key of their own.
    const mallory = await impostor(bob, {
      signing: bob.messenger.account.identity.signing,
      agreement: other.agreement,
    })
    const aliceAtMallory = await mallory.messenger.addContact(alice.messenger.card().link)
    await mallory.messenger.send(aliceAtMallory.id, 'it is me, Bob')
    await assertChangeShown(alice, bobAtAlice, before)
  })

  it('Bob himself, back on his device, still gets through afterwards', async () => {
    const { alice, bob, bobAtAlice, aliceAtBob } = await friends()
    const dir = bob.dir
    const mallory = await impostor(bob, generateIdentity())
    await mallory.messenger.addContact(alice.messenger.card().link)
    await eventually(() => alice.messenger.contact(bobAtAlice).identityChanged, 10_000, 'identityChanged')
    await mallory.stop()
    const back = await peers.start('Bob', { dir })
    const sent = await back.messenger.send(aliceAtBob, 'the real Bob')
    const got = await eventually(
      async () => (await alice.messenger.messages(bobAtAlice)).find((m) => m.id === sent.id),
      15_000,
      'the real Bob’s message',
    )
    assert.equal(got.text, 'the real Bob')
  })

  it('adding a card that names a contact’s device with other keys is refused with a typed error', async () => {
    const { alice, bob, bobAtAlice } = await friends()
    const mallory = await impostor(bob, generateIdentity())
    const forged = mallory.messenger.card().link
    await assert.rejects(alice.messenger.addContact(forged), {
      name: 'MessengerError',
      code: 'IdentityChanged',
    })
    assert.equal(alice.messenger.contactList().length, 1)
    assert.equal(alice.messenger.contact(bobAtAlice).identityChanged, false, 'a card alone proves nothing')
    assert.equal(
      alice.messenger.contact(bobAtAlice).identityKey,
      bytesToHex(bob.messenger.account.identity.signing.publicKey),
    )
  })
})

function sessionsKey(set: readonly { baseKey: Uint8Array }[]): string {
  return set.map((s) => bytesToHex(s.baseKey)).join(',')
}
