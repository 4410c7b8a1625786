/**
 * Group commit for a Store. `write(ops)` makes the ops visible to this wrapper's reads at once and
 * returns a promise that resolves when they are durable; writes that arrive while a batch is on
 * its way to disk are merged into the next batch, and only the last value of each key is written.
 * A busy conversation therefore costs one inner batch (and, under SealedStore, one seal per key)
 * per round trip to the disk, not one per message.
 *
 * Atomicity carries over: every write lands in exactly one inner batch, which is atomic. Ordering
 * carries over: batches go to the inner store one after another, in the order of the writes.
 * `batch`, `put` and `del` behave as the Store contract says (they resolve once durable);
 * `iterate` first waits for pending writes, then reads the inner store.
 *
 * If an inner batch fails, memory may be ahead of the disk, so the wrapper fails closed: that
 * write and every later call reject with StoreError 'Io' (the app must restart from the disk).
 * Except when the disk is full (StoreError 'Full'): nothing is lost then, only late. The batch
 * goes back in front of the pending writes, its waiters keep waiting (so nothing that depends on
 * it is acknowledged), reads still see it, later writes join it, and the batch is tried again
 * (FULL_RETRY_MS, doubling to FULL_RETRY_MAX_MS) until it lands. `full` says so meanwhile, and
 * `onSpace` listeners hear each change ('full', then 'ok'), once per change, not per attempt.
 *
 * A write may be deferred (`{ defer: true }`): for changes whose loss in a crash only repeats work
 * (an acknowledged envelope that would be sent again), and that a later change usually
 * overwrites. It is visible at once like any other, but stays out of the batches until the time
 * is up for the deferred writes held (DEFER_MS after the first, or sooner when one of them asked
 * for a shorter bound: then all go), or until a later write touches one of its keys (then both go
 * in the same batch, and a key written twice is written once), or until someone waits for
 * everything (`flushed`, `iterate`, `close`). A deferred write always reaches the disk whole, as
 * one group; it may land after later writes to other keys, never after a later write to its own.
 */
import { bytesToLatin1 } from '../bytes.js'
import { nextTurn } from '../next-turn.js'
import { StoreError } from './errors.js'
import { checkBatch, checkKey, checkValue } from './range.js'
import type { BatchOp, Entry, IterateOptions, Store } from './store.js'

/**
 * A write whose value may be computed later: only the last write of a key per batch is encoded,
 * so a session state written by many messages in a row is serialised once per disk write.
 */
export type WriteOp =
  | { readonly type: 'del'; readonly key: Uint8Array }
  | {
      readonly type: 'put'
      readonly key: Uint8Array
      readonly value: Uint8Array | (() => Uint8Array)
      /** As BatchOp's: the value from this offset on is sealed end to end already. */
      readonly endToEndFrom?: number
    }

interface Pending {
  op: WriteOp
  /** Which write produced it: the overlay entry is dropped only after that write is on disk. */
  readonly generation: number
}

interface Waiter {
  resolve: () => void
  reject: (e: unknown) => void
}

/** Deferred writes that must reach the disk together: their ops (by keyId) and their waiters. */
interface DeferredGroup {
  readonly ops: Map<string, Pending>
  readonly waiters: Waiter[]
}

/** The longest a deferred write waits for company before it goes to disk anyway. */
export const DEFER_MS = 1_000
/** How soon a batch refused for a full disk is tried again; the wait doubles up to the max. */
export const FULL_RETRY_MS = 250
export const FULL_RETRY_MAX_MS = 5_000

/** Whether the disk had room for the last batch: 'full' until a batch lands again. */
export type SpaceState = 'full' | 'ok'

export interface WriteOptions {
  /**
   * Hold the write back (see the module comment); it is still visible at once. A number holds it
   * at most that many milliseconds (never longer than the store's DEFER_MS): for a write that
   * someone waits on, just not at once.
   */
  readonly defer?: boolean | number
  /**
   * The caller hands its arrays over and never changes them again, so they are not copied (the
   * messenger's commits: every key and value there is freshly encoded for the write).
   */
  readonly owned?: boolean
}

