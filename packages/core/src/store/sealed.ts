/**
 * At rest everything is sealed: SealedStore wraps any Store and seals every value with
 * XChaCha20-Poly1305 under a 32-byte data key, a random nonce per write, and the record's key on
 * disk as associated data, so a value copied or moved to another key fails to open instead of
 * being believed. Keys on disk name ids by a keyed hash (layout.ts): they show record families,
 * sequence numbers and counts, never a contact, message or feed id. The application's own key
 * travels inside the seal (record.ts), so iteration gives it back.
 *
 * One exception, by write: in the END_TO_END_FAMILIES (the outbox), a put may say that its value
 * from some offset on is sealed end to end already (a Double Ratchet envelope, under keys kept
 * only in sealed records); that tail is stored as it is and only the bytes before it are sealed.
 * A write that says so for another family is an InputError.
 *
 * The data key can be replaced while the store is in use (`changeSecret`, rekey.ts): reads and
 * writes wait while every record is copied under the new key, then go on against the new
 * generation; iterations already running finish on the old one, and once they have, the old
 * generation is deleted from the disk.
 *
 * Not covered: an attacker who can write the disk may roll a record back to an older sealed
 * value of the same key, or delete records; sealing gives confidentiality and per-record
 * integrity, not freshness. Sizes, counts and timing of writes stay visible (PROTOCOL.md).
 */
import { assertBytes, equalBytes, wipe } from '../bytes.js'
import { KEY_BYTES } from '../crypto/primitives.js'
import { InputError } from '../errors.js'
import { StoreError } from './errors.js'
import { familyOfPhysical, KeyNames, NAMESPACES, otherNamespace, STORE_HEADER_KEY } from './layout.js'
import { checkBatch, checkKey, resolveRange } from './range.js'
import { isEndToEndKey, openRecord, recordValue, sealRecord } from './record.js'
import { beginRekey, commitRekey, copyRecords, type OnRekeyProgress, purge, type RekeyPlan } from './rekey.js'
import { createKeyHeader, type DeriveOptions, openKeyHeader, type StorageSecret } from './storage-key.js'
import type { BatchOp, Entry, IterateOptions, Store } from './store.js'

export { STORE_HEADER_KEY } from './layout.js'
export { END_TO_END_FAMILIES } from './record.js'

/** One data key's view of the store, and the iterations still reading through it. */
class Generation {
  readonly key: Uint8Array
  readonly names: KeyNames
  iterations = 0
  #drained: (() => void) | undefined

  constructor(dataKey: Uint8Array, ns: number) {
    assertBytes(dataKey, KEY_BYTES, 'storage key')
    this.key = dataKey.slice()
    this.names = new KeyNames(this.key, ns)
  }

  get ns(): number {
    return this.names.ns
  }

  iterationEnded(): void {
    if (--this.iterations === 0) this.#drained?.()
  }

  /** Resolves once no iteration reads through this generation any more. */
  drained(): Promise<void> {
    if (this.iterations === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.#drained = resolve
    })
  }
}

export interface ChangeSecretOptions {
  /** Argon2id settings for the new passphrase (tests lower them) and its progress. */
  readonly derive?: DeriveOptions
  readonly onProgress?: OnRekeyProgress
}

export interface ChangeSecretResult {
  /** Records re-sealed under the new data key. */
  readonly records: number
  /** Records that did not open before the change (damaged) and are gone after it. */
  readonly dropped: number
  /**
   * Whether the old generation is gone from the disk already. False when the store closed first
   * (or deleting failed): the next open finishes it.
   */
  readonly cleaned: boolean
}

function checkEndToEnd(op: BatchOp): void {
  if (op.type !== 'put' || op.endToEndFrom === undefined) return
  const from = op.endToEndFrom
  if (!Number.isSafeInteger(from) || from < 0 || from > op.value.length)
    throw new InputError('OutOfRange', 'endToEndFrom must be an offset into the value')
  if (!isEndToEndKey(op.key))
    throw new InputError('BadType', 'this record family is always sealed by the store')
}

