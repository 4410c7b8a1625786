/**
 * A change of secret that protects something: a new data key, every record copied under it into
 * the other namespace (with new names for its ids, layout.ts), the old generation deleted and the
 * inner store compacted, so that neither the old secret nor an old key file opens what is left.
 * Moving a legacy store to the current layout is the same operation with the same secret.
 *
 * Crash safety: every step is one atomic batch of the inner store, and a store killed between any
 * two of them opens again with the old secret or the new one and loses nothing.
 *   1. begin:   the plan (REKEY_KEY) holds the new key header and the two data keys, each sealed
 *               under the other. From here either secret opens the store: the old one through the
 *               current header, the new one through the plan's header. Whoever opens it finishes
 *               the change (unlock.ts).
 *   2. copy:    batches of records, each batch with the cursor (the last source key copied). The
 *               source is not touched, and nothing else writes while the copy runs (SealedStore
 *               holds its writes back), so a copy resumed from the cursor is the same copy.
 *   3. commit:  the new header and layout, a purge mark for the old namespace, the plan deleted.
 *               Now only the new secret opens the store.
 *   4. purge:   the old namespace deleted in batches, then the inner store compacted (LevelDB keeps
 *               deleted and overwritten values, the old header among them, in its log and older
 *               tables until a compaction drops them), then the mark deleted. A purge cut short is
 *               run again at the next open.
 *
 *   plan = %x01 from to hlen header new-under-old old-under-new
 *   from, to = OCTET                   ; namespaces (layout.ts; 0x00: the legacy layout)
 *   hlen     = 2OCTET                  ; length of header, the new key header (storage-key.ts)
 *   new-under-old = nonce(24) XChaCha20-Poly1305(old data key, new data key) tag(16)
 *   old-under-new = nonce(24) XChaCha20-Poly1305(new data key, old data key) tag(16)
 * with AD = "jiayi/store-rekey/v1" || the plan's bytes before them || %x01 (resp. %x02).
 */
import { concatBytes, utf8, wipe } from '../bytes.js'
import { KEY_BYTES, open, seal, TAG_BYTES, XNONCE_BYTES } from '../crypto/primitives.js'
import { StoreError } from './errors.js'
import {
  encodeLayout,
  isNamespace,
  KeyNames,
  LAYOUT_KEY,
  LEGACY,
  namespaceRange,
  PURGE_KEY,
  REKEY_CURSOR_KEY,
  REKEY_KEY,
  STORE_HEADER_KEY,
} from './layout.js'
import { openLegacyRecord, openRecord, sealRecord } from './record.js'
import { type DeriveOptions, openKeyHeader, type StorageSecret } from './storage-key.js'
import type { BatchOp, IterateOptions, Store } from './store.js'

/** A generation of the store: its data key and its namespace (LEGACY for a legacy store). */
export interface Generation {
  readonly key: Uint8Array
  readonly ns: number
}

export interface RekeyPlan {
  readonly from: Generation
  readonly to: Generation
  /** The key header that holds `to.key` under the new secret. */
  readonly header: Uint8Array
}

/** How far a change of secret is: records re-sealed, then old records deleted, then done. */
export interface RekeyProgress {
  readonly phase: 'sealing' | 'cleaning' | 'done'
  readonly done: number
  readonly total: number
}

export type OnRekeyProgress = (progress: RekeyProgress) => void

const VERSION = 0x01
const WRAPPED_BYTES = XNONCE_BYTES + KEY_BYTES + TAG_BYTES
const AD_LABEL = utf8('jiayi/store-rekey/v1')
/** Records per copy batch, and bytes: a batch is held in memory whole (web file chunks are 256 KiB). */
const BATCH_RECORDS = 256
const BATCH_BYTES = 4 * 1024 * 1024
const PURGE_BATCH = 1024

function ad(prefix: Uint8Array, which: number): Uint8Array {
  return concatBytes(AD_LABEL, prefix, Uint8Array.of(which))
}

