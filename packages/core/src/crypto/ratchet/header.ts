/**
 * Ratchet headers (spec section 4, header encryption). Plaintext: DH public key (32) || PN (u32 BE)
 * || N (u32 BE) = 40 bytes. Sealed with ChaCha20-Poly1305 under the chain's header key with a
 * random 96-bit nonce: nonce (12) || ciphertext (40) || tag (16) = 68 bytes.
 *
 * Why a random 96-bit nonce is enough here: a header key lives for one sending chain, i.e. until
 * the next DH ratchet step; the collision bound of random 96-bit nonces (2^32 messages per key,
 * NIST SP 800-38D) is far beyond any chain.
 */
import { chacha20Poly1305Open, chacha20Poly1305SealInto, NONCE_BYTES, TAG_BYTES } from '../primitives.js'

export { NONCE_BYTES, TAG_BYTES }
export const HEADER_PLAINTEXT_BYTES = 40
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
  const out = new Uint8Array(HEADER_PLAINTEXT_BYTES)
  out.set(header.dh, 0)
  writeU32(out, 32, header.pn)
  writeU32(out, 36, header.n)
  return out
}

export function decodeHeader(bytes: Uint8Array): Header {
  return { dh: bytes.slice(0, 32), pn: readU32(bytes, 32), n: readU32(bytes, 36) }
}

// Plain shifts: a DataView per field costs more than the rest of the header together.
function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24
  out[at + 1] = (value >>> 16) & 0xff
  out[at + 2] = (value >>> 8) & 0xff
  out[at + 3] = value & 0xff
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
}

/** Seals a header into `out` (68 bytes): nonce, then ciphertext and tag. `nonce`: 12 fresh random bytes. */
export function sealHeaderInto(
  out: Uint8Array,
  headerKey: Uint8Array,
  header: Header,
  ad: Uint8Array,
  nonce: Uint8Array,
): void {
  out.set(nonce, 0)
  chacha20Poly1305SealInto(out.subarray(NONCE_BYTES), headerKey, nonce, encodeHeader(header), ad)
}

/** Trial decryption: undefined when this key did not seal the header. */
export function openHeader(headerKey: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Header | undefined {
  if (sealed.length !== SEALED_HEADER_BYTES) return undefined
  try {
    return decodeHeader(
      chacha20Poly1305Open(headerKey, sealed.subarray(0, NONCE_BYTES), sealed.subarray(NONCE_BYTES), ad),
    )
  } catch {
    return undefined
  }
}
