/**
 * Delivery through real `jiayi start` processes on 127.0.0.1 when peers go away:
 * - offline: B stopped, A sends 50 (all queued); B restarts (on a new port) and gets all 50 once,
 *   in order; A's statuses reach delivered;
 * - crash of the receiver: kill -9 B during a 500-message burst from A, restart B: 500/500
 *   exactly once, in order;
 * - crash of the sender: kill -9 A during a burst: every send acknowledged to the client arrives
 *   exactly once, in order; what was in flight may or may not arrive, never twice; what A holds
 *   after its restart is exactly what B gets.
 * Bulk sends go through A's control socket, pipelined.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { cleanup, eventually } from './helpers/cli.js'
import { type MessageView, sendMany } from './helpers/control.js'
import { befriend, numbered, TestPeer } from './helpers/peers.js'

let a: TestPeer
let b: TestPeer
/** B's contact id at A, and A's at B. */
let bAtA: string
let aAtB: string

before(async () => {
  ;[a, b] = await Promise.all([TestPeer.create('Alice'), TestPeer.create('Bob 鲍勃')])
  ;({ bAtA, aAtB } = await befriend(a, b))
})

after(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await cleanup()
})

/** B's incoming messages whose text starts with `prefix`, in B's order. */
async function incoming(prefix: string): Promise<MessageView[]> {
  return (await b.control.messages(aAtB)).filter((m) => m.direction === 'in' && m.text.startsWith(prefix))
}

function assertExactlyOnceInOrder(got: readonly MessageView[], expected: readonly string[]): void {
  assert.equal(new Set(got.map((m) => m.id)).size, got.length, 'no message id twice')
  assert.deepEqual(
    got.map((m) => m.text),
    expected,
    'every message once, in the order sent',
  )
}

test('offline: 50 messages queued while B is stopped arrive once, in order, after B restarts', {
  timeout: 60_000,
}, async () => {
  const oldAddrs = b.proc.ready.addrs
  assert.equal(await b.stop(), 0)
  const texts = numbered('offline', 50)
  const { sent, error } = await sendMany(a.control, bAtA, texts, { window: 16 })
  assert.equal(error, undefined)
  assert.deepEqual(
    sent.map((m) => m.status),
    texts.map(() => 'queued'),
  )
  assert.equal(await a.control.call('outboxSize', { contact: bAtA }), 50)

  await b.restart()
  assert.notDeepEqual(b.proc.ready.addrs, oldAddrs, 'B came back on a new port')
  const got = await eventually(
    async () => {
      const list = await incoming('offline')
      return list.length >= 50 ? list : undefined
    },
    30_000,
    'all 50 at B',
  )
  assertExactlyOnceInOrder(got, texts)
  assert.deepEqual(
    got.map((m) => m.id),
    sent.map((m) => m.id),
  )
  await eventually(
    async () =>
      (await a.control.messages(bAtA))
        .filter((m) => m.text.startsWith('offline'))
        .every((m) => m.status === 'delivered'),
    15_000,
    "A's statuses reach delivered",
  )
  // 'delivered' comes with B's receipt, the outbox entry goes with B's ack: either may come first.
  await eventually(
    async () => (await a.control.call<number>('outboxSize', { contact: bAtA })) === 0,
    15_000,
    "A's outbox drains",
  )
})

test('kill -9 of the receiver during a 500-message burst: 500/500 exactly once, in order', {
  timeout: 90_000,
}, async () => {
  const texts = numbered('burst', 500)
  const seenBefore = b.proc.lines.length
  const arrivedAtB = () =>
    b.proc.lines
      .slice(seenBefore)
      .filter((l) => l.event === 'message' && l.change === 'new' && l.direction === 'in').length
  const sending = sendMany(a.control, bAtA, texts, { window: 64 })
  // Checked on every line B prints, not by polling: a fast machine could finish the burst
  // between two polls.
  await b.proc.waitFor(() => arrivedAtB() >= 60, 30_000)
  await b.kill()
  const killedAt = arrivedAtB()
  const { sent, error } = await sending
  assert.equal(error, undefined, 'A accepts every send while B is down')
  assert.equal(sent.length, 500)

  await b.restart()
  const got = await eventually(
    async () => {
      const list = await incoming('burst')
      return list.length >= 500 ? list : undefined
    },
    60_000,
    '500 at B',
  )
  assertExactlyOnceInOrder(got, texts)
  assert.deepEqual(
    got.map((m) => m.id),
    sent.map((m) => m.id),
  )
  assert.ok(killedAt < 500, `B was killed mid-burst (after ${killedAt} of 500 arrived)`)
  console.log(`# receiver killed after ${killedAt} of 500 arrived`)
  const failed = (await a.control.messages(bAtA)).filter((m) => m.status === 'failed')
  assert.deepEqual(failed, [], 'nothing failed at A')
})

test('kill -9 of the sender mid-burst: what was acknowledged arrives exactly once, nothing twice', {
  timeout: 90_000,
}, async () => {
  const texts = numbered('sender-crash', 500)
  const acked = new Map<number, MessageView>()
  // Killed from the callback at the 150th acknowledgement, not at a later poll: a fast machine
  // could acknowledge all 500 between two polls.
  let killed: Promise<void> | undefined
  const sending = sendMany(a.control, bAtA, texts, {
    window: 64,
    onSent: (m, i) => {
      acked.set(i, m)
      if (acked.size >= 150) killed ??= a.kill()
    },
  })
  await eventually(() => killed !== undefined, 30_000, '150 sends acknowledged')
  await killed
  const { error } = await sending
  assert.ok(error !== undefined, 'the burst was cut short by the kill')
  assert.ok(acked.size < 500, `A was killed mid-burst (after ${acked.size} of 500 acknowledged)`)

  await a.restart()
  // What A holds after the crash: every acknowledged send, maybe a few more that were in flight.
  const held = (await a.control.messages(bAtA)).filter((m) => m.text.startsWith('sender-crash'))
  console.log(
    `# sender killed after ${acked.size} sends acknowledged; ${held.length} on its disk after the restart`,
  )
  const heldIds = new Set(held.map((m) => m.id))
  for (const m of acked.values()) assert.ok(heldIds.has(m.id), 'an acknowledged send survives the crash')
  assert.equal(heldIds.size, held.length, 'no message twice at A')
  assert.deepEqual(
    held.map((m) => m.text),
    texts.slice(0, held.length),
    "A's surviving messages are a prefix of what was sent, in order",
  )

  const got = await eventually(
    async () => {
      const list = await incoming('sender-crash')
      return list.length >= held.length ? list : undefined
    },
    60_000,
    "all of A's messages at B",
  )
  // Nothing arrives late as a duplicate.
  await new Promise((r) => setTimeout(r, 1_000))
  const final = await incoming('sender-crash')
  assert.equal(final.length, got.length)
  assertExactlyOnceInOrder(final, texts.slice(0, held.length))
  assert.deepEqual(
    final.map((m) => m.id),
    held.map((m) => m.id),
  )
  await eventually(
    async () => (await a.control.call<number>('outboxSize', { contact: bAtA })) === 0,
    15_000,
    "A's outbox drains",
  )
})
