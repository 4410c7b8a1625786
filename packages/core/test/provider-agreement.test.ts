/**
 * The two crypto providers agree byte for byte: @noble (the browser's) and node:crypto (Node's)
 * are given the same random inputs, and every output, every acceptance and every rejection must
 * be the same. The vectors (wycheproof.test.ts and the other vector files, run under both)
 * pin the outputs to published values; this pins the providers to each other off the vectors.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import { bytesToHex } from '../src/bytes.js'
import { nobleProvider as noble } from '../src/crypto/noble-provider.js'
import { nodeCryptoProvider as native } from '../src/crypto/node-provider.js'
import { type CryptoProvider, cryptoProviderName } from '../src/crypto/primitives.js'

const RUNS = 200
/** Curve operations cost milliseconds each; fewer runs keep the file under ten seconds. */
const CURVE_RUNS = 60
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max })
const key = bytes(32, 32)
const hex = bytesToHex

/** What a call gave: its bytes, or that it threw. */
function outcome(fn: () => Uint8Array | boolean): string {
  try {
    const out = fn()
    return typeof out === 'boolean' ? String(out) : hex(out)
  } catch {
    return 'threw'
  }
}

function same(fn: (p: CryptoProvider) => Uint8Array | boolean): void {
  assert.equal(
    outcome(() => fn(native)),
    outcome(() => fn(noble)),
  )
}

