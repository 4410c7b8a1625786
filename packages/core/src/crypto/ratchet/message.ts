/**
 * A ratchet message on the wire: version (1) || sealed header (68) || sealed body.
 * Sealed body: nonce (12) || ChaCha20-Poly1305 ciphertext || tag (16), keyed by the message key.
 *
 * Each message key seals exactly one body, so the key alone would make the nonce unique; the random
 * nonce is defence in depth should a crashed peer ever restore an older state and re-derive a key.
 */
import { concatBytes } from '../../bytes.js'
import { CryptoError } from '../errors.js'
import { chacha20Poly1305Open, chacha20Poly1305SealInto } from '../primitives.js'
import { MESSAGE_VERSION } from './constants.js'
import { NONCE_BYTES, SEALED_HEADER_BYTES, TAG_BYTES } from './header.js'

export const MIN_MESSAGE_BYTES = 1 + SEALED_HEADER_BYTES + NONCE_BYTES + TAG_BYTES
/** Ratchet overhead over the plaintext, in bytes. */
export const MESSAGE_OVERHEAD = MIN_MESSAGE_BYTES

export interface RatchetMessage {
  readonly sealedHeader: Uint8Array
  readonly body: Uint8Array
}

export function decodeMessage(bytes: Uint8Array): RatchetMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length < MIN_MESSAGE_BYTES) {
    throw new CryptoError('BadMessage', 'ratchet message is too short')
  }
  if (bytes[0] !== MESSAGE_VERSION) throw new CryptoError('BadMessage', 'unknown ratchet message version')
  return {
    sealedHeader: bytes.subarray(1, 1 + SEALED_HEADER_BYTES),
    body: bytes.subarray(1 + SEALED_HEADER_BYTES),
  }
}

/** AD of the body AEAD: the session's AD, the version byte and the sealed header (spec: AD || enc_header). */
export function bodyAssociatedData(ad: Uint8Array, sealedHeader: Uint8Array): Uint8Array {
  return concatBytes(ad, Uint8Array.of(MESSAGE_VERSION), sealedHeader)
}

/** AD of the header AEAD: the version byte, so a header cannot be moved into another format. */
export const HEADER_AD = Uint8Array.of(MESSAGE_VERSION)

/** Seals a body into `out` (nonce, ciphertext, tag) under its one-time message key; `nonce`: 12 fresh random bytes. */
export function sealBodyInto(
  out: Uint8Array,
  messageKey: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
  nonce: Uint8Array,
): void {
  out.set(nonce, 0)
  chacha20Poly1305SealInto(out.subarray(NONCE_BYTES), messageKey, nonce, plaintext, ad)
}

export function openBody(messageKey: Uint8Array, body: Uint8Array, ad: Uint8Array): Uint8Array {
  try {
    return chacha20Poly1305Open(messageKey, body.subarray(0, NONCE_BYTES), body.subarray(NONCE_BYTES), ad)
  } catch (cause) {
    throw new CryptoError('DecryptFailed', 'message authentication failed', { cause })
  }
}
