/**
 * UPnP port mapping (DESIGN "Reach"), in the namespace internet (helpers/internet-netns.ts):
 * Alice behind home router 1, which runs a UPnP IGD (helpers/fake-igd.ts: SSDP, the device
 * description, the WANIPConnection:2 SOAP actions, real iptables DNAT rules); Bob behind home
 * router 2, which runs none (it hears the M-SEARCH and stays silent); Carol on the public bridge.
 * Each is a separate `jiayi` process (`ip netns exec`), UPnP on by default.
 *
 * - Alice's peer maps its port on her router; `reach.mapped` and her card carry the router's
 *   public address, and `nat` says `public`.
 * - Carol, on the internet, adds Alice's card, dials that address and they chat `direct`.
 * - Bob's peer finds no router: no mapping, no warning or error in its log, little CPU.
 * - `--no-upnp`: no M-SEARCH at all.
 * - A router that says its public address is a private one (a second NAT, or a liar): no
 *   mapping, no such address listed.
 * - Alice stops: her peer deletes the mapping (DeletePortMapping) and the DNAT rule is gone.
 *
 * The namespaces (and every veth, iptables rule and the IGDs in them) go in after().
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanup, eventually } from './helpers/cli.js'
import type { ContactView, MessageView as View } from './helpers/control.js'
import { FakeIgd } from './helpers/fake-igd.js'
import { createInternet, type Internet, internetUnavailable } from './helpers/internet-netns.js'
import { TestPeer } from './helpers/peers.js'

type MessageView = View & { readonly route?: string }
type Reach = { nat: string; relays: string[]; mapped: string[] }

const ANY = ['--listen', '/ip4/0.0.0.0/tcp/0', '--no-mdns', '--no-web']

/** CPU seconds (user + system) the process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

describe('UPnP port mapping on a home router', { skip: internetUnavailable() }, () => {
  let net: Internet
  let igd: FakeIgd
  let silent: FakeIgd
  let alice: TestPeer
  let bob: TestPeer
  let carol: TestPeer
  let alicePort: number
  let mappedAddr: string

  before(async () => {
    net = createInternet()
    const [h1, h2] = net.homes
    ;[igd, silent] = await Promise.all([FakeIgd.start(h1), FakeIgd.start(h2, { mode: 'silent' })])
    ;[alice, bob, carol] = await Promise.all([
      TestPeer.create('Alice', ANY, { netns: h1.host }),
      TestPeer.create('Bob', ANY, { netns: h2.host }),
      TestPeer.create('Carol', ['--listen', `/ip4/${net.pubIp}/tcp/4001`, '--no-mdns', '--no-web'], {
        netns: net.pub,
      }),
    ])
    const tcp = alice.proc.ready.addrs.find(
      (a) => a.startsWith(`/ip4/${h1.hostIp}/tcp/`) && !a.includes('/ws'),
    )
    alicePort = Number(tcp?.match(/\/tcp\/(\d+)/)?.[1])
    assert.ok(alicePort > 0, alice.proc.ready.addrs.join(' '))
  })

  after(async () => {
    await Promise.all([alice, bob, carol].map((p) => p?.stop().catch(() => undefined)))
    await Promise.all([igd, silent].map((i) => i?.stop().catch(() => undefined)))
    await cleanup()
    net?.remove()
  })

  const reachOf = async (peer: TestPeer) => (await peer.control.call<{ reach: Reach }>('stats')).reach
  const incoming = async (peer: TestPeer, contact: string, id: string) =>
    (await peer.control.call<MessageView[]>('messages', { contact, limit: 100, peek: true })).find(
      (m) => m.id === id,
    )

  it("Alice's peer maps its port on her router and lists the public address", async () => {
    const [h1] = net.homes
    const add = await igd.waitFor(
      (e) => e.event === 'add' && e.protocol === 'TCP' && e.internalPort === alicePort,
      30_000,
    )
    assert.equal(add.client, h1.hostIp)
    // The router's list names the app, never the peer id (anyone on the LAN can read it).
    assert.equal(add.description, 'jiayi')
    mappedAddr = `/ip4/${h1.publicIp}/tcp/${add.externalPort}`
    assert.ok(
      igd
        .dnatRules()
        .some((r) => r.includes(`--dport ${add.externalPort} `) && r.includes(`${h1.hostIp}:${alicePort}`)),
      igd.dnatRules().join('\n'),
    )
    const reach = await eventually(
      async () => {
        const r = await reachOf(alice)
        return r.mapped.includes(mappedAddr) ? r : undefined
      },
      20_000,
      'the mapped address in reach',
    )
    assert.equal(reach.nat, 'public')
    const card = await alice.control.call<{ addrs: string[] }>('card')
    assert.ok(card.addrs.includes(mappedAddr), card.addrs.join(' '))
    // A script watching `start --json` learns it too: the ready line came before the mapping
    // (the router is searched for once the peer runs), so a `reach` event follows with it.
    assert.deepEqual(alice.proc.ready.reach.mapped, [])
    const event = (await alice.proc.waitFor(
      (l) => l.event === 'reach' && (l.reach as Reach).mapped.includes(mappedAddr),
      10_000,
    )) as { reach: Reach & { homeNode: unknown } }
    assert.equal(event.reach.nat, 'public')
    assert.ok('homeNode' in event.reach)
  })

  it('Carol, on the internet, dials the mapped address and they chat directly', async () => {
    const aliceAtCarol = (await carol.control.call<ContactView>('addContact', { link: await alice.card() }))
      .id
    const carolAtAlice = await eventually(
      async () => (await alice.control.contacts()).find((c) => c.peerId === carol.peerId)?.id,
      30_000,
      'the request at Alice',
    )
    await alice.control.call('accept', { contact: carolAtAlice })
    await eventually(
      async () => (await carol.control.contacts()).find((c) => c.id === aliceAtCarol)?.state === 'accepted',
      30_000,
      'accepted',
    )
    const sent = await carol.control.send(aliceAtCarol, 'hello through your router')
    const got = await eventually(() => incoming(alice, carolAtAlice, sent.id), 30_000, 'message at Alice')
    assert.equal(got.route, 'direct')
    const back = await alice.control.send(carolAtAlice, 'hello from behind it')
    const gotBack = await eventually(() => incoming(carol, aliceAtCarol, back.id), 30_000, 'reply at Carol')
    assert.equal(gotBack.route, 'direct')
    // Carol reached Alice at her router's public address: the DNAT rule UPnP installed.
    const conn = await carol.control.call<{ route: string; remoteAddr: string } | null>('connection', {
      contact: aliceAtCarol,
    })
    assert.equal(conn?.route, 'direct')
    assert.ok(conn?.remoteAddr.startsWith(`${mappedAddr}/`), conn?.remoteAddr)
  })

  it("Bob's router answers no M-SEARCH: no mapping, nothing logged as wrong, little CPU", async () => {
    await silent.waitFor((e) => e.event === 'm-search' && e.from === net.homes[1].hostIp, 20_000)
    const before = await cpuSeconds(bob.pid)
    await sleep(3_000)
    const used = (await cpuSeconds(bob.pid)) - before
    assert.ok(used < 1, `CPU seconds over 3 s: ${used}`)
    const reach = await reachOf(bob)
    assert.deepEqual(reach.mapped, [])
    assert.notEqual(reach.nat, 'public')
    assert.deepEqual(silent.dnatRules(), [])
    const log = await readFile(join(bob.home, 'jiayi.log'), 'utf8')
    assert.doesNotMatch(log, / (WARN|ERROR) /)
  })

  it('with --no-upnp the peer sends no M-SEARCH', async () => {
    const [, h2] = net.homes
    await bob.stop()
    const heard = silent.events.length
    await bob.restart([...ANY, '--no-upnp'])
    // A peer with UPnP searches at once; this one, given the same time, does not.
    await sleep(2_000)
    assert.deepEqual(
      silent.events.slice(heard).filter((e) => e.event === 'm-search' && e.from === h2.hostIp),
      [],
    )
  })

  it('a router that says its public address is a private one gets no mapping, and is not believed', async () => {
    const [, h2] = net.homes
    await bob.stop()
    await silent.stop()
    const liar = await FakeIgd.start(h2, { mode: 'private' })
    try {
      await bob.restart(ANY)
      await liar.waitFor((e) => e.event === 'external-ip', 20_000)
      // libp2p maps 5 s after it found the router, once it knows the external address: given
      // that and more, no mapping is asked for and no address is listed.
      await sleep(7_000)
      assert.deepEqual(
        liar.events.filter((e) => e.event === 'add'),
        [],
      )
      const reach = await reachOf(bob)
      assert.deepEqual(reach.mapped, [])
      assert.ok(
        !(await bob.control.call<{ addrs: string[] }>('card')).addrs.some((a) => a.includes('10.99.')),
      )
      const log = await readFile(join(bob.home, 'jiayi.log'), 'utf8')
      assert.doesNotMatch(log, / (WARN|ERROR) /)
    } finally {
      await liar.stop()
    }
  })

  it('Alice stops: her peer deletes the mapping and the rule is gone', async () => {
    await alice.stop()
    const gone = await igd.waitFor((e) => e.event === 'delete' && e.internalPort === alicePort, 10_000)
    assert.equal(gone.client, net.homes[0].hostIp)
    assert.deepEqual(
      igd.dnatRules().filter((r) => r.includes(`${net.homes[0].hostIp}:${alicePort}`)),
      [],
    )
    // Mapping, refreshing the external address and unmapping: nothing the peer logged as wrong.
    const log = await readFile(join(alice.home, 'jiayi.log'), 'utf8')
    assert.doesNotMatch(log, / (WARN|ERROR) /)
  })
})
