/**
 * Hostile input on /jiayi/msg/1 and /jiayi/prekeys/1: strangers, forged envelopes, malformed and
 * oversized frames, random bytes by the thousand. Each is refused and counted; the peer keeps
 * running and a real conversation afterwards still works.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { decodeCard } from '../src/card/link.js'
import { initiateSession, sessionEncrypt } from '../src/crypto/session.js'
import { generateIdentity } from '../src/identity/identity.js'
import { newMessageId } from '../src/messenger/ids.js'
import { encodeEnvelopeFrame } from '../src/messenger/msg-protocol.js'
import { encodePayload } from '../src/messenger/payload.js'
import { openFramed } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { PROTOCOL_MSG, PROTOCOL_PREKEYS } from '../src/net/protocols.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('hostile peers', () => {
  let victim: TestPeer
  let friend: TestPeer
  let attacker: JiayiNode

  before(async () => {
    victim = await testPeer('Victim')
    friend = await testPeer('Friend')
    attacker = await createJiayiNode({
      privateKey: await generateKeyPair('Ed25519'),
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      relayServer: false,
    })
    await attacker.peerStore.merge(peerIdFromString(victim.messenger.whoami().peerId), {
      multiaddrs: victim.messenger.node.getMultiaddrs(),
    })
  })
  after(async () => {
    await Promise.all([victim.stop(), friend.stop(), attacker.stop()])
  })

  const victimPeer = () => peerIdFromString(victim.messenger.whoami().peerId)
  const refused = () => victim.messenger.stats().refusedTotal

  async function exchange(protocol: string, frames: Uint8Array[]): Promise<Uint8Array[]> {
    const framed = await openFramed(attacker, victimPeer(), protocol, { maxFrameBytes: 1024 * 1024 })
    const replies: Uint8Array[] = []
    try {
      for (const f of frames) await framed.write(f)
      for (let i = 0; i < frames.length; i++) {
        const r = await framed.read({ timeoutMs: 3000 })
        if (r === null) break
        replies.push(r)
      }
    } catch {
      // The victim resets streams that carry garbage: that is the point.
    } finally {
      framed.abort(new Error('done'))
    }
    return replies
  }

  it('a stranger cannot get a plain message or a forged request accepted', async () => {
    const before = refused()
    const replies = await exchange(PROTOCOL_MSG, [
      encodeEnvelopeFrame({ ref: 1, type: 'message', body: new Uint8Array(120) }),
    ])
    assert.equal(replies.length, 1, 'the envelope is answered (rejected), not left hanging')
    // A well-formed PreKeyMessage from a stranger whose payload is not a request for this peer.
    const mallory = generateIdentity()
    const card = decodeCard(victim.messenger.card().link)
    const session = initiateSession(mallory, { identity: card.identity, signedPreKey: card.signedPreKey })
    const payload = encodePayload(newMessageId(), Date.now(), 1, { kind: 'text', text: 'let me in' })
    const { envelope } = sessionEncrypt(session, payload, mallory)
    await exchange(PROTOCOL_MSG, [encodeEnvelopeFrame({ ref: 2, type: 'prekey', body: envelope.bytes })])
    assert.ok(refused() >= before + 2)
    assert.equal(victim.messenger.contactList().length, 0)
  })

  it('thousands of random and mutated frames on both protocols never bring the peer down', async () => {
    const before = refused()
    const valid = encodeEnvelopeFrame({ ref: 7, type: 'prekey', body: new Uint8Array(200).fill(1) })
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(fc.nat(valid.length - 1), fc.uint8Array({ minLength: 1, maxLength: 8 }))
            .map(([at, junk]) => {
              const m = valid.slice()
              m.set(junk.subarray(0, m.length - at), at)
              return m
            }),
        ),
        fc.constantFrom(PROTOCOL_MSG, PROTOCOL_PREKEYS),
        async (frame, protocol) => {
          await exchange(protocol, [frame])
        },
      ),
      { numRuns: 1500 },
    )
    // Raw bytes that are not even length-prefixed frames, and an oversized length prefix.
    for (const raw of [
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f),
      Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80),
    ]) {
      const stream = await attacker.dialProtocol(victimPeer(), PROTOCOL_MSG)
      stream.send(raw)
      await stream.close().catch(() => undefined)
    }
    await eventually(() => refused() > before + 100, 10_000, 'refusals counted')
    const stats = victim.messenger.stats()
    assert.ok(stats.refused[PROTOCOL_MSG], 'msg refusals are counted by reason')
    assert.ok(stats.refused[PROTOCOL_PREKEYS], 'prekey refusals are counted by reason')
  })

  it('after all that, a real contact still gets through', async () => {
    const v = await friend.messenger.addContact(victim.messenger.card().link)
    const f = await victim.messenger.addContact(friend.messenger.card().link)
    await eventually(() => friend.messenger.contact(v.id).state === 'accepted', 10_000, 'accepted')
    const sent = await friend.messenger.send(v.id, 'still alive?')
    const got = await eventually(async () =>
      (await victim.messenger.messages(f.id)).find((m) => m.id === sent.id),
    )
    assert.equal(got.text, 'still alive?')
  })
})
