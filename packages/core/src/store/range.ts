/**
 * Argument checks and key-range arithmetic shared by every adapter, so that all of them reject the
 * same bad input the same way and agree on what a range means.
 */
import { assertBytes } from '../bytes.js'
import { InputError } from '../errors.js'
import { type BatchOp, type IterateOptions, MAX_KEY_BYTES, MAX_VALUE_BYTES } from './store.js'

/** Unsigned lexicographic order: the order LevelDB and IndexedDB binary keys sort in. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function checkKey(key: unknown, what = 'store key'): asserts key is Uint8Array {
  assertBytes(key, undefined, what)
  if (key.length === 0) throw new InputError('BadLength', `${what} must not be empty`)
  if (key.length > MAX_KEY_BYTES) throw new InputError('BadLength', `${what} exceeds ${MAX_KEY_BYTES} bytes`)
}

export function checkValue(value: unknown): asserts value is Uint8Array {
  assertBytes(value, undefined, 'store value')
  if (value.length > MAX_VALUE_BYTES) {
    throw new InputError('BadLength', `store value exceeds ${MAX_VALUE_BYTES} bytes`)
  }
}

/** Checks a whole batch before any of it is applied: one bad op rejects the batch untouched. */
export function checkBatch(ops: unknown): asserts ops is readonly BatchOp[] {
  if (!Array.isArray(ops)) throw new InputError('BadType', 'batch must be an array of ops')
  for (const op of ops as unknown[]) {
    if (typeof op !== 'object' || op === null) throw new InputError('BadType', 'batch op must be an object')
    const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown }
    if (type === 'put') {
      checkKey(key)
      checkValue(value)
    } else if (type === 'del') {
      checkKey(key)
    } else {
      throw new InputError('BadType', "batch op type must be 'put' or 'del'")
    }
  }
}

export interface Bound {
  readonly key: Uint8Array
  readonly inclusive: boolean
}

/** A checked range: `lower`/`upper` absent means unbounded; `empty` when nothing can match. */
export interface Range {
  readonly lower?: Bound
  readonly upper?: Bound
  readonly reverse: boolean
  /** Infinity when no limit was given. */
  readonly limit: number
  readonly empty: boolean
}

/**
 * The smallest key greater than every key that starts with `prefix`, or undefined when there is
 * none (an all-0xff prefix): drop trailing 0xff bytes and increment the last remaining one.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length
  while (end > 0 && prefix[end - 1] === 0xff) end--
  if (end === 0) return undefined
  const out = prefix.slice(0, end)
  out[end - 1]!++
  return out
}

function tighterLower(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  const c = compareBytes(a.key, b.key)
  if (c !== 0) return c > 0 ? a : b
  return a.inclusive ? b : a
}

function tighterUpper(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  const c = compareBytes(a.key, b.key)
  if (c !== 0) return c < 0 ? a : b
  return a.inclusive ? b : a
}

function bound(value: unknown, inclusive: boolean, what: string): Bound | undefined {
  if (value === undefined) return undefined
  // Bounds may be empty (gte: [] is "from the start"), unlike keys.
  assertBytes(value, undefined, what)
  return { key: value, inclusive }
}

export function resolveRange(options: IterateOptions = {}): Range {
  if (typeof options !== 'object' || options === null)
    throw new InputError('BadType', 'options must be an object')
  const { gt, gte, lt, lte, prefix, reverse = false, limit } = options
  if (gt !== undefined && gte !== undefined) throw new InputError('BadType', 'give gt or gte, not both')
  if (lt !== undefined && lte !== undefined) throw new InputError('BadType', 'give lt or lte, not both')
  if (typeof reverse !== 'boolean') throw new InputError('BadType', 'reverse must be a boolean')
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new InputError('OutOfRange', 'limit must be a non-negative integer')
  }
  let lower = tighterLower(bound(gt, false, 'gt'), bound(gte, true, 'gte'))
  let upper = tighterUpper(bound(lt, false, 'lt'), bound(lte, true, 'lte'))
  if (prefix !== undefined) {
    assertBytes(prefix, undefined, 'prefix')
    lower = tighterLower(lower, { key: prefix, inclusive: true })
    const end = prefixEnd(prefix)
    if (end !== undefined) upper = tighterUpper(upper, { key: end, inclusive: false })
  }
  let empty = limit === 0
  if (lower !== undefined && upper !== undefined) {
    const c = compareBytes(lower.key, upper.key)
    if (c > 0 || (c === 0 && !(lower.inclusive && upper.inclusive))) empty = true
  }
  return { lower, upper, reverse, limit: limit ?? Number.POSITIVE_INFINITY, empty }
}

/** Whether `key` lies inside the range's bounds (limit and direction aside). */
export function inRange(range: Range, key: Uint8Array): boolean {
  const { lower, upper } = range
  if (lower !== undefined) {
    const c = compareBytes(key, lower.key)
    if (c < 0 || (c === 0 && !lower.inclusive)) return false
  }
  if (upper !== undefined) {
    const c = compareBytes(key, upper.key)
    if (c > 0 || (c === 0 && !upper.inclusive)) return false
  }
  return true
}
