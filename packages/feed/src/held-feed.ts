/**
 * One feed as a peer holds it (its doc, version vector, chain heads, retention base), and how that
 * is written to and rebuilt from the store. No verification here: the store only ever receives
 * what the engine checked, and it is sealed at rest.
 */
import type { BatchOp, Logger, Store } from '@jiayi/core'
import * as Y from 'yjs'
import { FeedError } from './errors.js'
import type { FeedId, ReplicaId } from './ids.js'
import { entryLink, openEntry, openSnapshot } from './log-crypto.js'
import { decodeJson, encodeJson, FeedKeys, type MetaRecord } from './storage.js'
import { seqOf, type VersionVector, vvFromJson, vvToJson } from './version-vector.js'
import { decodeEntry, decodeSnapshot, encodeSnapshot, type Snapshot } from './wire.js'

/** Transaction origins: our own writes, and updates applied from logs. */
export const LOCAL = Symbol('feed-local')
export const REMOTE = Symbol('feed-remote')

export interface HeldFeed {
  readonly id: FeedId
  doc: Y.Doc
  /** Applied: every entry up to this per replica is in `doc`. */
  vv: Map<ReplicaId, number>
  /** Link of the last applied entry per replica (the next entry's `prev`). */
  heads: Map<ReplicaId, Uint8Array>
  /** Entries at or below this per replica are not kept (a snapshot covers them). */
  base: Map<ReplicaId, number>
  /** The stored snapshot's vector (its bytes stay in the store). */
  snapshot: Map<ReplicaId, number> | undefined
  /** Own feed: updates and bytes since the last snapshot. */
  pendingUpdates: number
  pendingBytes: number
}

export function emptyFeed(id: FeedId): HeldFeed {
  return {
    id,
    doc: new Y.Doc(),
    vv: new Map(),
    heads: new Map(),
    base: new Map(),
    snapshot: undefined,
    pendingUpdates: 0,
    pendingBytes: 0,
  }
}

export function emptyMeta(): MetaRecord {
  return { version: 1, vv: {}, base: {}, pendingUpdates: 0, pendingBytes: 0 }
}

export function metaOf(f: HeldFeed): MetaRecord {
  const meta: MetaRecord = {
    version: 1,
    vv: vvToJson(f.vv),
    base: vvToJson(f.base),
    pendingUpdates: f.pendingUpdates,
    pendingBytes: f.pendingBytes,
  }
  return f.snapshot === undefined ? meta : { ...meta, snapshot: vvToJson(f.snapshot) }
}

export function metaOp(f: HeldFeed): BatchOp {
  return { type: 'put', key: FeedKeys.meta(f.id), value: encodeJson(metaOf(f)) }
}

/** Whether `a` holds at least everything `b` does. */
export function dominates(a: VersionVector, b: VersionVector): boolean {
  for (const [r, seq] of b) if (seqOf(a, r) < seq) return false
  return true
}

/**
 * Ops that make `snapshot` the feed's stored one and drop the entries at or below `base`
 * (between the feed's current base and the new one).
 */
export async function snapshotOps(
  store: Store,
  f: HeldFeed,
  snapshot: Snapshot,
  base: ReadonlyMap<ReplicaId, number>,
): Promise<BatchOp[]> {
  const ops: BatchOp[] = []
  for (const [r, seq] of base) {
    if (seq <= seqOf(f.base, r)) continue
    for await (const [k] of store.iterate({
      gt: FeedKeys.entry(f.id, r, seqOf(f.base, r)),
      lte: FeedKeys.entry(f.id, r, seq),
    })) {
      ops.push({ type: 'del', key: k })
    }
  }
  ops.push({ type: 'put', key: FeedKeys.snapshot(f.id), value: encodeSnapshot(snapshot) })
  return ops
}

/**
 * Builds a feed from the store: its snapshot, then the entries after it (their links recomputed
 * as the chain heads). A damaged record stops the load there: what loaded is kept, the vector
 * says so, and sync fetches the rest again.
 */
export async function loadFeed(
  store: Store,
  feed: FeedId,
  ring: ReadonlyMap<number, Uint8Array> | undefined,
  log: Logger,
): Promise<HeldFeed | undefined> {
  const metaBytes = await store.get(FeedKeys.meta(feed))
  if (metaBytes === undefined) return undefined
  const meta = decodeJson<MetaRecord>(metaBytes)
  const f = emptyFeed(feed)
  f.base = vvFromJson(meta.base)
  f.snapshot = meta.snapshot === undefined ? undefined : vvFromJson(meta.snapshot)
  f.pendingUpdates = meta.pendingUpdates
  f.pendingBytes = meta.pendingBytes
  const target = vvFromJson(meta.vv)
  const updates: Uint8Array[] = []
  try {
    const snapBytes = await store.get(FeedKeys.snapshot(feed))
    if (snapBytes !== undefined) {
      const snapshot = decodeSnapshot(snapBytes)
      const key = ring?.get(snapshot.epoch)
      if (key === undefined) throw new FeedError('Keyless', 'stored snapshot without its key')
      Y.applyUpdate(f.doc, openSnapshot(snapshot, key), REMOTE)
      for (const [r, seq] of snapshot.vv) {
        f.vv.set(r, seq)
        f.heads.set(r, snapshot.heads.get(r)!)
      }
    }
    for (const [r, head] of target) {
      let k = seqOf(f.vv, r)
      if (k >= head) continue
      for await (const [, value] of store.iterate({
        gt: FeedKeys.entry(feed, r, k),
        lte: FeedKeys.entry(feed, r, head),
      })) {
        const entry = decodeEntry(value)
        const key = ring?.get(entry.epoch)
        if (entry.seq !== k + 1 || key === undefined) break
        updates.push(openEntry(entry, key))
        k = entry.seq
        f.vv.set(r, k)
        f.heads.set(r, entryLink(entry))
      }
    }
  } catch (error) {
    log.warn('feed partly loaded', { code: FeedError.is(error) ? error.code : 'Unknown' })
  }
  // Everything read so far goes in (one merged update applies faster than many).
  if (updates.length > 0) Y.applyUpdate(f.doc, Y.mergeUpdates(updates), REMOTE)
  return f
}
