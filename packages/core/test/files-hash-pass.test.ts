/**
 * The read-ahead hashing pass: the digest equals SHA-256 of the whole range for any length and
 * block size, it never holds more than two blocks, and a failed read fails the pass.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { hashRange } from '../src/files/hash-pass.js'
import { nobleSha256 } from '../src/files/memory-storage.js'

function reader(data: Uint8Array) {
  let inFlight = 0
  let maxInFlight = 0
  const reads: [number, number][] = []
  return {
    reads,
    maxInFlight: () => maxInFlight,
    read: async (offset: number, length: number) => {
      reads.push([offset, length])
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      return data.slice(offset, offset + length)
    },
  }
}

describe('hashRange', () => {
  it('equals SHA-256 of the whole range, reading each byte once, two blocks at most', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: 1, max: 700 }),
        async (data, block) => {
          const r = reader(data)
          const hasher = nobleSha256()
          await hashRange(r.read, data.length, hasher, block)
          assert.deepEqual(hasher.digest(), new Uint8Array(createHash('sha256').update(data).digest()))
          assert.equal(
            r.reads.reduce((sum, [, length]) => sum + length, 0),
            data.length,
          )
          assert.deepEqual(
            r.reads.map(([offset]) => offset),
            r.reads.map((_, i) => i * block),
          )
          assert.ok(r.maxInFlight() <= 1, 'one read ahead at a time')
        },
      ),
      { numRuns: 200 },
    )
  })

  it('hashes nothing and reads nothing for an empty range', async () => {
    const r = reader(new Uint8Array(0))
    const hasher = nobleSha256()
    await hashRange(r.read, 0, hasher)
    assert.equal(r.reads.length, 0)
    assert.deepEqual(hasher.digest(), new Uint8Array(createHash('sha256').digest()))
  })

  it('fails with the read error, also when the failing read was started ahead', async () => {
    const failAt = 3
    let calls = 0
    const read = async (offset: number, length: number) => {
      if (calls++ === failAt) throw new Error('disk gone')
      return new Uint8Array(length).fill(offset & 0xff)
    }
    await assert.rejects(hashRange(read, 10 * 16, nobleSha256(), 16), /disk gone/)
  })
})