function badPlan(why: string): StoreError {
  return new StoreError('BadHeader', `the store's change-of-secret record ${why}`)
}

export function encodePlan(plan: RekeyPlan): Uint8Array {
  const h = plan.header.length
  const prefix = concatBytes(Uint8Array.of(VERSION, plan.from.ns, plan.to.ns, h >>> 8, h & 0xff), plan.header)
  return concatBytes(
    prefix,
    seal(plan.from.key, plan.to.key, ad(prefix, 1)),
    seal(plan.to.key, plan.from.key, ad(prefix, 2)),
  )
}

/**
 * The plan stored in `bytes`, unlocked by `secret`: through the current header (the old secret)
 * or through the plan's own header (the new one). Rejects as openKeyHeader does when neither opens.
 */
export async function unlockPlan(
  bytes: Uint8Array,
  current: Uint8Array,
  secret: StorageSecret,
  options: DeriveOptions = {},
): Promise<RekeyPlan> {
  if (bytes.length < 5 || bytes[0] !== VERSION) throw badPlan('has an unknown version')
  const fromNs = bytes[1]!
  const toNs = bytes[2]!
  const h = (bytes[3]! << 8) | bytes[4]!
  if (!(fromNs === LEGACY || isNamespace(fromNs)) || !isNamespace(toNs) || fromNs === toNs)
    throw badPlan('names unknown namespaces')
  if (bytes.length !== 5 + h + 2 * WRAPPED_BYTES) throw badPlan('has the wrong length')
  const prefix = bytes.subarray(0, 5 + h)
  const header = bytes.slice(5, 5 + h)
  const newUnderOld = bytes.subarray(5 + h, 5 + h + WRAPPED_BYTES)
  const oldUnderNew = bytes.subarray(5 + h + WRAPPED_BYTES)
  const unwrap = (key: Uint8Array, wrapped: Uint8Array, which: number) => {
    try {
      return open(key, wrapped, ad(prefix, which))
    } catch (cause) {
      throw new StoreError('Corrupt', "the store's change-of-secret record failed authentication", { cause })
    }
  }
  let oldKey: Uint8Array
  let newKey: Uint8Array
  try {
    oldKey = await openKeyHeader(current, secret, options)
    newKey = unwrap(oldKey, newUnderOld, 1)
  } catch (error) {
    if (!StoreError.is(error, 'BadPassphrase') && !StoreError.is(error, 'WrongKey')) throw error
    newKey = await openKeyHeader(header, secret, options)
    oldKey = unwrap(newKey, oldUnderNew, 2)
  }
  return { from: { key: oldKey, ns: fromNs }, to: { key: newKey, ns: toNs }, header }
}

/** Step 1: the plan is on disk (and no cursor from an older change). */
export async function beginRekey(inner: Store, plan: RekeyPlan): Promise<void> {
  await inner.batch([
    { type: 'put', key: REKEY_KEY, value: encodePlan(plan) },
    { type: 'del', key: REKEY_CURSOR_KEY },
  ])
}

/** The records of namespace `ns` after `cursor` (a physical key), in key order. */
function after(ns: number, cursor: Uint8Array | undefined): IterateOptions {
  const range = namespaceRange(ns)
  if (cursor === undefined) return range
  return ns === LEGACY ? { gt: cursor, lt: range.lt! } : { prefix: range.prefix!, gt: cursor }
}

async function count(inner: Store, range: IterateOptions): Promise<number> {
  let n = 0
  for await (const _ of inner.iterate(range)) n++
  return n
}

