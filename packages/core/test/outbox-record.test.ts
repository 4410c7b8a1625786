import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { bytesToHex, toBase64, utf8 } from '../src/bytes.js'
import type { MessageId } from '../src/messenger/ids.js'
import { decodeOutboxRecord, encodeOutboxRecord } from '../src/messenger/outbox-record.js'
import type { OutboxRecord } from '../src/messenger/records.js'
import { StoreError } from '../src/store/errors.js'

const corrupt = (e: unknown) => StoreError.is(e, 'Corrupt')

const record = fc.record(
  {
    seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    type: fc.constantFrom('prekey' as const, 'message' as const),
    envelope: fc.uint8Array({ maxLength: 600 }),
    messageId: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => bytesToHex(b) as MessageId),
    ephemeral: fc.constant(true),
    createdAt: fc.nat({ max: 2 ** 48 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  },
  { requiredKeys: ['seq', 'type', 'envelope', 'createdAt'] },
)

/** What a decoder returns: absent optional fields as undefined. */
const normal = (r: OutboxRecord): OutboxRecord => ({
  seq: r.seq,
  type: r.type,
  envelope: r.envelope,
  messageId: r.messageId,
  ephemeral: r.ephemeral,
  createdAt: r.createdAt,
  ...(r.payload === undefined ? {} : { payload: r.payload }),
})

test('outbox records: what is encoded decodes the same, also inside a larger buffer', () => {
  fc.assert(
    fc.property(record, fc.nat({ max: 7 }), (r, offset) => {
      const bytes = encodeOutboxRecord(r)
      assert.equal(bytes[0], 0x01)
      assert.deepEqual(decodeOutboxRecord(bytes), normal(r))
      const padded = new Uint8Array(offset + bytes.length + 3)
      padded.set(bytes, offset)
      assert.deepEqual(decodeOutboxRecord(padded.subarray(offset, offset + bytes.length)), normal(r))
    }),
  )
})

test('outbox records: the envelope is stored as it is, after an 18-byte head (34 with an id)', () => {
  const envelope = Uint8Array.of(9, 8, 7)
  const plain = encodeOutboxRecord({ seq: 5, type: 'message', envelope, createdAt: 1 })
  assert.equal(plain.length, 18 + 3)
  assert.deepEqual(plain.subarray(18), envelope)
  const withId = encodeOutboxRecord({
    seq: 5,
    type: 'message',
    envelope,
    messageId: 'ab'.repeat(16) as MessageId,
    createdAt: 1,
  })
  assert.equal(withId.length, 34 + 3)
  assert.deepEqual(withId.subarray(34), envelope)
})

test('outbox records: the JSON of earlier versions still decodes', () => {
  const envelope = Uint8Array.of(0, 1, 2, 250, 251, 252)
  const legacy = {
    seq: 12,
    type: 'prekey',
    body: toBase64(envelope),
    messageId: 'cd'.repeat(16),
    createdAt: 1_764_000_000_000,
  }
  assert.deepEqual(decodeOutboxRecord(utf8(JSON.stringify(legacy))), {
    seq: 12,
    type: 'prekey',
    envelope,
    messageId: 'cd'.repeat(16),
    createdAt: 1_764_000_000_000,
  })
  assert.deepEqual(
    decodeOutboxRecord(
      utf8(JSON.stringify({ seq: 3, type: 'message', body: '', ephemeral: true, createdAt: 2 })),
    ).ephemeral,
    true,
  )
})

test('outbox records: malformed bytes are Corrupt, never a record', () => {
  const good = encodeOutboxRecord({
    seq: 1,
    type: 'message',
    envelope: Uint8Array.of(1),
    messageId: 'ef'.repeat(16) as MessageId,
    createdAt: 1,
  })
  const withByte = (at: number, value: number) => {
    const bytes = good.slice()
    bytes[at] = value
    return bytes
  }
  const nan = good.slice()
  new DataView(nan.buffer).setFloat64(2, 1.5)
  for (const bad of [
    new Uint8Array(0),
    good.subarray(0, 17), // shorter than the head
    good.subarray(0, 20), // says an id follows, but it is cut short
    withByte(0, 0x02), // unknown version
    withByte(1, 0x10), // unknown flag
    withByte(1, 0x0c), // says a payload follows, but there is no room for it
    nan, // a sequence number that is not an integer
    utf8('{"seq":1,"type":"message"'), // truncated JSON
    utf8('{"seq":1,"type":"message","body":7}'), // JSON without a base64 body
    utf8('{"seq":1,"body":"not base64!"}'),
  ]) {
    assert.throws(() => decodeOutboxRecord(bad), corrupt)
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        const r = decodeOutboxRecord(bytes)
        assert.ok(Number.isSafeInteger(r.seq) && r.envelope instanceof Uint8Array)
      } catch (error) {
        assert.ok(corrupt(error), String(error))
      }
    }),
  )
})
