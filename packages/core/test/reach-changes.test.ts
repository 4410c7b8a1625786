import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { watchReachChanges } from '../src/net/reach-changes.js'
import type { ReachStatus } from '../src/net/reach-service.js'

describe('reach changes (the reach event)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }))
  afterEach(() => mock.timers.reset())

  const start = (first: ReachStatus) => {
    let now = first
    let reads = 0
    const seen: ReachStatus[] = []
    const w = watchReachChanges({
      read: () => {
        reads++
        return now
      },
      changed: (s) => seen.push(s),
      minGapMs: 1_000,
    })
    return {
      w,
      seen,
      set: (s: ReachStatus) => {
        now = s
      },
      reads: () => reads,
    }
  }
  const unknown: ReachStatus = { nat: 'unknown', relays: [], mapped: [] }

  it('reports a change once, after the gap, however many nudges came', () => {
    const t = start(unknown)
    const mapped: ReachStatus = { nat: 'public', relays: [], mapped: ['/ip4/203.0.113.7/tcp/4101'] }
    t.set(mapped)
    for (let i = 0; i < 50; i++) t.w.nudge()
    mock.timers.tick(999)
    assert.deepEqual(t.seen, [])
    mock.timers.tick(1)
    assert.deepEqual(t.seen, [mapped])
    // One read at start, one for the fifty nudges.
    assert.equal(t.reads(), 2)
  })

  it('says nothing when the status is the same, in any order', () => {
    const t = start({ nat: 'private', relays: ['A', 'B'], mapped: [] })
    t.set({ nat: 'private', relays: ['B', 'A'], mapped: [] })
    t.w.nudge()
    mock.timers.tick(1_000)
    assert.deepEqual(t.seen, [])
    const relayed: ReachStatus = { nat: 'private', relays: ['B', 'A', 'C'], mapped: [] }
    t.set(relayed)
    t.w.nudge()
    mock.timers.tick(1_000)
    t.w.nudge()
    mock.timers.tick(1_000)
    assert.deepEqual(t.seen, [relayed])
  })

  it('a change back is a change too; nothing after stop', () => {
    const t = start(unknown)
    t.set({ nat: 'private', relays: [], mapped: [] })
    t.w.nudge()
    mock.timers.tick(1_000)
    t.set(unknown)
    t.w.nudge()
    mock.timers.tick(1_000)
    assert.deepEqual(
      t.seen.map((s) => s.nat),
      ['private', 'unknown'],
    )
    t.set({ nat: 'public', relays: [], mapped: [] })
    t.w.nudge()
    t.w.stop()
    mock.timers.tick(5_000)
    assert.equal(t.seen.length, 2)
  })
})
