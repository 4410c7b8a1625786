/**
 * Classical sessions become post-quantum: real peers on 127.0.0.1 with the store on disk. Sessions
 * started from cards alone (the peer was away: no ML-KEM prekey, no one-time prekey) are replaced
 * by a fresh PQXDH session the next time both are online, while messages keep flowing both ways:
 * none is lost or shown twice, both sides upgrading at once settle on one session, and the
 * contact view says whether the conversation is post-quantum.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { bytesToHex, fromUtf8, utf8 } from '../src/bytes.js'
import { generateKemPreKey, generateOneTimePreKeys, generateSignedPreKey } from '../src/crypto/prekeys.js'
import { acceptSession, decodePreKeyMessage, initiateSession, type Session } from '../src/crypto/session.js'
import { generateIdentity, type IdentityKeyPair, publicIdentity } from '../src/identity/identity.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { decryptMessage, encryptWith, promote, type SessionSet } from '../src/messenger/session-set.js'
import { type DiskPeer, DiskPeers } from './helpers/disk-peer.js'
import { eventually } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const current = async (m: Messenger, cid: ContactId) => (await coreOf(m).sessionSet(cid))[0]

/** One person's side: identity and fresh prekeys, as a bundle fetched online would carry. */
function party() {
  const identity = generateIdentity()
  const spk = generateSignedPreKey(identity, 1)
  const [otk] = generateOneTimePreKeys(1, 1)
  const kem = generateKemPreKey(identity, 1)
  return {
    identity,
    bundle: (withKem: boolean) => ({
      identity: publicIdentity(identity),
      signedPreKey: { id: spk.id, publicKey: spk.keyPair.publicKey },
      oneTimePreKey: withKem ? { id: otk!.id, publicKey: otk!.keyPair.publicKey } : undefined,
      kemPreKey: withKem ? { id: kem.id, publicKey: kem.publicKey } : undefined,
    }),
    prekeys: (withKem: boolean) => ({
      signedPreKey: spk.keyPair,
      oneTimePreKey: withKem ? otk!.keyPair : undefined,
      kemSecretKey: withKem ? kem.secretKey : undefined,
    }),
  }
}

/** `from` starts a session to `to`; `to` accepts its first message. */
function start(from: IdentityKeyPair, to: ReturnType<typeof party>, pq: boolean): [Session, Session] {
  const mine = initiateSession(from, to.bundle(pq))
  const sent = encryptWith([mine], utf8('hello'), from)
  const theirs = acceptSession(to.identity, decodePreKeyMessage(sent.envelope.bytes), to.prekeys(pq))
  return [sent.set[0]!, theirs.session]
}

describe('which session each side sends on', () => {
  it('two upgrades at once: whatever crosses, both settle on the same session', () => {
    const alice = party()
    const bob = party()
    // The classical session they had, then each side's upgrade, each accepted by the other
    // (a session the peer just started goes in front).
    const [classicalA, classicalB] = start(alice.identity, bob, false)
    const [upA, upAatBob] = start(alice.identity, bob, true)
    const [upB, upBatAlice] = start(bob.identity, alice, true)
    let a: SessionSet = promote(promote([classicalA], upA), upBatAlice)
    let b: SessionSet = promote(promote([classicalB], upB), upAatBob)
    assert.notEqual(
      bytesToHex(a[0]!.baseKey),
      bytesToHex(b[0]!.baseKey),
      'crossed: each sends on the other’s',
    )
    // Messages cross, on whatever each holds as current, a few rounds.
    for (let round = 0; round < 3; round++) {
      const fromA = encryptWith(a, utf8(`a${round}`), alice.identity)
      const fromB = encryptWith(b, utf8(`b${round}`), bob.identity)
      a = fromA.set
      b = fromB.set
      const atB = decryptMessage(b, fromA.envelope.bytes)
      const atA = decryptMessage(a, fromB.envelope.bytes)
      assert.equal(fromUtf8(atB.plaintext), `a${round}`)
      assert.equal(fromUtf8(atA.plaintext), `b${round}`)
      a = atA.set
      b = atB.set
    }
    assert.equal(bytesToHex(a[0]!.baseKey), bytesToHex(b[0]!.baseKey), 'one session on both sides')
    assert.ok(a[0]!.postQuantum && a[0]!.oneTimePreKey)
  })

  it('a message still on the old classical session does not undo an upgrade', () => {
    const alice = party()
    const bob = party()
    const [classicalA, classicalB] = start(alice.identity, bob, false)
    const late = encryptWith([classicalB], utf8('sent before the upgrade'), bob.identity)
    const [upA] = start(alice.identity, bob, true)
    const a = promote([classicalA], upA)
    const out = decryptMessage(a, late.envelope.bytes)
    assert.equal(fromUtf8(out.plaintext), 'sent before the upgrade', 'it still opens')
    assert.equal(bytesToHex(out.set[0]!.baseKey), bytesToHex(upA.baseKey), 'the upgrade stays current')
    assert.equal(out.set.length, 2)
  })
})

