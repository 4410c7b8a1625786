/**
 * Prekey rotation on a moving clock, and one-time ML-KEM prekeys: the store on its own (LevelDB on
 * disk), then between real peers on 127.0.0.1, where a request made from a card printed before two
 * rotations still decrypts within the grace period, and one made from a card older than that is
 * answered STALE and starts again from fresh prekeys.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { decodeCard } from '../src/card/link.js'
import { initiateSession } from '../src/crypto/session.js'
import type { X3dhInit } from '../src/crypto/x3dh.js'
import { generateIdentity, publicIdentity } from '../src/identity/identity.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { Messenger } from '../src/messenger/messenger.js'
import {
  KEM_PREKEY_GRACE_MS,
  ONE_TIME_KEM_BASE,
  PreKeyStore,
  ROTATE_MS,
  SIGNED_PREKEY_GRACE_MS,
} from '../src/messenger/prekey-store.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { LevelStore } from '../src/store/level.js'
import { DiskPeers } from './helpers/disk-peer.js'
import { eventually } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const refused = (m: Messenger, reason: string) => m.stats().refused[PROTOCOL_MSG]?.[reason] ?? 0

/** What a PreKeyMessage made from `bundle` would name. */
function initFor(bundle: { signedPreKey: { id: number }; kemPreKey?: { id: number } }): X3dhInit {
  return {
    ephemeralKey: new Uint8Array(32),
    signedPreKeyId: bundle.signedPreKey.id,
    kemPreKeyId: bundle.kemPreKey?.id,
    kemCipherText: bundle.kemPreKey === undefined ? undefined : new Uint8Array(1088),
  }
}

describe('the prekey store', () => {
  const dirs: string[] = []
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

  async function openStore() {
    const dir = await mkdtemp(join(tmpdir(), 'jiayi-prekeys-'))
    dirs.push(dir)
    return LevelStore.open(dir)
  }

  it('rotates weekly, keeps the replaced keys for their grace, then deletes them', async () => {
    const store = await openStore()
    const identity = generateIdentity()
    const t0 = 1_800_000_000_000
    const keys = await PreKeyStore.open(store, identity, t0)
    const first = { signedPreKey: keys.signedPreKey, kemPreKey: keys.kemPreKey }
    assert.equal(await keys.rotate(t0 + ROTATE_MS - 1), false, 'not yet a week')
    assert.equal(await keys.rotate(t0 + ROTATE_MS), true)
    assert.equal(keys.signedPreKey.id, first.signedPreKey.id + 1)
    assert.equal(keys.kemPreKey.id, first.kemPreKey.id + 1)
    // Both old keys still answer within their grace.
    assert.ok(await keys.lookup(initFor(first)))
    // Reopened (a restart), the store keeps the schedule.
    const reopened = await PreKeyStore.open(store, identity, t0 + ROTATE_MS)
    assert.equal(reopened.signedPreKey.id, keys.signedPreKey.id)
    const afterKemGrace = t0 + ROTATE_MS + KEM_PREKEY_GRACE_MS
    await reopened.rotate(afterKemGrace)
    assert.equal(
      await reopened.lookup(initFor(first)),
      undefined,
      'the old KEM prekey is gone after its grace',
    )
    assert.ok(
      await reopened.lookup({ ...initFor(first), kemPreKeyId: undefined, kemCipherText: undefined }),
      'the old signed prekey (in cards) lasts longer',
    )
    await reopened.rotate(t0 + ROTATE_MS + SIGNED_PREKEY_GRACE_MS)
    assert.equal(
      await reopened.lookup({ ...initFor(first), kemPreKeyId: undefined, kemCipherText: undefined }),
      undefined,
      'and then it is gone too',
    )
    await store.close()
  })

  it('hands out one-time ML-KEM prekeys, each once, signed, and deleted with the session', async () => {
    const store = await openStore()
    const identity = generateIdentity()
    const keys = await PreKeyStore.open(store, identity)
    const first = await keys.handOut()
    assert.equal(first.kemPreKey.id, keys.kemPreKey.id, 'none in the pool yet: the last-resort one')
    const bundles = await Promise.all(Array.from({ length: 30 }, () => keys.handOut()))
    const oneTime = bundles.filter((b) => b.kemPreKey.id >= ONE_TIME_KEM_BASE)
    assert.ok(oneTime.length >= 15, `${oneTime.length} one-time KEM prekeys handed out`)
    assert.equal(new Set(oneTime.map((b) => b.kemPreKey.id)).size, oneTime.length, 'never twice')
    // A session from one: the initiator verifies it like any other, the responder finds it once.
    const bundle = oneTime[0]!
    const session = initiateSession(generateIdentity(), {
      identity: publicIdentity(identity),
      signedPreKey: { id: bundle.signedPreKey.id, publicKey: bundle.signedPreKey.keyPair.publicKey },
      kemPreKey: { id: bundle.kemPreKey.id, publicKey: bundle.kemPreKey.publicKey },
    })
    const init = session.pendingInit!
    assert.ok((await keys.lookup(init))?.kemSecretKey)
    await store.batch(keys.consumeOps(init))
    assert.equal(await keys.lookup(init), undefined, 'a one-time KEM prekey starts one session')
    await store.close()
  })
})

describe('rotation between peers', () => {
  const peers = new DiskPeers()
  after(() => peers.cleanup())

  it('a card from before two rotations still works; an older one starts again from fresh prekeys', async () => {
    let clock = Date.now()
    const now = () => clock
    let bob = await peers.start('Bob', { now })
    const printed = bob.messenger.card().link
    const printedSpk = decodeCard(printed).signedPreKey.id

    clock += ROTATE_MS
    await bob.messenger.rotatePrekeys()
    clock += ROTATE_MS
    const ids = await bob.messenger.rotatePrekeys()
    assert.equal(ids.signedPreKeyId, printedSpk + 2)
    assert.notEqual(bob.messenger.card().link, printed, 'the card carries the new signed prekey')

    // Alice scans the printed card while Bob is away: her session starts from its prekey alone.
    const { dir, listen } = bob
    await bob.stop()
    const alice = await peers.start('Alice')
    await alice.messenger.addContact(printed)
    bob = await peers.start('Bob', { dir, now, listen })
    const aliceId = alice.messenger.whoami().peerId
    await eventually(() => bob.messenger.trustOf(aliceId) === 'pending-in', 20_000, 'Alice’s request')
    assert.equal(refused(bob.messenger, 'unknown-prekey'), 0, 'within the grace: no second round trip')

    // Past the printed prekey's grace, its private key is gone.
    clock += SIGNED_PREKEY_GRACE_MS
    await bob.messenger.rotatePrekeys()
    assert.equal(await coreOf(bob.messenger).prekeys.lookup(initFor(decodeCard(printed))), undefined)
    await bob.stop()
    const carol = await peers.start('Carol')
    const bobAtCarol = await carol.messenger.addContact(printed)
    const early = await carol.messenger.send(bobAtCarol.id, 'from an old card')
    bob = await peers.start('Bob', { dir, now, listen })
    const carolId = carol.messenger.whoami().peerId
    const carolAtBob = await eventually(
      () => bob.messenger.contactList().find((c) => c.peerId === carolId),
      20_000,
      'Carol’s request, after a restart',
    )
    assert.ok(refused(bob.messenger, 'unknown-prekey') >= 1, 'the printed prekey was stale')
    await bob.messenger.accept(carolAtBob.id)
    const got = await eventually(
      async () => (await bob.messenger.messages(carolAtBob.id)).filter((m) => m.id === early.id),
      15_000,
      'her first message',
    )
    assert.equal(got.length, 1)
  })
})
