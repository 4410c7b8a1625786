/**
 * StatusRuns keeps where a conversation's outgoing messages stand as runs of consecutive message
 * numbers. Checked against the plainest model (a Map from number to status and route), and for
 * the shape that keeps it small: sorted, disjoint, and every two touching runs differ.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { MessageRecord } from '../src/messenger/records.js'
import { type RunStatus, StatusRuns, withRun } from '../src/messenger/status-runs.js'
import type { ConnectionRoute } from '../src/net/connection-info.js'

type Value = { status: RunStatus; route: ConnectionRoute | undefined }

const setOp = fc.record({
  seq: fc.integer({ min: 1, max: 40 }),
  status: fc.constantFrom<RunStatus>('sent', 'delivered', 'read'),
  route: fc.constantFrom<ConnectionRoute | undefined>(undefined, 'lan', 'relayed'),
})

function assertShape(runs: StatusRuns): void {
  const encoded = runs.encode()
  for (let i = 0; i < encoded.length; i++) {
    const [from, to] = encoded[i]!
    assert.ok(from <= to, 'a run is not empty')
    const prev = encoded[i - 1]
    if (prev === undefined) continue
    assert.ok(prev[1] < from, 'runs are sorted and disjoint')
    const touches = prev[1] + 1 === from
    assert.ok(!touches || prev[2] !== encoded[i]![2] || prev[3] !== encoded[i]![3], 'touching runs differ')
  }
}

function modelOf(runs: StatusRuns, upTo: number): Map<number, Value> {
  const out = new Map<number, Value>()
  for (let seq = 1; seq <= upTo; seq++) {
    const r = runs.get(seq)
    if (r !== undefined) out.set(seq, { status: r.status, route: r.route })
  }
  return out
}

describe('StatusRuns', () => {
  it('says of every number what was last set for it, and nothing of the others', () => {
    fc.assert(
      fc.property(fc.array(setOp, { maxLength: 200 }), (ops) => {
        const runs = new StatusRuns()
        const model = new Map<number, Value>()
        for (const { seq, status, route } of ops) {
          runs.set(seq, status, route)
          model.set(seq, { status, route })
          assertShape(runs)
        }
        assert.deepEqual(modelOf(runs, 41), model)
      }),
    )
  })

  it('an in-order stream is one run per status, whatever its length', () => {
    const runs = new StatusRuns()
    for (let seq = 1; seq <= 20_000; seq++) runs.set(seq, 'sent', 'lan')
    for (let seq = 1; seq <= 19_000; seq++) runs.set(seq, 'delivered', 'lan')
    assert.deepEqual(runs.encode(), [
      [1, 19_000, 'delivered', 'lan'],
      [19_001, 20_000, 'sent', 'lan'],
    ])
  })

  it('survives its stored form, and a damaged stored form says nothing', () => {
    fc.assert(
      fc.property(fc.array(setOp, { maxLength: 100 }), (ops) => {
        const runs = new StatusRuns()
        for (const { seq, status, route } of ops) runs.set(seq, status, route)
        const again = StatusRuns.decode(JSON.parse(JSON.stringify(runs.encode())))
        assert.deepEqual(again.encode(), runs.encode())
      }),
    )
    for (const bad of [
      'x',
      [[1, 2]],
      [[2, 1, 'sent']],
      [
        [1, 5, 'sent'],
        [5, 6, 'read'],
      ], // overlapping
      [
        [3, 4, 'sent'],
        [1, 2, 'read'],
      ], // out of order
      [[1, 2, 'queued']],
      [[1, 2, 'sent', 'carrier pigeon']],
      [[0.5, 2, 'sent']],
    ]) {
      assert.equal(StatusRuns.decode(bad).size, 0, JSON.stringify(bad))
    }
    assert.equal(StatusRuns.decode(undefined).size, 0)
  })

  it('takeSmallest hands back the smallest runs until at most `max` remain', () => {
    fc.assert(
      fc.property(fc.array(setOp, { maxLength: 200 }), fc.integer({ min: 0, max: 6 }), (ops, max) => {
        const runs = new StatusRuns()
        for (const { seq, status, route } of ops) runs.set(seq, status, route)
        const before = modelOf(runs, 41)
        const sizes = runs.encode().map(([from, to]) => to - from)
        const taken = runs.takeSmallest(max)
        assert.equal(runs.size, Math.min(max, sizes.length))
        assert.equal(taken.length, sizes.length - runs.size)
        // Nothing is lost: what was taken and what stayed make up what there was.
        const after = modelOf(runs, 41)
        for (const r of taken) {
          for (let seq = r.from; seq <= r.to; seq++) after.set(seq, { status: r.status, route: r.route })
        }
        assert.deepEqual(after, before)
        const kept = runs.encode().map(([from, to]) => to - from)
        for (const r of taken)
          assert.ok(
            kept.every((k) => k >= r.to - r.from),
            'no kept run is smaller',
          )
      }),
    )
  })
})

describe('withRun', () => {
  const record: MessageRecord = {
    id: '00112233445566778899aabbccddeeff' as MessageRecord['id'],
    contactId: 'c' as MessageRecord['contactId'],
    seq: 7,
    direction: 'out',
    text: 'hi',
    sentAt: 0,
    at: 0,
    status: 'queued',
  }
  const run = { from: 5, to: 9, status: 'delivered', route: 'lan' } as const

  it('an outgoing message takes its run’s status and route', () => {
    assert.deepEqual(withRun(record, run), { ...record, status: 'delivered', route: 'lan' })
    assert.equal(withRun(record, undefined), record)
  })

  it('what the record says first stays: a further status, its route, a failure, an incoming message', () => {
    assert.equal(withRun({ ...record, status: 'read' }, run).status, 'read')
    assert.equal(withRun({ ...record, route: 'relayed' }, run).route, 'relayed')
    assert.equal(withRun({ ...record, status: 'failed' }, run).status, 'failed')
    const incoming = { ...record, direction: 'in', status: 'received' } as const
    assert.equal(withRun(incoming, run), incoming)
  })
})
