/** The feed's byte formats: round trips, strict decoding, and fuzzing (only FeedErrors come out). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIdentity, randomBytes } from '@jiayi/core'
import fc from 'fast-check'
import * as Y from 'yjs'
import { ByteWriter } from '../src/byte-io.js'
import {
  decodeEntry,
  decodeFeedKey,
  decodeFrame,
  decodeSnapshot,
  encodeEntry,
  encodeFeedKey,
  encodeFrame,
  encodeSnapshot,
  FeedError,
  limits,
  type ReplicaId,
  type SignedEntry,
  type SyncFrame,
  sealEntry,
  sealSnapshot,
  verifyEntry,
  verifySnapshotHeader,
} from '../src/index.js'
import { decodeVV, encodeVV } from '../src/wire.js'

const identity = generateIdentity()
const key = randomBytes(32)
const replica = randomBytes(8)
const doc = new Y.Doc()
doc.getMap('posts').set('x', { text: 'hello' })
const update = Y.encodeStateAsUpdate(doc)
const entry = sealEntry({ identity, key, replica, seq: 3, epoch: 2, prev: randomBytes(32), update })
const vv = new Map([
  ['00000000000000ff' as ReplicaId, 9],
  ['0a00000000000000' as ReplicaId, 300],
])
const heads = new Map([...vv.keys()].map((r) => [r, randomBytes(32)]))
const snapshot = sealSnapshot({ identity, key, epoch: 2, vv, heads, state: update })

const samples: SyncFrame[] = [
  { type: 'have', round: 1, claims: [] },
  {
    type: 'have',
    round: 77,
    claims: [
      { tag: randomBytes(32), box: randomBytes(80) },
      { tag: randomBytes(32), box: randomBytes(limits.MAX_HAVE_BOX_BYTES) },
    ],
  },
  { type: 'entry', entry },
  { type: 'entry', entry: { ...entry, signature: new Uint8Array(0) } },
  { type: 'snapshot', header: (({ sealed: _, ...h }) => h)(snapshot) },
  { type: 'chunk', offset: 262144, bytes: randomBytes(1000) },
  { type: 'synced', round: 2 ** 40 },
  { type: 'ack', consumed: 3 * 1024 * 1024 },
  { type: 'challenge', nonce: randomBytes(32) },
]

function decodesOrFeedError(bytes: Uint8Array): void {
  try {
    decodeFrame(bytes)
  } catch (error) {
    assert.ok(error instanceof FeedError, `unexpected ${String(error)}`)
    assert.ok(['Malformed', 'TooLarge'].includes(error.code))
  }
}

describe('feed wire formats', () => {
  it('round-trips every frame type, entries, snapshots and feed keys', () => {
    for (const frame of samples) assert.deepEqual(decodeFrame(encodeFrame(frame)), frame)
    assert.deepEqual(decodeEntry(encodeEntry(entry)), entry)
    assert.deepEqual(decodeSnapshot(encodeSnapshot(snapshot)), snapshot)
    const k = { epoch: 4, key: randomBytes(32) }
    assert.deepEqual(decodeFeedKey(encodeFeedKey(k)), k)
    verifyEntry(decodeEntry(encodeEntry(entry)))
    verifySnapshotHeader(decodeSnapshot(encodeSnapshot(snapshot)))
  })

  it('frame type numbers are fixed (PROTOCOL.md)', () => {
    assert.deepEqual(
      samples.map((f) => encodeFrame(f)[0]),
      [1, 1, 2, 2, 3, 4, 5, 6, 7],
    )
  })

  it('decodes strictly', () => {
    const bad = (bytes: Uint8Array, code = 'Malformed') =>
      assert.throws(
        () => decodeFrame(bytes),
        (e: unknown) => e instanceof FeedError && e.code === code,
      )
    bad(new Uint8Array(0))
    bad(Uint8Array.of(9))
    bad(Uint8Array.of(5, 0x80, 0x00)) // non-minimal varint
    bad(Uint8Array.of(5, 1, 0)) // trailing byte
    bad(Uint8Array.of(5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)) // too long
    const good = encodeFrame(samples[2]!)
    bad(good.subarray(0, good.length - 1))
    bad(Uint8Array.from([...good, 0]))
    // An entry with sequence number 0, a 63-byte signature.
    bad(
      new ByteWriter()
        .byte(2)
        .fixed(entry.feed)
        .fixed(entry.replica)
        .varuint(0)
        .varuint(1)
        .fixed(entry.prev)
        .bytes(entry.sealed)
        .bytes(entry.signature)
        .finish(),
    )
    bad(
      new ByteWriter()
        .byte(2)
        .fixed(entry.feed)
        .fixed(entry.replica)
        .varuint(1)
        .varuint(1)
        .fixed(entry.prev)
        .bytes(entry.sealed)
        .bytes(entry.signature.subarray(1))
        .finish(),
    )
    // A version vector (what a HAVE claim seals): replicas out of order or repeated, one at 0.
    const vvBytes = (pairs: [Uint8Array, number][]) => {
      const w = new ByteWriter().varuint(pairs.length)
      for (const [r, s] of pairs) w.fixed(r).varuint(s)
      return w.finish()
    }
    const badVV = (bytes: Uint8Array) => assert.throws(() => decodeVV(bytes), { code: 'Malformed' })
    const r1 = new Uint8Array(8).fill(1)
    const r2 = new Uint8Array(8).fill(2)
    assert.deepEqual(
      encodeVV(
        decodeVV(
          vvBytes([
            [r1, 1],
            [r2, 1],
          ]),
        ),
      ),
      vvBytes([
        [r1, 1],
        [r2, 1],
      ]),
    )
    badVV(
      vvBytes([
        [r2, 1],
        [r1, 1],
      ]),
    )
    badVV(
      vvBytes([
        [r1, 1],
        [r1, 2],
      ]),
    )
    badVV(vvBytes([[r1, 0]]))
    badVV(Uint8Array.from([...vvBytes([[r1, 1]]), 0]))
    // A challenge of 31 bytes, a claim whose tag is short.
    bad(Uint8Array.of(7, ...randomBytes(31)))
    bad(new ByteWriter().byte(1).varuint(1).varuint(1).fixed(randomBytes(31)).finish())
    // Over the limits: a sealed update, a chunk, the feed count, a claim's box, an epoch beyond u32.
    bad(
      new ByteWriter()
        .byte(2)
        .fixed(entry.feed)
        .fixed(entry.replica)
        .varuint(1)
        .varuint(1)
        .fixed(entry.prev)
        .varuint(limits.MAX_SEALED_UPDATE_BYTES + 1)
        .finish(),
      'TooLarge',
    )
    bad(
      new ByteWriter()
        .byte(4)
        .varuint(0)
        .varuint(limits.SNAPSHOT_CHUNK_BYTES + 1)
        .finish(),
      'TooLarge',
    )
    bad(
      new ByteWriter()
        .byte(1)
        .varuint(1)
        .varuint(limits.MAX_HAVE_FEEDS + 1)
        .finish(),
      'TooLarge',
    )
    bad(
      new ByteWriter()
        .byte(1)
        .varuint(1)
        .varuint(1)
        .fixed(randomBytes(32))
        .bytes(randomBytes(limits.MAX_HAVE_BOX_BYTES + 1))
        .finish(),
      'TooLarge',
    )
    bad(
      new ByteWriter()
        .byte(2)
        .fixed(entry.feed)
        .fixed(entry.replica)
        .varuint(1)
        .varuint(2 ** 32)
        .finish(),
      'TooLarge',
    )
    bad(Uint8Array.of(4, 0, 0)) // an empty chunk
    assert.throws(() => decodeFeedKey(Uint8Array.of(2, 1, ...randomBytes(32))), { code: 'Malformed' })
    assert.throws(() => decodeFeedKey(Uint8Array.of(1, 1, ...randomBytes(31))), { code: 'Malformed' })
  })

  it('fuzz: random and mutated frames decode or fail with a FeedError, never anything else', () => {
    const encoded = samples.map(encodeFrame)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => decodesOrFeedError(bytes)),
      { numRuns: 3000 },
    )
    fc.assert(
      fc.property(
        fc.constantFrom(...encoded),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (frame, edits, cut) => {
          const out = Uint8Array.from(frame)
          for (const [at, value] of edits) out[at % out.length] = value
          decodesOrFeedError(out)
          decodesOrFeedError(out.subarray(0, cut % (out.length + 1)))
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('a decoded entry re-encodes to the same bytes (canonical form)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...samples.map(encodeFrame)), (bytes) => {
        assert.deepEqual(encodeFrame(decodeFrame(bytes)), bytes)
      }),
    )
    const e: SignedEntry = decodeEntry(encodeEntry(entry))
    assert.deepEqual(encodeEntry(e), encodeEntry(entry))
  })
})