/** Step 2: copies every record of `plan.from` not yet copied. Returns copied and unreadable counts. */
export async function copyRecords(
  inner: Store,
  plan: RekeyPlan,
  onProgress?: OnRekeyProgress,
): Promise<{ copied: number; dropped: number }> {
  const names = new KeyNames(plan.to.key, plan.to.ns)
  let cursor = await inner.get(REKEY_CURSOR_KEY)
  const total = await count(inner, after(plan.from.ns, cursor))
  let copied = 0
  let dropped = 0
  onProgress?.({ phase: 'sealing', done: 0, total })
  for (;;) {
    const ops: BatchOp[] = []
    let bytes = 0
    let last: Uint8Array | undefined
    for await (const [physical, record] of inner.iterate(after(plan.from.ns, cursor))) {
      last = physical
      bytes += record.length
      let opened: ReturnType<typeof openRecord>
      try {
        opened =
          plan.from.ns === LEGACY
            ? openLegacyRecord(plan.from.key, physical, record)
            : openRecord(plan.from.key, physical, record)
      } catch (error) {
        // Unreadable before the change (damaged on disk): it cannot be read after it either.
        if (!StoreError.is(error, 'Corrupt')) throw error
        dropped++
        continue
      }
      const target = names.physical(opened.key)
      const value =
        opened.tail === undefined
          ? sealRecord(plan.to.key, target, opened.key, opened.head)
          : sealRecord(
              plan.to.key,
              target,
              opened.key,
              concatBytes(opened.head, opened.tail),
              opened.head.length,
            )
      ops.push({ type: 'put', key: target, value })
      if (ops.length >= BATCH_RECORDS || bytes >= BATCH_BYTES) break
    }
    if (last === undefined) return { copied, dropped }
    ops.push({ type: 'put', key: REKEY_CURSOR_KEY, value: last })
    await inner.batch(ops)
    cursor = last
    copied += ops.length - 1
    onProgress?.({ phase: 'sealing', done: Math.min(copied + dropped, total), total })
  }
}

/** Step 3: the new generation is the store's; the old one is marked for deletion. */
export async function commitRekey(inner: Store, plan: RekeyPlan): Promise<void> {
  await inner.batch([
    { type: 'put', key: STORE_HEADER_KEY, value: plan.header },
    { type: 'put', key: LAYOUT_KEY, value: encodeLayout(plan.to.ns) },
    { type: 'put', key: PURGE_KEY, value: Uint8Array.of(plan.from.ns) },
    { type: 'del', key: REKEY_KEY },
    { type: 'del', key: REKEY_CURSOR_KEY },
  ])
}

/**
 * Step 4: deletes the marked namespace, compacts, and removes the mark. `stop()` true ends it
 * early (the store is closing): the mark stays, and the next open finishes the job. Returns
 * whether it finished.
 */
export async function purge(
  inner: Store,
  onProgress?: OnRekeyProgress,
  stop: () => boolean = () => false,
): Promise<boolean> {
  const mark = await inner.get(PURGE_KEY)
  if (mark === undefined) return true
  const ns = mark[0]!
  if (mark.length !== 1 || !(ns === LEGACY || isNamespace(ns))) throw badPlan('marks an unknown namespace')
  const range = namespaceRange(ns)
  const total = await count(inner, range)
  let done = 0
  onProgress?.({ phase: 'cleaning', done, total })
  for (;;) {
    if (stop()) return false
    const ops: BatchOp[] = []
    for await (const [k] of inner.iterate({ ...range, limit: PURGE_BATCH })) ops.push({ type: 'del', key: k })
    if (ops.length === 0) break
    await inner.batch(ops)
    done += ops.length
    onProgress?.({ phase: 'cleaning', done: Math.min(done, total), total })
  }
  if (stop()) return false
  await inner.compact?.()
  await inner.del(PURGE_KEY)
  return true
}

/** Steps 2 and 3: a change that began (now or before a crash) is carried to its commit. */
export async function finishRekey(inner: Store, plan: RekeyPlan, onProgress?: OnRekeyProgress) {
  const result = await copyRecords(inner, plan, onProgress)
  await commitRekey(inner, plan)
  return result
}

export function wipePlan(plan: RekeyPlan): void {
  wipe(plan.from.key, plan.to.key)
}