describe('crypto providers agree byte for byte (node:crypto against @noble)', () => {
  it('SHA-256, SHA-512', () => {
    fc.assert(
      fc.property(bytes(0, 300), (data) => {
        same((p) => p.sha256(data))
        same((p) => p.sha512(data))
      }),
      { numRuns: RUNS },
    )
  })

  it('HMAC-SHA256, one-shot and under one key for several messages', () => {
    fc.assert(
      fc.property(bytes(0, 100), fc.array(bytes(0, 80), { minLength: 1, maxLength: 4 }), (k, messages) => {
        const keyedNative = native.hmacSha256With(k)
        const keyedNoble = noble.hmacSha256With(k)
        for (const m of messages) {
          same((p) => p.hmacSha256(k, m))
          assert.equal(hex(keyedNative(m)), hex(keyedNoble(m)))
          assert.equal(hex(keyedNative(m)), hex(noble.hmacSha256(k, m)))
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('HKDF-SHA256', () => {
    fc.assert(
      fc.property(
        bytes(0, 64),
        bytes(0, 64),
        bytes(0, 64),
        fc.integer({ min: 1, max: 300 }),
        (ikm, salt, info, n) => same((p) => p.hkdfSha256(ikm, salt, info, n)),
      ),
      { numRuns: RUNS },
    )
    // Past node:crypto's 1024-byte limit on info, the node provider hands HKDF to @noble.
    fc.assert(
      fc.property(key, bytes(1000, 1100), (ikm, info) => same((p) => p.hkdfSha256(ikm, ikm, info, 64))),
      { numRuns: 20 },
    )
  })

  for (const [name, nonceBytes] of [
    ['ChaCha20-Poly1305', 12],
    ['XChaCha20-Poly1305', 24],
  ] as const) {
    const seal = (p: CryptoProvider, k: Uint8Array, n: Uint8Array, ad: Uint8Array, pt: Uint8Array) => {
      const out = new Uint8Array(pt.length + 16)
      if (nonceBytes === 12) p.chacha20Poly1305Seal(k, n, ad, pt, out)
      else p.xchacha20Poly1305Seal(k, n, ad, pt, out)
      return out
    }
    const open = (p: CryptoProvider, k: Uint8Array, n: Uint8Array, ad: Uint8Array, sealed: Uint8Array) =>
      nonceBytes === 12 ? p.chacha20Poly1305Open(k, n, ad, sealed) : p.xchacha20Poly1305Open(k, n, ad, sealed)

    it(`${name}: seal with a fixed nonce, open, and reject the same tampering`, () => {
      fc.assert(
        fc.property(
          key,
          bytes(nonceBytes, nonceBytes),
          bytes(0, 40),
          bytes(0, 300),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (k, n, ad, pt, at, flip) => {
            const sealed = seal(noble, k, n, ad, pt)
            assert.equal(hex(seal(native, k, n, ad, pt)), hex(sealed))
            assert.equal(hex(open(native, k, n, ad, sealed)), hex(pt))
            same((p) => open(p, k, n, ad, sealed))
            const tampered = Uint8Array.from(sealed)
            tampered[at % tampered.length]! ^= flip
            same((p) => open(p, k, n, ad, tampered))
            assert.equal(
              outcome(() => open(native, k, n, ad, tampered)),
              'threw',
            )
            same((p) => open(p, k, n, Uint8Array.of(...ad, 0), sealed))
          },
        ),
        { numRuns: RUNS },
      )
    })
  }

  it('X25519: public keys, shared secrets, and the same refusal of low-order keys', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        same((p) => p.x25519PublicKey(a))
        const pub = noble.x25519PublicKey(b)
        same((p) => p.x25519Shared(a, pub))
        // Any 32 bytes as the peer's key: twist points and non-canonical u included.
        same((p) => p.x25519Shared(a, b))
      }),
      { numRuns: CURVE_RUNS },
    )
    // u = 0 and u = 1 are of low order: both refuse them.
    const zero = new Uint8Array(32)
    const one = Uint8Array.of(1, ...new Uint8Array(31))
    for (const low of [zero, one]) {
      assert.equal(
        outcome(() => native.x25519Shared(new Uint8Array(32).fill(7), low)),
        'threw',
      )
      same((p) => p.x25519Shared(new Uint8Array(32).fill(7), low))
    }
  })

  it('Ed25519: public keys, signatures, and the same verdict on valid and tampered ones', () => {
    fc.assert(
      fc.property(key, bytes(0, 200), fc.nat(), fc.integer({ min: 1, max: 255 }), (sk, msg, at, flip) => {
        same((p) => p.ed25519PublicKey(sk))
        same((p) => p.ed25519Sign(sk, msg))
        const pub = noble.ed25519PublicKey(sk)
        const sig = noble.ed25519Sign(sk, msg)
        assert.equal(native.ed25519Verify(pub, msg, sig), true)
        same((p) => p.ed25519Verify(pub, msg, sig))
        const badSig = Uint8Array.from(sig)
        badSig[at % 64]! ^= flip
        same((p) => p.ed25519Verify(pub, msg, badSig))
        const badKey = Uint8Array.from(pub)
        badKey[at % 32]! ^= flip
        same((p) => p.ed25519Verify(badKey, msg, sig))
        same((p) => p.ed25519Verify(pub, Uint8Array.of(...msg, 0), sig))
      }),
      { numRuns: CURVE_RUNS },
    )
  })

  it('Ed25519: both refuse a small-order key, which OpenSSL alone would accept', () => {
    // Under the identity key, R = B and s = 1 satisfy [s]B = R + [k]A for every message.
    const identity = ed25519.Point.ZERO.toBytes()
    const forged = new Uint8Array(64)
    forged.set(ed25519.Point.BASE.toBytes(), 0)
    forged[32] = 1
    const message = new TextEncoder().encode('any message at all')
    assert.equal(native.ed25519Verify(identity, message, forged), false)
    assert.equal(
      outcome(() => noble.ed25519Verify(identity, message, forged)),
      'false',
    )
    // Every point of order 1, 2, 4 or 8 is refused as a key, by both: [L]P for points P with
    // a torsion part ([L]P = [L-1]P + P, as @noble multiplies only by scalars below L).
    const L = ed25519.Point.CURVE().n
    const torsion = new Set<string>()
    for (let i = 0; torsion.size < 8 && i < 2000; i++) {
      let point: InstanceType<typeof ed25519.Point>
      try {
        point = ed25519.Point.fromBytes(ed25519.utils.randomSecretKey(), false)
      } catch {
        continue // not a point
      }
      torsion.add(
        point
          .multiplyUnsafe(L - 1n)
          .add(point)
          .toHex(),
      )
    }
    assert.equal(torsion.size, 8, 'all eight small-order points found')
    for (const t of torsion) {
      const small = ed25519.Point.fromHex(t).toBytes()
      assert.equal(native.ed25519Verify(small, message, forged), false)
      same((p) => p.ed25519Verify(small, message, forged))
    }
  })
})

describe('the Node test run', () => {
  it("runs core on node:crypto's primitives (scripts/test.mjs loads test/use-node-crypto.mjs)", () => {
    assert.equal(cryptoProviderName(), process.env.JIAYI_CRYPTO === 'noble' ? 'noble' : 'node')
  })
})
