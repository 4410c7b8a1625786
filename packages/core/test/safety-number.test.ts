/**
 * Safety numbers (src/identity/safety-number.ts): libsignal's fingerprint vector reproduced exactly
 * through Jiayi's own fingerprintHash/displayDigits/combineDigits, then the properties of Jiayi's
 * safety numbers: symmetric, 60 digits, sensitive to every key, and a scannable form that matches
 * only the partner's.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { sha512 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../src/bytes.js'
import { generateIdentity, type PublicIdentity, publicIdentity } from '../src/identity/identity.js'
import {
  combineDigits,
  compareScannable,
  displayDigits,
  fingerprintHash,
  formatSafetyNumber,
  SAFETY_NUMBER_ITERATIONS,
  SafetyNumberError,
  SCANNABLE_VERSION,
  safetyNumber,
} from '../src/identity/safety-number.js'
import * as core from '../src/index.js'
import { describeEachProvider } from './helpers/providers.js'

/** `<repo>/test/vectors/signal/libsignal-vectors.json`, from `<repo>/packages/core/test/`. */
const VECTORS = fileURLToPath(new URL('../../../test/vectors/signal/libsignal-vectors.json', import.meta.url))

interface FingerprintVector {
  readonly iterations: number
  readonly alice: { readonly id_utf8: string; readonly key: string }
  readonly bob: { readonly id_utf8: string; readonly key: string }
  readonly displayable: string
}

function loadFingerprintVector(): FingerprintVector {
  assert.ok(
    existsSync(VECTORS),
    `libsignal vectors not found at ${VECTORS} (see test/vectors/README.md; never skipped)`,
  )
  const all = JSON.parse(readFileSync(VECTORS, 'utf8')) as { fingerprint?: FingerprintVector }
  const vector = all.fingerprint
  assert.ok(vector, `${VECTORS} has no "fingerprint" entry`)
  assert.match(vector.displayable, /^\d{60}$/, 'the vector displayable is 60 digits')
  return vector
}

/** A deterministic RandomSource that hands out successive slices of `seed`. */
function sliceSource(seed: Uint8Array): (n: number) => Uint8Array {
  let at = 0
  return (n) => {
    const out = seed.slice(at, at + n)
    at += n
    return out
  }
}

const person = (): PublicIdentity => publicIdentity(generateIdentity())

function withFlippedBit(
  identity: PublicIdentity,
  key: 'signingKey' | 'agreementKey',
  bit: number,
): PublicIdentity {
  const bytes = Uint8Array.from(identity[key])
  bytes[bit >> 3]! ^= 1 << (bit & 7)
  return { ...identity, [key]: bytes }
}

describeEachProvider("libsignal's fingerprint vector", () => {
  it('reproduces `displayable` exactly, from either side', () => {
    const v = loadFingerprintVector()
    assert.equal(v.iterations, 5200)
    assert.equal(SAFETY_NUMBER_ITERATIONS, v.iterations, "Jiayi uses libsignal's iteration count")
    // libsignal hashes the serialized key: the 0x05 type byte and the 32-byte Curve25519 key.
    const aliceKey = hexToBytes(v.alice.key)
    const bobKey = hexToBytes(v.bob.key)
    assert.equal(aliceKey.length, 33)
    assert.equal(aliceKey[0], 0x05)
    assert.equal(bobKey.length, 33)
    const alice = displayDigits(fingerprintHash(aliceKey, utf8(v.alice.id_utf8), v.iterations))
    const bob = displayDigits(fingerprintHash(bobKey, utf8(v.bob.id_utf8), v.iterations))
    assert.match(alice, /^\d{30}$/)
    assert.match(bob, /^\d{30}$/)
    assert.equal(combineDigits(alice, bob), v.displayable)
    assert.equal(combineDigits(bob, alice), v.displayable)
    // The default iteration count is the vector's.
    assert.equal(displayDigits(fingerprintHash(aliceKey, utf8(v.alice.id_utf8))), alice)
  })

  it('fails clearly when an input is wrong (the vector is sensitive to key prefix, id and iterations)', () => {
    const v = loadFingerprintVector()
    const aliceKey = hexToBytes(v.alice.key)
    const bobKey = hexToBytes(v.bob.key)
    const bob = displayDigits(fingerprintHash(bobKey, utf8(v.bob.id_utf8), v.iterations))
    const variants = [
      fingerprintHash(aliceKey.subarray(1), utf8(v.alice.id_utf8), v.iterations), // without 0x05
      fingerprintHash(aliceKey, utf8(v.bob.id_utf8), v.iterations),
      fingerprintHash(aliceKey, utf8(v.alice.id_utf8), v.iterations - 1),
      fingerprintHash(aliceKey, utf8(v.alice.id_utf8), v.iterations + 1),
    ]
    for (const hash of variants) assert.notEqual(combineDigits(displayDigits(hash), bob), v.displayable)
  })
})

