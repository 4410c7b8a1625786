/**
 * Nothing acknowledged is lost across restarts, through real `jiayi start` processes on 127.0.0.1:
 * - the restart race: B stopped, 200 queued on A, A stopped (SIGTERM), B then A started, and 20
 *   sent the moment A is ready. Every send acknowledged is in A's history once, reaches B exactly
 *   once in order, and settles to `delivered` with an empty outbox. (Two messages were once given
 *   the same number when a send and the starting delivery loaded a conversation's counters at the
 *   same moment.)
 * - a model run: random sends, clean restarts and kill -9 of either peer (fast-check), against a
 *   model of what was acknowledged. Afterwards every acknowledged message is in A's history and at
 *   B exactly once, in the order sent; whatever was in flight at a kill arrives at most once.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { cleanup, eventually } from './helpers/cli.js'
import { type MessageView, sendMany } from './helpers/control.js'
import { befriend, numbered, TestPeer } from './helpers/peers.js'

let a: TestPeer
let b: TestPeer
let bAtA: string
let aAtB: string

/** B always comes back on its first port, so A, which restarts on new ports, can find it. */
let bListen: string[]

before(async () => {
  ;[a, b] = await Promise.all([TestPeer.create('Alice'), TestPeer.create('Bob')])
  ;({ bAtA, aAtB } = await befriend(a, b))
  const port = /\/tcp\/(\d+)/.exec(b.proc.ready.addrs.find((x) => x.includes('/tcp/')) ?? '')?.[1]
  assert.ok(port !== undefined, "B's TCP port")
  bListen = ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns']
})

after(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await cleanup()
})

async function texts(peer: TestPeer, contact: string, direction: 'in' | 'out', prefix: string) {
  const all = await peer.control.call<MessageView[]>('messages', { contact, limit: 10_000, peek: true })
  return all.filter((m) => m.direction === direction && m.text.startsWith(prefix))
}

/** Waits until B holds `expected` (by id, in order, once each) and A shows each as delivered. */
async function converged(prefix: string, expected: readonly MessageView[], label: string): Promise<void> {
  const want = expected.map((m) => m.id)
  const got = await eventually(
    async () => {
      const list = await texts(b, aAtB, 'in', prefix)
      return list.length >= want.length ? list : undefined
    },
    60_000,
    `${label}: all at B`,
  )
  // Anything late would be a duplicate.
  await new Promise((r) => setTimeout(r, 500))
  const final = await texts(b, aAtB, 'in', prefix)
  assert.equal(new Set(final.map((m) => m.id)).size, final.length, `${label}: no message twice at B`)
  assert.deepEqual(
    final.map((m) => m.id),
    want,
    `${label}: every acknowledged message at B once, in order (got ${got.length})`,
  )
  await eventually(
    async () => {
      const out = await texts(a, bAtA, 'out', prefix)
      return out.length === want.length && out.every((m) => m.status === 'delivered')
    },
    30_000,
    `${label}: A's statuses settle to delivered`,
  )
  await eventually(
    async () => (await a.control.call<number>('outboxSize', { contact: bAtA })) === 0,
    30_000,
    `${label}: A's outbox drains`,
  )
}

for (let round = 1; round <= 3; round++) {
  test(`restart race, round ${round}: 200 queued, both restarted, 20 sent the moment A is ready`, {
    timeout: 120_000,
  }, async () => {
    const prefix = `race${round}`
    assert.equal(await b.stop(), 0)
    const queued = await sendMany(a.control, bAtA, numbered(`${prefix} q`, 200), { window: 32 })
    assert.equal(queued.error, undefined)
    assert.equal(await a.stop(), 0, 'A stops cleanly')
    await b.restart(bListen)
    await a.restart()
    const burst = await sendMany(a.control, bAtA, numbered(`${prefix} r`, 20), { window: 20 })
    assert.equal(burst.error, undefined)
    const acknowledged = [...queued.sent, ...burst.sent]
    const history = await texts(a, bAtA, 'out', prefix)
    assert.equal(new Set(history.map((m) => m.id)).size, history.length, 'no message twice at A')
    assert.deepEqual(
      history.map((m) => m.id).sort(),
      acknowledged.map((m) => m.id).sort(),
      "every acknowledged send is in A's history",
    )
    await converged(`${prefix} q`, queued.sent, 'queued')
    await converged(`${prefix} r`, burst.sent, 'sent after the restart')
  })
}

