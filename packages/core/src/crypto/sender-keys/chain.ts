/**
 * The sender chain: a symmetric hash ratchet, exactly libsignal's SenderChainKey.
 *
 *   message key seed = HMAC-SHA256(ck, 0x01)
 *   next chain key   = HMAC-SHA256(ck, 0x02)
 *   message key      = HKDF-SHA256(ikm = seed, salt = none, info = "Jiayi_SenderKey_Message_v1", 32)
 *
 * libsignal expands the seed with info "WhisperGroup" into a 16-byte IV and a 32-byte AES-256-CBC
 * key, and relies on the Ed25519 signature alone for integrity. We derive one 32-byte key for
 * XChaCha20-Poly1305 instead: the AEAD authenticates the ciphertext together with the group id and
 * the sender (associated data), so a group member who knows the chain key but not the signing key
 * still cannot pass off a ciphertext under another group or sender. The 192-bit nonce is random
 * rather than derived from the iteration, so even a state that was rolled back (a restored backup,
 * a crash before the new state was persisted) and so reuses a message key never reuses a
 * (key, nonce) pair: the worst case is a duplicate the receiver rejects, not a broken stream cipher.
 */
import { CryptoError } from '../errors.js'
import { hkdfSha256, hmacSha256, KEY_BYTES } from '../primitives.js'
import {
  CHAIN_KEY_CONSTANT,
  MAX_ITERATION,
  MESSAGE_KEY_INFO,
  MESSAGE_KEY_SEED_CONSTANT,
} from './constants.js'

/** A chain key and the iteration of the next message key it yields. */
export interface SenderChainKey {
  readonly iteration: number
  readonly seed: Uint8Array
}

/** A message-key seed kept for a message that has not arrived yet. */
export interface SkippedMessageKey {
  readonly iteration: number
  readonly seed: Uint8Array
}

/** The message-key seed for `chain.iteration`. */
export function messageKeySeed(chain: SenderChainKey): Uint8Array {
  return hmacSha256(chain.seed, MESSAGE_KEY_SEED_CONSTANT)
}

/** The chain key one iteration later. The caller must not step past MAX_ITERATION. */
export function nextChainKey(chain: SenderChainKey): SenderChainKey {
  if (chain.iteration >= MAX_ITERATION) {
    throw new CryptoError('BadState', 'sender chain is exhausted; create a new sender key')
  }
  return Object.freeze({ iteration: chain.iteration + 1, seed: hmacSha256(chain.seed, CHAIN_KEY_CONSTANT) })
}

/** The AEAD key for one message, from its message-key seed. */
export function messageKey(seed: Uint8Array): Uint8Array {
  return hkdfSha256(seed, undefined, MESSAGE_KEY_INFO, KEY_BYTES)
}
