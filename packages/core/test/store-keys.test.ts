import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InputError } from '../src/errors.js'
import { decodeKey, type KeyPart, key } from '../src/store/keys.js'
import { compareBytes, prefixEnd, resolveRange } from '../src/store/range.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const isInputError = (e: unknown) => e instanceof InputError

test('key grammar: pinned encodings', () => {
  assert.equal(hex(key(0)), '010000000000000000')
  assert.equal(hex(key(258)), '010000000000000102')
  assert.equal(hex(key(2n ** 64n - 1n)), '01ffffffffffffffff')
  assert.equal(hex(key('msg')), '026d736700')
  assert.equal(hex(key('')), '0200')
  assert.equal(hex(key('中')), '02e4b8ad00')
  assert.equal(hex(key(Uint8Array.of(0x00, 0x01, 0x02, 0xff))), '030101010202ff00')
  assert.equal(hex(key('msg', Uint8Array.of(0xaa), 7)), '026d73670003aa00010000000000000007')
})

test('key grammar: decode inverts encode, numbers keep their type', () => {
  const parts: KeyPart[] = ['msg', Uint8Array.of(0, 1, 2, 0xff), 42, 2n ** 60n, '', 'a\u0000b', '中文 👍']
  assert.deepEqual(decodeKey(key(...parts)), parts)
  assert.equal(decodeKey(key(Number.MAX_SAFE_INTEGER))[0], Number.MAX_SAFE_INTEGER)
  assert.equal(decodeKey(key(2n ** 53n))[0], 2n ** 53n, 'beyond safe integers a bigint comes back')
  assert.equal(decodeKey(key(5n))[0], 5, 'small bigints come back as numbers')
})

test('key grammar: byte order equals tuple order', () => {
  const ordered: KeyPart[][] = [
    [0],
    [1],
    [255],
    [256],
    [2 ** 32],
    [Number.MAX_SAFE_INTEGER],
    [2n ** 64n - 1n],
    [''],
    ['\u0000'],
    ['\u0001'],
    ['\u0002'],
    ['a'],
    ['a', 0],
    ['a', 'b'],
    ['a\u0000'],
    ['a\u0001'],
    ['a\u0002'],
    ['ab'],
    ['b'],
    ['é'],
    ['中'],
    ['👍'],
    [new Uint8Array(0)],
    [Uint8Array.of(0)],
    [Uint8Array.of(0, 0)],
    [Uint8Array.of(0, 1)],
    [Uint8Array.of(1)],
    [Uint8Array.of(1, 0)],
    [Uint8Array.of(2)],
    [Uint8Array.of(0xff)],
  ]
  const encoded = ordered.map((parts) => key(...parts))
  for (let i = 1; i < encoded.length; i++) {
    assert.ok(compareBytes(encoded[i - 1]!, encoded[i]!) < 0, `${i - 1} < ${i}`)
  }
})

test('key grammar: key(t) is a byte prefix exactly of the tuples that extend t', () => {
  const startsWith = (k: Uint8Array, p: Uint8Array) => k.length >= p.length && p.every((x, i) => k[i] === x)
  const id = Uint8Array.of(0xaa, 0x00, 0xff)
  const prefix = key('msg', id)
  assert.ok(startsWith(key('msg', id, 1), prefix))
  assert.ok(startsWith(key('msg', id, 'x', 2), prefix))
  // A longer id that happens to continue with a 0x00 or 0x01 byte is a different conversation.
  for (const extra of [0x00, 0x01, 0x02, 0xff]) {
    assert.ok(!startsWith(key('msg', Uint8Array.of(0xaa, 0x00, 0xff, extra), 1), prefix), `extra ${extra}`)
  }
  assert.ok(!startsWith(key('msg', 'a\u0000'), key('msg', 'a')))
  assert.ok(!startsWith(key('msgs'), key('msg')))
})