export class WriteBehindStore implements Store {
  readonly #inner: Store
  /** Not yet durable, by key (keyId): the latest op per key, in first-write order. */
  #pending = new Map<string, Pending>()
  /** Written to the inner store but not yet confirmed: still visible to reads. */
  #inFlight = new Map<string, Pending>()
  #waiters: Waiter[] = []
  /** Deferred writes by keyId; never a key that is also in #pending. */
  #deferred = new Map<string, DeferredGroup>()
  #deferTimer: ReturnType<typeof setTimeout> | undefined
  /** When #deferTimer fires (performance.now() time). */
  #deferUntil = 0
  #generation = 0
  #flushing: Promise<void> | undefined
  #failure: StoreError | undefined
  #closed = false
  readonly #deferMs: number
  readonly #fullRetryMs: number
  /** The disk refused the last batch for want of room (see the module comment). */
  #full: StoreError | undefined
  readonly #spaceListeners = new Set<(state: SpaceState) => void>()
  /** Wakes a flush loop that waits to try a full disk again (close() cuts the wait short). */
  #wakeRetry: (() => void) | undefined

  /**
   * `deferMs`: how long deferred writes may wait for company (default DEFER_MS);
   * `fullRetryMs`: the first wait before a batch refused for a full disk goes again.
   */
  constructor(inner: Store, options: { deferMs?: number; fullRetryMs?: number } = {}) {
    this.#inner = inner
    this.#deferMs = options.deferMs ?? DEFER_MS
    this.#fullRetryMs = options.fullRetryMs ?? FULL_RETRY_MS
  }

  /** The disk is full: writes wait (they are visible, not durable) until it has room again. */
  get full(): boolean {
    return this.#full !== undefined
  }

  /** Calls `listener` with 'full' when the disk refuses a batch, 'ok' when one lands again. */
  onSpace(listener: (state: SpaceState) => void): () => void {
    this.#spaceListeners.add(listener)
    return () => this.#spaceListeners.delete(listener)
  }

