/**
 * Where the sealed store puts things inside its inner store (PROTOCOL.md, "Storage at rest").
 *
 * A record's key on disk is not the key the application gave: the first part of the tuple (the
 * record family: 'msg', 'contact', ...) and every number in it stay as they are, and every other
 * string or bytes part (a contact id, a message id, a feed's identity key) is replaced by the
 * first 16 bytes of HMAC-SHA256(names key, the part as encoded), the names key being derived
 * from the data key. So a key on disk tells the family and the sequence numbers, never whose or
 * which; and because an id always maps to the same name, `key('msg', cid)` still prefixes exactly
 * that conversation's messages, in sequence order. Order *between* ids is the order of their
 * names, which means nothing: ranges that span several ids come back in no particular order.
 *
 * Every physical key starts with the byte of its namespace. Two namespaces take turns: a change
 * of secret copies every record from the current one into the other under a new data key, then
 * deletes the old one (rekey.ts), so the two generations never mix. Stores written before
 * names existed ("legacy", layout 1) kept their keys as they are (first byte 0x01..0x03); they
 * are moved into the first namespace when they are opened.
 *
 *   physical = ns first-part *part' / ns %xFF raw
 *   ns       = %x10 / %x11
 *   part'    = u64 / %x04 16OCTET         ; numbers as keys.ts encodes them; a string or bytes
 *                                         ; part as the first 16 bytes of its HMAC
 *   raw      = a key that is not a key() tuple, as it is (tools and tests; no record of Jiayi's)
 *
 * The store's own records start with 0x00, which no key() tuple does: the key header, the
 * layout (which namespace is current), and while a change of secret runs, its plan and cursor.
 */
import { concatBytes, utf8, wipe } from '../bytes.js'
import { hkdfSha256, hmacSha256With } from '../crypto/primitives.js'
import { InputError } from '../errors.js'
import { StoreError } from './errors.js'
import { decodeKey } from './keys.js'
import { type IterateOptions, MAX_KEY_BYTES } from './store.js'

const META = (name: string) => concatBytes(Uint8Array.of(0x00), utf8(name))

/** The key header (storage-key.ts): the data key, sealed under the user's secret. */
export const STORE_HEADER_KEY: Uint8Array = META('jiayi/store-header')
/** Which namespace holds the records: %x02 ns. Absent in a legacy store. */
export const LAYOUT_KEY: Uint8Array = META('jiayi/store-layout')
/** A change of secret in progress (rekey.ts); absent otherwise. */
export const REKEY_KEY: Uint8Array = META('jiayi/store-rekey')
/** The last physical key a change of secret has copied. */
export const REKEY_CURSOR_KEY: Uint8Array = META('jiayi/store-rekey-at')
/** A namespace whose records a finished change still has to delete (and compact away). */
export const PURGE_KEY: Uint8Array = META('jiayi/store-purge')

/** The legacy layout: keys as the application gave them, first byte 0x01..0x0f. */
export const LEGACY = 0x00
export const NAMESPACES: readonly number[] = [0x10, 0x11]
const LAYOUT_VERSION = 0x02

export function otherNamespace(ns: number): number {
  return ns === NAMESPACES[0] ? NAMESPACES[1]! : NAMESPACES[0]!
}

export function isNamespace(ns: number): boolean {
  return NAMESPACES.includes(ns)
}

export function encodeLayout(ns: number): Uint8Array {
  return Uint8Array.of(LAYOUT_VERSION, ns)
}

export function decodeLayout(bytes: Uint8Array): number {
  if (bytes.length !== 2 || bytes[0] !== LAYOUT_VERSION || !isNamespace(bytes[1]!))
    throw new StoreError('BadHeader', 'the store layout record is malformed')
  return bytes[1]!
}

/** Every record of namespace `ns` (the legacy layout: every key() tuple). */
export function namespaceRange(ns: number): IterateOptions {
  return ns === LEGACY ? { gte: Uint8Array.of(0x01), lt: Uint8Array.of(0x10) } : { prefix: Uint8Array.of(ns) }
}

const TAG_U64 = 0x01
const TAG_STRING = 0x02
const TAG_BYTES = 0x03
const TAG_NAME = 0x04
/** Before a key that is not a tuple; sorts after every tuple's first byte (0x01..0x03). */
const RAW = 0xff
/** The longest key that is not a tuple (its namespace and marker take two bytes on disk). */
export const MAX_RAW_KEY_BYTES = MAX_KEY_BYTES - 2
export const NAME_BYTES = 16
const NAMES_INFO = utf8('jiayi/store-names/v1')

/** Names of ids seen recently, per generation: contact ids repeat in nearly every key. */
const MAX_CACHED_NAMES = 4096

