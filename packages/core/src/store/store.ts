/**
 * The storage seam of @jiayi/core: an ordered binary key-value store. Everything Jiayi keeps
 * (ratchet sessions, messages, the outbox, contacts) goes through this interface, and one
 * compliance suite (packages/core/test/store-compliance.ts) runs against every adapter, so the
 * messenger never depends on which adapter it got.
 *
 * Semantics every adapter keeps:
 * - Keys and values are Uint8Array. Keys are 1..MAX_KEY_BYTES bytes, values 0..MAX_VALUE_BYTES.
 *   Keys are ordered by unsigned lexicographic byte comparison (a proper prefix sorts first).
 * - Returned bytes belong to the caller, and bytes handed in are not retained by reference:
 *   mutating either afterwards never changes what the store holds.
 * - `batch` is atomic: after it resolves every op is applied; if it rejects, none is. This is how a
 *   ratchet state change and the message it produced or consumed commit together. Ops apply in
 *   order, so a later op on the same key wins.
 * - Iteration may or may not observe writes made while it runs (memory and LevelDB read from a
 *   snapshot taken when iteration starts; IndexedDB reads in chunks). It never yields a key twice
 *   or out of order.
 * - After `close()` every call rejects with StoreError 'Closed', including iterations in flight.
 *   `close()` itself is idempotent.
 */

/** Keys longer than this are a bug: keys hold structural ids and counters, never content. */
export const MAX_KEY_BYTES = 1024
/** Files travel in 256 KiB chunks and feed snapshots are compacted; 64 MiB is a safety net. */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024

export type BatchOp =
  | {
      readonly type: 'put'
      readonly key: Uint8Array
      readonly value: Uint8Array
      /**
       * The value from this offset on is sealed end to end already (an envelope that only the
       * peer can open). SealedStore then seals only the bytes before it, in the families that
       * allow that; other adapters, which seal nothing, ignore it.
       */
      readonly endToEndFrom?: number
    }
  | { readonly type: 'del'; readonly key: Uint8Array }

/**
 * A key range. Bounds combine as an intersection: `prefix` with `gte`/`lt` narrows further.
 * Giving both `gt` and `gte` (or both `lt` and `lte`) is an InputError, since the intent is unclear.
 * `limit` counts yielded entries (after `reverse`): the first `limit` in iteration order.
 */
export interface IterateOptions {
  readonly gt?: Uint8Array
  readonly gte?: Uint8Array
  readonly lt?: Uint8Array
  readonly lte?: Uint8Array
  readonly prefix?: Uint8Array
  readonly reverse?: boolean
  readonly limit?: number
}

export type Entry = [key: Uint8Array, value: Uint8Array]

export interface Store {
  /** The value stored at `key`, or undefined when there is none. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  put(key: Uint8Array, value: Uint8Array): Promise<void>
  /** Deleting a missing key is not an error. */
  del(key: Uint8Array): Promise<void>
  /** Applies every op or none (see the module comment). An empty batch is a no-op. */
  batch(ops: readonly BatchOp[]): Promise<void>
  /** Entries in key order (descending with `reverse`); breaking out of the loop releases resources. */
  iterate(options?: IterateOptions): AsyncIterable<Entry>
  /**
   * Optional: rewrites the files so that deleted and overwritten values leave them (LevelDB keeps
   * them in its log and older tables until a compaction). Adapters without files leave it out.
   */
  compact?(): Promise<void>
  /** Releases the store; later calls reject with 'Closed'. Safe to call more than once. */
  close(): Promise<void>
}
