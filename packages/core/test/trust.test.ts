/**
 * The trust table (trust.ts), checked twice: as a pure function against the rule written out here
 * by hand, and between real peers on 127.0.0.1, where Mallory, a peer in each trust state, sends
 * every payload kind through a real session and only what the table allows has any effect.
 *
 * Mallory runs modified code: she encrypts payloads straight into her outbox (the core under the
 * facade), as an attacker with her own build of Jiayi would.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeCard } from '../src/card/link.js'
import { initiateSession, sessionEncrypt } from '../src/crypto/session.js'
import { generateIdentity } from '../src/identity/identity.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import { newMessageId } from '../src/messenger/ids.js'
import type { ExtensionContext } from '../src/messenger/inbound.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { encodeEnvelopeFrame } from '../src/messenger/msg-protocol.js'
import { encodePayload, type PayloadBody } from '../src/messenger/payload.js'
import {
  PEER_ACTIONS,
  PENDING_IN_LIMITS,
  type PeerAction,
  peerMay,
  TRUST_STATES,
  type TrustState,
} from '../src/messenger/trust.js'
import { Tx } from '../src/messenger/tx.js'
import { openFramed } from '../src/net/framed-handler.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

// The rule, written out independently of trust.ts's table.
const ALLOWED: Record<TrustState, readonly PeerAction[]> = {
  stranger: ['fetch-prekeys', 'request'],
  blocked: [],
  'pending-in': ['fetch-prekeys', 'request', 'message', 'group'],
  'pending-out': [
    'fetch-prekeys',
    'request',
    'accept',
    'message',
    'receipt',
    'typing',
    'address-update',
    'group',
    'get-receipts',
  ],
  // A group member we never added: group traffic, a group's files, and a request of their own.
  member: ['fetch-prekeys', 'request', 'group', 'open-group-file-stream'],
  // Everything, 'reset-session' and 'find-contact' included: only an accepted contact may replace a
  // session or ask where a contact we share is.
  accepted: PEER_ACTIONS,
}

describe('the trust table', () => {
  it('answers every trust state × every action as the rule says', () => {
    for (const state of TRUST_STATES) {
      for (const action of PEER_ACTIONS) {
        assert.equal(peerMay(state, action), ALLOWED[state].includes(action), `${state} × ${action}`)
      }
    }
  })

  it('gives nothing that only friends get to anyone but an accepted contact', () => {
    for (const state of TRUST_STATES.filter((s) => s !== 'accepted')) {
      for (const gift of ['get-feed-key', 'get-address-updates', 'take-file-offer', 'sync-feed'] as const)
        assert.equal(peerMay(state, gift), false, `${state} × ${gift}`)
    }
  })
})

const ONE_PIXEL_PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
)

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core

/** Mallory's own build: any payload, straight into her outbox for `cid`. */
async function sendRaw(from: TestPeer, cid: ContactId, body: PayloadBody): Promise<void> {
  const core = coreOf(from.messenger)
  await core.queue.run(cid, async () => {
    const tx = new Tx()
    await core.encryptToOutbox(tx, cid, body)
    await core.commit(tx)
  })
}

const refusedFor = (m: Messenger, reason: string) => m.stats().refused[PROTOCOL_MSG]?.[reason] ?? 0

