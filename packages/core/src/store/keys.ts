/**
 * Record keys built from typed parts so that byte order equals logical order: `key('msg', convId,
 * seq)` sorts by conversation, then by sequence number, and `key('msg', convId)` is a byte prefix
 * of exactly that conversation's messages (for `iterate({ prefix })`). Keys carry structural ids
 * and counters only; user content (names, text) never goes into a key. SealedStore stores the
 * first part (the record family) and the numbers as they are and every other part as a keyed hash
 * (store/layout.ts): so ids go after the first part, and nothing secret goes into a first part.
 *
 * Grammar (ABNF; the tuple encoding of FoundationDB, reduced to three types):
 *
 *   key     = 1*part
 *   part    = u64 / string / bytes
 *   u64     = %x01 8OCTET             ; unsigned, big-endian: numeric order is byte order
 *   string  = %x02 escaped %x00       ; the string's UTF-8 (code point order)
 *   bytes   = %x03 escaped %x00       ; raw bytes, e.g. a 16-byte message id
 *   escaped = *( %x02-FF              ; bytes 0x02..0xFF as they are
 *              / %x01 %x01            ; a 0x00 byte
 *              / %x01 %x02 )          ; a 0x01 byte
 *
 * 0x00 appears in a part only as its terminator, so the encoding is prefix-free: the keys that
 * start with `key(...t)` are exactly the keys of tuples that extend t. (FoundationDB's escape,
 * 0x00 -> 0x00 0xFF, lacks this: `key(id)` would be a byte prefix of `key(id + "\0")`.) The
 * escapes keep the order ("a" < "a\0" < "a\x01" < "a\x02") and a shorter string still sorts
 * first. A part's type tag sorts first: at one position, numbers < strings < bytes. No key made
 * here starts with 0x00: that first byte is reserved for the store's own records (the sealed
 * store's key header).
 */
import { concatBytes, fromUtf8, utf8 } from '../bytes.js'
import { InputError } from '../errors.js'
import { checkKey } from './range.js'

export type KeyPart = string | number | bigint | Uint8Array

const TAG_U64 = 0x01
const TAG_STRING = 0x02
const TAG_BYTES = 0x03
const U64_MAX = (1n << 64n) - 1n

function escaped(tag: number, bytes: Uint8Array): Uint8Array {
  let extra = 0
  for (const b of bytes) if (b <= 0x01) extra++
  const out = new Uint8Array(bytes.length + extra + 2)
  out[0] = tag
  let j = 1
  for (const b of bytes) {
    if (b <= 0x01) {
      out[j++] = 0x01
      out[j++] = b + 1
    } else {
      out[j++] = b
    }
  }
  out[j] = 0x00
  return out
}

function u64(value: number | bigint): Uint8Array {
  const out = new Uint8Array(9)
  out[0] = TAG_U64
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InputError('OutOfRange', 'key number must be a non-negative safe integer (use bigint beyond)')
    }
    // Two 32-bit halves by arithmetic: a BigInt and a DataView per key cost more than the rest.
    writeU32(out, 1, Math.floor(value / 0x1_0000_0000))
    writeU32(out, 5, value >>> 0)
    return out
  }
  if (value < 0n || value > U64_MAX) throw new InputError('OutOfRange', 'key bigint must fit in 64 bits')
  writeU32(out, 1, Number(value >> 32n))
  writeU32(out, 5, Number(value & 0xffff_ffffn))
  return out
}

function writeU32(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24
  out[at + 1] = (word >>> 16) & 0xff
  out[at + 2] = (word >>> 8) & 0xff
  out[at + 3] = word & 0xff
}

/**
 * Encoded string parts, by string. Key strings are structural (record names, contact ids), so a
 * few hundred cover a running peer; encoding one (UTF-8 both ways, to refuse lone surrogates, and
 * escaping) cost more than the rest of a key. Bounded: short parts only, cleared when full.
 */
const stringParts = new Map<string, Uint8Array>()
const MAX_CACHED_STRING_PARTS = 4096
const MAX_CACHED_PART_BYTES = 128

function stringPart(part: string): Uint8Array {
  const cached = stringParts.get(part)
  if (cached !== undefined) return cached
  const bytes = utf8(part)
  // TextEncoder silently turns a lone surrogate into U+FFFD; two ids must never share a key.
  if (fromUtf8(bytes) !== part) throw new InputError('BadType', 'key string is not well-formed Unicode')
  const encoded = escaped(TAG_STRING, bytes)
  if (encoded.length > MAX_CACHED_PART_BYTES) return encoded
  if (stringParts.size >= MAX_CACHED_STRING_PARTS) stringParts.clear()
  stringParts.set(part, encoded)
  return encoded
}

function encodePart(part: KeyPart): Uint8Array {
  if (typeof part === 'number' || typeof part === 'bigint') return u64(part)
  if (typeof part === 'string') return stringPart(part)
  if (part instanceof Uint8Array) return escaped(TAG_BYTES, part)
  throw new InputError('BadType', 'key part must be a string, number, bigint or Uint8Array')
}

/** Encodes a tuple of parts as a record key (see the grammar above). */
export function key(...parts: KeyPart[]): Uint8Array {
  if (parts.length === 0) throw new InputError('BadLength', 'a key needs at least one part')
  // concatBytes copies, so the cached string parts never reach a caller.
  const out = concatBytes(...parts.map(encodePart))
  checkKey(out)
  return out
}

function unescapePart(bytes: Uint8Array, start: number): { value: Uint8Array; next: number } {
  const out: number[] = []
  let i = start
  for (;;) {
    if (i >= bytes.length) throw new InputError('BadLength', 'key part is not terminated')
    const b = bytes[i]!
    if (b === 0x00) return { value: Uint8Array.from(out), next: i + 1 }
    if (b >= 0x02) {
      out.push(b)
      i++
    } else {
      const code = bytes[i + 1]
      if (code !== 0x01 && code !== 0x02) throw new InputError('BadType', 'key part has a bad escape')
      out.push(code - 1)
      i += 2
    }
  }
}

function decodeString(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes)
  } catch {
    throw new InputError('BadType', 'key string is not valid UTF-8')
  }
}

/**
 * Decodes a key made by `key()`. Numbers come back as `number` when they are safe integers and
 * as `bigint` beyond, so a key built from a number decodes to the same number.
 */
export function decodeKey(bytes: Uint8Array): KeyPart[] {
  checkKey(bytes)
  const parts: KeyPart[] = []
  let i = 0
  while (i < bytes.length) {
    const tag = bytes[i++]
    if (tag === TAG_U64) {
      if (i + 8 > bytes.length) throw new InputError('BadLength', 'key number is truncated')
      const big = new DataView(bytes.buffer, bytes.byteOffset + i, 8).getBigUint64(0, false)
      parts.push(big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big)
      i += 8
    } else if (tag === TAG_STRING || tag === TAG_BYTES) {
      const { value, next } = unescapePart(bytes, i)
      parts.push(tag === TAG_STRING ? decodeString(value) : value)
      i = next
    } else {
      throw new InputError('BadType', 'unknown key part tag')
    }
  }
  return parts
}
