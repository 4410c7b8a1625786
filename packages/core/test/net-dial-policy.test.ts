/**
 * The dial policy (net/dial-policy.ts): addresses from cards, address updates and identify are
 * filtered where they enter, and the connection gater refuses the rest, so a contact cannot make
 * this peer connect to a Unix socket, to loopback (unless it listens there itself), to
 * link-local or unspecified addresses, nor keep more than 8 addresses.
 *
 * Traps are real listeners on this machine (a Unix socket, a TCP port on 127.0.0.1) that count
 * every connection; the link-local address is never reached because the policy refuses it
 * before a socket is opened.
 *
 * Mallory runs modified code where needed: she signs cards with whatever addresses she likes and
 * encrypts an address update straight into her outbox (the core under the facade).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createCard } from '../src/card/card.js'
import { cardLink, decodeCard } from '../src/card/link.js'
import { devicePublicKey } from '../src/identity/device.js'
import { createAccount, loadAccount } from '../src/messenger/account.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { Messenger } from '../src/messenger/messenger.js'
import { Tx } from '../src/messenger/tx.js'
import { DialPolicy, MAX_CONTACT_ADDRS } from '../src/net/dial-policy.js'
import { createJiayiNode } from '../src/net/node-factory.js'
import { nodeNetwork } from '../src/net/transports-node.js'
import { MemoryStore } from '../src/store/memory.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core

interface Trap {
  readonly server: Server
  connections: number
}

async function trap(listen: (server: Server, ready: () => void) => void): Promise<Trap> {
  const t: Trap = {
    server: createServer((socket) => {
      t.connections++
      socket.destroy()
    }),
    connections: 0,
  }
  await new Promise<void>((resolve) => listen(t.server, resolve))
  return t
}

/** A peer that listens where `listen` says (nothing: it only dials). */
async function peerListeningOn(name: string, listen: string[]): Promise<TestPeer> {
  const store = new MemoryStore()
  const account = (await loadAccount(store)) ?? (await createAccount(store, name))
  const node = await createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen,
    relayServer: false,
  })
  const messenger = await Messenger.open({ store, node, account })
  return {
    messenger,
    store,
    async stop() {
      await messenger.stop()
      await node.stop()
    },
  }
}

