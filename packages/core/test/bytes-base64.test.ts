/**
 * toBase64 / fromBase64 (bytes.ts) write and read the text multiformats' base64 did before them:
 * outbox records and session sets stored by earlier versions hold that text.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { base64 } from 'multiformats/bases/base64'
import { fromBase64, toBase64 } from '../src/bytes.js'
import { InputError } from '../src/errors.js'

describe('base64', () => {
  it('writes what multiformats wrote, and reads it back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), fc.nat(7), (bytes, offset) => {
        // At an offset inside a larger buffer too, as envelopes and records often are.
        const inside = new Uint8Array(bytes.length + offset)
        inside.set(bytes, offset)
        const view = inside.subarray(offset)
        const text = toBase64(view)
        assert.equal(text, base64.baseEncode(bytes))
        assert.deepEqual(fromBase64(text), bytes)
        assert.deepEqual(base64.baseDecode(text), bytes)
      }),
      { numRuns: 300 },
    )
  })

  it('reads padded text too', () => {
    assert.deepEqual(fromBase64('AQ=='), Uint8Array.of(1))
    assert.deepEqual(fromBase64('AQI='), Uint8Array.of(1, 2))
  })

  it('refuses what is not base64 with a typed error', () => {
    for (const bad of ['A', 'AQ===', 'A Q', 'AQ\n', 'AQ-_', '%%%%', 'AQ=A']) {
      assert.throws(
        () => fromBase64(bad),
        (e) => InputError.is(e, 'BadType'),
        bad,
      )
    }
    assert.throws(
      () => fromBase64(7 as unknown as string),
      (e) => InputError.is(e, 'BadType'),
    )
  })
})
