/**
 * At rest everything is sealed: SealedStore wraps any Store and seals every value with
 * XChaCha20-Poly1305 under a 32-byte data key, a random nonce per write, and the record key as
 * associated data, so a value copied or moved to another key fails to open instead of being
 * believed. Keys pass through unchanged: they are structural (ids, counters; see keys.ts), and
 * keeping them in the clear keeps ordering and range iteration working on the inner store.
 *
 * Record format: %x01 nonce(24) ciphertext tag(16). A value that does not open is a StoreError
 * 'Corrupt', never returned bytes. The inner store's atomic batch carries over: a batch is sealed
 * op by op in memory first, then handed to the inner store as one batch.
 *
 * One exception, by record family: the values of the HINT_FAMILIES below are stored in the clear,
 * as %x00 value. They are indexes whose value repeats what their key already shows (a message's
 * sequence number beside its id, an unread marker), written with every message, and sealing
 * them was one of the sender's four seals per message and two of the receiver's three or four.
 * Their readers treat them as hints: a message found through one is checked against the sealed
 * message itself.
 *
 * And one by write: in the END_TO_END_FAMILIES, a put marked `sealedEndToEnd` is stored as
 * %x00 value too. That is the outbox: its envelopes are Double Ratchet messages, AEAD-sealed
 * under message keys and with encrypted headers, and those keys live only in sealed records (the
 * session states), so a second seal under the storage key hid nothing but cost the sender one
 * seal per message. The messenger marks only ratchet messages so: a session's first messages
 * (PreKey messages) carry our public keys in the clear and stay sealed here.
 *
 * Everywhere else a %x00 record is 'Corrupt', so a record cannot be downgraded to the clear, and
 * a put marked `sealedEndToEnd` for another family is an InputError. Records of these families
 * written sealed (before this format, or not so marked) still open.
 *
 * Not covered: an attacker who can write the disk may roll a record back to an older sealed
 * value of the same key, or delete records; sealing gives confidentiality and per-record
 * integrity, not freshness.
 */
import { assertBytes, concatBytes, equalBytes, utf8, wipe } from '../bytes.js'
import { KEY_BYTES, open, sealAfter, TAG_BYTES, XNONCE_BYTES } from '../crypto/primitives.js'
import { InputError } from '../errors.js'
import { StoreError } from './errors.js'
import { decodeKey, key as keyOf } from './keys.js'
import { checkBatch, checkKey, checkValue, resolveRange } from './range.js'
import type { BatchOp, Entry, IterateOptions, Store } from './store.js'

const RECORD_VERSION = 0x01
const RECORD_PLAIN = 0x00
const VERSION_PREFIX = Uint8Array.of(RECORD_VERSION)
const OVERHEAD = 1 + XNONCE_BYTES + TAG_BYTES

/**
 * Record families (first key part) whose values are stored in the clear: the messenger's
 * message-id index (`msgid <cid> <id>` -> seq) and unread markers (`unread <cid> <seq>`). Only a
 * family whose values tell nothing that its keys do not, and whose readers check what they find
 * against sealed records, may be listed here.
 */
export const HINT_FAMILIES: readonly string[] = ['msgid', 'unread']
const HINT_PREFIXES = HINT_FAMILIES.map((family) => keyOf(family))

/**
 * Record families whose values may be stored as they are when a write says they are already
 * sealed end to end: the messenger's outbox (`outbox <cid> <seq>`: an envelope for the peer).
 */
export const END_TO_END_FAMILIES: readonly string[] = ['outbox']
const END_TO_END_PREFIXES = END_TO_END_FAMILIES.map((family) => keyOf(family))

/** Whether `key` belongs to a hint family, whose values are stored in the clear. */
export function isHintKey(key: Uint8Array): boolean {
  return HINT_PREFIXES.some((prefix) => startsWith(key, prefix))
}

function isEndToEndKey(key: Uint8Array): boolean {
  return END_TO_END_PREFIXES.some((prefix) => startsWith(key, prefix))
}

/** Whether a record of `key` may be stored as %x00 value. */
function mayBePlain(key: Uint8Array): boolean {
  return isHintKey(key) || isEndToEndKey(key)
}

/** Plain comparison: keys are not secret (they are stored in the clear). */
function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length <= prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

/**
 * Where the key header (storage-key.ts) lives inside the inner store. Key tuples from keys.ts
 * never start with 0x00, so it cannot collide with an application record; SealedStore hides it.
 */
export const STORE_HEADER_KEY: Uint8Array = concatBytes(Uint8Array.of(0x00), utf8('jiayi/store-header'))