export class SealedStore implements Store {
  readonly #inner: Store
  #gen: Generation
  #closed = false
  /** Set when a change of secret began on disk and did not finish: only a reopen can go on. */
  #failure: StoreError | undefined
  /** While set, new calls wait for it (a change of secret copies the store). */
  #gate: Promise<void> | undefined
  /** Calls (not iterations) in flight. */
  #active = 0
  #idle: (() => void) | undefined
  #changing: Promise<unknown> | undefined
  /** Resolves when close() begins: a change waiting for old iterations stops waiting. */
  readonly #closing: Promise<void>
  #onClosing!: () => void

  /**
   * `dataKey` is copied; the caller may wipe its own copy. Closing wipes this one. `ns` is the
   * namespace the records live in (the layout record says which; unlock.ts reads it).
   */
  constructor(inner: Store, dataKey: Uint8Array, ns: number = NAMESPACES[0]!) {
    this.#inner = inner
    this.#gen = new Generation(dataKey, ns)
    this.#closing = new Promise((resolve) => {
      this.#onClosing = resolve
    })
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('Closed', 'store is closed')
    if (this.#failure) throw this.#failure
  }

  #release(): void {
    if (--this.#active === 0 && this.#idle !== undefined) {
      const idle = this.#idle
      this.#idle = undefined
      idle()
    }
  }

  /** Runs `fn` once the calls in flight are done, holding new ones until it has finished. */
  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    let open!: () => void
    this.#gate = new Promise<void>((resolve) => {
      open = resolve
    })
    try {
      if (this.#active > 0)
        await new Promise<void>((resolve) => {
          this.#idle = resolve
        })
      return await fn()
    } finally {
      this.#idle = undefined
      this.#gate = undefined
      open()
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    // Checked in this function, with no await between the last check and counting the call in.
    while (this.#gate !== undefined) await this.#gate
    this.#checkOpen()
    checkKey(key)
    const gen = this.#gen
    const physical = gen.names.physical(key)
    this.#active++
    try {
      const record = await this.#inner.get(physical)
      this.#checkOpen()
      return record === undefined ? undefined : recordValue(openRecord(gen.key, physical, record))
    } finally {
      this.#release()
    }
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.batch([{ type: 'put', key, value }])
  }

  async del(key: Uint8Array): Promise<void> {
    await this.batch([{ type: 'del', key }])
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    while (this.#gate !== undefined) await this.#gate
    this.#checkOpen()
    checkBatch(ops)
    for (const op of ops) checkEndToEnd(op)
    const gen = this.#gen
    const sealed = ops.map((op): BatchOp => {
      const physical = gen.names.physical(op.key)
      return op.type === 'put'
        ? {
            type: 'put',
            key: physical,
            value: sealRecord(gen.key, physical, op.key, op.value, op.endToEndFrom),
          }
        : { type: 'del', key: physical }
    })
    this.#active++
    try {
      await this.#inner.batch(sealed)
    } finally {
      this.#release()
    }
  }

  async *iterate(options: IterateOptions = {}): AsyncIterable<Entry> {
    while (this.#gate !== undefined) await this.#gate
    this.#checkOpen()
    if (resolveRange(options).limit === 0) return
    const gen = this.#gen
    const inner = this.#inner.iterate(gen.names.range(options))
    gen.iterations++
    try {
      for await (const [physical, record] of inner) {
        this.#checkOpen()
        const opened = openRecord(gen.key, physical, record)
        yield [opened.key, recordValue(opened)]
      }
    } finally {
      gen.iterationEnded()
    }
  }

  /**
   * Replaces the data key: checks `oldSecret`, seals a new random data key under `newSecret`,
   * re-seals every record under it (the store waits meanwhile), then deletes the old records and
   * compacts the disk (rekey.ts). Rejects with BadPassphrase or WrongKey, changing nothing, when
   * `oldSecret` does not open this store; with 'Busy' while another change runs.
   */
  async changeSecret(
    oldSecret: StorageSecret,
    newSecret: StorageSecret,
    options: ChangeSecretOptions = {},
  ): Promise<ChangeSecretResult> {
    this.#checkOpen()
    if (this.#changing !== undefined) throw new StoreError('Busy', 'the secret is being changed already')
    const run = this.#change(oldSecret, newSecret, options)
    this.#changing = run
    try {
      return await run
    } finally {
      this.#changing = undefined
    }
  }

  async #change(
    oldSecret: StorageSecret,
    newSecret: StorageSecret,
    options: ChangeSecretOptions,
  ): Promise<ChangeSecretResult> {
    const derive = options.derive ?? {}
    const header = await this.#inner.get(STORE_HEADER_KEY)
    if (header === undefined) throw new StoreError('BadHeader', 'store has no key header')
    // The slow parts (Argon2id, twice with passphrases) run before the store waits for the copy.
    const oldKey = await openKeyHeader(header, oldSecret, derive)
    const from = this.#gen
    try {
      if (!equalBytes(oldKey, from.key)) throw new StoreError('WrongKey', 'the secret opens another store')
    } finally {
      wipe(oldKey)
    }
    const created = await createKeyHeader(newSecret, derive)
    const to = new Generation(created.dataKey, otherNamespace(from.ns))
    wipe(created.dataKey)
    const plan: RekeyPlan = {
      from: { key: from.key, ns: from.ns },
      to: { key: to.key, ns: to.ns },
      header: created.header,
    }
    const { copied, dropped } = await this.#exclusive(async () => {
      this.#checkOpen()
      await beginRekey(this.#inner, plan)
      try {
        const result = await copyRecords(this.#inner, plan, options.onProgress)
        await commitRekey(this.#inner, plan)
        this.#gen = to
        return result
      } catch (cause) {
        // The plan is on disk, and writes here would go where the copy has passed: stop, and
        // let the next open finish the change.
        this.#failure = new StoreError(
          'Io',
          'changing the secret did not finish; reopen the store to finish it',
          {
            cause,
          },
        )
        throw this.#failure
      }
    })
    await Promise.race([from.drained(), this.#closing])
    let cleaned = false
    try {
      cleaned = await purge(this.#inner, options.onProgress, () => this.#closed)
    } catch {
      // The change itself is done; the purge mark stays and the next open deletes the rest.
    }
    wipe(from.key)
    options.onProgress?.({ phase: 'done', done: copied, total: copied })
    return { records: copied, dropped, cleaned }
  }

  /**
   * Deletes the records that no longer open: after LevelStore.repair, bytes damaged inside a
   * table that LevelDB kept (it checks no block checksums) would fail every read that meets
   * them, where deleted they cost only themselves. Returns how many went, by record family.
   */
  async dropUnreadable(): Promise<Map<string, number>> {
    this.#checkOpen()
    return await this.#exclusive(async () => {
      const gen = this.#gen
      const dropped = new Map<string, number>()
      let bad: Uint8Array[] = []
      const flush = async () => {
        if (bad.length > 0) await this.#inner.batch(bad.map((key) => ({ type: 'del', key })))
        bad = []
      }
      for await (const [physical, record] of this.#inner.iterate(gen.names.range({}))) {
        try {
          openRecord(gen.key, physical, record)
        } catch (error) {
          if (!StoreError.is(error, 'Corrupt')) throw error
          bad.push(physical)
          const family = familyOfPhysical(physical)
          dropped.set(family, (dropped.get(family) ?? 0) + 1)
          if (bad.length >= 256) await flush()
        }
      }
      await flush()
      return dropped
    })
  }

  /** Closes the inner store too (after a change of secret in progress), and wipes the data key. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#onClosing()
    await this.#changing?.catch(() => undefined)
    wipe(this.#gen.key)
    await this.#inner.close()
  }
}
