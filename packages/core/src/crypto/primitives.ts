/**
 * The only door to Jiayi's cryptographic primitives. Each wrapper fixes the algorithm choice,
 * checks inputs at the boundary and turns library exceptions into typed CryptoErrors; the bytes
 * come from the installed CryptoProvider (provider.ts): @noble unless the platform installs its
 * own (Node installs node:crypto's through `@jiayi/core/node-crypto`). Both give the same bytes,
 * so nothing outside this file knows, or needs to know, which one runs. ML-KEM and the Ed25519
 * point check are @noble's on every platform (node:crypto has neither).
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { assertBytes, type RandomSource, randomBytes } from '../bytes.js'
import { InputError } from '../errors.js'
import { CryptoError } from './errors.js'
import { nobleProvider } from './noble-provider.js'
import type { CryptoProvider } from './provider.js'

export type { CryptoProvider } from './provider.js'

let provider: CryptoProvider = nobleProvider

/**
 * Installs the provider every wrapper below uses from now on; once, at start-up, before any key
 * is made. Returns the one it replaces.
 */
export function setCryptoProvider(next: CryptoProvider): CryptoProvider {
  const previous = provider
  provider = next
  return previous
}

/** The provider's name ("noble", "node"), for benchmarks and diagnostics. */
export function cryptoProviderName(): string {
  return provider.name
}

export const KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
export const XNONCE_BYTES = 24
export const TAG_BYTES = 16
export const KEM_PUBLIC_BYTES = 1184
export const KEM_CIPHERTEXT_BYTES = 1088
export const KEM_SEED_BYTES = 64

export interface KeyPair {
  readonly publicKey: Uint8Array
  readonly secretKey: Uint8Array
}

// ---------- hashing and key derivation ----------

export function sha256Hash(data: Uint8Array): Uint8Array {
  return provider.sha256(data)
}

export function sha512Hash(data: Uint8Array): Uint8Array {
  return provider.sha512(data)
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return provider.hmacSha256(key, data)
}

/**
 * HMAC-SHA256 under one key for many short messages (the sealed store names every record key
 * this way, KDF_CK derives two keys from one chain key): the provider may prepare the key once.
 */
export function hmacSha256With(key: Uint8Array): (data: Uint8Array) => Uint8Array {
  assertBytes(key, undefined, 'HMAC key')
  return provider.hmacSha256With(key)
}

/** HKDF-SHA256 (RFC 5869). An empty salt equals 32 zero bytes, as the X3DH spec asks. */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new InputError('OutOfRange', 'HKDF-SHA256 output length must be 1..8160 bytes')
  }
  return provider.hkdfSha256(ikm, salt ?? new Uint8Array(32), info, length)
}

// ---------- Ed25519 (strict RFC 8032 verification) ----------

export function ed25519KeyPair(seed?: Uint8Array): KeyPair {
  if (seed !== undefined) assertBytes(seed, KEY_BYTES, 'Ed25519 seed')
  // RFC 8032: the secret key is the 32-byte seed itself.
  const secretKey = seed === undefined ? randomBytes(KEY_BYTES) : Uint8Array.from(seed)
  return { secretKey, publicKey: provider.ed25519PublicKey(secretKey) }
}

export function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  assertBytes(secretKey, KEY_BYTES, 'Ed25519 secret key')
  return provider.ed25519PublicKey(secretKey)
}

export function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  assertBytes(secretKey, KEY_BYTES, 'Ed25519 secret key')
  return provider.ed25519Sign(secretKey, message)
}

/**
 * Strict RFC 8032 verification: non-canonical encodings and small-order keys are rejected
 * (Wycheproof ed25519 tcId 151 among them). Never throws; false on any fault.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return false
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false
  try {
    return provider.ed25519Verify(publicKey, message, signature)
  } catch {
    return false
  }
}

/** A valid Ed25519 public key: a canonical encoding of a curve point. */
export function isEd25519PublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return false
  try {
    ed25519.Point.fromBytes(publicKey, false)
    return true
  } catch {
    return false
  }
}

// ---------- X25519 ----------

