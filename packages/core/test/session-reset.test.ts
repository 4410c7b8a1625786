/**
 * Session reset (session-reset.ts) between real messengers on 127.0.0.1: a ratchet that went
 * back in time (its store restored to an earlier copy, as a damaged log leaves it) heals on the
 * first message that no longer opens, with a notice on both sides and the refused messages sent
 * again; and ratchet messages that do not open are no way for anyone but an accepted contact to
 * start a reset, nor for a contact to start more than one per interval.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeCard } from '../src/card/link.js'
import { decodePreKeyMessage, initiateSession, sessionEncrypt } from '../src/crypto/session.js'
import type { ContactId } from '../src/messenger/ids.js'
import { newMessageId } from '../src/messenger/ids.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { encodeEnvelopeFrame } from '../src/messenger/msg-protocol.js'
import { encodePayload } from '../src/messenger/payload.js'
import { SESSION_RESET_EXTENSION } from '../src/messenger/session-reset.js'
import { openFramed } from '../src/net/framed-handler.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { MemoryStore } from '../src/store/memory.js'
import type { Store } from '../src/store/store.js'
import type { WriteBehindStore } from '../src/store/write-behind.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const peers: TestPeer[] = []
after(async () => {
  await Promise.all(peers.map((p) => p.stop().catch(() => undefined)))
})

async function peer(name: string, store?: Store): Promise<TestPeer> {
  const p = await testPeer(name, store)
  peers.push(p)
  return p
}

/** A copy of everything `store` holds now: the earlier state a damaged log falls back to. */
async function snapshot(m: Messenger, store: Store): Promise<MemoryStore> {
  await (m.store as WriteBehindStore).flushed()
  const copy = new MemoryStore()
  for await (const [k, v] of store.iterate()) await copy.put(k, v)
  return copy
}

async function befriend(a: TestPeer, b: TestPeer): Promise<{ bAtA: ContactId; aAtB: ContactId }> {
  const bAtA = (await a.messenger.addContact(b.messenger.card().link)).id
  const aAtB = await eventually(() => b.messenger.contactList()[0]?.id, 10_000, 'the request')
  await b.messenger.accept(aAtB)
  await eventually(() => a.messenger.contact(bAtA).state === 'accepted', 10_000, 'accepted')
  await Promise.all([a.messenger.settled(), b.messenger.settled()])
  return { bAtA, aAtB }
}

const inTexts = async (m: Messenger, cid: string) =>
  (await m.messages(cid, { peek: true, limit: 1000 }))
    .filter((x) => x.direction === 'in' && x.extension === undefined)
    .map((x) => x.text)

const noticesOf = async (m: Messenger, cid: string) =>
  (await m.messages(cid, { peek: true, limit: 1000 })).filter(
    (x) => x.extension?.kind === SESSION_RESET_EXTENSION,
  )

const refusedFor = (m: Messenger, reason: string) => m.stats().refused[PROTOCOL_MSG]?.[reason] ?? 0

/** A well-formed ratchet message from `from`'s own device that opens with none of `to`'s sessions. */
async function undecryptable(from: TestPeer, to: TestPeer, count: number): Promise<void> {
  const card = decodeCard(to.messenger.card().link)
  const identity = from.messenger.account.identity
  const framed = await openFramed(from.messenger.node, peerIdFromString(card.peerId), PROTOCOL_MSG)
  try {
    for (let ref = 0; ref < count; ref++) {
      // The ratchet message inside a PreKey message of a session `to` never heard of.
      const session = initiateSession(identity, { identity: card.identity, signedPreKey: card.signedPreKey })
      const payload = encodePayload(newMessageId(), Date.now(), 1, { kind: 'text', text: 'x' })
      const { envelope } = sessionEncrypt(session, payload, identity)
      const body = decodePreKeyMessage(envelope.bytes).message
      await framed.write(encodeEnvelopeFrame({ ref, type: 'message', body }))
      await framed.read({ timeoutMs: 5_000 }) // its ack
    }
  } finally {
    framed.abort(new Error('done'))
  }
}

