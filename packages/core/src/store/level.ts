/**
 * The persistent Store on `level`: classic-level (LevelDB) in Node and browser-level (IndexedDB)
 * in browsers, chosen by the package's `browser` field, so this one file serves both builds. It
 * must stay free of Node APIs. Level's own `batch` is atomic in both backends (a LevelDB
 * WriteBatch, a single IndexedDB transaction), which is what Store.batch promises.
 */
import { Level } from 'level'
import { InputError } from '../errors.js'
import { StoreError } from './errors.js'
import { checkBatch, checkKey, checkValue, resolveRange } from './range.js'
import type { BatchOp, Entry, IterateOptions, Store } from './store.js'

type Db = Level<Uint8Array, Uint8Array>

const COMPACT_END = Uint8Array.of(0xff, 0xff)
export interface LevelStoreOptions {
  /**
   * Every write returns only once the operating system has it on disk (LevelDB's `sync`, an
   * fsync of its log). For a store whose writes someone outside waits on: an acknowledgement
   * sent to a peer must never outlive, in a crash, the state it acknowledges. Group commit
   * (WriteBehindStore) pays it once per batch, not once per message.
   */
  readonly sync?: boolean
  /**
   * Whether the disk has room again, after a write failed for want of it (in Node the app asks
   * the file system). LevelDB may be left unable to write after such a failure (its log in doubt,
   * or a failed compaction it keeps failing with), so the next write first reopens the database,
   * and only once this says there is room: reads go on meanwhile. Without it, the next write just
   * tries.
   */
  readonly hasRoom?: () => Promise<boolean>
}

/** Level reports causes as nested errors with string codes; find one anywhere in the chain. */
function hasCode(error: unknown, code: string): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === code) return true
  }
  return false
}

/** The messages of a cause chain (LevelDB's status text names the failure, e.g. ENOSPC's). */
function messages(error: unknown): string {
  const parts: string[] = []
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    parts.push(e.name, e.message)
  }
  return parts.join(' ')
}

/**
 * The typed reason a LevelDB operation failed: damaged files ('Damaged', LevelDB's Corruption
 * status, also a MANIFEST that CURRENT names but that is gone), no room ('Full': ENOSPC in
 * Node, the quota in a browser), or anything else ('Io'). The causes stay attached for the log;
 * the message never carries a path.
 */
export function levelFailure(cause: unknown, what: string): StoreError {
  if (hasCode(cause, 'LEVEL_CORRUPTION')) {
    const detail = /MANIFEST|CURRENT/.test(messages(cause))
      ? 'its MANIFEST (the list of its files) is missing or damaged'
      : 'one of its files is damaged'
    return new StoreError('Damaged', `${what}: ${detail}`, { cause })
  }
  if (/No space left|ENOSPC|QuotaExceeded/i.test(messages(cause))) {
    return new StoreError('Full', `${what}: the disk is full`, { cause })
  }
  return new StoreError('Io', what, { cause })
}

