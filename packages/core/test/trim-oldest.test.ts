/**
 * trimOldest bounds the Maps used as LRUs (the recent-messages cache, the strangers' rate limits):
 * they grow by a slack, then lose their least recently used entries in one pass.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { RateLimiter } from '../src/messenger/rate-limit.js'
import { trimOldest } from '../src/messenger/trim-oldest.js'

describe('trimOldest', () => {
  it('keeps at most keep + slack entries, and always the keep most recently touched', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(60), { maxLength: 400 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        (touches, keep, slack) => {
          const map = new Map<number, number>()
          const order: number[] = [] // the model: distinct keys, least recently touched first
          for (const [i, k] of touches.entries()) {
            map.delete(k)
            map.set(k, i)
            const at = order.indexOf(k)
            if (at >= 0) order.splice(at, 1)
            order.push(k)
            trimOldest(map, keep, slack)
            assert.ok(map.size <= keep + slack)
            // Whatever is kept is the newest part of the model, in the same order.
            assert.deepEqual([...map.keys()], order.slice(order.length - map.size))
            assert.ok(map.size >= Math.min(keep, order.length))
            assert.equal(map.get(k), i)
          }
        },
      ),
    )
  })

  it('trims down to exactly keep once past the slack', () => {
    const map = new Map<number, number>()
    for (let i = 0; i < 12; i++) map.set(i, i)
    trimOldest(map, 10, 2)
    assert.equal(map.size, 12, 'within the slack: nothing goes')
    map.set(12, 12)
    trimOldest(map, 10, 2)
    assert.deepEqual([...map.keys()], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
  })
})

describe('RateLimiter memory bound', () => {
  it('forgets the least recently seen strangers, never the ones it just saw', () => {
    let now = 0
    const limiter = new RateLimiter({
      perPeerBurst: 2,
      perPeerPerMinute: 0,
      globalBurst: 1e9,
      globalPerMinute: 0,
      maxPeers: 8,
      now: () => now++,
    })
    assert.ok(limiter.tryTake('a') && limiter.tryTake('a'))
    assert.equal(limiter.tryTake('a'), false, 'a used its burst')
    // A flood of other peers pushes 'a' out: it comes back with a fresh burst.
    for (let i = 0; i < 100; i++) limiter.tryTake(`flood-${i}`)
    assert.equal(limiter.tryTake('a'), true)
    // One seen among the flood's last few is still remembered (and still limited).
    assert.ok(limiter.tryTake('b') && limiter.tryTake('b'))
    for (let i = 0; i < 3; i++) limiter.tryTake(`more-${i}`)
    assert.equal(limiter.tryTake('b'), false)
  })
})
