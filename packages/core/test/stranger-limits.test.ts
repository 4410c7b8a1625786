/**
 * What strangers may ask, under attack, between real peers on 127.0.0.1: prekey fetches and
 * contact requests have separate buckets (a fetch flood does not stop requests), many peer ids
 * from one address share that address's budget, and a request whose one-time prekey was drained
 * before it arrived starts again from fresh prekeys instead of failing for good.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeCard } from '../src/card/link.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { fetchPreKeyBundle } from '../src/messenger/prekey-protocol.js'
import { addressKey, RateLimiter } from '../src/messenger/rate-limit.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { PROTOCOL_MSG, PROTOCOL_PREKEYS } from '../src/net/protocols.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { DiskPeers } from './helpers/disk-peer.js'
import { eventually } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
const refused = (m: Messenger, protocol: string, reason: string) => m.stats().refused[protocol]?.[reason] ?? 0

describe('RateLimiter', () => {
  it('many peer ids behind one address share its bucket; other addresses keep theirs', () => {
    const limiter = new RateLimiter({
      perPeerBurst: 5,
      perPeerPerMinute: 0,
      perAddressBurst: 10,
      perAddressPerMinute: 0,
      globalBurst: 100,
      globalPerMinute: 0,
      now: () => 0,
    })
    let granted = 0
    for (let i = 0; i < 50; i++) if (limiter.tryTake(`sybil-${i}`, '192.0.2.7')) granted++
    assert.equal(granted, 10, 'the address budget, however many peer ids')
    assert.equal(limiter.tryTake('honest', '198.51.100.1'), true, 'another address is unaffected')
    // A refusal takes nothing: the honest peer's own bucket is still full but for that one token.
    for (let i = 0; i < 4; i++) assert.equal(limiter.tryTake('honest', '198.51.100.1'), true)
    assert.equal(limiter.tryTake('honest', '198.51.100.1'), false, 'then its per-peer burst is spent')
  })

  it('an IPv6 host is one address however it spells or varies its interface id', () => {
    const key = (a: string) => addressKey(multiaddr(a))
    assert.equal(key('/ip6/2001:db8:1:2::1/tcp/1'), key('/ip6/2001:0db8:0001:0002:ffff:1:2:3/tcp/1'))
    assert.notEqual(key('/ip6/2001:db8:1:2::1/tcp/1'), key('/ip6/2001:db8:1:3::1/tcp/1'))
    assert.equal(key('/ip4/192.0.2.7/tcp/4001'), '192.0.2.7')
    assert.equal(addressKey(undefined), undefined)
  })
})

describe('strangers on the network', () => {
  const peers = new DiskPeers()
  const nodes: JiayiNode[] = []
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await peers.cleanup()
  })

  async function strangerNode(): Promise<JiayiNode> {
    const node = await createJiayiNode({
      privateKey: await generateKeyPair('Ed25519'),
      network: nodeNetwork({ mdns: false }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      relayServer: false,
    })
    nodes.push(node)
    return node
  }

  it('a prekey fetch flood from many peer ids on one address neither passes nor stops requests', async () => {
    const victim = await peers.start('Victim')
    const card = decodeCard(victim.messenger.card().link)
    const victimId = peerIdFromString(card.peerId)
    const sybils = await Promise.all(Array.from({ length: 12 }, () => strangerNode()))
    let fetched = 0
    for (const node of sybils) {
      await node.peerStore.merge(victimId, { multiaddrs: victim.messenger.node.getMultiaddrs() })
      // libp2p itself refuses a host's sixth connection within a second: retried until it is in.
      await eventually(() => node.dial(victimId, { signal: AbortSignal.timeout(5_000) }), 30_000, 'connected')
      for (let i = 0; i < 5; i++) if (await fetchPreKeyBundle(node, victimId, card.identity)) fetched++
    }
    // 60 asked; one address's budget is 10 (plus what it regains while the test runs).
    assert.ok(fetched <= 15, `${fetched} fetches from one address got through`)
    assert.equal(refused(victim.messenger, PROTOCOL_PREKEYS, 'rate-limited'), 60 - fetched)

    // An honest stranger's request still gets in, without being told to wait: its own bucket.
    const honest = await peers.start('Honest')
    await honest.messenger.addContact(victim.messenger.card().link)
    const peerId = honest.messenger.whoami().peerId
    await eventually(() => victim.messenger.trustOf(peerId) === 'pending-in', 15_000, 'the request')
    assert.equal(refused(victim.messenger, PROTOCOL_MSG, 'rate-limited'), 0)
  })

  it('a request whose one-time prekey was drained before it arrived starts again and arrives once', async () => {
    const alice = await peers.start('Alice')
    const bob = await peers.start('Bob')
    // Others fetch 1,000 bundles right after Alice's: the store lets the oldest handed-out
    // one-time prekey go (MAX_OUTSTANDING), which is hers, before her request gets there.
    const prekeys = coreOf(bob.messenger).prekeys
    const handOut = prekeys.handOut.bind(prekeys)
    const lookup = prekeys.lookup.bind(prekeys)
    let drain: Promise<void> | undefined
    prekeys.handOut = async () => {
      const keys = await handOut()
      drain ??= (async () => {
        for (let i = 0; i < 1000; i++) await handOut()
      })()
      return keys
    }
    // Her request is looked at once the others have had theirs.
    prekeys.lookup = async (init) => {
      await drain
      return lookup(init)
    }
    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const early = await alice.messenger.send(bobAtAlice.id, 'sent before you accepted')
    assert.ok(drain !== undefined, 'Alice fetched prekeys')

    const alicePeer = alice.messenger.whoami().peerId
    const aliceAtBob = await eventually(
      () => bob.messenger.contactList().find((c) => c.peerId === alicePeer),
      20_000,
      'the request, in a new session',
    )
    assert.ok(refused(bob.messenger, PROTOCOL_MSG, 'unknown-prekey') >= 1, 'the first attempt was stale')
    assert.equal(aliceAtBob.state, 'pending-in')
    await bob.messenger.accept(aliceAtBob.id)
    const shown = await eventually(
      async () => {
        const list = (await bob.messenger.messages(aliceAtBob.id)).filter((m) => m.id === early.id)
        return list.length > 0 ? list : undefined
      },
      15_000,
      'the early message',
    )
    assert.equal(shown.length, 1, 'once')
    assert.equal(shown[0]!.text, 'sent before you accepted')
    await eventually(
      () => alice.messenger.contact(bobAtAlice.id).state === 'accepted',
      15_000,
      'Alice sees the accept',
    )
    const mine = await alice.messenger.messages(bobAtAlice.id)
    assert.ok(
      mine.every((m) => m.status !== 'failed'),
      'nothing failed',
    )
  })
})
