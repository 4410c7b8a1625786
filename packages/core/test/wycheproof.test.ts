/**
 * Wycheproof (C2SP/wycheproof, testvectors_v1 at dac1dd47) for every primitive Jiayi calls, once
 * under each crypto provider (@noble and node:crypto, helpers/providers.ts).
 *
 * Each case goes through Jiayi's own wrapper in src/crypto/primitives.ts wherever the wrapper can
 * express it; @noble is called directly only where no wrapper can (XChaCha20-Poly1305 nonces of
 * the wrong size, which `open` cannot express because it always reads a 24-byte nonce).
 *
 * Every case is run, failures are reported by tcId, and the counts are asserted against the file
 * and against pinned per-result counts (helpers/wycheproof.ts). `valid` cases must give the exact
 * output, `invalid` cases must be rejected, and `acceptable` cases follow the policy written next
 * to each primitive (only X25519 has any).
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { bytesToHex, concatBytes, hexToBytes } from '../src/bytes.js'
import { CryptoError } from '../src/crypto/errors.js'
import {
  chacha20Poly1305Open,
  chacha20Poly1305SealInto,
  ed25519Verify,
  hkdfSha256,
  hmacSha256,
  mlKemDecapsulate,
  mlKemEncapsulate,
  mlKemKeyPair,
  open,
  seal,
  sealAfter,
  XNONCE_BYTES,
  x25519Shared,
} from '../src/crypto/primitives.js'
import { JiayiError } from '../src/errors.js'
import { describeEachProvider } from './helpers/providers.js'
import {
  describeCounts,
  loadWycheproof,
  runWycheproof,
  type WycheproofCase,
  type WycheproofGroup,
} from './helpers/wycheproof.js'

// ---------- shapes of the vector files ----------

interface XdhCase extends WycheproofCase {
  readonly public: string
  readonly private: string
  readonly shared: string
}
interface XdhGroup extends WycheproofGroup<XdhCase> {
  readonly curve: string
}

interface EddsaCase extends WycheproofCase {
  readonly msg: string
  readonly sig: string
}
interface EddsaGroup extends WycheproofGroup<EddsaCase> {
  readonly publicKey: { readonly curve: string; readonly pk: string }
}

interface AeadCase extends WycheproofCase {
  readonly key: string
  readonly iv: string
  readonly aad: string
  readonly msg: string
  readonly ct: string
  readonly tag: string
}
interface AeadGroup extends WycheproofGroup<AeadCase> {
  readonly ivSize: number
  readonly keySize: number
  readonly tagSize: number
}

interface MacCase extends WycheproofCase {
  readonly key: string
  readonly msg: string
  readonly tag: string
}
interface MacGroup extends WycheproofGroup<MacCase> {
  readonly keySize: number
  readonly tagSize: number
}

interface HkdfCase extends WycheproofCase {
  readonly ikm: string
  readonly salt: string
  readonly info: string
  readonly size: number
  readonly okm: string
}
type HkdfGroup = WycheproofGroup<HkdfCase>

/** ML-KEM keygen + decapsulation: `seed` is d || z (64 bytes), `ek` the expected public key. */
interface MlKemCase extends WycheproofCase {
  readonly seed: string
  readonly ek?: string
  readonly c: string
  readonly K: string
}
interface MlKemGroup extends WycheproofGroup<MlKemCase> {
  readonly parameterSet: string
}

/** ML-KEM encapsulation with fixed randomness `m`. */
interface MlKemEncapsCase extends WycheproofCase {
  readonly ek: string
  readonly m: string
  readonly c: string
  readonly K: string
}
interface MlKemEncapsGroup extends WycheproofGroup<MlKemEncapsCase> {
  readonly parameterSet: string
}

// ---------- assertion helpers ----------

const hex = hexToBytes

function expectHex(actual: Uint8Array, expected: string, what: string): void {
  assert.equal(bytesToHex(actual), expected.toLowerCase(), `${what} differs from the vector`)
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return assert.fail('accepted, but the case must be rejected')
}