describe('fingerprint construction', () => {
  it('counts the first hash as iteration one: SHA-512(0x0000 || key || id || key), then SHA-512(h || key)', () => {
    const key = Uint8Array.from({ length: 33 }, (_, i) => i)
    const id = utf8('+14152222222')
    const first = sha512(concatBytes(Uint8Array.of(0, 0), key, id, key))
    assert.equal(bytesToHex(fingerprintHash(key, id, 1)), bytesToHex(first))
    assert.equal(bytesToHex(fingerprintHash(key, id, 2)), bytesToHex(sha512(concatBytes(first, key))))
    assert.equal(fingerprintHash(key, id).length, 64)
  })

  it('displayDigits reads 5-byte big-endian chunks mod 100000, zero-padded (exact past 2^32)', () => {
    assert.equal(displayDigits(new Uint8Array(64)), '0'.repeat(30))
    // 2^40 - 1 = 1099511627775 → 27775 (a 32-bit shortcut would give something else).
    assert.equal(displayDigits(new Uint8Array(64).fill(0xff)), '27775'.repeat(6))
    const hash = new Uint8Array(64)
    hash.set([0, 0, 0, 0x27, 0x0f], 0) // 9999 → 09999
    hash.set([0, 0, 0x01, 0x86, 0xa0], 5) // 100000 → 00000
    hash.set([0x01, 0, 0, 0, 0x01], 25) // 2^32 + 1 = 4294967297 → 67297
    hash.fill(0xee, 30) // bytes after the 30th do not matter
    assert.equal(displayDigits(hash), `09999${'00000'.repeat(4)}67297`)
  })

  it('combineDigits puts the smaller half first', () => {
    assert.equal(combineDigits('2'.repeat(30), '1'.repeat(30)), '1'.repeat(30) + '2'.repeat(30))
    assert.equal(combineDigits(`${'0'.repeat(29)}9`, '1'.repeat(30)), `${'0'.repeat(29)}9${'1'.repeat(30)}`)
  })
})

