/**
 * A resent envelope the receiver already holds is acknowledged as a duplicate, never refused: a
 * sender resends whatever was not acknowledged (a stream that broke, an ack lost in a crash), and a
 * refusal would mark a delivered message `failed` (and the user would send it again). The resend
 * often comes after the conversation turned around (a receipt), when the receiver has left the
 * ratchet chain the message came in on.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { encodeEnvelopeFrame } from '../src/messenger/msg-protocol.js'
import { Tx } from '../src/messenger/tx.js'
import { Ack, MsgFrame } from '../src/messenger/wire.pb.js'
import { openFramed } from '../src/net/framed-handler.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core

/** Sends a text through the real outbox and returns the envelope bytes that went on the wire. */
async function sendCapturing(from: TestPeer, cid: ContactId, text: string): Promise<Uint8Array> {
  const core = coreOf(from.messenger)
  return core.queue.run(cid, async () => {
    const tx = new Tx()
    await core.encryptToOutbox(tx, cid, { kind: 'text', text })
    const envelope = tx.outbox[0]!.entry.envelope
    await core.commit(tx)
    return envelope
  })
}

/** Replays `envelope` to `to` from `from`'s own device, as a resend; returns the ack's status. */
async function replay(from: TestPeer, to: TestPeer, envelope: Uint8Array): Promise<string> {
  const framed = await openFramed(
    from.messenger.node,
    peerIdFromString(to.messenger.whoami().peerId),
    PROTOCOL_MSG,
  )
  try {
    await framed.write(encodeEnvelopeFrame({ ref: 7, type: 'message', body: envelope }))
    const reply = await framed.read({ timeoutMs: 5_000 })
    assert.ok(reply !== null, 'answered')
    const ack = MsgFrame.decode(reply).ack
    assert.ok(ack !== undefined && ack.ref === 7)
    return ack.status === Ack.Status.OK ? 'ok' : ack.status === Ack.Status.REJECTED ? 'rejected' : 'retry'
  } finally {
    framed.abort(new Error('done'))
  }
}

describe('resends', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('a resend after the conversation turned around is acknowledged, shown once, and counted nowhere', async () => {
    const a = await testPeer('A')
    const b = await testPeer('B')
    peers.push(a, b)
    const bAtA = (await a.messenger.addContact(b.messenger.card().link)).id
    const aAtB = await eventually(() => b.messenger.contactList()[0]?.id, 10_000, 'request')
    await b.messenger.accept(aAtB)
    await eventually(() => a.messenger.contact(bAtA).state === 'accepted', 10_000, 'accepted')

    const first = await sendCapturing(a, bAtA, 'first')
    await eventually(async () =>
      (await b.messenger.messages(aAtB, { peek: true })).some((m) => m.text === 'first'),
    )
    // The conversation turns around twice: B answers, A writes again on a new chain, and so on.
    for (const round of [1, 2]) {
      await b.messenger.send(aAtB, `answer ${round}`)
      await eventually(async () =>
        (await a.messenger.messages(bAtA, { peek: true })).some((m) => m.text === `answer ${round}`),
      )
      await a.messenger.send(bAtA, `again ${round}`)
      await eventually(async () =>
        (await b.messenger.messages(aAtB, { peek: true })).some((m) => m.text === `again ${round}`),
      )
    }
    await Promise.all([a.messenger.settled(), b.messenger.settled()])
    const refusedBefore = b.messenger.stats().refusedTotal

    assert.equal(await replay(a, b, first), 'ok', 'the resend is acknowledged as a duplicate')
    const shown = (await b.messenger.messages(aAtB, { peek: true })).filter((m) => m.text === 'first')
    assert.equal(shown.length, 1, 'shown once')
    assert.equal(b.messenger.stats().refusedTotal, refusedBefore, 'not counted as a refusal')
    // And the conversation goes on both ways.
    const later = await a.messenger.send(bAtA, 'later')
    await eventually(async () =>
      (await b.messenger.messages(aAtB, { peek: true })).some((m) => m.id === later.id),
    )
  })
})