/** Where the part starting at `at` ends (exclusive); -1 when the bytes there are not a part. */
function partEnd(key: Uint8Array, at: number): number {
  const tag = key[at]
  if (tag === TAG_U64) return at + 9 <= key.length ? at + 9 : -1
  if (tag !== TAG_STRING && tag !== TAG_BYTES) return -1
  for (let i = at + 1; i < key.length; i++) {
    const b = key[i]!
    if (b === 0x00) return i + 1
    if (b === 0x01) {
      const code = key[i + 1]
      if (code !== 0x01 && code !== 0x02) return -1
      i++
    }
  }
  return -1
}

/** The parts' ends, or undefined when `key` is not a key() tuple. */
function partEnds(key: Uint8Array): number[] | undefined {
  const ends: number[] = []
  for (let at = 0; at < key.length; ) {
    at = partEnd(key, at)
    if (at < 0) return undefined
    ends.push(at)
  }
  return ends.length > 0 ? ends : undefined
}

/** The record family (first key part) of a physical key, or 'unknown' when it has none. */
export function familyOfPhysical(physical: Uint8Array): string {
  const end = partEnd(physical, 1)
  if (end < 0) return 'unknown'
  try {
    const first = decodeKey(physical.subarray(1, end))[0]
    return typeof first === 'string' ? first : 'unknown'
  } catch {
    return 'unknown'
  }
}

/**
 * One generation's names: the keyed hash of ids, and the physical form of keys and ranges in its
 * namespace. Holds a key derived from the data key; `wipe()` when the generation is done.
 */
export class KeyNames {
  readonly ns: number
  readonly #mac: (data: Uint8Array) => Uint8Array
  readonly #cache = new Map<string, Uint8Array>()

  constructor(dataKey: Uint8Array, ns: number) {
    if (!isNamespace(ns)) throw new InputError('OutOfRange', 'unknown store namespace')
    this.ns = ns
    const namesKey = hkdfSha256(dataKey, undefined, NAMES_INFO, 32)
    this.#mac = hmacSha256With(namesKey)
    wipe(namesKey)
  }

  #name(part: Uint8Array): Uint8Array {
    // latin1 of the part's bytes: an exact Map key (see write-behind.ts's keyId).
    const id = String.fromCharCode.apply(null, part as unknown as number[])
    let name = this.#cache.get(id)
    if (name === undefined) {
      name = this.#mac(part).subarray(0, NAME_BYTES)
      if (this.#cache.size >= MAX_CACHED_NAMES) this.#cache.clear()
      this.#cache.set(id, name)
    }
    return name
  }

  /**
   * The key on disk of the application's `key`. A key that is not a key() tuple is all family
   * name: it is stored as it is, after the RAW marker (tools and tests use such keys; every
   * record Jiayi keeps has a key() tuple, with its ids in the parts after the first).
   */
  physical(key: Uint8Array): Uint8Array {
    const ends = partEnds(key)
    if (ends === undefined) {
      const out = new Uint8Array(2 + key.length)
      out[0] = this.ns
      out[1] = RAW
      out.set(key, 2)
      return out
    }
    const segments: Uint8Array[] = [Uint8Array.of(this.ns)]
    let length = 1
    let at = 0
    for (const end of ends) {
      const part = key.subarray(at, end)
      if (at === 0 || part[0] === TAG_U64) {
        segments.push(part)
        length += part.length
      } else {
        segments.push(Uint8Array.of(TAG_NAME), this.#name(part))
        length += 1 + NAME_BYTES
      }
      at = end
    }
    const out = new Uint8Array(length)
    let offset = 0
    for (const s of segments) {
      out.set(s, offset)
      offset += s.length
    }
    return out
  }

  /**
   * The physical form of a range: each bound and the prefix become their physical keys, and the
   * whole is kept inside this namespace. An empty lower bound means "from the start", an empty
   * upper bound "nothing", as they do for keys.
   */
  range(options: IterateOptions): IterateOptions {
    const ns = Uint8Array.of(this.ns)
    const map = (bound: Uint8Array | undefined) =>
      bound === undefined ? undefined : bound.length === 0 ? ns : this.physical(bound)
    const out: {
      -readonly [K in keyof IterateOptions]: IterateOptions[K]
    } = {
      prefix:
        options.prefix === undefined ? ns : options.prefix.length === 0 ? ns : this.physical(options.prefix),
    }
    if (options.gt !== undefined) out.gt = map(options.gt)
    if (options.gte !== undefined) out.gte = map(options.gte)
    if (options.lt !== undefined) out.lt = map(options.lt)
    if (options.lte !== undefined) out.lte = map(options.lte)
    if (options.reverse !== undefined) out.reverse = options.reverse
    if (options.limit !== undefined) out.limit = options.limit
    return out
  }
}
