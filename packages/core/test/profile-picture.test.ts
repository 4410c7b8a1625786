/**
 * Profile pictures between real peers on 127.0.0.1: set once, every accepted contact gets it
 * through the session, a contact accepted later gets it on accepting, a removal reaches them, a
 * restart loses it at neither end; what is not a small JPEG, PNG or WebP is refused,
 * from the user and from the network; a request (pending-in) cannot push a picture.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { PNG } from 'pngjs'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { PROFILE_PICTURE_EXTENSION } from '../src/messenger/profile-picture.js'
import { Tx } from '../src/messenger/tx.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

function png(shade: number): Uint8Array {
  const image = new PNG({ width: 16, height: 16 })
  image.data.fill(shade)
  return new Uint8Array(PNG.sync.write(image))
}

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const outboxOf = async (m: Messenger, cid: ContactId) => m.outboxSize(cid)

async function befriend(a: TestPeer, b: TestPeer): Promise<{ bAtA: ContactId; aAtB: ContactId }> {
  const bAtA = (await a.messenger.addContact(b.messenger.card().link)).id
  const aAtB = await eventually(
    () => b.messenger.contactList().find((c) => c.state === 'pending-in')?.id,
    10_000,
  )
  await b.messenger.accept(aAtB)
  await eventually(() => a.messenger.contact(bAtA).state === 'accepted', 10_000, 'accepted')
  return { bAtA, aAtB }
}

describe('profile pictures', () => {
  const peers: TestPeer[] = []
  let alice: TestPeer
  let bob: TestPeer
  let aliceAtBob: ContactId
  let bobAtAlice: ContactId
  const first = png(0x40)

  before(async () => {
    alice = await testPeer('Alice')
    bob = await testPeer('Bob')
    peers.push(alice, bob)
    ;({ bAtA: bobAtAlice, aAtB: aliceAtBob } = await befriend(alice, bob))
  })
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('set once, a contact gets it and sees it named on the contact', async () => {
    const set = await alice.messenger.setProfilePicture({ mime: 'image/png', data: first })
    assert.ok(set)
    assert.match(set.hash, /^[0-9a-f]{16}$/)
    assert.deepEqual((await alice.messenger.profilePicture())?.data, first)
    await eventually(
      () => bob.messenger.contact(aliceAtBob).picture === set.hash,
      10_000,
      'the picture at Bob',
    )
    const got = await bob.messenger.contactPicture(aliceAtBob)
    assert.equal(got?.mime, 'image/png')
    assert.deepEqual(got?.data, first)
    assert.equal(alice.messenger.contact(bobAtAlice).picture, undefined, 'Bob sent none')
  })

  it('a contact accepted later gets the current picture on accepting', async () => {
    const carol = await testPeer('Carol')
    peers.push(carol)
    const { aAtB: aliceAtCarol } = await befriend(alice, carol)
    const mine = await alice.messenger.profilePicture()
    await eventually(() => carol.messenger.contact(aliceAtCarol).picture === mine?.hash, 10_000, 'at Carol')
  })

  it('what is not a small JPEG, PNG or WebP is refused, and the picture stays', async () => {
    const before = (await alice.messenger.profilePicture())?.hash
    const refuse = (mime: string, data: Uint8Array) =>
      assert.rejects(alice.messenger.setProfilePicture({ mime, data }), { code: 'BadInput' }, mime)
    await refuse('image/png', new TextEncoder().encode('<svg onload="x()">'))
    await refuse('image/svg+xml', first)
    await refuse('image/jpeg', first) // a PNG's bytes named JPEG
    await refuse('image/png', new Uint8Array(64 * 1024 + 1).fill(0x89))
    assert.equal((await alice.messenger.profilePicture())?.hash, before)
  })

  it('a malformed picture from a contact is refused and counted; theirs stays', async () => {
    const refused = () => bob.messenger.stats().refused[PROTOCOL_MSG]?.['bad-payload'] ?? 0
    const was = refused()
    const core = coreOf(alice.messenger)
    await core.queue.run(bobAtAlice, async () => {
      const tx = new Tx()
      const body = Uint8Array.of(2, ...new TextEncoder().encode('not a png at all'))
      await core.encryptToOutbox(tx, bobAtAlice, {
        kind: 'extension',
        extension: PROFILE_PICTURE_EXTENSION,
        body,
      })
      await core.commit(tx)
    })
    await eventually(async () => (await outboxOf(alice.messenger, bobAtAlice)) === 0, 10_000, 'delivered')
    await eventually(() => refused() === was + 1, 10_000, 'counted')
    assert.deepEqual((await bob.messenger.contactPicture(aliceAtBob))?.data, first)
  })

  it('a new picture replaces the old; a removal reaches the contact', async () => {
    const second = await alice.messenger.setProfilePicture({ mime: 'image/png', data: png(0xc0) })
    await eventually(() => bob.messenger.contact(aliceAtBob).picture === second?.hash, 10_000, 'the new one')
    assert.equal(await alice.messenger.setProfilePicture(undefined), undefined)
    await eventually(() => bob.messenger.contact(aliceAtBob).picture === undefined, 10_000, 'removed at Bob')
    assert.equal(await bob.messenger.contactPicture(aliceAtBob), undefined)
  })

  it('survives a restart at both ends', async () => {
    const third = await alice.messenger.setProfilePicture({ mime: 'image/png', data: png(0x80) })
    await eventually(() => bob.messenger.contact(aliceAtBob).picture === third?.hash, 10_000, 'at Bob')
    await alice.messenger.settled()
    const [aliceStore, bobStore] = [alice.store, bob.store]
    await Promise.all([alice.stop(), bob.stop()])
    peers.splice(peers.indexOf(alice), 1)
    peers.splice(peers.indexOf(bob), 1)
    alice = await testPeer('Alice', aliceStore)
    bob = await testPeer('Bob', bobStore)
    peers.push(alice, bob)
    assert.equal((await alice.messenger.profilePicture())?.hash, third?.hash)
    assert.equal(bob.messenger.contact(aliceAtBob).picture, third?.hash)
    assert.equal((await bob.messenger.contactPicture(aliceAtBob))?.mime, 'image/png')
  })

  it('a request (pending-in) cannot push a picture, and gets none of ours', async () => {
    const mallory = await testPeer('Mallory')
    peers.push(mallory)
    const aliceAtMallory = (await mallory.messenger.addContact(alice.messenger.card().link)).id
    const malloryAtAlice = await eventually(
      () => alice.messenger.contactList().find((c) => c.state === 'pending-in')?.id,
      10_000,
      'the request',
    )
    await mallory.messenger.setProfilePicture({ mime: 'image/png', data: png(0x10) })
    // Her own build sends it anyway.
    const core = coreOf(mallory.messenger)
    await core.queue.run(aliceAtMallory, async () => {
      const tx = new Tx()
      const body = Uint8Array.of(2, ...png(0x10))
      await core.encryptToOutbox(tx, aliceAtMallory, {
        kind: 'extension',
        extension: PROFILE_PICTURE_EXTENSION,
        body,
      })
      await core.commit(tx)
    })
    await eventually(
      async () => (await mallory.messenger.outboxSize(aliceAtMallory)) === 0,
      10_000,
      'delivered',
    )
    assert.equal(alice.messenger.contact(malloryAtAlice).picture, undefined)
    assert.equal(await alice.messenger.contactPicture(malloryAtAlice), undefined)
    assert.equal(mallory.messenger.contact(aliceAtMallory).picture, undefined, 'none of ours went to her')
  })
})