export function x25519KeyPair(seed?: Uint8Array): KeyPair {
  if (seed !== undefined) assertBytes(seed, KEY_BYTES, 'X25519 seed')
  // RFC 7748: any 32 bytes are a secret key (clamped when used).
  const secretKey = seed === undefined ? randomBytes(KEY_BYTES) : Uint8Array.from(seed)
  return { secretKey, publicKey: provider.x25519PublicKey(secretKey) }
}

export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  assertBytes(secretKey, KEY_BYTES, 'X25519 secret key')
  return provider.x25519PublicKey(secretKey)
}

/** X25519 shared secret; a low-order public key (all-zero output) is rejected with BadKey. */
export function x25519Shared(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  assertBytes(secretKey, KEY_BYTES, 'X25519 secret key')
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) {
    throw new CryptoError('BadKey', 'X25519 public key must be 32 bytes')
  }
  try {
    return provider.x25519Shared(secretKey, publicKey)
  } catch (cause) {
    throw new CryptoError('BadKey', 'X25519 public key is of low order', { cause })
  }
}

// ---------- ChaCha20-Poly1305 (RFC 8439, 96-bit nonce) for the ratchet's one-chain keys ----------

export const NONCE_BYTES = 12

/** Seals into `output`: ciphertext || tag, `plaintext.length + TAG_BYTES` bytes. */
export function chacha20Poly1305SealInto(
  output: Uint8Array,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): void {
  assertBytes(key, KEY_BYTES, 'AEAD key')
  assertBytes(nonce, NONCE_BYTES, 'AEAD nonce')
  assertBytes(output, plaintext.length + TAG_BYTES, 'AEAD output')
  provider.chacha20Poly1305Seal(key, nonce, ad, plaintext, output)
}

/** Opens ciphertext || tag; throws DecryptFailed on any tampering, never returns partial data. */
export function chacha20Poly1305Open(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  assertBytes(key, KEY_BYTES, 'AEAD key')
  assertBytes(nonce, NONCE_BYTES, 'AEAD nonce')
  if (!(sealed instanceof Uint8Array) || sealed.length < TAG_BYTES) {
    throw new CryptoError('DecryptFailed', 'sealed data is too short')
  }
  try {
    return provider.chacha20Poly1305Open(key, nonce, ad, sealed)
  } catch (cause) {
    throw new CryptoError('DecryptFailed', 'authentication failed', { cause })
  }
}

// ---------- AES-256-GCM (96-bit nonce), where the provider has it natively ----------

/** Whether the installed provider computes AES-256-GCM itself (else: WebCrypto's, see provider.ts). */
export function hasNativeAes256Gcm(): boolean {
  return provider.aes256GcmSeal !== undefined && provider.aes256GcmOpen !== undefined
}

function nativeAes(): Required<Pick<CryptoProvider, 'aes256GcmSeal' | 'aes256GcmOpen'>> {
  const { aes256GcmSeal, aes256GcmOpen } = provider
  if (aes256GcmSeal === undefined || aes256GcmOpen === undefined)
    throw new InputError('BadType', 'this crypto provider has no AES-256-GCM')
  return { aes256GcmSeal, aes256GcmOpen }
}

/** ciphertext || tag (16). The caller guarantees a nonce never repeats under a key. */
export function aes256GcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  assertBytes(key, KEY_BYTES, 'AES key')
  assertBytes(nonce, NONCE_BYTES, 'AES-GCM nonce')
  return nativeAes().aes256GcmSeal(key, nonce, ad, plaintext)
}

/** Opens ciphertext || tag; throws DecryptFailed on any tampering, never returns partial data. */
export function aes256GcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  assertBytes(key, KEY_BYTES, 'AES key')
  assertBytes(nonce, NONCE_BYTES, 'AES-GCM nonce')
  if (!(sealed instanceof Uint8Array) || sealed.length < TAG_BYTES) {
    throw new CryptoError('DecryptFailed', 'sealed data is too short')
  }
  const { aes256GcmOpen: openNative } = nativeAes()
  try {
    return openNative(key, nonce, ad, sealed)
  } catch (cause) {
    throw new CryptoError('DecryptFailed', 'authentication failed', { cause })
  }
}

// ---------- XChaCha20-Poly1305 with a random 192-bit nonce ----------