/** Every payload kind, with the action the table knows it by. */
function everyPayload(
  mallory: TestPeer,
  victimMessageId: string,
): { body: PayloadBody; action: PeerAction }[] {
  const card = mallory.messenger.cardBytes()
  const target = victimMessageId as ReturnType<typeof newMessageId>
  return [
    { body: { kind: 'text', text: 'hello' }, action: 'message' },
    { body: { kind: 'reaction', target, emoji: '👍' }, action: 'message' },
    { body: { kind: 'edit', target, text: 'changed' }, action: 'message' },
    { body: { kind: 'delete', target }, action: 'message' },
    { body: { kind: 'receipt', receipt: 'read', ids: [target] }, action: 'receipt' },
    { body: { kind: 'typing', active: true }, action: 'typing' },
    {
      body: { kind: 'address-update', addrs: [multiaddr('/ip4/127.0.0.1/tcp/9').bytes] },
      action: 'address-update',
    },
    { body: { kind: 'extension', extension: 'probe-key', body: new Uint8Array([1]) }, action: 'feed-key' },
    { body: { kind: 'extension', extension: 'probe-msg', body: new Uint8Array([2]) }, action: 'message' },
    // A new session's opening payload (session-reset.ts): only a contact may replace a session.
    {
      body: { kind: 'extension', extension: 'session-reset', body: Uint8Array.of(1) },
      action: 'reset-session',
    },
    // Where a contact we share is now (contact-finder.ts): only between accepted contacts.
    {
      body: { kind: 'extension', extension: 'where-is', body: new Uint8Array([0x31]) },
      action: 'find-contact',
    },
    // A profile picture (profile-picture.ts, a real 1×1 PNG): only a contact's is taken.
    {
      body: { kind: 'extension', extension: 'profile-picture', body: Uint8Array.of(2, ...ONE_PIXEL_PNG) },
      action: 'profile-picture',
    },
    // Last: an accept (or a request) from a contact we asked makes them accepted.
    { body: { kind: 'request', card }, action: 'request' },
    { body: { kind: 'accept', card }, action: 'accept' },
  ]
}

