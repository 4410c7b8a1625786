/**
 * mDNS between two `jiayi start` processes: the only test here that runs with discovery on.
 * Each peer listens on 127.0.0.1 only, and mDNS uses a random service tag and UDP port
 * (`--mdns-tag`, `--mdns-port`, hidden options for tests), in a network namespace of the test's
 * own whose only interface is a loopback that carries multicast (scripts/test.mjs makes it).
 *
 * The cards carry no address at all: they are made before either peer ever ran (`jiayi card`
 * with no peer running and no previous run), so only discovery can bring the peers together.
 * Then both restart on new ports, B first while A holds queued messages, and those still arrive.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayiJson, tempHome } from './helpers/cli.js'
import { numbered, TestPeer } from './helpers/peers.js'

// @jiayi-test own-network-namespace: scripts/test.mjs runs this file inside a network namespace of
// its own, whose loopback carries multicast, so no packet reaches this machine's real interfaces.
before(() => {
  assert.ok(
    process.env.JIAYI_TEST_NETNS,
    'run this file through scripts/test.mjs (its own network namespace)',
  )
})

const tag = `_jiayi-test-${randomBytes(4).toString('hex')}._udp.local`
const MDNS = [
  '--listen',
  '/ip4/127.0.0.1/tcp/0',
  '--mdns-tag',
  tag,
  '--mdns-port',
  String(randomInt(20_000, 60_000)),
  '--mdns-interval',
  '500',
]

interface Card {
  link: string
  addrs: string[]
  live: boolean
}

let a: TestPeer
let b: TestPeer
let cardA: Card
let cardB: Card

before(async () => {
  const [ha, hb] = await Promise.all([tempHome(), tempHome()])
  await Promise.all([
    jiayiJson(ha, ['init', '--name', 'Ann 安']),
    jiayiJson(hb, ['init', '--name', 'Ben 本']),
  ])
  ;[cardA, cardB] = await Promise.all([jiayiJson<Card>(ha, ['card']), jiayiJson<Card>(hb, ['card'])])
  ;[a, b] = await Promise.all([TestPeer.startOn('Ann', ha, MDNS), TestPeer.startOn('Ben', hb, MDNS)])
})

after(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await cleanup()
})

test('two peers find each other with no addresses given', { timeout: 60_000 }, async () => {
  assert.deepEqual(cardA.addrs, [], 'a card made before the first start has no address')
  assert.deepEqual(cardB.addrs, [])
  assert.equal(cardA.live, false)
  const bAtA = await a.control.call<{ id: string }>('addContact', { link: cardB.link })
  await b.control.call('addContact', { link: cardA.link })
  await eventually(
    async () =>
      (await a.contact(b.peerId))?.state === 'accepted' && (await b.contact(a.peerId))?.state === 'accepted',
    30_000,
    'both accepted (found through mDNS)',
  )
  const hello = await a.control.send(bAtA.id, 'found you 找到你了 📡')
  const aAtB = (await b.contact(a.peerId))!.id
  await eventually(
    async () => (await b.control.messages(aAtB)).some((m) => m.id === hello.id),
    15_000,
    'the first message',
  )
})

test('both restart on new ports; messages queued meanwhile still arrive', { timeout: 90_000 }, async () => {
  const bAtA = (await a.contact(b.peerId))!.id
  const aAtB = (await b.contact(a.peerId))!.id
  const oldA = a.proc.ready.addrs
  const oldB = b.proc.ready.addrs
  assert.equal(await b.stop(), 0)
  const texts = numbered('while away', 5)
  const queued = []
  for (const t of texts) queued.push(await a.control.send(bAtA, t))
  assert.deepEqual(
    queued.map((m) => m.status),
    texts.map(() => 'queued'),
  )
  // A goes too, so neither knows where the other listens now: only mDNS can tell them.
  assert.equal(await a.stop(), 0)
  await b.restart()
  await a.restart()
  assert.notDeepEqual(a.proc.ready.addrs, oldA)
  assert.notDeepEqual(b.proc.ready.addrs, oldB)

  const got = await eventually(
    async () => {
      const list = (await b.control.messages(aAtB)).filter((m) => m.text.startsWith('while away'))
      return list.length >= texts.length ? list : undefined
    },
    30_000,
    'the queued messages at B',
  )
  assert.deepEqual(
    got.map((m) => m.text),
    texts,
  )
  assert.deepEqual(
    got.map((m) => m.id),
    queued.map((m) => m.id),
  )
})