/** Seals `plaintext`: nonce (24) || ciphertext || tag (16). Random nonces are safe at 192 bits. */
export function seal(
  key: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
  random: RandomSource = randomBytes,
): Uint8Array {
  return sealAfter(EMPTY, key, plaintext, ad, random)
}

const EMPTY = new Uint8Array(0)

/**
 * `prefix || seal(key, plaintext, ad)` built in one buffer: the AEAD writes straight into it, and
 * the nonce and ciphertext start on 4-byte boundaries, where @noble works on 32-bit words instead
 * of copying them first (a record seal costs ~20% less than sealing and concatenating).
 */
export function sealAfter(
  prefix: Uint8Array,
  key: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
  random: RandomSource = randomBytes,
): Uint8Array {
  assertBytes(key, KEY_BYTES, 'AEAD key')
  const nonce = random(XNONCE_BYTES)
  assertBytes(nonce, XNONCE_BYTES, 'nonce from the random source')
  const pad = (4 - (prefix.length % 4)) % 4
  const out = new Uint8Array(pad + prefix.length + XNONCE_BYTES + plaintext.length + TAG_BYTES).subarray(pad)
  out.set(prefix, 0)
  const at = prefix.length
  out.set(nonce, at)
  const alignedNonce = out.subarray(at, at + XNONCE_BYTES)
  provider.xchacha20Poly1305Seal(key, alignedNonce, ad, plaintext, out.subarray(at + XNONCE_BYTES))
  return out
}

/** Opens what `seal` made; throws DecryptFailed on any tampering, never returns partial data. */
export function open(key: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array {
  assertBytes(key, KEY_BYTES, 'AEAD key')
  if (!(sealed instanceof Uint8Array) || sealed.length < XNONCE_BYTES + TAG_BYTES) {
    throw new CryptoError('DecryptFailed', 'sealed data is too short')
  }
  try {
    return provider.xchacha20Poly1305Open(
      key,
      sealed.subarray(0, XNONCE_BYTES),
      ad,
      sealed.subarray(XNONCE_BYTES),
    )
  } catch (cause) {
    throw new CryptoError('DecryptFailed', 'authentication failed', { cause })
  }
}

/** Like `open`, but returns undefined instead of throwing (for trial decryption of headers). */
export function tryOpen(key: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  try {
    return open(key, sealed, ad)
  } catch {
    return undefined
  }
}

// ---------- ML-KEM-768 (FIPS 203) ----------

/** ML-KEM-768 key pair from a 64-byte seed, so a secret key can be stored as just its seed. */
export function mlKemKeyPair(seed: Uint8Array = randomBytes(KEM_SEED_BYTES)): KeyPair & { seed: Uint8Array } {
  assertBytes(seed, KEM_SEED_BYTES, 'ML-KEM seed')
  const { publicKey, secretKey } = ml_kem768.keygen(Uint8Array.from(seed))
  return { publicKey, secretKey, seed }
}

export function mlKemEncapsulate(
  publicKey: Uint8Array,
  randomness?: Uint8Array,
): {
  cipherText: Uint8Array
  sharedSecret: Uint8Array
} {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEM_PUBLIC_BYTES) {
    throw new CryptoError('BadKey', `ML-KEM-768 public key must be ${KEM_PUBLIC_BYTES} bytes`)
  }
  if (randomness !== undefined) assertBytes(randomness, 32, 'ML-KEM encapsulation randomness')
  try {
    return ml_kem768.encapsulate(publicKey, randomness && Uint8Array.from(randomness))
  } catch (cause) {
    throw new CryptoError('BadKey', 'ML-KEM-768 public key is malformed', { cause })
  }
}

export function mlKemDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(cipherText instanceof Uint8Array) || cipherText.length !== KEM_CIPHERTEXT_BYTES) {
    throw new CryptoError('BadMessage', `ML-KEM-768 ciphertext must be ${KEM_CIPHERTEXT_BYTES} bytes`)
  }
  try {
    return ml_kem768.decapsulate(cipherText, Uint8Array.from(secretKey))
  } catch (cause) {
    throw new CryptoError('BadKey', 'ML-KEM-768 secret key is malformed', { cause })
  }
}