describe('session reset', () => {
  it('a ratchet gone back in time heals on the next message, both ways, with a notice on each side', async () => {
    const alice = await peer('Alice')
    let bob = await peer('Bob')
    const { bAtA, aAtB } = await befriend(alice, bob)
    await alice.messenger.send(bAtA, 'hello')
    await eventually(async () => (await inTexts(bob.messenger, aAtB)).includes('hello'))
    await bob.messenger.send(aAtB, 'hi')
    await eventually(async () => (await inTexts(alice.messenger, bAtA)).includes('hi'))
    await Promise.all([alice.messenger.settled(), bob.messenger.settled()])
    const earlier = await snapshot(bob.messenger, bob.store)

    // Both ratchets turn once more (Bob makes a new ratchet key pair, and Alice answers to it)...
    for (const n of [1, 2]) {
      await alice.messenger.send(bAtA, `lost ${n}a`)
      await eventually(async () => (await inTexts(bob.messenger, aAtB)).includes(`lost ${n}a`))
      await bob.messenger.send(aAtB, `lost ${n}b`)
      await eventually(async () => (await inTexts(alice.messenger, bAtA)).includes(`lost ${n}b`))
    }
    await Promise.all([alice.messenger.settled(), bob.messenger.settled()])
    // ... and Bob's store goes back to before that (his node gets a new port: Alice learns it).
    await bob.stop()
    bob = await peer('Bob', earlier)
    await alice.messenger.node.peerStore.merge(peerIdFromString(bob.messenger.whoami().peerId), {
      multiaddrs: bob.messenger.node.getMultiaddrs(),
    })

    // Whichever side notices first (Alice's message to Bob, or the address update Bob's new
    // node sends her) refuses what no longer opens and starts a new session.
    const failedAtAlice = refusedFor(alice.messenger, 'decrypt-failed')
    const sent = await alice.messenger.send(bAtA, 'after 1')
    await eventually(
      async () => (await inTexts(bob.messenger, aAtB)).includes('after 1'),
      20_000,
      "Alice's message at Bob",
    )
    await eventually(
      async () => (await alice.messenger.message(bAtA, sent.id))?.status === 'delivered',
      10_000,
      'delivered',
    )
    const refusals =
      refusedFor(bob.messenger, 'decrypt-failed') + refusedFor(alice.messenger, 'decrypt-failed')
    assert.ok(refusals > failedAtAlice, 'what no longer opened was refused, and counted')
    // Both sides show that the session was reset (once; twice when both noticed at the same
    // moment and each had messages to send again).
    for (const [m, cid] of [
      [alice.messenger, bAtA],
      [bob.messenger, aAtB],
    ] as const) {
      const n = (await noticesOf(m, cid)).length
      assert.ok(n >= 1 && n <= 2, `a notice on each side (${n})`)
    }

    // The other way, and on: each message shown once, no further resets.
    const notices =
      (await noticesOf(alice.messenger, bAtA)).length + (await noticesOf(bob.messenger, aAtB)).length
    await bob.messenger.send(aAtB, 'after 2')
    await eventually(async () => (await inTexts(alice.messenger, bAtA)).includes('after 2'))
    await alice.messenger.send(bAtA, 'after 3')
    await eventually(async () => (await inTexts(bob.messenger, aAtB)).includes('after 3'))
    assert.deepEqual((await inTexts(bob.messenger, aAtB)).sort(), ['after 1', 'after 3', 'hello'])
    assert.deepEqual((await inTexts(alice.messenger, bAtA)).sort(), ['after 2', 'hi', 'lost 1b', 'lost 2b'])
    assert.equal(
      (await noticesOf(alice.messenger, bAtA)).length + (await noticesOf(bob.messenger, aAtB)).length,
      notices,
    )
  })

  it('undecryptable messages from a pending request start no reset; from a contact, one per interval', async () => {
    const victim = await peer('Victim')
    const mallory = await peer('Mallory')
    // Mallory asked; the victim has not answered.
    const victimAtMallory = (await mallory.messenger.addContact(victim.messenger.card().link)).id
    const malloryAtVictim = await eventually(() => victim.messenger.contactList()[0]?.id, 10_000, 'request')
    await mallory.messenger.settled()
    let resets = 0
    victim.messenger.events.on('session', () => resets++)
    const before = refusedFor(victim.messenger, 'decrypt-failed')
    await undecryptable(mallory, victim, 3)
    assert.equal(refusedFor(victim.messenger, 'decrypt-failed'), before + 3, 'refused and counted')
    await victim.messenger.settled()
    assert.equal(resets, 0, 'no reset for a pending request')
    assert.equal(await victim.messenger.outboxSize(malloryAtVictim), 0, 'nothing goes to her')
    assert.equal((await noticesOf(mallory.messenger, victimAtMallory)).length, 0)

    // Accepted, a burst of them starts one reset, not one each.
    await victim.messenger.accept(malloryAtVictim)
    await Promise.all([victim.messenger.settled(), mallory.messenger.settled()])
    await undecryptable(mallory, victim, 5)
    await eventually(() => resets === 1, 10_000, 'a reset')
    await eventually(async () => (await noticesOf(mallory.messenger, victimAtMallory)).length === 1)
    await undecryptable(mallory, victim, 5)
    await victim.messenger.settled()
    assert.equal(resets, 1, 'one reset per interval')
  })
})
