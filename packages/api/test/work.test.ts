/**
 * Bounded work per client (work.ts): a few heavy requests at a time per client and in all, a
 * bounded queue in arrival order, 'Busy' at once past it, and nothing left stuck after a failure.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ControlError } from '../src/protocol.js'
import { ClientWork, HeavyGate } from '../src/work.js'

/** A task that runs until released, recording how many ran at once. */
function probe() {
  let running = 0
  let peak = 0
  let done = 0
  const releases: (() => void)[] = []
  const order: number[] = []
  const task = (n: number) => async () => {
    running++
    peak = Math.max(peak, running)
    order.push(n)
    await new Promise<void>((resolve) => releases.push(resolve))
    running--
    done++
    return n
  }
  /** Lets every task finish as it starts, until `count` have. */
  const releaseAll = async (count: number) => {
    while (done < count) {
      for (const r of releases.splice(0)) r()
      await new Promise((r) => setImmediate(r))
    }
  }
  return { task, releaseAll, peak: () => peak, order }
}

test('one client: two at a time, then a queue in order, then Busy at once', async () => {
  const p = probe()
  const work = new ClientWork(new HeavyGate(10), async () => {}, { running: 2, queued: 3 })
  const settled = Array.from({ length: 8 }, (_, i) =>
    work.run(p.task(i)).then(
      (v) => ({ v }),
      (e) => ({ e }),
    ),
  )
  await new Promise((r) => setImmediate(r))
  assert.equal(work.pending, 5)
  await p.releaseAll(5)
  const results = await Promise.all(settled)
  assert.deepEqual(
    results.slice(0, 5).map((r) => ('v' in r ? r.v : -1)),
    [0, 1, 2, 3, 4],
  )
  for (const r of results.slice(5)) assert.ok('e' in r && ControlError.is(r.e, 'Busy'))
  assert.equal(p.peak(), 2)
  assert.deepEqual(p.order, [0, 1, 2, 3, 4], 'queued ones start in arrival order')
  assert.equal(work.pending, 0)
})

test('all clients together: the gate bounds heavy work peer-wide', async () => {
  const p = probe()
  const gate = new HeavyGate(3)
  const clients = Array.from(
    { length: 5 },
    () => new ClientWork(gate, async () => {}, { running: 2, queued: 10 }),
  )
  const all = clients.flatMap((c, i) => [c.run(p.task(i * 10)), c.run(p.task(i * 10 + 1))])
  await p.releaseAll(10)
  assert.equal((await Promise.all(all)).length, 10)
  assert.equal(p.peak(), 3)
})

test('a failing request frees its place, and a request waits for the transport to have room', async () => {
  const work = new ClientWork(new HeavyGate(1), async () => {}, { running: 1, queued: 1 })
  await assert.rejects(
    work.run(async () => {
      throw new Error('boom')
    }),
    /boom/,
  )
  assert.equal(await work.run(async () => 'next'), 'next')
  let open: () => void = () => {}
  const room = new Promise<void>((resolve) => {
    open = resolve
  })
  let started = false
  const waiting = new ClientWork(new HeavyGate(1), () => room).run(async () => {
    started = true
  })
  await new Promise((r) => setImmediate(r))
  assert.equal(started, false, 'not before the transport has room')
  open()
  await waiting
  assert.equal(started, true)
})
