/**
 * A sealed record's value on disk. The application's own key travels inside the seal, because the
 * key on disk holds keyed hashes of its ids (layout.ts) and an iteration must give the
 * application's keys back.
 *
 *   record  = sealed / split
 *   sealed  = %x02 box                       ; the whole value sealed
 *   split   = %x03 n box tail                ; n = 4OCTET, the length of box; value = head || tail
 *   box     = nonce(24) XChaCha20-Poly1305(data key, klen key head) tag(16), AD = the physical key
 *   klen    = 2OCTET                         ; length of the application's key
 *
 * A split record keeps `tail` as it is: bytes the application marks as sealed end to end already
 * (the outbox's Double Ratchet envelopes, store.ts `endToEndFrom`), so the store seals only the
 * few bytes in front of them (their sequence number, time and message id) and not the envelope a
 * second time. The tail's integrity is its own AEAD's, checked by the peer it is for.
 *
 * Legacy records (layout 1, read only while a store is moved to the current layout):
 *   %x01 nonce(24) ciphertext tag(16)         ; AD = the key; the key is the application's
 *   %x00 value                                ; in the clear, only in LEGACY_PLAIN_FAMILIES
 */
import { concatBytes, readU32be, u32be } from '../bytes.js'
import { open, sealAfter, TAG_BYTES, XNONCE_BYTES } from '../crypto/primitives.js'
import { InputError } from '../errors.js'
import { StoreError } from './errors.js'
import { key as keyOf } from './keys.js'
import { MAX_KEY_BYTES } from './store.js'

const SEALED = 0x02
const SPLIT = 0x03
const LEGACY_SEALED = 0x01
const LEGACY_PLAIN = 0x00
const BOX_OVERHEAD = XNONCE_BYTES + TAG_BYTES
const SEALED_PREFIX = Uint8Array.of(SEALED)

/**
 * Record families whose values a legacy store kept in the clear: two indexes (message id ->
 * seq, unread markers) and ratchet envelopes in the outbox. Only read, when such a store is moved.
 */
export const LEGACY_PLAIN_FAMILIES: readonly string[] = ['msgid', 'unread', 'outbox']
const LEGACY_PLAIN_PREFIXES = LEGACY_PLAIN_FAMILIES.map((family) => keyOf(family))

/**
 * Record families whose writes may leave a tail unsealed (`endToEndFrom`): the messenger's
 * outbox (`outbox <cid> <seq>`: an envelope for the peer).
 */
export const END_TO_END_FAMILIES: readonly string[] = ['outbox']
const END_TO_END_PREFIXES = END_TO_END_FAMILIES.map((family) => keyOf(family))

/** Plain comparison: it runs on application keys in memory, which are not secret here. */
function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length <= prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

export function isEndToEndKey(key: Uint8Array): boolean {
  return END_TO_END_PREFIXES.some((prefix) => startsWith(key, prefix))
}

/** What a record holds: the application's key and value (`head || tail`, tail possibly empty). */
export interface OpenedRecord {
  readonly key: Uint8Array
  readonly head: Uint8Array
  /** The part stored as it is (split records); undefined for a sealed one. */
  readonly tail?: Uint8Array
}

function corrupt(why: string, cause?: unknown): StoreError {
  return new StoreError('Corrupt', `a stored record ${why}`, cause === undefined ? undefined : { cause })
}

/**
 * Seals `value` for `key` (the application's key) stored at `physical`. With `endToEndFrom`, the
 * bytes from there on are stored as they are (see the module comment).
 */
export function sealRecord(
  dataKey: Uint8Array,
  physical: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
  endToEndFrom?: number,
): Uint8Array {
  if (key.length > MAX_KEY_BYTES) throw new InputError('BadLength', 'store key is too long')
  const split = endToEndFrom !== undefined && endToEndFrom < value.length
  const head = split ? value.subarray(0, endToEndFrom) : value
  const plaintext = new Uint8Array(2 + key.length + head.length)
  plaintext[0] = key.length >>> 8
  plaintext[1] = key.length & 0xff
  plaintext.set(key, 2)
  plaintext.set(head, 2 + key.length)
  if (!split) return sealAfter(SEALED_PREFIX, dataKey, plaintext, physical)
  const box = sealAfter(new Uint8Array(0), dataKey, plaintext, physical)
  return concatBytes(Uint8Array.of(SPLIT), u32be(box.length), box, value.subarray(endToEndFrom))
}

function openBox(
  dataKey: Uint8Array,
  physical: Uint8Array,
  box: Uint8Array,
): { key: Uint8Array; head: Uint8Array } {
  let plaintext: Uint8Array
  try {
    plaintext = open(dataKey, box, physical)
  } catch (cause) {
    throw corrupt('failed authentication', cause)
  }
  const klen = plaintext.length >= 2 ? (plaintext[0]! << 8) | plaintext[1]! : -1
  if (klen < 1 || 2 + klen > plaintext.length) throw corrupt('is malformed')
  return { key: plaintext.subarray(2, 2 + klen), head: plaintext.subarray(2 + klen) }
}

/** Opens a record of the current format; StoreError 'Corrupt' for anything else. */
export function openRecord(dataKey: Uint8Array, physical: Uint8Array, record: Uint8Array): OpenedRecord {
  const format = record[0]
  if (format === SEALED && record.length >= 1 + BOX_OVERHEAD) {
    return openBox(dataKey, physical, record.subarray(1))
  }
  if (format === SPLIT && record.length >= 5 + BOX_OVERHEAD) {
    const n = readU32be(record, 1)
    if (n < BOX_OVERHEAD || 5 + n > record.length) throw corrupt('is malformed')
    const opened = openBox(dataKey, physical, record.subarray(5, 5 + n))
    return { ...opened, tail: record.subarray(5 + n) }
  }
  throw corrupt('is malformed')
}

/** The value of an opened record as one array. */
export function recordValue(opened: OpenedRecord): Uint8Array {
  return opened.tail === undefined || opened.tail.length === 0
    ? opened.head
    : concatBytes(opened.head, opened.tail)
}

/** Opens a legacy record (its key on disk is the application's key). */
export function openLegacyRecord(dataKey: Uint8Array, key: Uint8Array, record: Uint8Array): OpenedRecord {
  if (record[0] === LEGACY_PLAIN && LEGACY_PLAIN_PREFIXES.some((p) => startsWith(key, p))) {
    return { key, head: record.subarray(1) }
  }
  if (record[0] !== LEGACY_SEALED || record.length < 1 + BOX_OVERHEAD) throw corrupt('is malformed')
  try {
    return { key, head: open(dataKey, record.subarray(1), key) }
  } catch (cause) {
    throw corrupt('failed authentication', cause)
  }
}
