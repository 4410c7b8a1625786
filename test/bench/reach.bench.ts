/**
 * Reach beyond one LAN, in the namespace internet of apps/node/test/reach-netns.test.ts (a home
 * node on the public bridge; Alice and Bob behind two MASQUERADE routers, Alice's port forwarded
 * and announced; `jiayi` processes in the namespaces). Root only (namespaces); otherwise it prints
 * a skip line.
 *
 * - reach.first_message_relayed_ms: Alice adds Bob's card (which names only his LAN address and
 *   the circuit through his home node) and sends at once; Bob accepts her request as soon as it
 *   shows; until Bob has the message. Baseline:
 *   the same between two peers on one LAN (both on the bridge, direct TCP).
 * - reach.upgrade_direct_ms: from Alice's contact first showing `relayed` (polled from the card
 *   add) until it shows `direct` (DCUtR's connection); `directMessageMs` is the card add to the
 *   arrival of a message sent then, with its route. Baseline: the LAN first message.
 *
 * One pair per figure (a card is added once); the state is polled every POLL_MS through the
 * control socket, which bounds the resolution.
 */
import { cleanup, eventually, PeerProcess, tempHome } from '../../apps/node/test/helpers/cli.js'
import type { MessageView } from '../../apps/node/test/helpers/control.js'
import { createInternet, internetUnavailable } from '../../apps/node/test/helpers/internet-netns.js'
import { TestPeer } from '../../apps/node/test/helpers/peers.js'
import { report } from './report.js'

const POLL_MS = 10
type ContactView = { id: string; peerId: string; state: string; reach: string }

async function poll<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

const contactOf = async (peer: TestPeer, peerId: string) =>
  (await peer.control.call<ContactView[]>('contactList')).find((c) => c.peerId === peerId)

/** Alice adds Bob's card and sends at once: ms until Bob has the message, and its route. */
async function firstMessage(
  alice: TestPeer,
  bob: TestPeer,
): Promise<{ ms: number; route: string; startedAt: number }> {
  const card = await bob.card()
  const t0 = performance.now()
  const atAlice = await alice.control.call<ContactView>('addContact', { link: card })
  const sent = await alice.control.send(atAlice.id, 'first')
  const got = await poll(
    async () => {
      const c = await contactOf(bob, alice.peerId)
      if (c === undefined) return undefined
      // A request's messages show once it is accepted: Bob accepts as soon as it is there.
      if (c.state === 'pending-in') await bob.control.call('accept', { contact: c.id })
      const list = await bob.control.call<(MessageView & { route?: string })[]>('messages', {
        contact: c.id,
        limit: 10,
        peek: true,
      })
      return list.find((m) => m.id === sent.id)
    },
    60_000,
    'first message',
  )
  return { ms: performance.now() - t0, route: got.route ?? 'unknown', startedAt: t0 }
}

const why = internetUnavailable()
if (why !== undefined) {
  process.stdout.write(`${JSON.stringify({ bench: 'reach', skipped: why })}\n`)
  process.exit(0)
}

const net = createInternet()
const running: { stop(): Promise<unknown> }[] = []
try {
  const [h1, h2] = net.homes
  const port = 4101
  net.forward(h1, port)
  const home = await PeerProcess.start(
    await tempHome(),
    ['--serve', '--listen', `/ip4/${net.pubIp}/tcp/4001`],
    {
      netns: net.pub,
    },
  )
  running.push(home)
  const alice = await TestPeer.create(
    'Alice',
    ['--listen', `/ip4/0.0.0.0/tcp/${port}`, '--no-mdns', '--announce', `/ip4/${h1.publicIp}/tcp/${port}`],
    { netns: h1.host },
  )
  running.push(alice)
  const bob = await TestPeer.create('Bob', ['--listen', '/ip4/0.0.0.0/tcp/0', '--no-mdns'], {
    netns: h2.host,
  })
  running.push(bob)
  const lanA = await TestPeer.create('Ann', ['--listen', `/ip4/${net.pubIp}/tcp/0`, '--no-mdns'], {
    netns: net.pub,
  })
  running.push(lanA)
  const lanB = await TestPeer.create('Ben', ['--listen', `/ip4/${net.pubIp}/tcp/0`, '--no-mdns'], {
    netns: net.pub,
  })
  running.push(lanB)

  const link = (home.ready as unknown as { serveLink: string }).serveLink
  await bob.control.call('addHomeNode', { link })
  await eventually(
    async () =>
      (await bob.control.call<{ reach: { relays: string[] } }>('stats')).reach.relays.includes(
        home.ready.peerId,
      ),
    30_000,
    'reservation',
  )

  const lan = await firstMessage(lanA, lanB)
  // Alice's view of Bob from the card add on: when the relayed connection shows, when the direct.
  const seen: { relayed?: number; direct?: number } = {}
  let watching = true
  const watcher = (async () => {
    while (watching && seen.direct === undefined) {
      const r = (await contactOf(alice, bob.peerId).catch(() => undefined))?.reach
      if (r === 'relayed') seen.relayed ??= performance.now()
      if (r === 'direct') seen.direct = performance.now()
      await new Promise((res) => setTimeout(res, POLL_MS))
    }
  })()
  const relayed = await firstMessage(alice, bob)
  const bobAtAlice = (await contactOf(alice, bob.peerId))!.id
  await poll(async () => seen.direct, 60_000, 'direct')
  watching = false
  await watcher
  const sent = await alice.control.send(bobAtAlice, 'direct now')
  const aliceAtBob = (await contactOf(bob, alice.peerId))!.id
  const got = await poll(
    async () =>
      (
        await bob.control.call<(MessageView & { route?: string })[]>('messages', {
          contact: aliceAtBob,
          limit: 10,
          peek: true,
        })
      ).find((m) => m.id === sent.id),
    30_000,
    'direct message',
  )
  const arrived = performance.now()
  // From the relayed connection showing (else the card add) to the direct one showing.
  const upgradeMs = seen.direct! - (seen.relayed ?? relayed.startedAt)

  report({
    bench: 'reach.first_message_relayed_ms',
    value: relayed.ms,
    unit: 'ms',
    baseline: 'reach.first_message_lan_ms',
    baselineValue: lan.ms,
    route: relayed.route,
    lanRoute: lan.route,
  })
  report({
    bench: 'reach.upgrade_direct_ms',
    value: upgradeMs,
    unit: 'ms',
    baseline: 'reach.first_message_lan_ms',
    baselineValue: lan.ms,
    sawRelayed: seen.relayed !== undefined,
    /** Card add to the arrival of a message sent once the contact showed direct. */
    directMessageMs: arrived - relayed.startedAt,
    route: (got as { route?: string }).route ?? 'unknown',
  })
} finally {
  await Promise.all(running.map((r) => r.stop().catch(() => undefined)))
  await cleanup()
  net.remove()
}