function isHeaderKey(key: Uint8Array): boolean {
  return key.length === STORE_HEADER_KEY.length && equalBytes(key, STORE_HEADER_KEY)
}

/** A record's family (its first key part), or 'unknown' for a key that does not decode. */
function familyOf(key: Uint8Array): string {
  try {
    const first = decodeKey(key)[0]
    return typeof first === 'string' ? first : 'unknown'
  } catch {
    return 'unknown'
  }
}

function checkUserKey(key: unknown): asserts key is Uint8Array {
  checkKey(key)
  if (isHeaderKey(key)) throw new InputError('BadType', 'store key is reserved for the key header')
}

export class SealedStore implements Store {
  readonly #inner: Store
  readonly #key: Uint8Array
  #closed = false

  /** `dataKey` is copied; the caller may wipe its own copy. Closing wipes this one. */
  constructor(inner: Store, dataKey: Uint8Array) {
    assertBytes(dataKey, KEY_BYTES, 'storage key')
    this.#inner = inner
    this.#key = dataKey.slice()
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('Closed', 'store is closed')
  }

  #seal(key: Uint8Array, value: Uint8Array, sealedEndToEnd = false): Uint8Array {
    if (sealedEndToEnd && !isEndToEndKey(key)) {
      throw new InputError('BadType', 'this record family is always sealed by the store')
    }
    if (sealedEndToEnd || isHintKey(key)) return concatBytes(Uint8Array.of(RECORD_PLAIN), value)
    return sealAfter(VERSION_PREFIX, this.#key, value, key)
  }

  #open(key: Uint8Array, record: Uint8Array): Uint8Array {
    if (record.length > 0 && record[0] === RECORD_PLAIN && mayBePlain(key)) return record.slice(1)
    if (record.length < OVERHEAD || record[0] !== RECORD_VERSION) {
      throw new StoreError('Corrupt', 'a stored record is malformed')
    }
    try {
      return open(this.#key, record.subarray(1), key)
    } catch (cause) {
      throw new StoreError('Corrupt', 'a stored record failed authentication', { cause })
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    checkKey(key)
    if (isHeaderKey(key)) return undefined
    const record = await this.#inner.get(key)
    this.#checkOpen()
    return record === undefined ? undefined : this.#open(key, record)
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.#checkOpen()
    checkUserKey(key)
    checkValue(value)
    await this.#inner.put(key, this.#seal(key, value))
  }

  async del(key: Uint8Array): Promise<void> {
    this.#checkOpen()
    checkUserKey(key)
    await this.#inner.del(key)
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    this.#checkOpen()
    checkBatch(ops)
    for (const op of ops) checkUserKey(op.key)
    await this.#inner.batch(
      ops.map((op) =>
        op.type === 'put'
          ? { type: 'put', key: op.key, value: this.#seal(op.key, op.value, op.sealedEndToEnd === true) }
          : op,
      ),
    )
  }

  async *iterate(options: IterateOptions = {}): AsyncIterable<Entry> {
    this.#checkOpen()
    const { limit } = resolveRange(options)
    if (limit === 0) return
    // The hidden header may fall inside the range once, so ask the inner store for one more.
    const inner = this.#inner.iterate({ ...options, limit: Number.isFinite(limit) ? limit + 1 : undefined })
    let yielded = 0
    for await (const [key, record] of inner) {
      this.#checkOpen()
      if (isHeaderKey(key)) continue
      yield [key, this.#open(key, record)]
      if (++yielded >= limit) return
    }
  }

  /**
   * Deletes the records that no longer open: after LevelStore.repair, bytes damaged inside a
   * table that LevelDB kept (it checks no block checksums) would fail every read that meets
   * them, where deleted they cost only themselves. Returns how many went, by record family.
   */
  async dropUnreadable(): Promise<Map<string, number>> {
    this.#checkOpen()
    const dropped = new Map<string, number>()
    let bad: Uint8Array[] = []
    const flush = async () => {
      if (bad.length > 0) await this.#inner.batch(bad.map((key) => ({ type: 'del', key })))
      bad = []
    }
    for await (const [key, record] of this.#inner.iterate()) {
      if (isHeaderKey(key)) continue
      try {
        this.#open(key, record)
      } catch (error) {
        if (!StoreError.is(error, 'Corrupt')) throw error
        bad.push(key)
        const family = familyOf(key)
        dropped.set(family, (dropped.get(family) ?? 0) + 1)
        if (bad.length >= 256) await flush()
      }
    }
    await flush()
    return dropped
  }

  /** Closes the inner store too, and wipes the data key. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    wipe(this.#key)
    await this.#inner.close()
  }
}