/** Mallory's card, signed by her, naming `addrs`. */
async function cardNaming(mallory: TestPeer, addrs: string[]): Promise<string> {
  const account = await loadAccount(mallory.store)
  assert.ok(account)
  const real = decodeCard(mallory.messenger.card().link)
  return cardLink(
    createCard(account.identity, {
      name: 'Mallory',
      deviceKey: devicePublicKey(account.deviceKey),
      signedPreKey: real.signedPreKey,
      addrs,
    }),
  )
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('the dial policy as a rule', () => {
  it('refuses /unix, unspecified and multicast always, loopback and link-local unless listening there', () => {
    const wildcard = new DialPolicy('node', ['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0'])
    const loopback = new DialPolicy('node', ['/ip4/127.0.0.1/tcp/0'])
    const linkLocal = new DialPolicy('node', ['/ip6/fe80::1/tcp/0'])
    const browser = new DialPolicy('browser', ['/p2p-circuit', '/webrtc'])
    const cases: [string, string | undefined, string | undefined, string | undefined, string | undefined][] =
      // address, refusal for: wildcard, loopback, link-local listener, browser
      [
        [`/unix/${encodeURIComponent('/var/run/docker.sock')}`, 'unix', 'unix', 'unix', 'unix'],
        ['/ip4/127.0.0.1/tcp/22', 'loopback', undefined, 'loopback', undefined],
        ['/ip6/::1/tcp/22', 'loopback', undefined, 'loopback', undefined],
        ['/ip6/::ffff:127.0.0.1/tcp/22', 'loopback', undefined, 'loopback', undefined],
        ['/ip4/169.254.7.7/tcp/4001', 'link-local', 'link-local', undefined, undefined],
        ['/ip6zone/eth0/ip6/fe80::2/tcp/4001', 'link-local', 'link-local', undefined, undefined],
        ['/ip4/0.0.0.0/tcp/22', 'unspecified', 'unspecified', 'unspecified', 'unspecified'],
        ['/ip4/224.0.0.251/udp/5353', 'multicast', 'multicast', 'multicast', 'multicast'],
        ['/dns4/localhost/tcp/22', 'dns', 'dns', 'dns', undefined],
        ['/ip4/192.168.1.20/tcp/4001', undefined, undefined, undefined, undefined],
        ['/ip6/fd00::2/udp/4001/webrtc-direct', undefined, undefined, undefined, undefined],
        [
          '/ip4/10.0.0.2/tcp/4001/ws/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK/p2p-circuit/webrtc',
          undefined,
          undefined,
          undefined,
          undefined,
        ],
      ]
    for (const [addr, w, l, ll, b] of cases) {
      assert.equal(wildcard.refusal(addr), w, `${addr} with a wildcard listener`)
      assert.equal(loopback.refusal(addr), l, `${addr} listening on loopback`)
      assert.equal(linkLocal.refusal(addr), ll, `${addr} listening on link-local`)
      assert.equal(browser.refusal(addr), b, `${addr} in a browser`)
    }
  })

  it('keeps at most 8 addresses per contact and counts what it drops', () => {
    const policy = new DialPolicy('node', ['/ip4/127.0.0.1/tcp/0'])
    const many = Array.from({ length: 12 }, (_, i) => `/ip4/127.0.0.1/tcp/${40_001 + i}`)
    const kept = policy.dialable([
      `/unix/${encodeURIComponent('/tmp/x.sock')}`,
      ...many,
      '/ip4/169.254.1.1/tcp/1',
    ])
    assert.deepEqual(kept, many.slice(0, MAX_CONTACT_ADDRS))
    assert.deepEqual(policy.refused(), { unix: 1, 'link-local': 1 })
  })
})

describe('addresses other people name', () => {
  let dir: string
  let unixTrap: Trap
  let tcpTrap: Trap
  let unixTrapAddr: string
  let tcpTrapAddr: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jiayi-dial-'))
    unixTrapAddr = `/unix/${encodeURIComponent(join(dir, 'trap.sock'))}`
    unixTrap = await trap((s, ready) => s.listen(join(dir, 'trap.sock'), ready))
    tcpTrap = await trap((s, ready) => s.listen(0, '127.0.0.1', ready))
    const port = (tcpTrap.server.address() as { port: number }).port
    tcpTrapAddr = `/ip4/127.0.0.1/tcp/${port}`
  })
  after(async () => {
    await Promise.all([unixTrap, tcpTrap].map((t) => new Promise((r) => t.server.close(r))))
    await rm(dir, { recursive: true, force: true })
  })

  it("a peer not on loopback never dials the /unix, loopback, link-local or 0.0.0.0 addresses of a contact's card", async () => {
    const alice = await peerListeningOn('Alice', [])
    const mallory = await testPeer('Mallory')
    try {
      const port = (tcpTrap.server.address() as { port: number }).port
      const link = await cardNaming(mallory, [
        unixTrapAddr,
        tcpTrapAddr,
        '/ip4/169.254.7.7/tcp/4001',
        `/ip4/0.0.0.0/tcp/${port}`,
      ])
      const contact = await alice.messenger.addContact(link)
      await alice.messenger.send(contact.id, 'are you there?')
      // The outbox retries while Mallory seems away: give it time to try (and be refused).
      await pause(1_500)
      assert.deepEqual(alice.messenger.contact(contact.id).addrs, [], 'nothing dialable is kept')
      assert.equal(unixTrap.connections, 0, 'the Unix socket was never connected to')
      assert.equal(tcpTrap.connections, 0, 'the loopback port was never connected to')
      const peer = await alice.messenger.node.peerStore
        .get(peerIdFromString(contact.peerId))
        .catch(() => undefined)
      assert.deepEqual(peer?.addresses ?? [], [], 'the peer store holds none of them')
      const refused = alice.messenger.node.services.dialPolicy.refused()
      for (const why of ['unix', 'loopback', 'link-local', 'unspecified'] as const)
        assert.ok((refused[why] ?? 0) >= 1, `${why} counted`)
      // The gater refuses a direct dial too, before any socket opens.
      await assert.rejects(alice.messenger.node.dial(multiaddr(`${tcpTrapAddr}/p2p/${contact.peerId}`)))
      await assert.rejects(alice.messenger.node.dial(multiaddr(`${unixTrapAddr}/p2p/${contact.peerId}`)))
      assert.equal(unixTrap.connections + tcpTrap.connections, 0)
    } finally {
      await Promise.all([alice.stop(), mallory.stop()])
    }
  })

  it('an address update and identify keep loopback for a loopback peer, never /unix or link-local, at most 8', async () => {
    const alice = await testPeer('Alice')
    // Mallory also listens on a Unix socket, so identify announces it to Alice.
    const mallory = await peerListeningOn('Mallory', [
      '/ip4/127.0.0.1/tcp/0',
      `/unix/${encodeURIComponent(join(dir, 'mallory.sock'))}`,
    ])
    try {
      assert.ok(mallory.messenger.node.getMultiaddrs().some((a) => a.toString().startsWith('/unix/')))
      await alice.messenger.addContact(mallory.messenger.card().link)
      await mallory.messenger.addContact(alice.messenger.card().link)
      const cid = await eventually(
        () => alice.messenger.contactList().find((c) => c.state === 'accepted')?.id,
        15_000,
        'Alice and Mallory are contacts',
      )
      const malloryCid = await eventually(
        () => mallory.messenger.contactList().find((c) => c.state === 'accepted')?.id,
        15_000,
        'Mallory has Alice',
      )
      // identify ran on their connection: its /unix address never reached Alice's records.
      const stored = await alice.messenger.node.peerStore.get(
        peerIdFromString(mallory.messenger.whoami().peerId),
      )
      assert.ok(stored.addresses.length > 0, 'identify did store her loopback addresses')
      assert.ok(!stored.addresses.some((a) => a.multiaddr.toString().startsWith('/unix/')))

      const loopback = Array.from({ length: 12 }, (_, i) => `/ip4/127.0.0.1/tcp/${40_001 + i}`)
      const named = [unixTrapAddr, '/ip4/169.254.7.7/tcp/4001', '/ip6/fe80::7/tcp/4001', ...loopback]
      const core = coreOf(mallory.messenger)
      await core.queue.run(malloryCid, async () => {
        const tx = new Tx()
        await core.encryptToOutbox(tx, malloryCid, {
          kind: 'address-update',
          addrs: named.map((a) => multiaddr(a).bytes),
        })
        await core.commit(tx)
      })
      const addrs = await eventually(
        () => {
          const now = alice.messenger.contact(cid).addrs
          return now.includes(loopback[0]!) ? now : undefined
        },
        10_000,
        'the address update arrived',
      )
      assert.deepEqual(addrs, loopback.slice(0, MAX_CONTACT_ADDRS))
      await pause(500)
      assert.equal(unixTrap.connections, 0, 'the Unix socket was never connected to')
    } finally {
      await Promise.all([alice.stop(), mallory.stop()])
    }
  })
})