describe('Mallory in each trust state sends every payload kind', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  /** A victim with two probe extensions: one that needs 'feed-key', one plain message. */
  async function victimPeer(): Promise<{ peer: TestPeer; calls: string[] }> {
    const peer = await testPeer('Victim')
    peers.push(peer)
    const calls: string[] = []
    peer.messenger.registerExtension('probe-key', {
      requires: 'feed-key',
      async receive(_ctx: ExtensionContext) {
        calls.push('probe-key')
      },
    })
    peer.messenger.registerExtension('probe-msg', {
      async receive(_ctx: ExtensionContext) {
        calls.push('probe-msg')
      },
    })
    return { peer, calls }
  }

  async function malloryPeer(): Promise<TestPeer> {
    const peer = await testPeer('Mallory')
    peers.push(peer)
    return peer
  }

  for (const state of ['pending-in', 'pending-out', 'accepted'] as const) {
    it(`as ${state}: only what the table allows has an effect`, async () => {
      const { peer: victim, calls } = await victimPeer()
      const mallory = await malloryPeer()
      let malloryCid: ContactId
      let victimCid: ContactId
      if (state === 'pending-in') {
        // Mallory scanned the victim's QR code; the victim never answered.
        victimCid = (await mallory.messenger.addContact(victim.messenger.card().link)).id
        malloryCid = await eventually(() => victim.messenger.contactList()[0]?.id, 10_000, 'request')
      } else {
        // The victim added Mallory; Mallory's copy of Jiayi never accepts (pending-out), or does.
        malloryCid = (await victim.messenger.addContact(mallory.messenger.card().link)).id
        victimCid = await eventually(() => mallory.messenger.contactList()[0]?.id, 10_000, 'request')
        if (state === 'accepted') {
          await mallory.messenger.accept(victimCid)
          await eventually(
            () => victim.messenger.contact(malloryCid).state === 'accepted',
            10_000,
            'accepted',
          )
        }
        await victim.messenger.settled()
      }
      await mallory.messenger.settled()
      assert.equal(victim.messenger.contact(malloryCid).state, state)
      // A message of the victim's that Mallory's receipts, reactions and deletes name.
      const victimMessage =
        state === 'pending-in'
          ? newMessageId()
          : (await victim.messenger.send(malloryCid, 'from the victim')).id
      await victim.messenger.settled()
      let typing = 0
      victim.messenger.events.on('typing', () => typing++)

      // Whether her address update was taken is seen as it is applied: identify may replace the
      // addresses again soon after with those she really listens on.
      let addressTaken = false
      victim.messenger.events.on('contact', (e) => {
        if (e.id === malloryCid && e.contact?.addrs.includes('/ip4/127.0.0.1/tcp/9')) addressTaken = true
      })

      for (const { body, action } of everyPayload(mallory, victimMessage)) {
        const before = refusedFor(victim.messenger, 'not-allowed')
        const stateBefore = victim.messenger.contact(malloryCid).state
        await sendRaw(mallory, victimCid, body)
        await eventually(
          async () => (await mallory.messenger.outboxSize(victimCid)) === 0,
          10_000,
          'delivered',
        )
        const refused = refusedFor(victim.messenger, 'not-allowed') - before
        const label = `${state} × ${body.kind}${body.kind === 'extension' ? ` ${body.extension}` : ''}`
        assert.equal(refused, peerMay(stateBefore, action) ? 0 : 1, `${label}: refused as the table says`)
        if (body.kind === 'address-update') {
          const taken: boolean =
            addressTaken || victim.messenger.contact(malloryCid).addrs.includes('/ip4/127.0.0.1/tcp/9')
          assert.equal(taken, state !== 'pending-in', `${label}: address update taken or not`)
        }
      }

      const after = victim.messenger.contact(malloryCid)
      if (state === 'pending-in') {
        // The critical hole: her own accept does not make her a contact.
        assert.equal(after.state, 'pending-in', 'a stranger cannot accept her own request')
        assert.deepEqual(calls, ['probe-msg'], 'only the held message extension ran')
        assert.equal(typing, 0, 'no typing shown')
        assert.equal(after.picture, undefined, 'no picture taken from her')
        // Nothing went back to her: no receipts for her held messages.
        assert.equal(await victim.messenger.outboxSize(malloryCid), 0, 'no receipt queued for her')
      } else {
        assert.equal(after.state, 'accepted', 'her answer makes a contact we asked an accepted one')
        assert.deepEqual(calls, state === 'accepted' ? ['probe-key', 'probe-msg'] : ['probe-msg'])
        assert.ok(typing >= 1, 'typing shown')
        // Sent while pending-out (refused) or accepted (taken): her picture is there only if taken.
        assert.equal(after.picture !== undefined, state === 'accepted', 'picture taken only from a contact')
      }
    })
  }

  it('as a stranger: a PreKey message is refused unless it is a request with her own card', async () => {
    const { peer: victim } = await victimPeer()
    const card = decodeCard(victim.messenger.card().link)
    const victimPeerId = peerIdFromString(victim.messenger.whoami().peerId)
    const mallory = await malloryPeer()
    await mallory.messenger.node.peerStore.merge(victimPeerId, {
      multiaddrs: victim.messenger.node.getMultiaddrs(),
    })
    const identity = generateIdentity()
    for (const { body } of everyPayload(mallory, newMessageId())) {
      if (body.kind === 'request') continue
      const session = initiateSession(identity, { identity: card.identity, signedPreKey: card.signedPreKey })
      const { envelope } = sessionEncrypt(
        session,
        encodePayload(newMessageId(), Date.now(), 1, body),
        identity,
      )
      const framed = await openFramed(mallory.messenger.node, victimPeerId, PROTOCOL_MSG)
      await framed.write(encodeEnvelopeFrame({ ref: 1, type: 'prekey', body: envelope.bytes }))
      assert.ok((await framed.read({ timeoutMs: 5000 })) !== null, `${body.kind}: answered`)
      framed.abort(new Error('done'))
    }
    assert.equal(victim.messenger.contactList().length, 0, 'no contact made')
    // Past the first few, the stranger's bucket refuses before anything is decrypted.
    const refused = refusedFor(victim.messenger, 'bad-request') + refusedFor(victim.messenger, 'rate-limited')
    assert.equal(refused, everyPayload(mallory, newMessageId()).length - 1, 'each refused and counted')
    assert.ok(refusedFor(victim.messenger, 'bad-request') >= 1)
    assert.equal(victim.messenger.trustOf(mallory.messenger.whoami().peerId), 'stranger')
  })

  it('blocked: a rejected stranger cannot ask again, nor fetch prekeys', async () => {
    const { peer: victim } = await victimPeer()
    const mallory = await malloryPeer()
    const victimCid = (await mallory.messenger.addContact(victim.messenger.card().link)).id
    const malloryCid = await eventually(() => victim.messenger.contactList()[0]?.id, 10_000, 'request')
    await victim.messenger.reject(malloryCid)
    const malloryPeerId = mallory.messenger.whoami().peerId
    assert.equal(victim.messenger.trustOf(malloryPeerId), 'blocked')
    await mallory.messenger.reject(victimCid)
    await mallory.messenger.addContact(victim.messenger.card().link)
    await eventually(() => refusedFor(victim.messenger, 'blocked') >= 1, 30_000, 'refused as blocked')
    assert.equal(victim.messenger.contactList().length, 0)
    assert.equal(victim.messenger.peerMay(malloryPeerId, 'fetch-prekeys'), false)
  })
})