test('receipts a crash of the receiver kept from leaving go out after its restart', {
  timeout: 120_000,
}, async () => {
  const prefix = 'receipts'
  const seen = b.proc.lines.length
  const arrived = () =>
    b.proc.lines
      .slice(seen)
      .filter((l) => l.event === 'message' && l.change === 'new' && l.direction === 'in').length
  // A first message makes B send a receipt; the receipts of a burst right after it then wait in
  // memory for company (up to 250 ms), and B is killed on the line of the burst's last arrival:
  // every message stored and acknowledged, their receipts not yet in the outbox.
  const [warm] = (await sendMany(a.control, bAtA, [`${prefix} warm`])).sent
  await b.proc.waitFor(() => arrived() >= 1, 30_000)
  const sending = sendMany(a.control, bAtA, numbered(`${prefix} burst`, 30), { window: 30 })
  await b.proc.waitFor(() => arrived() >= 31, 30_000)
  await b.kill()
  const { sent, error } = await sending
  assert.equal(error, undefined)
  const statuses = (await texts(a, bAtA, 'out', prefix)).map((m) => m.status)
  const delivered = statuses.filter((s) => s === 'delivered').length
  console.log(`# at the kill, A's statuses: ${delivered} of 31 delivered`)
  await b.restart(bListen)
  await converged(prefix, [warm!, ...sent], 'after the receiver crashed')
})

type Step =
  | { readonly kind: 'send'; readonly n: number }
  | { readonly kind: 'restart'; readonly who: 'a' | 'b' }
  | { readonly kind: 'kill'; readonly who: 'a' | 'b'; readonly afterAcks: number }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), n: fc.integer({ min: 1, max: 60 }) }),
  fc.record({ kind: fc.constant('restart' as const), who: fc.constantFrom('a' as const, 'b' as const) }),
  fc.record({
    kind: fc.constant('kill' as const),
    who: fc.constantFrom('a' as const, 'b' as const),
    afterAcks: fc.integer({ min: 0, max: 40 }),
  }),
)

test('a model run: sends, restarts and kills in random order lose nothing acknowledged', {
  timeout: 600_000,
}, async () => {
  let run = 0
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 3, maxLength: 6 }), async (steps) => {
      run++
      const prefix = `model${run}:`
      // The model: what A acknowledged, in order; and what was in flight when A was killed.
      const acknowledged: MessageView[] = []
      let counter = 0
      const next = (n: number) => numbered(`${prefix} ${counter++}`, n)
      for (const step of steps) {
        if (step.kind === 'send') {
          const { sent, error } = await sendMany(a.control, bAtA, next(step.n), { window: 16 })
          assert.equal(error, undefined)
          acknowledged.push(...sent)
        } else if (step.kind === 'restart') {
          const peer = step.who === 'a' ? a : b
          assert.equal(await peer.stop(), 0)
          await peer.restart(peer === b ? bListen : undefined)
        } else {
          // A peer dies mid-burst, at A's `afterAcks`th acknowledgement. If it is B, A goes on
          // accepting sends; if it is A, the burst ends with the connection.
          const victim = step.who === 'a' ? a : b
          let killed: Promise<void> | undefined
          const acked: MessageView[] = []
          await sendMany(a.control, bAtA, next(step.afterAcks + 40), {
            window: 16,
            onSent: (m) => {
              acked.push(m)
              if (acked.length > step.afterAcks) killed ??= victim.kill()
            },
          })
          killed ??= victim.kill()
          await killed
          await victim.restart(victim === b ? bListen : undefined)
          // On A's disk now: every send acknowledged before the kill, and perhaps some that were
          // in flight (never acknowledged, so they count from here on as any other).
          const known = new Set(acknowledged.map((m) => m.id))
          const fresh = (await texts(a, bAtA, 'out', prefix)).filter((m) => !known.has(m.id))
          const freshIds = new Set(fresh.map((m) => m.id))
          for (const m of acked)
            assert.ok(freshIds.has(m.id), 'a send acknowledged before the kill survives it')
          acknowledged.push(...fresh)
        }
      }
      const history = await texts(a, bAtA, 'out', prefix)
      assert.deepEqual(
        history.map((m) => m.id),
        acknowledged.map((m) => m.id),
        "A's history is what was acknowledged, in order, once each",
      )
      await converged(prefix, acknowledged, `model run ${run}`)
    }),
    { numRuns: 4, endOnFailure: true },
  )
})