  #space(state: SpaceState): void {
    for (const l of this.#spaceListeners) {
      try {
        l(state)
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  /** Visible to reads now; the promise resolves once the ops are durable. */
  write(ops: readonly WriteOp[], options: WriteOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError('Closed', 'store is closed'))
    if (this.#failure) return Promise.reject(this.#failure)
    try {
      // A lazy value is checked when it is computed; everything else is checked now.
      checkBatch(Array.isArray(ops) ? ops.map((op) => (isLazy(op) ? { ...op, value: EMPTY } : op)) : ops)
    } catch (error) {
      return Promise.reject(error)
    }
    if (ops.length === 0) return this.flushed()
    const generation = ++this.#generation
    const owned = options.owned === true
    const entries = ops.map((op): [string, Pending] => [
      keyId(op.key),
      { op: owned ? op : copyOp(op), generation },
    ])
    // A deferred write that meets a pending key goes with it now: a key is never in both places.
    const defer = options.defer ?? false
    if (defer !== false && !entries.some(([id]) => this.#pending.has(id))) {
      return this.#defer(entries, defer === true ? this.#deferMs : Math.min(defer, this.#deferMs))
    }
    for (const [id] of entries) this.#release(id)
    for (const [id, p] of entries) {
      this.#pending.delete(id) // re-insert: a key's last write decides its place in the batch
      this.#pending.set(id, p)
    }
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    this.#schedule()
    return done
  }

  #defer(entries: readonly [string, Pending][], maxWaitMs: number): Promise<void> {
    let waiter!: Waiter
    const done = new Promise<void>((resolve, reject) => {
      waiter = { resolve, reject }
    })
    // Earlier deferred writes of the same keys join this one: one group, written whole, each key
    // once, with its latest value. The largest group takes the others in, so a burst of writes to
    // the same keys (every ack writes the conversation's counters) costs each write only its own
    // ops.
    const older = new Set<DeferredGroup>()
    for (const [id] of entries) {
      const g = this.#deferred.get(id)
      if (g !== undefined) older.add(g)
    }
    let group: DeferredGroup | undefined
    for (const g of older) if (group === undefined || g.ops.size > group.ops.size) group = g
    group ??= { ops: new Map(), waiters: [] }
    for (const g of older) {
      if (g === group) continue
      for (const [id, p] of g.ops) {
        group.ops.set(id, p)
        this.#deferred.set(id, group)
      }
      for (const w of g.waiters) group.waiters.push(w)
    }
    group.waiters.push(waiter)
    for (const [id, p] of entries) {
      group.ops.set(id, p)
      this.#deferred.set(id, group)
    }
    // One timer for all deferred writes, at the earliest time one of them may be held until.
    const until = performance.now() + maxWaitMs
    if (this.#deferTimer === undefined || until < this.#deferUntil) {
      this.#clearDeferTimer()
      this.#deferUntil = until
      this.#deferTimer = setTimeout(() => this.#releaseAll(), maxWaitMs)
    }
    return done
  }

  /** Moves the deferred write holding `id`, if any, into the next batch. */
  #release(id: string): void {
    const group = this.#deferred.get(id)
    if (group !== undefined) this.#releaseGroup(group)
  }

  #releaseGroup(group: DeferredGroup): void {
    for (const [id, p] of group.ops) {
      this.#deferred.delete(id)
      this.#pending.delete(id)
      this.#pending.set(id, p)
    }
    this.#waiters.push(...group.waiters)
    if (this.#deferred.size === 0) this.#clearDeferTimer()
    this.#schedule()
  }

  #releaseAll(): void {
    this.#deferTimer = undefined
    for (const group of new Set(this.#deferred.values())) this.#releaseGroup(group)
  }

  #clearDeferTimer(): void {
    if (this.#deferTimer !== undefined) clearTimeout(this.#deferTimer)
    this.#deferTimer = undefined
  }

  /** Resolves when everything written so far is durable. */
  flushed(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure)
    if (this.#deferred.size > 0) this.#releaseAll()
    if (this.#pending.size === 0 && this.#flushing === undefined) return Promise.resolve()
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  #schedule(): void {
    if (this.#flushing !== undefined) return
    this.#flushing = this.#flushLoop()
  }

  async #flushLoop(): Promise<void> {
    // Let the writes of this turn of the event loop join the batch: under load one turn handles
    // many envelopes (a socket read carries many frames), and each batch costs the same to start.
    await nextTurn()
    let retryMs = this.#fullRetryMs
    while (this.#pending.size > 0 && this.#failure === undefined) {
      const batch = this.#pending
      const waiters = this.#waiters
      this.#pending = new Map()
      this.#waiters = []
      for (const [id, p] of batch) this.#inFlight.set(id, p)
      try {
        await this.#inner.batch([...batch.values()].map((p) => resolved(p)))
      } catch (cause) {
        if (StoreError.is(cause, 'Full')) {
          this.#requeue(batch, waiters)
          if (this.#closed) {
            // close() made its last try: what found no room is lost (and was never acknowledged).
            this.#giveUp(cause)
            this.#flushing = undefined
            return
          }
          if (this.#full === undefined) {
            this.#full = cause
            this.#space('full')
          }
          await this.#retryWait(retryMs)
          retryMs = Math.min(retryMs * 2, FULL_RETRY_MAX_MS)
          continue
        }
        this.#failure = new StoreError(
          'Io',
          'a write to the store failed; restart to continue from the disk',
          { cause },
        )
        const deferred = [...new Set(this.#deferred.values())].flatMap((g) => g.waiters)
        for (const w of [...waiters, ...this.#waiters, ...deferred]) w.reject(this.#failure)
        this.#waiters = []
        this.#deferred.clear()
        this.#clearDeferTimer()
        this.#flushing = undefined
        return
      }
      for (const [id, p] of batch) {
        if (this.#inFlight.get(id) === p) this.#inFlight.delete(id)
      }
      if (this.#full !== undefined) {
        this.#full = undefined
        retryMs = this.#fullRetryMs
        this.#space('ok')
      }
      for (const w of waiters) w.resolve()
    }
    // Cleared synchronously with the last check of #pending, so a write arriving from now on
    // starts a new loop instead of waiting for this one.
    this.#flushing = undefined
    // Waiters of flushed() that arrived with nothing pending.
    const rest = this.#waiters
    this.#waiters = []
    for (const w of rest) w.resolve()
  }

  /**
   * A batch the disk had no room for goes back in front of what was written since (a later write
   * of the same key still wins), with its waiters first.
   */
  #requeue(batch: Map<string, Pending>, waiters: Waiter[]): void {
    const merged = new Map(batch)
    for (const [id, p] of this.#pending) {
      merged.delete(id)
      merged.set(id, p)
    }
    for (const [id, p] of batch) if (this.#inFlight.get(id) === p) this.#inFlight.delete(id)
    this.#pending = merged
    this.#waiters = [...waiters, ...this.#waiters]
  }

  #retryWait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeRetry = undefined
        resolve()
      }, ms)
      this.#wakeRetry = () => {
        clearTimeout(timer)
        this.#wakeRetry = undefined
        resolve()
      }
    })
  }

  #overlay(key: Uint8Array): Pending | undefined {
    const id = keyId(key)
    return this.#pending.get(id) ?? this.#deferred.get(id)?.ops.get(id) ?? this.#inFlight.get(id)
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.#closed) throw new StoreError('Closed', 'store is closed')
    if (this.#failure) throw this.#failure
    checkKey(key)
    const hit = this.#overlay(key)
    if (hit !== undefined) {
      const op = resolved(hit)
      return op.type === 'put' ? op.value.slice() : undefined
    }
    return this.#inner.get(key)
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.write([{ type: 'put', key, value }])
  }

  del(key: Uint8Array): Promise<void> {
    return this.write([{ type: 'del', key }])
  }

  batch(ops: readonly BatchOp[]): Promise<void> {
    return this.write(ops)
  }

  /** Deferred writes held back now (tests and diagnostics). */
  get deferredKeys(): number {
    return this.#deferred.size
  }

  async *iterate(options?: IterateOptions): AsyncIterable<Entry> {
    if (this.#closed) throw new StoreError('Closed', 'store is closed')
    await this.flushed()
    yield* this.#inner.iterate(options)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      if (this.#full !== undefined) {
        // One last try; what still finds no room is lost (and was never acknowledged).
        this.#wakeRetry?.()
        await Promise.race([
          this.flushed().catch(() => undefined),
          new Promise((r) => setTimeout(r, this.#fullRetryMs)),
        ])
        if (this.#full !== undefined) this.#giveUp(this.#full)
      } else if (!this.#failure) {
        await this.flushed()
      }
    } finally {
      await this.#inner.close()
    }
  }

  /** Rejects everything still waiting (a close while the disk is full). */
  #giveUp(reason: StoreError): void {
    const deferred = [...new Set(this.#deferred.values())].flatMap((g) => g.waiters)
    for (const w of [...this.#waiters, ...deferred]) w.reject(reason)
    this.#waiters = []
    this.#deferred.clear()
    this.#pending.clear()
    this.#clearDeferTimer()
  }
}

const EMPTY = new Uint8Array(0)

/**
 * A key as a Map key: latin1 rather than hex, since every write looks each of its keys up a few
 * times and hex cost twice the length, built a character at a time.
 */
const keyId = bytesToLatin1

/** The wrapper's own copy: callers may reuse their arrays once `write` returns. */
function copyOp(op: WriteOp): WriteOp {
  if (op.type === 'del') return { type: 'del', key: op.key.slice() }
  const value = typeof op.value === 'function' ? op.value : op.value.slice()
  return { ...op, key: op.key.slice(), value }
}

/** The op with its value computed (once: the result replaces the thunk). */
function resolved(p: Pending): BatchOp {
  const op = p.op
  if (op.type === 'put' && typeof op.value === 'function') {
    const value = op.value()
    checkValue(value)
    p.op = { ...op, value }
  }
  return p.op as BatchOp
}

function isLazy(op: unknown): op is { type: 'put'; key: Uint8Array; value: () => Uint8Array } {
  return (
    typeof op === 'object' &&
    op !== null &&
    (op as { type?: unknown }).type === 'put' &&
    typeof (op as { value?: unknown }).value === 'function'
  )
}
