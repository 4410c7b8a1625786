/**
 * Prekeys (X3DH section 2.2, PQXDH section 2.3): a signed X25519 prekey (in the card and in
 * bundles), one-time X25519 prekeys (handed out one per request over /jiayi/prekeys/1), and an
 * identity-signed ML-KEM-768 prekey, used as a last-resort KEM key when no one-time one is left.
 */
import { concatBytes, type RandomSource, randomBytes, u32be } from '../bytes.js'
import { SignatureContext } from '../identity/contexts.js'
import { type IdentityKeyPair, signAs, verifySignedBy } from '../identity/identity.js'
import { KEM_SEED_BYTES, KEY_BYTES, type KeyPair, mlKemKeyPair, x25519KeyPair } from './primitives.js'

export interface SignedPreKey {
  readonly id: number
  readonly keyPair: KeyPair
  /** Identity signature over id (u32 BE) || public key, context Jiayi_SignedPreKey_v1. */
  readonly signature: Uint8Array
}

export interface OneTimePreKey {
  readonly id: number
  readonly keyPair: KeyPair
}

export interface KemPreKey {
  readonly id: number
  /** 64-byte ML-KEM seed: the secret key is re-derived from it, so only 64 bytes need storing. */
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
  readonly secretKey: Uint8Array
  /** Identity signature over id (u32 BE) || public key, context Jiayi_KemPreKey_v1. */
  readonly signature: Uint8Array
}

function preKeyPayload(id: number, publicKey: Uint8Array): Uint8Array {
  return concatBytes(u32be(id), publicKey)
}

export function generateSignedPreKey(
  identity: IdentityKeyPair,
  id: number,
  random: RandomSource = randomBytes,
): SignedPreKey {
  const keyPair = x25519KeyPair(random(KEY_BYTES))
  return { id, keyPair, signature: signSignedPreKey(identity, id, keyPair.publicKey) }
}

export function signSignedPreKey(identity: IdentityKeyPair, id: number, publicKey: Uint8Array): Uint8Array {
  return signAs(identity, SignatureContext.SignedPreKey, preKeyPayload(id, publicKey))
}

export function verifySignedPreKey(
  signingKey: Uint8Array,
  id: number,
  publicKey: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifySignedBy(signingKey, SignatureContext.SignedPreKey, preKeyPayload(id, publicKey), signature)
}

export function generateOneTimePreKeys(
  firstId: number,
  count: number,
  random: RandomSource = randomBytes,
): OneTimePreKey[] {
  const keys: OneTimePreKey[] = []
  for (let i = 0; i < count; i++)
    keys.push({ id: (firstId + i) >>> 0, keyPair: x25519KeyPair(random(KEY_BYTES)) })
  return keys
}

export function generateKemPreKey(
  identity: IdentityKeyPair,
  id: number,
  random: RandomSource = randomBytes,
): KemPreKey {
  return kemPreKeyFromSeed(identity, id, random(KEM_SEED_BYTES))
}

export function kemPreKeyFromSeed(identity: IdentityKeyPair, id: number, seed: Uint8Array): KemPreKey {
  const { publicKey, secretKey } = mlKemKeyPair(seed)
  const signature = signAs(identity, SignatureContext.KemPreKey, preKeyPayload(id, publicKey))
  return { id, seed, publicKey, secretKey, signature }
}

export function verifyKemPreKey(
  signingKey: Uint8Array,
  id: number,
  publicKey: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifySignedBy(signingKey, SignatureContext.KemPreKey, preKeyPayload(id, publicKey), signature)
}
