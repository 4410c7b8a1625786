// mDNS on the LAN: two peers in two processes, given no addresses, find each other and connect;
// and what goes on the wire is only the peer id and its addresses.
//
// @libp2p/mdns joins the multicast group on every interface, so this file runs in a network
// namespace of its own whose only interface is a loopback that carries multicast; a random
// service tag and UDP port keep it apart from the other test files run there. Peers listen on
// 127.0.0.1 only.
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { hostname } from 'node:os'
import { after, before, describe, test } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import multicastDNS from 'multicast-dns'
import { describeConnection } from '../src/net/connection-info.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { type ChildPeer, startChildPeer } from './net-child.js'
import { startTestNode, stopAll, waitFor } from './net-helpers.js'

// @jiayi-test own-network-namespace: scripts/test.mjs runs this file inside a network namespace of
// its own, whose loopback carries multicast, so no packet reaches this machine's real interfaces.
before(() => {
  assert.ok(
    process.env.JIAYI_TEST_NETNS,
    'run this file through scripts/test.mjs (its own network namespace)',
  )
})

const tag = `_jiayi-test-${randomBytes(4).toString('hex')}._udp.local`
const port = randomInt(20_000, 60_000)

describe('open mDNS discovery between processes (opt-in)', () => {
  let local: JiayiNode
  let child: ChildPeer
  let childPeerId: string
  const discovered = new Map<string, string[]>()

  before(async () => {
    child = startChildPeer(['--mdns-tag', tag, '--mdns-port', String(port)])
    local = await startTestNode({
      network: { mdns: { open: true, serviceTag: tag, port, intervalMs: 500 } },
      start: false,
    })
    // Before start(): libp2p emits peer:discovery once per new peer, possibly during start().
    local.addEventListener('peer:discovery', (evt) => {
      discovered.set(evt.detail.id.toString(), evt.detail.multiaddrs.map(String))
    })
    await local.start()
    childPeerId = (await child.waitFor((e) => e.event === 'ready')).peerId!
  })
  after(async () => {
    child?.kill()
    await stopAll(local)
  })

  test('each side discovers the other and they connect with no address given', async () => {
    const seen = await child.waitFor((e) => e.event === 'discovered' && e.peerId === local.peerId.toString())
    assert.ok(seen.addrs?.length)
    await waitFor(() => discovered.has(childPeerId), 15_000)
    for (const a of discovered.get(childPeerId)!) assert.match(a, /^\/ip4\/127\.0\.0\.1\//)

    // Dial by peer id alone: the addresses come from the mDNS announcement.
    const { peerIdFromString } = await import('@libp2p/peer-id')
    const connection = await local.dial(peerIdFromString(childPeerId), {
      signal: AbortSignal.timeout(10_000),
    })
    assert.equal(describeConnection(connection).route, 'lan')
    // The child dials us too, and one of two connections between the same peers may close just as
    // a ping opens its stream on it: a second ping goes over the one that stays.
    const ping = () => local.services.ping.ping(peerIdFromString(childPeerId))
    assert.ok((await ping().catch(async () => ping())) >= 0)
  })

  test('announces only peer ids and multiaddrs (no name, no host name, no keys)', async () => {
    const observer = multicastDNS({ port })
    const records: multicastDNS.ResponsePacket[] = []
    observer.on('response', (packet) => {
      const all = [...packet.answers, ...(packet.additionals ?? []), ...(packet.authorities ?? [])]
      if (all.some((r) => r.name === tag || r.name.endsWith(`.${tag}`))) records.push(packet)
    })
    try {
      observer.query({ questions: [{ name: tag, type: 'PTR' }] })
      // Until both peers have answered (their PTR records name two different instances).
      const instances = () =>
        new Set(records.flatMap((p) => p.answers.flatMap((r) => (r.type === 'PTR' ? [r.data] : []))))
      await waitFor(() => instances().size >= 2, 10_000)
    } finally {
      await new Promise<void>((resolve) => observer.destroy(() => resolve()))
    }
    const peers = new Set([local.peerId.toString(), childPeerId])
    const labels = new Set<string>()
    for (const packet of records) {
      for (const r of [...packet.answers, ...(packet.additionals ?? []), ...(packet.authorities ?? [])]) {
        if (r.type === 'PTR') {
          assert.equal(r.name, tag)
          const label = String(r.data).slice(0, -(tag.length + 1))
          // @libp2p/mdns names the service instance with 63 random [a-z0-9]: never the host name.
          assert.match(label, /^[a-z0-9]{63}$/)
          labels.add(label)
        } else if (r.type === 'TXT') {
          const values = (Array.isArray(r.data) ? r.data : [r.data]).map((d) => String(d))
          for (const value of values) {
            assert.ok(value.startsWith('dnsaddr='), 'TXT carries dnsaddr= only')
            const ma = multiaddr(value.slice('dnsaddr='.length))
            const names = ma.getComponents().map((c) => c.name)
            assert.equal(names[0], 'ip4')
            assert.equal(ma.getComponents()[0]?.value, '127.0.0.1')
            assert.ok(peers.has(ma.getComponents().at(-1)?.value ?? ''), 'ends with one of our peer ids')
            for (const n of names)
              assert.ok(['ip4', 'tcp', 'udp', 'ws', 'webrtc-direct', 'certhash', 'p2p'].includes(n), n)
          }
        } else {
          assert.fail(`unexpected ${r.type} record`)
        }
      }
    }
    assert.equal(labels.size, 2, 'both peers answered')
    const host = hostname().toLowerCase()
    for (const packet of records) {
      for (const r of [...packet.answers, ...(packet.additionals ?? [])]) {
        const labels = [r.name, r.type === 'PTR' ? String(r.data) : ''].flatMap((n) =>
          n.toLowerCase().split('.'),
        )
        assert.ok(!labels.includes(host), 'host name never announced')
      }
    }
  })

  test('the child stops and its process exits on its own', async () => {
    child.stop()
    await child.waitFor((e) => e.event === 'stopped')
    assert.equal(await child.exited(5000), 0)
  })
})

describe('which LAN discovery runs', () => {
  test('by default the contacts-only rendezvous, open mDNS only when asked, neither when off', () => {
    const byDefault = nodeNetwork()
    assert.equal(byDefault.peerDiscovery.length, 0, 'no open mDNS by default')
    assert.ok(byDefault.services?.lanRendezvous, 'the rendezvous runs')
    const open = nodeNetwork({ mdns: { open: true } })
    assert.equal(open.peerDiscovery.length, 1)
    assert.ok(open.services?.lanRendezvous)
    const off = nodeNetwork({ mdns: false })
    assert.equal(off.peerDiscovery.length, 0)
    assert.equal(off.services?.lanRendezvous, undefined)
  })
})
