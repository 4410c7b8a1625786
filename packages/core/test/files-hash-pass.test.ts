/**
 * The read-ahead hashing pass: the digest equals SHA-256 of the whole range for any length and
 * block size, it never holds more than two blocks, and a failed read fails the pass. And a
 * sender's running hash (SourceHash): the chunks it is given in order, whatever it reads itself
 * for the rest, never a byte twice.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { hashRange } from '../src/files/hash-pass.js'
import { nobleSha256 } from '../src/files/memory-storage.js'
import { SourceHash } from '../src/files/source-hash.js'

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

describe('SourceHash', () => {
  const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest())
  const CHUNK = 100

  it('counts chunks given in order and reads nothing more', async () => {
    const data = new Uint8Array(1050).map((_, i) => i * 13)
    const r = reader(data)
    const hash = new SourceHash(nobleSha256(), data.length)
    for (let at = 0; at < data.length; at += CHUNK) hash.add(at, data.slice(at, at + CHUNK))
    assert.deepEqual(await hash.digest(r.read), sha256(data))
    assert.equal(r.reads.length, 0)
    assert.deepEqual(await hash.digest(r.read), sha256(data), 'asked again, the same digest')
  })

  it('after a restart (chunks from the middle on), reads what it lacks; chunks sent again count once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.array(fc.nat(30), { maxLength: 6 }),
        async (data, resumes) => {
          const total = Math.ceil(data.length / CHUNK)
          const r = reader(data)
          const hash = new SourceHash(nobleSha256(), data.length)
          // Each attempt sends from some chunk on (as a receiver's Want says), maybe past the hash.
          for (const from of [...resumes.map((n) => n % total), total - 1]) {
            for (let i = from; i < total; i++) hash.add(i * CHUNK, data.slice(i * CHUNK, (i + 1) * CHUNK))
          }
          assert.deepEqual(await hash.digest(r.read), sha256(data))
        },
      ),
      { numRuns: 100 },
    )
  })

  it('stays right when chunks arrive while it reads (a second stream for the same file)', async () => {
    const data = new Uint8Array(3000).map((_, i) => i * 7)
    const r = reader(data)
    const hash = new SourceHash(nobleSha256(), data.length)
    const reading = hash.digest(async (offset, length) => {
      // The other stream moves the hash on meanwhile.
      for (let at = offset; at < Math.min(data.length, offset + 3 * CHUNK); at += CHUNK)
        hash.add(at, data.slice(at, at + CHUNK))
      return r.read(offset, length)
    })
    assert.deepEqual(await reading, sha256(data))
  })
})