describe('Jiayi safety numbers', () => {
  const alice = person()
  const bob = person()
  const carol = person()

  it('is the same 60 digits for both people', () => {
    const ab = safetyNumber(alice, bob)
    const ba = safetyNumber(bob, alice)
    assert.match(ab.digits, /^\d{60}$/)
    assert.equal(ab.digits, ba.digits)
    // Built from the Ed25519 key and the X25519 key of each identity, with libsignal's construction.
    const half = (p: PublicIdentity) => displayDigits(fingerprintHash(p.signingKey, p.agreementKey, 5200))
    assert.equal(ab.digits, combineDigits(half(alice), half(bob)))
    assert.equal(core.safetyNumber(alice, bob).digits, ab.digits)
  })

  it('is symmetric for random identities (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (seedA, seedB) => {
          const a = publicIdentity(generateIdentity(sliceSource(seedA)))
          const b = publicIdentity(generateIdentity(sliceSource(seedB)))
          const ab = safetyNumber(a, b)
          const ba = safetyNumber(b, a)
          assert.equal(ab.digits, ba.digits)
          assert.match(ab.digits, /^\d{60}$/)
          assert.ok(compareScannable(ab.scannable, ba.scannable))
          assert.ok(compareScannable(ba.scannable, ab.scannable))
        },
      ),
      { numRuns: 20 },
    )
  })

  it('changes when any key of either person changes', () => {
    const base = safetyNumber(alice, bob)
    const variants: [string, PublicIdentity, PublicIdentity][] = [
      ["alice's signing key", withFlippedBit(alice, 'signingKey', 0), bob],
      ["alice's agreement key", withFlippedBit(alice, 'agreementKey', 255), bob],
      ["bob's signing key", alice, withFlippedBit(bob, 'signingKey', 77)],
      ["bob's agreement key", alice, withFlippedBit(bob, 'agreementKey', 128)],
      ['bob replaced by carol', alice, carol],
      [
        "alice's keys swapped with each other",
        { signingKey: alice.agreementKey, agreementKey: alice.signingKey },
        bob,
      ],
    ]
    for (const [what, a, b] of variants) {
      const changed = safetyNumber(a, b)
      assert.notEqual(changed.digits, base.digits, `${what}: digits unchanged`)
      assert.notDeepEqual(changed.scannable, base.scannable, `${what}: scannable unchanged`)
      assert.equal(
        compareScannable(base.scannable, safetyNumber(b, a).scannable),
        false,
        `${what}: still matches`,
      )
    }
  })

  it('scannable form: version byte and both fingerprints; matches only the partner', () => {
    const ours = safetyNumber(alice, bob).scannable
    assert.equal(ours.length, 65)
    assert.equal(ours[0], SCANNABLE_VERSION)
    assert.deepEqual(
      ours.subarray(1, 33),
      fingerprintHash(alice.signingKey, alice.agreementKey).subarray(0, 32),
    )
    assert.deepEqual(ours.subarray(33), fingerprintHash(bob.signingKey, bob.agreementKey).subarray(0, 32))

    assert.equal(
      compareScannable(ours, safetyNumber(bob, alice).scannable),
      true,
      "the partner's code matches",
    )
    assert.equal(core.compareScannable(ours, safetyNumber(bob, alice).scannable), true)
    // A third party's code, whoever they have as contact.
    assert.equal(compareScannable(ours, safetyNumber(carol, alice).scannable), false)
    assert.equal(compareScannable(ours, safetyNumber(carol, bob).scannable), false)
    assert.equal(
      compareScannable(ours, safetyNumber(bob, carol).scannable),
      false,
      'bob sees a MITM key for alice',
    )
    assert.equal(compareScannable(ours, safetyNumber(carol, carol).scannable), false)
    // Our own code shown back to us (a replayed screenshot) does not match.
    assert.equal(compareScannable(ours, ours), false)
    // A single flipped bit anywhere after the version byte.
    const theirs = safetyNumber(bob, alice).scannable
    for (let bit = 8; bit < 65 * 8; bit += 13) {
      const tampered = Uint8Array.from(theirs)
      tampered[bit >> 3]! ^= 1 << (bit & 7)
      assert.equal(compareScannable(ours, tampered), false, `bit ${bit}`)
    }
  })

  it('compareScannable throws SafetyNumberError BadEncoding on malformed input', () => {
    const ours = safetyNumber(alice, bob).scannable
    const theirs = safetyNumber(bob, alice).scannable
    const wrongVersion = Uint8Array.from(theirs)
    wrongVersion[0] = SCANNABLE_VERSION + 1
    const zeroVersion = Uint8Array.from(theirs)
    zeroVersion[0] = 0
    const malformed: unknown[] = [
      new Uint8Array(0),
      theirs.subarray(0, 64),
      concatBytes(theirs, Uint8Array.of(0)),
      new Uint8Array(1000),
      wrongVersion,
      zeroVersion,
      Array.from(theirs),
      bytesToHex(theirs),
      undefined,
      null,
    ]
    for (const scanned of malformed) {
      assert.throws(
        () => compareScannable(ours, scanned as Uint8Array),
        (error: unknown) => {
          assert.ok(SafetyNumberError.is(error, 'BadEncoding'), `got ${String(error)}`)
          assert.ok(core.SafetyNumberError.is(error))
          assert.match((error as Error).message, /not a Jiayi safety number/)
          return true
        },
      )
    }
  })

  it('formatSafetyNumber shows 12 groups of 5 digits', () => {
    const { digits } = safetyNumber(alice, bob)
    const shown = formatSafetyNumber(digits)
    assert.match(shown, /^\d{5}( \d{5}){11}$/)
    assert.equal(shown.replaceAll(' ', ''), digits)
    assert.equal(formatSafetyNumber('123456789012'), '12345 67890 12')
    assert.equal(formatSafetyNumber(''), '')
    assert.equal(core.formatSafetyNumber(digits), shown)
  })
})
