/**
 * The mailbox, against direct delivery (one run, one machine):
 *   mailbox.drain_1000_ms   a returning peer (a sealed LevelDB store on disk) starting with 1,000
 *                           messages waiting at its home node (a LevelDB mailbox, fsynced as
 *                           `jiayi start --serve` keeps it) until all 1,000 are in its history;
 *                           the sender is offline meanwhile
 *   baseline                the same peer starting with the same 1,000 waiting in the sender's
 *                           outbox (no home node; the sender online), until all 1,000 are in
 * Medians of interleaved runs, each on fresh peers: both figures include the peer's start.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createJiayiNode,
  generateDeviceKey,
  homeLink,
  LevelStore,
  MailboxServer,
  MemoryStore,
  openSealedStore,
  randomBytes,
  type Store,
} from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { median, type RunningPeer, startPeer } from './bench-peer.js'
import { report } from './report.js'

const N = Number(process.env.MAILBOX_BENCH_N ?? 1000)
const ROUNDS = Number(process.env.MAILBOX_BENCH_ROUNDS ?? 3)

function log(message: string): void {
  process.stderr.write(`# ${message}\n`)
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A store on disk, sealed as the `jiayi` command keeps it; closed and removed by `done`. */
async function diskStore(): Promise<{ store: Store; dir: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-mailbox-bench-'))
  const store = await openSealedStore(await LevelStore.open(dir), { key: randomBytes(32) })
  return { store, dir, done: () => rm(dir, { recursive: true, force: true }) }
}

/** Alice offline with N messages from Bob waiting (at her home node, or in Bob's outbox); then her start. */
async function run(viaMailbox: boolean): Promise<number> {
  const cleanup: (() => Promise<void>)[] = []
  try {
    const aliceDisk = await diskStore()
    cleanup.push(aliceDisk.done)
    const bobStore = new MemoryStore()
    let alice: RunningPeer = await startPeer(aliceDisk.store, 'Alice')
    const bob: RunningPeer = await startPeer(bobStore, 'Bob')
    cleanup.push(() => bob.stop().catch(() => undefined))
    const bobAtAlice = await alice.messenger.addContact(bob.messenger.card().link)
    const aliceAtBob = await bob.messenger.addContact(alice.messenger.card().link)
    await until(
      () =>
        alice.messenger.contact(bobAtAlice.id).state === 'accepted' &&
        bob.messenger.contact(aliceAtBob.id).state === 'accepted',
      'accepted',
    )
    let server: MailboxServer | undefined
    if (viaMailbox) {
      const homeDir = await mkdtemp(join(tmpdir(), 'jiayi-mailbox-bench-home-'))
      const homeStore = await LevelStore.open(homeDir, { sync: true })
      const homeNode = await createJiayiNode({
        privateKey: await generateDeviceKey(),
        network: nodeNetwork({ mdns: false }),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        relayServer: false,
      })
      server = await MailboxServer.open({ node: homeNode, store: homeStore })
      cleanup.push(async () => {
        await server!.stop()
        await homeNode.stop()
        await homeStore.close()
        await rm(homeDir, { recursive: true, force: true })
      })
      await alice.messenger.addHomeNode(
        homeLink({ peerId: homeNode.peerId.toString(), addrs: homeNode.getMultiaddrs().map(String) }),
      )
      await until(() => server!.stats().depositors === 1, 'depositors')
      await until(() => bob.messenger.contactHome(aliceAtBob.id) !== undefined, 'home known')
    }
    await alice.messenger.settled()
    await bob.messenger.settled()
    await alice.stop()

    for (let i = 0; i < N; i++) await bob.messenger.send(aliceAtBob.id, `waiting ${i} 等一下`)
    const mine = async () =>
      (await bob.messenger.messages(aliceAtBob.id, { limit: N + 20, peek: true })).filter(
        (m) => m.direction === 'out' && m.text.startsWith('waiting '),
      )
    if (viaMailbox) {
      await until(async () => (await mine()).every((m) => m.status === 'stored'), 'stored').catch(
        async (error) => {
          const counts: Record<string, number> = {}
          for (const m of await mine()) counts[m.status] = (counts[m.status] ?? 0) + 1
          throw new Error(`${String(error)}: ${JSON.stringify(counts)}; ${JSON.stringify(server!.stats())}`)
        },
      )
      await bob.messenger.settled()
      await bob.stop()
    } else {
      await bob.messenger.settled()
    }

    const start = performance.now()
    alice = await startPeer(aliceDisk.store, 'Alice')
    cleanup.push(() => alice.stop())
    let got = 0
    alice.messenger.events.on('message', (e) => {
      if (e.change === 'new' && e.message.direction === 'in' && e.message.text.startsWith('waiting ')) got++
    })
    await until(() => got >= N, `${N} messages`)
    const ms = performance.now() - start
    const list = await alice.messenger.messages(bobAtAlice.id, { limit: N + 20, peek: true })
    const incoming = list.filter((m) => m.direction === 'in' && m.text.startsWith('waiting '))
    if (incoming.length !== N || incoming.some((m, i) => m.text !== `waiting ${i} 等一下`))
      throw new Error(`got ${incoming.length} messages, not ${N} in order`)
    if (viaMailbox) await until(() => server!.stats().items === 0, 'acknowledged')
    return ms
  } finally {
    for (const c of cleanup.reverse()) await c()
  }
}

const mailbox: number[] = []
const direct: number[] = []
for (let r = 0; r < ROUNDS; r++) {
  mailbox.push(await run(true))
  direct.push(await run(false))
  log(`round ${r + 1}: mailbox ${mailbox[r]!.toFixed(0)} ms, direct ${direct[r]!.toFixed(0)} ms`)
}
report({
  bench: 'mailbox.drain_1000_ms',
  value: median(mailbox),
  unit: 'ms',
  baseline: 'msg.direct_1000_on_return_ms',
  baselineValue: median(direct),
  rounds: ROUNDS,
  runs: mailbox.map((m) => Math.round(m)).join(' '),
  baselineRuns: direct.map((m) => Math.round(m)).join(' '),
})
process.exit(0)