test('key grammar: property — order and prefix-freeness over random tuples', () => {
  const part = fc.oneof(
    fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.uint8Array({ maxLength: 6, max: 3 }),
  )
  const tuple = fc.array(part, { minLength: 1, maxLength: 4 })
  const cmpPart = (a: KeyPart, b: KeyPart): number => {
    const rank = (p: KeyPart) => (typeof p === 'number' ? 0 : typeof p === 'string' ? 1 : 2)
    if (rank(a) !== rank(b)) return rank(a) - rank(b)
    if (typeof a === 'number') return a - (b as number)
    if (typeof a === 'string') return compareBytes(Buffer.from(a), Buffer.from(b as string))
    return compareBytes(a as Uint8Array, b as Uint8Array)
  }
  const cmpTuple = (a: KeyPart[], b: KeyPart[]): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = cmpPart(a[i]!, b[i]!)
      if (c !== 0) return c
    }
    return a.length - b.length
  }
  fc.assert(
    fc.property(tuple, tuple, (a, b) => {
      const ka = key(...a)
      const kb = key(...b)
      assert.equal(Math.sign(compareBytes(ka, kb)), Math.sign(cmpTuple(a, b)))
      assert.deepEqual(decodeKey(ka), a)
      const isPrefix = kb.length >= ka.length && ka.every((x, i) => kb[i] === x)
      const extends_ = b.length >= a.length && a.every((p, i) => cmpPart(p, b[i]!) === 0)
      assert.equal(isPrefix, extends_)
    }),
    { numRuns: 2000 },
  )
})

test('key grammar: a number and the same bigint encode alike; keys never share bytes', () => {
  fc.assert(
    fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (n) => {
      assert.equal(hex(key(n)), hex(key(BigInt(n))))
      assert.equal(hex(key(n)), `01${BigInt(n).toString(16).padStart(16, '0')}`)
    }),
    { numRuns: 2000 },
  )
  // String parts are cached inside; a caller that scribbles on its key must not change the next.
  const first = key('msg', 'contact-1', 7)
  first.fill(0xee)
  assert.equal(hex(key('msg', 'contact-1', 7)), '026d73670002636f6e746163742d3100010000000000000007')
  assert.throws(() => key('\ud800'), isInputError, 'a refused string is not cached')
  assert.throws(() => key('\ud800'), isInputError)
})

test('key grammar: bad parts and bad bytes are InputErrors', () => {
  assert.throws(() => key(), isInputError)
  assert.throws(() => key(-1), isInputError)
  assert.throws(() => key(1.5), isInputError)
  assert.throws(() => key(2 ** 53), isInputError, 'unsafe numbers must be bigints')
  assert.throws(() => key(2n ** 64n), isInputError)
  assert.throws(() => key(-1n), isInputError)
  assert.throws(() => key('\ud800'), isInputError, 'lone surrogates would collide with U+FFFD')
  assert.throws(() => key({} as unknown as KeyPart), isInputError)
  assert.throws(() => key('x'.repeat(1100)), isInputError, 'keys are short')
  // empty; unknown tag; truncated number; unterminated string; bad escapes; invalid UTF-8.
  for (const bad of ['', '04', '0100', '02616263', '020100', '020103', '02ff00', '02c0af00']) {
    assert.throws(() => decodeKey(Buffer.from(bad, 'hex')), isInputError, bad)
  }
  assert.deepEqual(decodeKey(Buffer.from('03ff00', 'hex')), [Uint8Array.of(0xff)])
})

test('prefixEnd and range resolution', () => {
  assert.equal(hex(prefixEnd(Uint8Array.of(0x61))!), '62')
  assert.equal(hex(prefixEnd(Uint8Array.of(0x61, 0xff, 0xff))!), '62')
  assert.equal(hex(prefixEnd(Uint8Array.of(0x00, 0xfe))!), '00ff')
  assert.equal(prefixEnd(Uint8Array.of(0xff, 0xff)), undefined)
  assert.equal(prefixEnd(new Uint8Array(0)), undefined)
  assert.equal(resolveRange({ gt: Uint8Array.of(5), lt: Uint8Array.of(5) }).empty, true)
  assert.equal(resolveRange({ gte: Uint8Array.of(5), lte: Uint8Array.of(5) }).empty, false)
  assert.equal(resolveRange({ gte: Uint8Array.of(6), lte: Uint8Array.of(5) }).empty, true)
  assert.equal(resolveRange({ limit: 0 }).empty, true)
  const r = resolveRange({
    prefix: Uint8Array.of(0x61),
    gt: Uint8Array.of(0x61, 0x05),
    lte: Uint8Array.of(0x70),
  })
  assert.deepEqual(r.lower, { key: Uint8Array.of(0x61, 0x05), inclusive: false })
  assert.deepEqual(r.upper, { key: Uint8Array.of(0x62), inclusive: false })
})
