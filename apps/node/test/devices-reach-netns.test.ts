/**
 * Linking a device through the home node, in the small internet of network namespaces
 * (helpers/internet-netns.ts): Ann's laptop behind home router 1 holds a reservation on her home
 * node (public bridge); her new phone is behind home router 2. They share no LAN, and neither
 * router forwards a port, so the one way between them is the home node's relay.
 *
 * - The link `devices link` prints carries the laptop's circuit through the home node.
 * - `init --link` on the phone dials through it; the code is confirmed on the laptop; the phone
 *   ends up with Ann's identity, her contact Bob and her history.
 * - The history is larger than what one relayed connection may carry (4 MiB, relay-limits): the
 *   relay ends the connection and the handover continues on a new one (the phone says `resumed`).
 * - Bob (a contact on the public bridge) then writes to Ann: both devices get the message.
 *
 * Separate `jiayi` processes (`ip netns exec`); the namespaces go in after(), whatever happened.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeDeviceLink } from '@jiayi/core'
import { cleanup, eventually, jiayiJson, LineProcess, PeerProcess, tempHome } from './helpers/cli.js'
import type { ContactView } from './helpers/control.js'
import { createInternet, type Internet, internetUnavailable } from './helpers/internet-netns.js'
import { befriend, TestPeer } from './helpers/peers.js'

type Reach = { nat: string; relays: string[] }
type Shown = { id: string; text: string }

/** Above the relay's 4 MiB per connection: 300 texts of 16,000 bytes. */
const BIG_MESSAGES = 300
const BIG_TEXT_CHARS = 16_000
const NAT_ARGS = ['--listen', '/ip4/0.0.0.0/tcp/0', '--no-mdns']

