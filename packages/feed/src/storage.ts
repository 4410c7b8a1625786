/**
 * Where the feed keeps its records in the (sealed) Store, under its own key prefix 'feed'. Keys
 * hold ids and counters only; everything else is a value (sealed at rest by SealedStore).
 *
 *   feed self                         -> SelfRecord (JSON): this device's replica id, current epoch
 *   feed k <feed> <epoch>             -> 32-byte feed key (our own and contacts')
 *   feed m <feed>                     -> MetaRecord (JSON): version vector, retention base, pending
 *   feed e <feed> <replica> <seq>     -> encoded SignedEntry (as received: sealed and signed)
 *   feed s <feed>                     -> encoded Snapshot (the newest one held)
 *   feed sent <contact id>            -> the feed-key epoch last sent to that contact (JSON number)
 */
import {
  type BatchOp,
  type ContactId,
  decodeStoreKey,
  fromUtf8,
  type Store,
  storeKey,
  utf8,
} from '@jiayi/core'
import { type FeedId, feedIdBytes, feedIdOf, type ReplicaId, replicaIdBytes } from './ids.js'

export const FeedKeys = {
  self: () => storeKey('feed', 'self'),
  key: (feed: FeedId, epoch: number) => storeKey('feed', 'k', feedIdBytes(feed), epoch),
  keys: (feed?: FeedId) =>
    feed === undefined ? storeKey('feed', 'k') : storeKey('feed', 'k', feedIdBytes(feed)),
  meta: (feed: FeedId) => storeKey('feed', 'm', feedIdBytes(feed)),
  metas: () => storeKey('feed', 'm'),
  entry: (feed: FeedId, replica: ReplicaId, seq: number) =>
    storeKey('feed', 'e', feedIdBytes(feed), replicaIdBytes(replica), seq),
  entries: (feed: FeedId, replica?: ReplicaId) =>
    replica === undefined
      ? storeKey('feed', 'e', feedIdBytes(feed))
      : storeKey('feed', 'e', feedIdBytes(feed), replicaIdBytes(replica)),
  snapshot: (feed: FeedId) => storeKey('feed', 's', feedIdBytes(feed)),
  sent: (contact: ContactId) => storeKey('feed', 'sent', contact),
  sentAll: () => storeKey('feed', 'sent'),
}

export interface SelfRecord {
  readonly version: 1
  readonly replica: ReplicaId
  readonly epoch: number
}

export interface MetaRecord {
  readonly version: 1
  /** Applied: replica -> highest sequence. */
  readonly vv: Record<string, number>
  /** Entries at or below this are not kept (a snapshot covers them). */
  readonly base: Record<string, number>
  /** The stored snapshot's vector, if any. */
  readonly snapshot?: Record<string, number>
  /** Own feed: updates and bytes since the last snapshot. */
  readonly pendingUpdates: number
  readonly pendingBytes: number
}

export function encodeJson(value: unknown): Uint8Array {
  return utf8(JSON.stringify(value))
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(fromUtf8(bytes)) as T
}

/** The feed ids that have a meta record. */
export async function storedFeeds(store: Store): Promise<FeedId[]> {
  const out: FeedId[] = []
  for await (const [k] of store.iterate({ prefix: FeedKeys.metas() })) {
    const parts = decodeStoreKey(k)
    const id = parts[2]
    if (id instanceof Uint8Array) out.push(feedIdOf(id))
  }
  return out
}

/** Every stored feed key: feed -> epoch -> key. */
export async function storedKeys(store: Store): Promise<Map<FeedId, Map<number, Uint8Array>>> {
  const out = new Map<FeedId, Map<number, Uint8Array>>()
  for await (const [k, v] of store.iterate({ prefix: FeedKeys.keys() })) {
    const parts = decodeStoreKey(k)
    const id = parts[2]
    const epoch = parts[3]
    if (!(id instanceof Uint8Array) || typeof epoch !== 'number') continue
    const feed = feedIdOf(id)
    let ring = out.get(feed)
    if (ring === undefined) {
      ring = new Map()
      out.set(feed, ring)
    }
    ring.set(epoch, v)
  }
  return out
}

/** Ops deleting every record under `prefix`. */
export async function deleteAll(store: Store, prefix: Uint8Array, ops: BatchOp[] = []): Promise<BatchOp[]> {
  for await (const [k] of store.iterate({ prefix })) ops.push({ type: 'del', key: k })
  return ops
}
