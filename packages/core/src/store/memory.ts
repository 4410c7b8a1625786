/**
 * An in-memory Store with the same semantics as the persistent adapters: for tests, for the
 * compliance suite's reference model, and for ephemeral peers. Entries live in one array sorted
 * by key (binary search, splice); iterations read a snapshot of that array, and a write that would
 * disturb a running iteration copies the array first (copy on write), so iterating while writing
 * is always safe and sees the store as it was when iteration started.
 */

import { StoreError } from './errors.js'
import { checkBatch, checkKey, checkValue, compareBytes, inRange, type Range, resolveRange } from './range.js'
import type { BatchOp, Entry, IterateOptions, Store } from './store.js'

type Item = readonly [key: Uint8Array, value: Uint8Array]

export class MemoryStore implements Store {
  #items: Item[] = []
  /** Iterations still reading the current `#items`: while any runs, a write must copy it first. */
  #readers = 0
  #closed = false

  /** Index of `key` if present, else the insertion point as `-(point + 1)`. */
  #find(items: readonly Item[], key: Uint8Array): number {
    let lo = 0
    let hi = items.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const c = compareBytes(items[mid]![0], key)
      if (c === 0) return mid
      if (c < 0) lo = mid + 1
      else hi = mid - 1
    }
    return -(lo + 1)
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('Closed', 'store is closed')
  }

  #writable(): Item[] {
    if (this.#readers > 0) {
      this.#items = this.#items.slice()
      this.#readers = 0
    }
    return this.#items
  }

  #apply(op: BatchOp): void {
    const items = this.#writable()
    const i = this.#find(items, op.key)
    if (op.type === 'put') {
      // Copies in: the caller may reuse its buffers after the call returns.
      const item: Item = [op.key.slice(), op.value.slice()]
      if (i >= 0) items[i] = item
      else items.splice(-(i + 1), 0, item)
    } else if (i >= 0) {
      items.splice(i, 1)
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen()
    checkKey(key)
    const i = this.#find(this.#items, key)
    return i >= 0 ? this.#items[i]![1].slice() : undefined
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.#checkOpen()
    checkKey(key)
    checkValue(value)
    this.#apply({ type: 'put', key, value })
  }

  async del(key: Uint8Array): Promise<void> {
    this.#checkOpen()
    checkKey(key)
    this.#apply({ type: 'del', key })
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    this.#checkOpen()
    // Everything is checked before anything is applied, and applying cannot fail: all or nothing.
    checkBatch(ops)
    for (const op of ops) this.#apply(op)
  }

  async *iterate(options?: IterateOptions): AsyncIterable<Entry> {
    this.#checkOpen()
    const range = resolveRange(options)
    if (range.empty) return
    const items = this.#items
    this.#readers++
    try {
      yield* this.#walk(items, range)
    } finally {
      if (this.#items === items) this.#readers--
    }
  }

  *#walk(items: readonly Item[], range: Range): Generator<Entry> {
    const { lower, upper, reverse } = range
    let i: number
    if (!reverse) {
      i = lower === undefined ? 0 : this.#find(items, lower.key)
      if (i < 0) i = -(i + 1)
      else if (lower !== undefined && !lower.inclusive) i++
    } else {
      i = upper === undefined ? items.length - 1 : this.#find(items, upper.key)
      if (i < 0) i = -(i + 1) - 1
      else if (upper !== undefined && !upper.inclusive) i--
    }
    let yielded = 0
    while (yielded < range.limit && i >= 0 && i < items.length) {
      this.#checkOpen()
      const [k, v] = items[i]!
      if (!inRange(range, k)) return
      yield [k.slice(), v.slice()]
      yielded++
      i += reverse ? -1 : 1
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#items = []
  }
}