describe('linking a device through the home node across NATs', { skip: internetUnavailable() }, () => {
  let net: Internet
  let homeNode: PeerProcess
  let ann: TestPeer
  let bob: TestPeer
  let phone: TestPeer | undefined
  let bobAtAnn = ''
  let annAtBob = ''
  const phoneHome = tempHome()
  const homePeer = () => homeNode.ready.peerId

  before(async () => {
    net = createInternet()
    const [h1] = net.homes
    ;[homeNode, ann, bob] = await Promise.all([
      tempHome().then((home) =>
        PeerProcess.start(home, ['--serve', '--listen', `/ip4/${net.pubIp}/tcp/4001`], {
          netns: net.pub,
          timeoutMs: 60_000,
        }),
      ),
      TestPeer.create('Ann', NAT_ARGS, { netns: h1.host, timeoutMs: 60_000 }),
      TestPeer.create('Bob', ['--listen', `/ip4/${net.pubIp}/tcp/4002`, '--no-mdns'], {
        netns: net.pub,
        timeoutMs: 60_000,
      }),
    ])
    const link = (homeNode.ready as unknown as { serveLink: string }).serveLink
    await jiayiJson(ann.home, ['home-node', 'add', link])
    await eventually(
      async () => (await ann.control.call<{ reach: Reach }>('stats')).reach.relays.includes(homePeer()),
      30_000,
      'the laptop holds a reservation on the home node',
    )
    ;({ bAtA: bobAtAnn, aAtB: annAtBob } = await befriend(ann, bob))
    // Ann's history: more than one relayed connection carries.
    const filler = 'x'.repeat(BIG_TEXT_CHARS - 'big 0000 '.length)
    for (let i = 0; i < BIG_MESSAGES; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, BIG_MESSAGES - i) }, (_, j) =>
          ann.control.send(bobAtAnn, `big ${String(i + j).padStart(4, '0')} ${filler}`),
        ),
      )
    }
  })

  after(async () => {
    await Promise.all(
      [phone?.stop(), ann?.stop(), bob?.stop(), homeNode?.stop()].map((p) => p?.catch(() => undefined)),
    )
    await cleanup()
    net?.remove()
  })

  it('the phone behind another NAT links through the home node; the history crosses the relay in parts', {
    timeout: 180_000,
  }, async () => {
    const offer = new LineProcess(ann.home, ['devices', 'link'])
    const first = await offer.waitFor((l) => typeof l.link === 'string')
    const circuit = `/ip4/${net.pubIp}/tcp/4001/p2p/${homePeer()}/p2p-circuit`
    assert.ok(
      decodeDeviceLink(String(first.link)).addrs.includes(circuit),
      'the link carries the laptop’s circuit through its home node',
    )
    const joiner = new LineProcess(
      await phoneHome,
      ['init', '--link', String(first.link), '--name', 'Phone', '--history', 'all'],
      { netns: net.homes[1].host },
    )
    const shown = await joiner.waitFor((l) => l.event === 'code', 30_000)
    const onLaptop = await offer.waitFor((l) => l.event === 'code', 30_000)
    assert.equal(onLaptop.code, shown.code, 'both devices show the same code')
    offer.type(String(shown.code))
    await offer.waitFor((l) => l.event === 'linked', 150_000)
    const me = await joiner.waitFor((l) => typeof l.peerId === 'string' && l.event === undefined, 30_000)
    assert.equal(await offer.exited, 0, offer.stderr)
    assert.equal(await joiner.exited, 0, joiner.stderr)
    assert.equal(me.name, 'Ann')
    assert.ok(
      offer.lines.some((l) => l.event === 'progress'),
      'the laptop shows the handover’s progress',
    )
    const resumed = joiner.lines.filter((l) => l.event === 'resumed')
    assert.ok(resumed.length >= 1, 'the relay ended a connection and the handover went on on a new one')
    const progress = joiner.lines.filter((l) => l.event === 'progress')
    const last = progress[progress.length - 1]!
    assert.equal(last.done, last.total, 'every record arrived')
    // Each part started where the one before stopped: no record twice, none left out.
    for (const r of resumed) assert.ok(Number(r.done) > 0 && Number(r.done) < Number(last.total))
    const whoAnn = await ann.control.call<{ identityKey: string }>('whoami')
    const whoPhone = await jiayiJson<{ identityKey: string }>(await phoneHome, ['whoami'])
    assert.equal(whoPhone.identityKey, whoAnn.identityKey, 'the phone holds Ann’s identity')
  })

  it('the phone holds Bob and the whole history; Bob’s message reaches both devices', {
    timeout: 120_000,
  }, async () => {
    phone = await TestPeer.startOn('Ann (phone)', await phoneHome, NAT_ARGS, {
      netns: net.homes[1].host,
      timeoutMs: 60_000,
    })
    const bobAtPhone = (await phone.control.contacts()).find((c: ContactView) => c.peerId === bob.peerId)
    assert.equal(bobAtPhone?.state, 'accepted', 'Bob is the phone’s contact too')
    // In pages: one control reply carries at most 1 MiB.
    const history: Shown[] = []
    for (;;) {
      const page = await phone.control.call<Shown[]>('messages', {
        contact: bobAtPhone.id,
        limit: 40,
        peek: true,
        ...(history.length === 0 ? {} : { before: history[0]!.id }),
      })
      history.unshift(...page)
      if (page.length < 40) break
    }
    const big = history.filter((m) => m.text.startsWith('big '))
    assert.equal(big.length, BIG_MESSAGES, 'every message of the history')
    assert.equal(new Set(big.map((m) => m.text.slice(0, 8))).size, BIG_MESSAGES, 'none twice')
    assert.ok(
      big.every((m) => m.text.length === BIG_TEXT_CHARS),
      'each message whole',
    )

    // Bob hears of the new device list, then writes once; each of Ann's devices gets it.
    const sent = await bob.control.send(annAtBob, 'hello to both of your devices')
    const got = (peer: TestPeer, contact: string) => async () =>
      (await peer.control.call<Shown[]>('messages', { contact, limit: 5, peek: true })).some(
        (m) => m.text === sent.text,
      )
    await eventually(got(ann, bobAtAnn), 60_000, 'Bob’s message on the laptop')
    await eventually(got(phone, bobAtPhone.id), 60_000, 'Bob’s message on the phone')
  })
})