describe('what a pending request may keep', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it(`holds at most ${PENDING_IN_LIMITS.messages} messages, drops and counts the rest, and keeps working`, async () => {
    const victim = await testPeer('Victim')
    const mallory = await testPeer('Mallory')
    peers.push(victim, mallory)
    const victimCid = (await mallory.messenger.addContact(victim.messenger.card().link)).id
    const malloryCid = await eventually(() => victim.messenger.contactList()[0]?.id, 10_000, 'request')
    for (let i = 0; i < 30; i++) await sendRaw(mallory, victimCid, { kind: 'text', text: `spam ${i}` })
    await eventually(
      async () => (await mallory.messenger.outboxSize(victimCid)) === 0,
      20_000,
      'all acknowledged',
    )
    assert.equal(await victim.messenger.unreadCount(malloryCid), PENDING_IN_LIMITS.messages)
    assert.equal(refusedFor(victim.messenger, 'over-quota'), 30 - PENDING_IN_LIMITS.messages)
    // Bytes too: one long message fills what is left.
    const victim2 = await testPeer('Victim 2')
    peers.push(victim2)
    const v2 = (await mallory.messenger.addContact(victim2.messenger.card().link)).id
    const m2 = await eventually(() => victim2.messenger.contactList()[0]?.id, 10_000, 'request')
    const big = 'x'.repeat(15_000)
    for (let i = 0; i < 6; i++) await sendRaw(mallory, v2, { kind: 'text', text: big })
    await eventually(async () => (await mallory.messenger.outboxSize(v2)) === 0, 20_000, 'all acknowledged')
    assert.equal(await victim2.messenger.unreadCount(m2), Math.floor(PENDING_IN_LIMITS.bytes / 15_000))
    // Accepted, she is an ordinary contact again: her messages are no longer capped.
    await victim.messenger.accept(malloryCid)
    for (let i = 0; i < 15; i++) await sendRaw(mallory, victimCid, { kind: 'text', text: `hi ${i}` })
    await eventually(
      async () => (await mallory.messenger.outboxSize(victimCid)) === 0,
      20_000,
      'acknowledged',
    )
    const seen = await victim.messenger.messages(malloryCid, { limit: 100 })
    assert.equal(seen.filter((m) => m.text.startsWith('hi ')).length, 15)
  })

  it('keeps a bounded number of waiting requests, dropping the oldest (not blocking them)', async () => {
    // The default is PENDING_IN_LIMITS.requests; a small limit shows the rule in a few peers.
    const limit = 4
    const victim = await testPeer('Victim', undefined, { pendingLimits: { requests: limit } })
    peers.push(victim)
    const link = victim.messenger.card().link
    const senders = await Promise.all(Array.from({ length: limit + 2 }, (_, i) => testPeer(`M${i}`)))
    peers.push(...senders)
    for (const s of senders) {
      await s.messenger.addContact(link)
      const peerId = s.messenger.whoami().peerId
      await eventually(() => victim.messenger.trustOf(peerId) === 'pending-in', 10_000, 'request')
    }
    await eventually(() => victim.messenger.contactList().length === limit, 10_000, 'the oldest dropped')
    const peerIds = senders.map((s) => s.messenger.whoami().peerId)
    assert.deepEqual(
      peerIds.map((p) => victim.messenger.trustOf(p)),
      ['stranger', 'stranger', 'pending-in', 'pending-in', 'pending-in', 'pending-in'],
    )
    assert.equal(refusedFor(victim.messenger, 'over-quota'), 2)
  })
})