function describeError(error: unknown): string {
  if (error instanceof JiayiError) return `${error.name} ${error.code}: ${error.message}`
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/** The wrapper must reject with exactly this typed CryptoError. */
function expectCryptoError(fn: () => unknown, code: CryptoError['code']): void {
  const error = thrownBy(fn)
  assert.ok(CryptoError.is(error, code), `expected CryptoError ${code}, got ${describeError(error)}`)
}

/** The wrapper must reject with one of Jiayi's typed errors (never a raw library exception). */
function expectTypedError(fn: () => unknown): void {
  const error = thrownBy(fn)
  assert.ok(error instanceof JiayiError, `expected a typed Jiayi error, got ${describeError(error)}`)
}

function unexpectedResult(test: WycheproofCase): never {
  throw new Error(`no policy for result "${test.result}" in this file`)
}

/** A RandomSource that hands `seal` the vector's nonce, so sealing is deterministic. */
function fixedNonce(nonce: Uint8Array): (length: number) => Uint8Array {
  return (length) => {
    assert.equal(length, XNONCE_BYTES, 'seal asked for a nonce of an unexpected length')
    return Uint8Array.from(nonce)
  }
}

// ---------- the suites ----------

const PREFIXES = [0, 1, 2, 3, 5].map((n) => Uint8Array.from({ length: n }, (_, i) => 0xa0 + i))

describeEachProvider('Wycheproof', () => {
  /*
   * X25519 through x25519Shared. Acceptable cases (254): RFC 7748 leaves them to the
   * implementation. Our policy, asserted case by case:
   * - the 31 with an all-zero shared secret (LowOrderPublic / ZeroSharedSecret) must throw
   *   CryptoError BadKey: accepting a low-order key would let a peer force a known secret;
   * - the other 223 (twist points, non-canonical u >= p, edge-case multiplications) must give the
   *   vector's shared secret exactly, as RFC 7748 asks (mask the top bit, reduce mod p).
   */
  it('x25519 (x25519Shared)', (t) => {
    const file = loadWycheproof<XdhGroup>('x25519_test')
    let lowOrderRejected = 0
    const counts = runWycheproof(
      'x25519',
      file,
      { valid: 264, invalid: 0, acceptable: 254 },
      (test, group) => {
        assert.equal(group.curve, 'curve25519')
        const run = () => x25519Shared(hex(test.private), hex(test.public))
        const zeroShared = /^(00)+$/.test(test.shared)
        assert.equal(zeroShared, test.flags.includes('ZeroSharedSecret'), 'flag and shared secret disagree')
        if (test.result === 'valid') {
          assert.ok(!zeroShared, 'a valid case with a zero shared secret')
          expectHex(run(), test.shared, 'shared secret')
        } else if (test.result === 'acceptable') {
          if (zeroShared) {
            expectCryptoError(run, 'BadKey')
            lowOrderRejected++
          } else {
            expectHex(run(), test.shared, 'shared secret')
          }
        } else {
          unexpectedResult(test)
        }
      },
    )
    assert.equal(lowOrderRejected, 31, 'low-order acceptable cases rejected')
    t.diagnostic(`x25519: ${describeCounts(counts)} (acceptable: ${lowOrderRejected} low-order → BadKey)`)
  })

  /* Ed25519 through ed25519Verify (strict RFC 8032, zip215: false). No acceptable cases. */
  it('ed25519 (ed25519Verify)', (t) => {
    const file = loadWycheproof<EddsaGroup>('ed25519_test')
    const counts = runWycheproof(
      'ed25519',
      file,
      { valid: 88, invalid: 63, acceptable: 0 },
      (test, group) => {
        assert.equal(group.publicKey.curve, 'edwards25519')
        const ok = ed25519Verify(hex(group.publicKey.pk), hex(test.msg), hex(test.sig))
        if (test.result === 'valid') assert.equal(ok, true, 'a valid signature was rejected')
        else if (test.result === 'invalid') assert.equal(ok, false, 'an invalid signature was accepted')
        else unexpectedResult(test)
      },
    )
    t.diagnostic(`ed25519: ${describeCounts(counts)}`)
  })

  /*
   * XChaCha20-Poly1305 through seal/open: the sealed form is nonce(24) || ct || tag. Valid cases
   * must open to the message and seal (with the vector's nonce as the random source) to the exact
   * bytes. Invalid cases must make `open` throw DecryptFailed. The 9 InvalidNonceSize cases cannot
   * be expressed through `open` (it always reads a 24-byte nonce), so for them @noble is also
   * called directly with the short or long nonce and must throw.
   */
  it('xchacha20-poly1305 (seal/open)', (t) => {
    const file = loadWycheproof<AeadGroup>('xchacha20_poly1305_test')
    let badNonce = 0
    const counts = runWycheproof(
      'xchacha20-poly1305',
      file,
      { valid: 246, invalid: 69, acceptable: 0 },
      (test, group) => {
        assert.equal(group.keySize, 256)
        assert.equal(group.tagSize, 128)
        const key = hex(test.key)
        const iv = hex(test.iv)
        const aad = hex(test.aad)
        const sealed = concatBytes(iv, hex(test.ct), hex(test.tag))
        if (test.result === 'valid') {
          assert.equal(iv.length, XNONCE_BYTES)
          expectHex(open(key, sealed, aad), test.msg, 'plaintext')
          expectHex(seal(key, hex(test.msg), aad, fixedNonce(iv)), bytesToHex(sealed), 'sealed bytes')
          // Behind a prefix of every length modulo 4 (sealAfter aligns the nonce and ciphertext).
          for (const prefix of PREFIXES) {
            const after = sealAfter(prefix, key, hex(test.msg), aad, fixedNonce(iv))
            expectHex(after, bytesToHex(concatBytes(prefix, sealed)), 'prefix || sealed bytes')
            assert.equal((after.byteOffset + prefix.length) % 4, 0, 'nonce on a 4-byte boundary')
          }
        } else if (test.result === 'invalid') {
          expectCryptoError(() => open(key, sealed, aad), 'DecryptFailed')
          if (iv.length !== XNONCE_BYTES) {
            assert.ok(test.flags.includes('InvalidNonceSize'))
            thrownBy(() => xchacha20poly1305(key, iv, aad).decrypt(concatBytes(hex(test.ct), hex(test.tag))))
            badNonce++
          }
        } else {
          unexpectedResult(test)
        }
      },
    )
    assert.equal(badNonce, 9, 'invalid nonce sizes checked against @noble')
    t.diagnostic(`xchacha20-poly1305: ${describeCounts(counts)}`)
  })

  /*
   * ChaCha20-Poly1305 (RFC 8439, 96-bit nonce, the ratchet's AEAD) through
   * chacha20Poly1305SealInto/chacha20Poly1305Open: valid cases must encrypt to ct || tag and
   * decrypt to the message; modified tags must throw DecryptFailed, nonces of the wrong size a
   * typed input error.
   */
  it('chacha20-poly1305 (chacha20Poly1305SealInto/chacha20Poly1305Open)', (t) => {
    const file = loadWycheproof<AeadGroup>('chacha20_poly1305_test')
    const counts = runWycheproof(
      'chacha20-poly1305',
      file,
      { valid: 256, invalid: 69, acceptable: 0 },
      (test, group) => {
        assert.equal(group.keySize, 256)
        assert.equal(group.tagSize, 128)
        const key = hex(test.key)
        const iv = hex(test.iv)
        const aad = hex(test.aad)
        const sealed = concatBytes(hex(test.ct), hex(test.tag))
        if (test.result === 'valid') {
          expectHex(chacha20Poly1305Open(key, iv, sealed, aad), test.msg, 'plaintext')
          const out = new Uint8Array(sealed.length)
          chacha20Poly1305SealInto(out, key, iv, hex(test.msg), aad)
          expectHex(out, bytesToHex(sealed), 'ct || tag')
        } else if (test.result === 'invalid') {
          if (iv.length === 12)
            expectCryptoError(() => chacha20Poly1305Open(key, iv, sealed, aad), 'DecryptFailed')
          else expectTypedError(() => chacha20Poly1305Open(key, iv, sealed, aad))
        } else {
          unexpectedResult(test)
        }
      },
    )
    t.diagnostic(`chacha20-poly1305: ${describeCounts(counts)}`)
  })

  /*
   * HMAC-SHA256 through hmacSha256. Groups with tagSize 128 carry a truncated tag: the first
   * tagSize/8 bytes of the MAC are compared. Valid: equal; invalid (modified tags): different.
   */
  it('hmac-sha256 (hmacSha256)', (t) => {
    const file = loadWycheproof<MacGroup>('hmac_sha256_test')
    const counts = runWycheproof(
      'hmac-sha256',
      file,
      { valid: 66, invalid: 108, acceptable: 0 },
      (test, group) => {
        const tagBytes = group.tagSize / 8
        assert.equal(test.tag.length / 2, tagBytes, 'tag length does not match tagSize')
        const mac = hmacSha256(hex(test.key), hex(test.msg)).subarray(0, tagBytes)
        if (test.result === 'valid') expectHex(mac, test.tag, 'MAC')
        else if (test.result === 'invalid')
          assert.notEqual(bytesToHex(mac), test.tag, 'a modified tag matched')
        else unexpectedResult(test)
      },
    )
    t.diagnostic(`hmac-sha256: ${describeCounts(counts)}`)
  })

  /*
   * HKDF-SHA256 through hkdfSha256. Valid cases must give the exact OKM; with an empty salt, the
   * wrapper's `undefined` salt (documented as 32 zero bytes) must give the same OKM. Invalid
   * cases ask for more than 255 * 32 bytes and must throw.
   */
  it('hkdf-sha256 (hkdfSha256)', (t) => {
    const file = loadWycheproof<HkdfGroup>('hkdf_sha256_test')
    let emptySalt = 0
    const counts = runWycheproof('hkdf-sha256', file, { valid: 83, invalid: 3, acceptable: 0 }, (test) => {
      const ikm = hex(test.ikm)
      const info = hex(test.info)
      if (test.result === 'valid') {
        expectHex(hkdfSha256(ikm, hex(test.salt), info, test.size), test.okm, 'OKM')
        if (test.salt === '') {
          expectHex(hkdfSha256(ikm, undefined, info, test.size), test.okm, 'OKM with an undefined salt')
          emptySalt++
        }
      } else if (test.result === 'invalid') {
        assert.ok(test.size > 255 * 32, 'an invalid case that is not an oversized output')
        thrownBy(() => hkdfSha256(ikm, hex(test.salt), info, test.size))
      } else {
        unexpectedResult(test)
      }
    })
    assert.ok(emptySalt > 0, 'no empty-salt case was found')
    t.diagnostic(
      `hkdf-sha256: ${describeCounts(counts)} (${emptySalt} empty-salt cases also run with undefined)`,
    )
  })

  /*
   * ML-KEM-768 key generation and decapsulation through mlKemKeyPair (which takes the 64-byte
   * d || z seed) and mlKemDecapsulate. Valid: the public key equals `ek` and decapsulating `c`
   * gives `K` (for modified ciphertexts that is the implicit-rejection key). Invalid (seeds or
   * ciphertexts of the wrong length): the wrappers must throw a typed Jiayi error.
   */
  it('ml-kem-768 keygen + decapsulation (mlKemKeyPair/mlKemDecapsulate)', (t) => {
    const file = loadWycheproof<MlKemGroup>('mlkem_768_test')
    const counts = runWycheproof(
      'ml-kem-768',
      file,
      { valid: 153, invalid: 40, acceptable: 0 },
      (test, group) => {
        assert.equal(group.parameterSet, 'ML-KEM-768')
        if (test.result === 'valid') {
          const { publicKey, secretKey } = mlKemKeyPair(hex(test.seed))
          assert.ok(test.ek !== undefined, 'a valid case without ek')
          expectHex(publicKey, test.ek, 'public key')
          expectHex(mlKemDecapsulate(hex(test.c), secretKey), test.K, 'shared secret')
        } else if (test.result === 'invalid') {
          expectTypedError(() => mlKemDecapsulate(hex(test.c), mlKemKeyPair(hex(test.seed)).secretKey))
        } else {
          unexpectedResult(test)
        }
      },
    )
    t.diagnostic(`ml-kem-768: ${describeCounts(counts)}`)
  })

  /*
   * ML-KEM-768 encapsulation through mlKemEncapsulate with the vector's randomness m. Valid: the
   * exact ciphertext and shared secret. Invalid (coefficients >= q, i.e. the FIPS 203 modulus
   * check; keys of the wrong length): must throw CryptoError BadKey.
   */
  it('ml-kem-768 encapsulation (mlKemEncapsulate)', (t) => {
    const file = loadWycheproof<MlKemEncapsGroup>('mlkem_768_encaps_test')
    const counts = runWycheproof(
      'ml-kem-768 encaps',
      file,
      { valid: 133, invalid: 132, acceptable: 0 },
      (test, group) => {
        assert.equal(group.parameterSet, 'ML-KEM-768')
        if (test.result === 'valid') {
          const { cipherText, sharedSecret } = mlKemEncapsulate(hex(test.ek), hex(test.m))
          expectHex(cipherText, test.c, 'ciphertext')
          expectHex(sharedSecret, test.K, 'shared secret')
        } else if (test.result === 'invalid') {
          expectCryptoError(() => mlKemEncapsulate(hex(test.ek), hex(test.m)), 'BadKey')
        } else {
          unexpectedResult(test)
        }
      },
    )
    t.diagnostic(`ml-kem-768 encaps: ${describeCounts(counts)}`)
  })
})
