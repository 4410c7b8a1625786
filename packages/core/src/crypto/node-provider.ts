/**
 * The node:crypto provider (Node only: exported as `@jiayi/core/node-crypto`, never from the
 * isomorphic index, so the browser bundle keeps @noble alone). OpenSSL computes what it computes
 * faster than @noble for Jiayi's input sizes; the rest stays @noble's, each choice measured by
 * `npm run bench crypto` (the crypto.* lines, docs/performance.md):
 *
 * - SHA-512, HMAC-SHA256, HKDF-SHA256, ChaCha20-Poly1305: OpenSSL.
 * - SHA-256: OpenSSL from 128 bytes on; below, a hash object's set-up costs more than @noble's
 *   one or two compressions (natively 0.5-0.8x @noble's rate at 32-64 bytes in a size sweep).
 * - XChaCha20-Poly1305: @noble's HChaCha20 derives the subkey, then OpenSSL's ChaCha20-Poly1305
 *   seals with the nonce 0x00000000 || nonce[16..24] (draft-irtf-cfrg-xchacha, section 2.3);
 *   OpenSSL has no XChaCha.
 * - X25519 shared secrets, Ed25519 signing: OpenSSL. Raw keys enter it as KeyObjects imported
 *   from DER, and importing a private key computes its public key, yet this is still faster.
 * - X25519 and Ed25519 public keys: OpenSSL. @noble's base-point multiplication (both curves
 *   share it) is 1.5-2x as fast once its precomputed table exists, but building that table on the
 *   first call allocates ~8 MiB and takes 0.1-0.3 s, at every peer's start (the identity's key
 *   pairs). A peer derives public keys a few times per start, once per ratchet step and per new
 *   group key: OpenSSL's slower calls (~0.5 ms) cost less than the table (`npm run bench cli`,
 *   peer.rss_mb; docs/performance.md).
 * - AES-256-GCM (file chunks only): OpenSSL; @noble's provider has none (see provider.ts).
 * - Ed25519 verification: OpenSSL, after @noble's strict key check (see ed25519Verify).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  sign,
  verify,
} from 'node:crypto'
import { hchacha } from '@noble/ciphers/chacha.js'
import { ed25519 } from '@noble/curves/ed25519.js'
import { hexToBytes } from '../bytes.js'
import { nobleProvider } from './noble-provider.js'
import { setCryptoProvider } from './primitives.js'
import type { CryptoProvider } from './provider.js'

const TAG = 16
const SHA256_NATIVE_FROM = 128
/** node:crypto takes at most 1024 bytes of HKDF info; longer ones (Jiayi has none) go to @noble. */
const MAX_NATIVE_HKDF_INFO = 1024

/** A Uint8Array over a Buffer's bytes: same memory, the plain type the rest of core expects. */
function plain(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

function chachaSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, data: Uint8Array, out: Uint8Array) {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG })
  cipher.setAAD(ad, { plaintextLength: data.length })
  const ct = cipher.update(data)
  cipher.final()
  out.set(ct, 0)
  out.set(cipher.getAuthTag(), data.length)
}

function chachaOpen(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < TAG) throw new Error('sealed data is shorter than a tag')
  const at = sealed.length - TAG
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG })
  decipher.setAAD(ad, { plaintextLength: at })
  decipher.setAuthTag(sealed.subarray(at))
  const pt = decipher.update(sealed.subarray(0, at))
  decipher.final() // throws unless the tag authenticates; pt is returned only after it
  return plain(pt)
}

function aesGcmSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG })
  cipher.setAAD(ad)
  const ct = cipher.update(data)
  cipher.final() // GCM has no final block: nothing more comes out
  const out = new Uint8Array(data.length + TAG)
  out.set(ct, 0)
  out.set(cipher.getAuthTag(), data.length)
  return out
}

function aesGcmOpen(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < TAG) throw new Error('sealed data is shorter than a tag')
  const at = sealed.length - TAG
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG })
  decipher.setAAD(ad)
  decipher.setAuthTag(sealed.subarray(at))
  const pt = decipher.update(sealed.subarray(0, at))
  decipher.final() // throws unless the tag authenticates; pt is returned only after it
  return plain(pt)
}

// ---------- XChaCha20-Poly1305 on top of OpenSSL's ChaCha20-Poly1305 ----------

/** "expand 32-byte k" as little-endian words: ChaCha's constants, HChaCha20's first row. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

/** HChaCha20(key, nonce[0..16]) and the 12-byte ChaCha20 nonce 0^4 || nonce[16..24]. */
function xchachaParts(key: Uint8Array, nonce: Uint8Array): { subkey: Uint8Array; nonce12: Uint8Array } {
  const words = new Uint32Array(8 + 4 + 8)
  const bytes = new Uint8Array(words.buffer)
  bytes.set(key, 0)
  bytes.set(nonce.subarray(0, 16), 32)
  const subkey = words.subarray(12, 20)
  // hchacha reads and writes host-order words; on big-endian hosts it swaps them itself.
  hchacha(SIGMA, words.subarray(0, 8), words.subarray(8, 12), subkey)
  const nonce12 = new Uint8Array(12)
  nonce12.set(nonce.subarray(16, 24), 4)
  const out = { subkey: new Uint8Array(words.buffer, 48, 32), nonce12 }
  bytes.fill(0, 0, 48) // the key's copy; the subkey is wiped by the caller
  return out
}

function xchachaSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, data: Uint8Array, out: Uint8Array) {
  const { subkey, nonce12 } = xchachaParts(key, nonce)
  try {
    chachaSeal(subkey, nonce12, ad, data, out)
  } finally {
    subkey.fill(0)
  }
}

function xchachaOpen(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array {
  const { subkey, nonce12 } = xchachaParts(key, nonce)
  try {
    return chachaOpen(subkey, nonce12, ad, sealed)
  } finally {
    subkey.fill(0)
  }
}

// ---------- raw 32-byte keys as KeyObjects (RFC 8410 DER) ----------

// The fixed DER prefixes of a raw 32-byte key: PKCS#8 for secret keys, SPKI for public ones.
const X25519_PKCS8 = hexToBytes('302e020100300506032b656e04220420')
const X25519_SPKI = hexToBytes('302a300506032b656e032100')
const ED25519_PKCS8 = hexToBytes('302e020100300506032b657004220420')
const ED25519_SPKI = hexToBytes('302a300506032b6570032100')

function der(prefix: Uint8Array, key: Uint8Array): Buffer {
  const out = Buffer.alloc(prefix.length + key.length)
  out.set(prefix, 0)
  out.set(key, prefix.length)
  return out
}

function privateKey(prefix: Uint8Array, secretKey: Uint8Array) {
  const encoded = der(prefix, secretKey)
  try {
    return createPrivateKey({ key: encoded, format: 'der', type: 'pkcs8' })
  } finally {
    encoded.fill(0)
  }
}

function publicKey(prefix: Uint8Array, key: Uint8Array) {
  return createPublicKey({ key: der(prefix, key), format: 'der', type: 'spki' })
}

/** The raw public key of a raw secret key: its SPKI encoding after the fixed prefix. */
function rawPublic(pkcs8: Uint8Array, spki: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const encoded = createPublicKey(privateKey(pkcs8, secretKey)).export({ format: 'der', type: 'spki' })
  return Uint8Array.from(encoded.subarray(spki.length))
}

export const nodeCryptoProvider: CryptoProvider = {
  name: 'node',
  sha256: (data) =>
    data.length < SHA256_NATIVE_FROM
      ? nobleProvider.sha256(data)
      : plain(createHash('sha256').update(data).digest()),
  sha512: (data) => plain(createHash('sha512').update(data).digest()),
  hmacSha256: (key, data) => plain(createHmac('sha256', key).update(data).digest()),
  // OpenSSL cannot copy a keyed HMAC cheaply from JS; a fresh one per message is still faster.
  hmacSha256With: (key) => {
    const copy = Uint8Array.from(key)
    return (data) => plain(createHmac('sha256', copy).update(data).digest())
  },
  hkdfSha256: (ikm, salt, info, length) =>
    info.length > MAX_NATIVE_HKDF_INFO
      ? nobleProvider.hkdfSha256(ikm, salt, info, length)
      : new Uint8Array(hkdfSync('sha256', ikm, salt, info, length)),
  chacha20Poly1305Seal: (key, nonce, ad, plaintext, output) => chachaSeal(key, nonce, ad, plaintext, output),
  chacha20Poly1305Open: chachaOpen,
  xchacha20Poly1305Seal: (key, nonce, ad, plaintext, output) =>
    xchachaSeal(key, nonce, ad, plaintext, output),
  xchacha20Poly1305Open: xchachaOpen,
  aes256GcmSeal: aesGcmSeal,
  aes256GcmOpen: aesGcmOpen,
  x25519PublicKey: (secretKey) => rawPublic(X25519_PKCS8, X25519_SPKI, secretKey),
  x25519Shared: (secretKey, key) =>
    // OpenSSL refuses an all-zero result (a low-order public key) by throwing, as @noble does.
    plain(
      diffieHellman({
        privateKey: privateKey(X25519_PKCS8, secretKey),
        publicKey: publicKey(X25519_SPKI, key),
      }),
    ),
  ed25519PublicKey: (secretKey) => rawPublic(ED25519_PKCS8, ED25519_SPKI, secretKey),
  ed25519Sign: (secretKey, message) => plain(sign(null, message, privateKey(ED25519_PKCS8, secretKey))),
  ed25519Verify: (key, message, signature) =>
    isStrictEd25519Key(key) && verify(null, message, publicKey(ED25519_SPKI, key), signature),
}

/**
 * OpenSSL's verification alone is not RFC 8032's strict rule as @noble's `zip215: false` keeps
 * it: it accepts small-order keys (under the identity key, R = B, s = 1 verifies for every
 * message; provider-agreement.test.ts). So the key must first decode canonically (y < p) to a
 * point of large order, as @noble checks it. What OpenSSL checks itself: s < L, and R by
 * comparing its bytes with the encoding of [s]B - [k]A, which no non-canonical R can equal.
 * That equation is the cofactorless one, which RFC 8032 allows in place of @noble's cofactored
 * one: whatever satisfies it satisfies @noble's, and every honest signature satisfies both.
 */
function isStrictEd25519Key(key: Uint8Array): boolean {
  try {
    return !ed25519.Point.fromBytes(key, false).isSmallOrder()
  } catch {
    return false
  }
}

/** Makes node:crypto's provider the one every primitive uses (at the start of a Node process). */
export function useNodeCrypto(): void {
  setCryptoProvider(nodeCryptoProvider)
}

// For Node code that compares or chooses providers (benchmarks, tests, the jiayi command).
export { nobleProvider } from './noble-provider.js'
export { type CryptoProvider, cryptoProviderName, setCryptoProvider } from './primitives.js'