describe('upgrading classical sessions', () => {
  const peers = new DiskPeers()
  after(() => peers.cleanup())

  /** Alice and Bob, each having added the other's card while the other was away. */
  async function classicalPair() {
    const alice = await peers.start('Alice')
    let bob = await peers.start('Bob')
    const aliceCard = alice.messenger.card().link
    const bobCard = bob.messenger.card().link
    const at = { alice: { dir: alice.dir, listen: alice.listen }, bob: { dir: bob.dir, listen: bob.listen } }
    await bob.stop()
    const bobAtAlice = (await alice.messenger.addContact(bobCard)).id
    await alice.stop()
    bob = await peers.start('Bob', at.bob)
    const aliceAtBob = (await bob.messenger.addContact(aliceCard)).id
    assert.equal(bob.messenger.contact(aliceAtBob).postQuantum, false, 'a card alone: classical')
    const s = await current(bob.messenger, aliceAtBob)
    assert.ok(s !== undefined && !s.postQuantum && !s.oneTimePreKey)
    return { bob, bobAtAlice, aliceAtBob, startAlice: () => peers.start('Alice', at.alice) }
  }

  async function texts(m: Messenger, cid: ContactId, prefix: string) {
    return (await m.messages(cid, { limit: 500, peek: true }))
      .filter((x) => x.direction === 'in' && x.text.startsWith(prefix))
      .map((x) => x.text)
  }

  it('meeting again, they upgrade (one side or both), settle on one session, lose or double nothing', async () => {
    const { bob, bobAtAlice, aliceAtBob, startAlice } = await classicalPair()
    // Messages queued on both sides before they meet, and more while the upgrade runs.
    const n = 15
    for (let i = 0; i < n; i++) await bob.messenger.send(aliceAtBob, `b${i}`)
    const alice: DiskPeer = await startAlice()
    await eventually(() => alice.messenger.contact(bobAtAlice).state === 'accepted', 20_000, 'accepted')
    for (let i = 0; i < n; i++) {
      await alice.messenger.send(bobAtAlice, `a${i}`)
      await bob.messenger.send(aliceAtBob, `b${n + i}`)
    }
    await eventually(
      () => alice.messenger.contact(bobAtAlice).postQuantum && bob.messenger.contact(aliceAtBob).postQuantum,
      30_000,
      'both views say post-quantum',
    )
    // A few more each way, then both send on the same session.
    for (let i = 0; i < 3; i++) {
      await alice.messenger.send(bobAtAlice, `a${n + i}`)
      await bob.messenger.send(aliceAtBob, `b${2 * n + i}`)
    }
    const expectA = Array.from({ length: n + 3 }, (_, i) => `a${i}`)
    const expectB = Array.from({ length: 2 * n + 3 }, (_, i) => `b${i}`)
    await eventually(
      async () => (await texts(bob.messenger, aliceAtBob, 'a')).length === expectA.length,
      30_000,
      'Alice’s messages at Bob',
    )
    await eventually(
      async () => (await texts(alice.messenger, bobAtAlice, 'b')).length === expectB.length,
      30_000,
      'Bob’s messages at Alice',
    )
    assert.deepEqual(await texts(bob.messenger, aliceAtBob, 'a'), expectA, 'in order, each once')
    assert.deepEqual(await texts(alice.messenger, bobAtAlice, 'b'), expectB, 'in order, each once')
    await eventually(
      async () => {
        const [a, b] = [await current(alice.messenger, bobAtAlice), await current(bob.messenger, aliceAtBob)]
        return a !== undefined && b !== undefined && bytesToHex(a.baseKey) === bytesToHex(b.baseKey)
      },
      20_000,
      'one session on both sides',
    )
    const session = (await current(alice.messenger, bobAtAlice))!
    assert.ok(session.postQuantum && session.oneTimePreKey, 'PQXDH with a one-time prekey')
    for (const m of [...(await alice.messenger.messages(bobAtAlice, { limit: 500 }))])
      assert.notEqual(m.status, 'failed')
  })
})