/**
 * Classic-level hands out Node Buffers; callers get plain Uint8Array views so that results compare
 * and serialise the same in every runtime and adapter (no copy: the bytes are already ours).
 */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export class LevelStore implements Store {
  readonly location: string
  readonly #db: Db
  readonly #opened: Promise<void>
  readonly #write: { sync: boolean }
  readonly #hasRoom: (() => Promise<boolean>) | undefined
  #openFailure: unknown
  #closed = false
  /** A write failed for a full disk: the next write reopens LevelDB first (LevelStoreOptions.hasRoom). */
  #reopenBeforeWrite = false

  /**
   * Opens (in the background) the database at `location`: a directory in Node, an IndexedDB
   * database name in browsers. Calls wait for the open; await `ready()` (or use
   * `LevelStore.open`) to learn early that the location is locked or unusable.
   */
  constructor(location: string, options: LevelStoreOptions = {}) {
    if (typeof location !== 'string' || location.length === 0) {
      throw new InputError('BadType', 'store location must be a non-empty string')
    }
    this.location = location
    this.#write = { sync: options.sync === true }
    this.#hasRoom = options.hasRoom
    this.#db = new Level<Uint8Array, Uint8Array>(location, { keyEncoding: 'view', valueEncoding: 'view' })
    this.#opened = this.#db.open().then(
      () => undefined,
      (cause: unknown) => {
        this.#openFailure = cause
      },
    )
  }

  /** Creates the store and waits until it is open: rejects with 'Locked', 'Damaged', 'Full' or 'Io'. */
  static async open(location: string, options: LevelStoreOptions = {}): Promise<LevelStore> {
    const store = new LevelStore(location, options)
    await store.ready()
    return store
  }

  /**
   * LevelDB's repair of a closed database (Node only): rebuilds the MANIFEST from the files
   * found, and keeps every record still readable from damaged tables and logs; what cannot be
   * read is lost (LevelDB moves unusable files to `lost/`). Its notes go to the `LOG` file.
   */
  static async repair(location: string): Promise<void> {
    const repair = (Level as unknown as { repair?: (location: string) => Promise<void> }).repair
    if (typeof repair !== 'function') throw new StoreError('Io', 'this store cannot be repaired here')
    try {
      await repair.call(Level, location)
    } catch (cause) {
      throw levelFailure(cause, 'the store could not be repaired')
    }
  }

  /** Resolves once the database is open; rejects with the typed reason it could not be. */
  async ready(): Promise<void> {
    if (this.#closed) throw new StoreError('Closed', 'store is closed')
    await this.#opened
    if (this.#openFailure !== undefined) {
      const cause = this.#openFailure
      if (hasCode(cause, 'LEVEL_LOCKED')) {
        throw new StoreError('Locked', 'store is in use by another process or handle', { cause })
      }
      throw levelFailure(cause, 'the store could not be opened')
    }
  }

  #fail(cause: unknown): StoreError {
    if (
      this.#closed ||
      hasCode(cause, 'LEVEL_DATABASE_NOT_OPEN') ||
      hasCode(cause, 'LEVEL_ITERATOR_NOT_OPEN')
    ) {
      return new StoreError('Closed', 'store is closed', { cause })
    }
    return levelFailure(cause, 'a store operation failed')
  }

  async #run<T>(op: (db: Db) => Promise<T>): Promise<T> {
    await this.ready()
    await this.#ensureOpen()
    try {
      return await op(this.#db)
    } catch (cause) {
      throw this.#fail(cause)
    }
  }

  /** A write: after a failure for want of room, LevelDB is reopened first (see LevelStoreOptions). */
  async #runWrite(op: (db: Db) => Promise<void>): Promise<void> {
    await this.ready()
    if (this.#reopenBeforeWrite) await this.#reopen()
    else await this.#ensureOpen()
    try {
      await op(this.#db)
    } catch (cause) {
      const error = this.#fail(cause)
      if (error.code === 'Full') this.#reopenBeforeWrite = true
      throw error
    }
  }

  async #reopen(): Promise<void> {
    if (this.#hasRoom !== undefined && !(await this.#hasRoom()))
      throw new StoreError('Full', 'a store operation failed: the disk is full')
    try {
      await this.#db.close()
      await this.#db.open()
    } catch (cause) {
      throw levelFailure(cause, 'the store could not be opened again')
    }
    this.#reopenBeforeWrite = false
  }

  /** A reopen that failed left LevelDB closed: every call tries again until it opens. */
  async #ensureOpen(): Promise<void> {
    if (this.#closed || this.#db.status === 'open') return
    try {
      await this.#db.open()
    } catch (cause) {
      throw levelFailure(cause, 'the store could not be opened again')
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    checkKey(key)
    const value = await this.#run((db) => db.get(key))
    return value === undefined ? undefined : plain(value)
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    checkKey(key)
    checkValue(value)
    await this.#runWrite((db) => db.put(key, value, this.#write))
  }

  async del(key: Uint8Array): Promise<void> {
    checkKey(key)
    await this.#runWrite((db) => db.del(key, this.#write))
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    // Checked up front so a bad op is an InputError with nothing written, not a half-built batch.
    checkBatch(ops)
    if (ops.length === 0) {
      await this.ready()
      return
    }
    // A chained batch: level copies no op objects for it (~20% less CPU per op than an array of
    // them, and a group commit hands over hundreds). Written whole or not at all, like the array.
    await this.#runWrite(async (db) => {
      const batch = db.batch()
      try {
        for (const op of ops) {
          if (op.type === 'put') batch.put(op.key, op.value)
          else batch.del(op.key)
        }
      } catch (error) {
        await batch.close()
        throw error
      }
      await batch.write(this.#write)
    })
  }

  async *iterate(options?: IterateOptions): AsyncIterable<Entry> {
    const range = resolveRange(options)
    await this.ready()
    await this.#ensureOpen()
    if (range.empty) return
    const { lower, upper, reverse, limit } = range
    let iterator: { next(): Promise<[Uint8Array, Uint8Array] | undefined>; close(): Promise<void> }
    try {
      iterator = this.#db.iterator<Uint8Array, Uint8Array>({
        ...(lower === undefined ? {} : lower.inclusive ? { gte: lower.key } : { gt: lower.key }),
        ...(upper === undefined ? {} : upper.inclusive ? { lte: upper.key } : { lt: upper.key }),
        reverse,
        limit: Number.isFinite(limit) ? limit : -1,
      })
    } catch (cause) {
      throw this.#fail(cause)
    }
    try {
      for (;;) {
        let entry: [Uint8Array, Uint8Array] | undefined
        try {
          entry = await iterator.next()
        } catch (cause) {
          throw this.#fail(cause)
        }
        if (entry === undefined) return
        yield [plain(entry[0]), plain(entry[1])]
      }
    } finally {
      // Releases the LevelDB iterator (and its snapshot) also when the consumer breaks early.
      await iterator.close().catch(() => undefined)
    }
  }

  /**
   * Compacts the whole key range: LevelDB flushes its log into a table and merges every level,
   * dropping overwritten and deleted values as it goes (only while no iterator holds a snapshot
   * that still sees them), and deletes the files they were in. In browsers (IndexedDB) there is
   * nothing to call: the browser's own engine decides when freed space is rewritten.
   */
  async compact(): Promise<void> {
    await this.#run(async (db) => {
      const compactRange = (db as { compactRange?: (start: Uint8Array, end: Uint8Array) => Promise<void> })
        .compactRange
      // Every key sorts after the empty key and before 0xff 0xff (keys start with 0x00..0x11).
      if (typeof compactRange === 'function') await compactRange.call(db, new Uint8Array(0), COMPACT_END)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#opened
    try {
      await this.#db.close()
    } catch (cause) {
      throw new StoreError('Io', 'store did not close cleanly', { cause })
    }
  }
}
