/**
 * /jiayi/prekeys/1 between real peers on 127.0.0.1: a peer id alone is not enough to learn who is
 * behind it. A fetch must prove it holds one of the peer's cards; the answer carries no identity
 * keys (the fetcher has them from the card), only prekeys signed by them.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeCard } from '../src/card/link.js'
import { generateIdentity, publicIdentity } from '../src/identity/identity.js'
import { cardProof, fetchPreKeyBundle } from '../src/messenger/prekey-protocol.js'
import { PrekeyRequest } from '../src/messenger/wire.pb.js'
import { openFramed } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { PROTOCOL_PREKEYS } from '../src/net/protocols.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { DiskPeers } from './helpers/disk-peer.js'
import type { TestPeer } from './helpers/messenger-peer.js'

/** Whether `needle` occurs anywhere in `haystack`. */
function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0
}

describe('prekey fetches need the card', () => {
  const peers = new DiskPeers()
  let victim: TestPeer
  let snoop: JiayiNode
  before(async () => {
    victim = await peers.start('Victim')
    snoop = await createJiayiNode({
      privateKey: await generateKeyPair('Ed25519'),
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      relayServer: false,
    })
    await snoop.peerStore.merge(peerIdFromString(victim.messenger.whoami().peerId), {
      multiaddrs: victim.messenger.node.getMultiaddrs(),
    })
  })
  after(async () => {
    await snoop.stop()
    await peers.cleanup()
  })

  const victimPeer = () => peerIdFromString(victim.messenger.whoami().peerId)
  const refused = (reason: string) => victim.messenger.stats().refused[PROTOCOL_PREKEYS]?.[reason] ?? 0

  /** Sends one raw request frame; the answer, or undefined when the stream is refused. */
  async function ask(request: Uint8Array): Promise<Uint8Array | undefined> {
    const framed = await openFramed(snoop, victimPeer(), PROTOCOL_PREKEYS)
    try {
      await framed.write(request)
      return (await framed.read({ timeoutMs: 5_000 })) ?? undefined
    } catch {
      return undefined
    } finally {
      framed.abort(new Error('done'))
    }
  }

  it('with only a peer id, no request (old version, no proof, a wrong proof) learns the identity', async () => {
    const identity = victim.messenger.account.identity
    const stranger = generateIdentity()
    const attempts = [
      PrekeyRequest.encode({ version: 1, cardProof: new Uint8Array() }),
      PrekeyRequest.encode({ version: 2, cardProof: new Uint8Array() }),
      PrekeyRequest.encode({ version: 2, cardProof: new Uint8Array(32).fill(7) }),
      // A proof made for another identity than the one behind this peer id.
      PrekeyRequest.encode({
        version: 2,
        cardProof: cardProof(publicIdentity(stranger), victimPeer(), snoop.peerId) as Uint8Array<ArrayBuffer>,
      }),
    ]
    const before = refused('no-card-proof') + refused('malformed-frame')
    for (const request of attempts) {
      const answer = await ask(request)
      if (answer === undefined) continue
      assert.ok(!contains(answer, identity.signing.publicKey), 'no identity signing key in any answer')
      assert.ok(!contains(answer, identity.agreement.publicKey), 'no identity agreement key in any answer')
      assert.fail('a request without the card was answered')
    }
    assert.ok(refused('no-card-proof') + refused('malformed-frame') >= before + attempts.length)
  })

  it('a proof made for another connection is refused: it binds both peer ids', async () => {
    const card = decodeCard(victim.messenger.card().link)
    const elsewhere = await generateKeyPair('Ed25519').then((k) => peerIdFromString(k.publicKey.toString()))
    const replayed = cardProof(card.identity, victimPeer(), elsewhere)
    const before = refused('no-card-proof')
    assert.equal(
      await ask(PrekeyRequest.encode({ version: 2, cardProof: replayed as Uint8Array<ArrayBuffer> })),
      undefined,
    )
    assert.equal(refused('no-card-proof'), before + 1)
  })

  it('with the card, the answer verifies and carries prekeys only, never the identity keys', async () => {
    const card = decodeCard(victim.messenger.card().link)
    const proof = cardProof(card.identity, victimPeer(), snoop.peerId)
    const answer = await ask(
      PrekeyRequest.encode({ version: 2, cardProof: proof as Uint8Array<ArrayBuffer> }),
    )
    assert.ok(answer !== undefined, 'answered')
    assert.ok(!contains(answer, card.identity.signingKey))
    assert.ok(!contains(answer, card.identity.agreementKey))
    const bundle = await fetchPreKeyBundle(snoop, victimPeer(), card.identity)
    assert.ok(bundle?.kemPreKey !== undefined && bundle.oneTimePreKey !== undefined)
    assert.deepEqual(bundle.identity, card.identity, 'the identity is the card’s')
  })
})
