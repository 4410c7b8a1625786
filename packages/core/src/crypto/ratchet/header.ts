/**
 * Ratchet headers (spec section 4, header encryption). Plaintext: DH public key (32) || PN (u32 BE)
 * || N (u32 BE) = 40 bytes. Sealed with ChaCha20-Poly1305 under the chain's header key with a
 * random 96-bit nonce: nonce (12) || ciphertext (40) || tag (16) = 68 bytes.
 *
 * Why a random 96-bit nonce is enough here: a header key lives for one sending chain, i.e. until
 * the next DH ratchet step; the collision bound of random 96-bit nonces (2^32 messages per key,
 * NIST SP 800-38D) is far beyond any chain.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { concatBytes, readU32be, u32be } from '../../bytes.js'

export const HEADER_PLAINTEXT_BYTES = 40
export const NONCE_BYTES = 12
export const TAG_BYTES = 16
export const SEALED_HEADER_BYTES = NONCE_BYTES + HEADER_PLAINTEXT_BYTES + TAG_BYTES

export interface Header {
  /** The sender's current ratchet public key. */
  readonly dh: Uint8Array
  /** Number of messages in the sender's previous sending chain. */
  readonly pn: number
  /** This message's number in the current sending chain. */
  readonly n: number
}

export function encodeHeader(header: Header): Uint8Array {
  return concatBytes(header.dh, u32be(header.pn), u32be(header.n))
}

export function decodeHeader(bytes: Uint8Array): Header {
  return { dh: bytes.slice(0, 32), pn: readU32be(bytes, 32), n: readU32be(bytes, 36) }
}

/** Seals a header; `nonce` must be 12 fresh random bytes. */
export function sealHeader(
  headerKey: Uint8Array,
  header: Header,
  ad: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  return concatBytes(nonce, chacha20poly1305(headerKey, nonce, ad).encrypt(encodeHeader(header)))
}

/** Trial decryption: undefined when this key did not seal the header. */
export function openHeader(headerKey: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Header | undefined {
  if (sealed.length !== SEALED_HEADER_BYTES) return undefined
  try {
    const plain = chacha20poly1305(headerKey, sealed.subarray(0, NONCE_BYTES), ad).decrypt(
      sealed.subarray(NONCE_BYTES),
    )
    return decodeHeader(plain)
  } catch {
    return undefined
  }
}
