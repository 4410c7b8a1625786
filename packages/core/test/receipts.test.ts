/** Receipt pacing: quick after a quiet spell, at most one flush per BUSY_FLUSH_MS while busy. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { BUSY_FLUSH_MS, FLUSH_MS, receiptFlushDelay } from '../src/messenger/receipts.js'

it('the first receipts, and those after a quiet spell, leave after FLUSH_MS', () => {
  assert.equal(receiptFlushDelay(1_000_000, undefined), FLUSH_MS)
  assert.equal(receiptFlushDelay(1_000_000, 1_000_000 - BUSY_FLUSH_MS), FLUSH_MS)
  assert.equal(receiptFlushDelay(1_000_000, 1_000_000 - 10 * BUSY_FLUSH_MS), FLUSH_MS)
})

it('while busy, flushes are BUSY_FLUSH_MS apart and never wait longer than that', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (last, since) => {
      const delay = receiptFlushDelay(last + since, last)
      assert.ok(delay >= FLUSH_MS && delay <= BUSY_FLUSH_MS)
      assert.ok(since + delay >= BUSY_FLUSH_MS, 'the next flush is at least BUSY_FLUSH_MS after the last')
    }),
  )
})
