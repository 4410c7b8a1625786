/** Byte helpers shared by every layer. Inputs from outside are checked here, at the boundary. */
import { equalBytes as nobleEqualBytes } from '@noble/ciphers/utils.js'
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js'
import { InputError } from './errors.js'

export { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

/**
 * Where randomness comes from. Production code uses the CSPRNG; frozen test vectors pass a
 * deterministic source so that wire formats can be pinned byte for byte.
 */
export type RandomSource = (length: number) => Uint8Array

const POOL_BYTES = 4096
let pool = new Uint8Array(0)
let poolOffset = 0

/**
 * Cryptographically secure random bytes. Small requests are served from a 4 KiB buffer that is
 * refilled from the platform CSPRNG (crypto.getRandomValues) when it runs out: each call to the
 * platform costs ~2 µs regardless of size, which a ratchet message would otherwise pay twice.
 * Every byte is handed out once and wiped from the buffer as it is handed out.
 */
export function randomBytes(length: number): Uint8Array {
  if (length > 256) return nobleRandomBytes(length)
  if (poolOffset + length > pool.length) {
    pool = nobleRandomBytes(POOL_BYTES)
    poolOffset = 0
  }
  const out = pool.slice(poolOffset, poolOffset + length)
  pool.fill(0, poolOffset, poolOffset + length)
  poolOffset += length
  return out
}

/** Constant-time comparison (for secrets and MACs); false when lengths differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return nobleEqualBytes(a, b)
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true })

export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Decodes UTF-8 strictly: invalid sequences throw instead of turning into U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes)
}

export function u32be(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new InputError('OutOfRange', 'value is not a 32-bit unsigned integer')
  }
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value, false)
  return out
}

export function readU32be(bytes: Uint8Array, offset = 0): number {
  if (offset + 4 > bytes.length) throw new InputError('BadLength', 'not enough bytes for a 32-bit integer')
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, false)
}

/** Throws InputError unless `value` is a Uint8Array of exactly `length` bytes. */
export function assertBytes(
  value: unknown,
  length: number | undefined,
  what: string,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InputError('BadType', `${what} must be a Uint8Array`)
  if (length !== undefined && value.length !== length) {
    throw new InputError('BadLength', `${what} must be ${length} bytes, got ${value.length}`)
  }
}

/** Overwrites secret material that is no longer needed (best effort in a GC'd runtime). */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0)
}

/**
 * Base64 (standard alphabet, no padding: the same text as multiformats' `base64.baseEncode`),
 * through the platform's btoa. multiformats builds its string a character at a time: ~3 µs and
 * ~17 KiB of garbage for a 400-byte envelope, where this takes ~1.4 µs and one string.
 */
export function toBase64(bytes: Uint8Array): string {
  const text = btoa(bytesToLatin1(bytes))
  const end = text.endsWith('==') ? text.length - 2 : text.endsWith('=') ? text.length - 1 : text.length
  return text.slice(0, end)
}

/** The inverse of toBase64 (padding is accepted too); InputError 'BadType' for anything else. */
export function fromBase64(text: string): Uint8Array {
  if (typeof text !== 'string' || !BASE64_TEXT.test(text)) {
    throw new InputError('BadType', 'not base64 text')
  }
  let binary: string
  try {
    binary = atob(text)
  } catch (cause) {
    throw new InputError('BadType', 'not base64 text', { cause })
  }
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/**
 * One character per byte (latin1): what btoa takes, and a cheap, exact Map key for bytes (made in
 * a call per 8 KiB, where hex builds a string twice as long a character at a time).
 */
export function bytesToLatin1(bytes: Uint8Array): string {
  if (bytes.length <= LATIN1_CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[])
  let text = ''
  for (let i = 0; i < bytes.length; i += LATIN1_CHUNK) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + LATIN1_CHUNK) as unknown as number[])
  }
  return text
}

/** Characters per String.fromCharCode call (well within any engine's argument limit). */
const LATIN1_CHUNK = 0x2000
/** atob also skips whitespace; stored records never hold any, so it is refused. */
const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/
