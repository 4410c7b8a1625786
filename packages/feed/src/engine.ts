/**
 * The feed engine: every feed this peer holds (its own and its contacts'), as Y.Docs built only
 * from verified, signed update logs, persisted in the store. No network here: the sync protocol
 * (sync.ts) and the owner's API (feed.ts) drive it, and tests can drive it directly.
 *
 * A feed is one log per writer replica (a device of the owner): entries with sequence numbers
 * 1, 2, 3, ... Each entry is applied only after its checks pass, in this order:
 *   Unsigned -> Keyless -> Replayed / OutOfOrder -> Forged -> Undecryptable -> BadUpdate
 * A rejected entry changes nothing (not the doc, not the store) and is counted by its code.
 *
 * The owner signs a compacted snapshot every SNAPSHOT_EVERY_UPDATES updates (or bytes), and at
 * every key rotation; a peer keeps the newest snapshot it holds plus the entries after the one
 * before it, and serves a requester entries when it can, the snapshot when the requester is
 * further behind. Loading after a restart = the stored snapshot + the entries after it.
 */
import { type BatchOp, type IdentityKeyPair, type Logger, randomBytes, type Store } from '@jiayi/core'
import * as Y from 'yjs'
import { FeedCounters } from './counters.js'
import { FeedError, isRejection } from './errors.js'
import {
  type FeedId,
  feedIdBytes,
  feedIdOf,
  newReplicaId,
  type ReplicaId,
  replicaIdBytes,
  replicaIdOf,
} from './ids.js'
import { MAX_EPOCH, MAX_UPDATE_BYTES, SNAPSHOT_EVERY_BYTES, SNAPSHOT_EVERY_UPDATES } from './limits.js'
import {
  openEntry,
  openSnapshot,
  sealEntry,
  sealSnapshot,
  verifyEntry,
  verifySnapshotBytes,
  verifySnapshotHeader,
} from './log-crypto.js'
import {
  decodeJson,
  deleteAll,
  encodeJson,
  FeedKeys,
  type MetaRecord,
  type SelfRecord,
  storedFeeds,
  storedKeys,
} from './storage.js'
import { Emitter, KeyedQueue } from './util.js'
import { mergeVV, seqOf, type VersionVector, vvFromJson, vvToJson, vvTotal } from './version-vector.js'
import {
  decodeEntry,
  decodeSnapshot,
  encodeEntry,
  encodeSnapshot,
  FEED_KEY_BYTES,
  type FeedHave,
  type SignedEntry,
  type Snapshot,
  type SnapshotHeader,
} from './wire.js'

/** Transaction origins: our own writes, and updates applied from logs. */
const LOCAL = Symbol('feed-local')
const REMOTE = Symbol('feed-remote')

export interface FeedEngineInit {
  readonly store: Store
  readonly identity: IdentityKeyPair
  readonly snapshotEveryUpdates?: number
  readonly snapshotEveryBytes?: number
  readonly log?: Logger
}

export interface EngineEvents extends Record<string, unknown> {
  /** A feed's doc changed: a local write, an applied entry or snapshot, or the feed was dropped. */
  change: { readonly feed: FeedId; readonly local: boolean }
  /**
   * Something new to serve for this feed (an entry or a snapshot was stored), with the version
   * vector it brought, and the peer it came from (which need not be sent it back).
   */
  appended: { readonly feed: FeedId; readonly vv: VersionVector; readonly from?: string }
}

/** What the engine holds for one feed. */
interface HeldFeed {
  readonly id: FeedId
  doc: Y.Doc
  /** Applied: every entry up to this per replica is in `doc`. */
  vv: Map<ReplicaId, number>
  /** Entries at or below this per replica are not kept (covered by a snapshot). */
  base: Map<ReplicaId, number>
  /** The stored snapshot's vector (its bytes stay in the store). */
  snapshot: Map<ReplicaId, number> | undefined
  pendingUpdates: number
  pendingBytes: number
}

export type ServeItem =
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'entry'; readonly entry: SignedEntry }

const silent: Logger = { debug() {}, info() {}, warn() {} }

export class FeedEngine {
  readonly self: FeedId
  readonly counters = new FeedCounters()
  readonly events = new Emitter<EngineEvents>()
  private readonly feeds = new Map<FeedId, HeldFeed>()
  private readonly keys = new Map<FeedId, Map<number, Uint8Array>>()
  private readonly queue = new KeyedQueue()
  private readonly log: Logger
  private readonly snapshotEveryUpdates: number
  private readonly snapshotEveryBytes: number
  private closed = false

  private constructor(
    private readonly store: Store,
    private readonly identity: IdentityKeyPair,
    readonly replica: ReplicaId,
    private epoch: number,
    init: FeedEngineInit,
  ) {
    this.self = feedIdOf(identity.signing.publicKey)
    this.log = init.log ?? silent
    this.snapshotEveryUpdates = init.snapshotEveryUpdates ?? SNAPSHOT_EVERY_UPDATES
    this.snapshotEveryBytes = init.snapshotEveryBytes ?? SNAPSHOT_EVERY_BYTES
  }

  /** Opens (creating on first use) this peer's feed state in `store` and loads every held feed. */
  static async open(init: FeedEngineInit): Promise<FeedEngine> {
    const { store, identity } = init
    const selfId = feedIdOf(identity.signing.publicKey)
    const selfBytes = await store.get(FeedKeys.self())
    let self: SelfRecord
    if (selfBytes === undefined) {
      self = { version: 1, replica: newReplicaId(), epoch: 1 }
      await store.batch([
        { type: 'put', key: FeedKeys.self(), value: encodeJson(self) },
        { type: 'put', key: FeedKeys.key(selfId, 1), value: randomBytes(FEED_KEY_BYTES) },
        { type: 'put', key: FeedKeys.meta(selfId), value: encodeJson(emptyMeta()) },
      ])
    } else {
      self = decodeJson<SelfRecord>(selfBytes)
    }
    const engine = new FeedEngine(store, identity, self.replica, self.epoch, init)
    for (const [feed, ring] of await storedKeys(store)) engine.keys.set(feed, ring)
    for (const feed of await storedFeeds(store)) await engine.load(feed)
    return engine
  }

  // ------------------------------------------------------------------ reading

  /** The feeds held here: our own first, then every feed we hold a key for. */
  feedIds(): FeedId[] {
    return [...this.feeds.keys()]
  }

  doc(feed: FeedId): Y.Doc | undefined {
    return this.feeds.get(feed)?.doc
  }

  versionVector(feed: FeedId): VersionVector {
    return new Map(this.feeds.get(feed)?.vv ?? [])
  }

  currentEpoch(): number {
    return this.epoch
  }

  /** The newest key epoch held for `feed` (0 = none). */
  maxEpoch(feed: FeedId): number {
    if (feed === this.self) return this.epoch
    let max = 0
    for (const e of this.keys.get(feed)?.keys() ?? []) if (e > max) max = e
    return max
  }

  /** What to tell a peer we hold, for every feed we follow. */
  have(): FeedHave[] {
    return this.feedIds().map((id) => ({
      feed: feedIdBytes(id),
      maxEpoch: this.maxEpoch(id),
      vv: this.versionVector(id),
    }))
  }

  /** Our current feed key (to hand to a contact). */
  currentKey(): { epoch: number; key: Uint8Array } {
    return { epoch: this.epoch, key: this.keys.get(this.self)!.get(this.epoch)! }
  }

  // ------------------------------------------------------------------ owner writes

  /**
   * Runs `change` on our own doc as one transaction and, if it changed anything, signs, seals and
   * stores the update as the next entry of our replica's log. `change` must check its inputs
   * before it mutates: a mutation cannot be rolled back, so a throw after one reloads the doc.
   */
  async write(change: (doc: Y.Doc) => void): Promise<SignedEntry | undefined> {
    this.assertOpen()
    return this.queue.run(this.self, async () => {
      const f = this.feeds.get(this.self)!
      let update: Uint8Array | undefined
      const capture = (u: Uint8Array, origin: unknown) => {
        if (origin === LOCAL) update = update === undefined ? u : Y.mergeUpdates([update, u])
      }
      f.doc.on('update', capture)
      try {
        f.doc.transact(() => change(f.doc), LOCAL)
      } catch (error) {
        if (update !== undefined) await this.reload(f)
        throw error
      } finally {
        f.doc.off('update', capture)
      }
      if (update === undefined) return undefined
      if (update.length > MAX_UPDATE_BYTES) {
        await this.reload(f)
        throw new FeedError('TooLarge', 'this change is too large for one update')
      }
      const seq = seqOf(f.vv, this.replica) + 1
      const { epoch, key } = this.currentKey()
      const entry = sealEntry({
        identity: this.identity,
        key,
        replica: replicaIdBytes(this.replica),
        seq,
        epoch,
        update,
      })
      await this.appendEntry(f, entry, this.replica)
      this.counters.add('entriesWritten')
      this.events.emit('change', { feed: this.self, local: true })
      await this.maybeCompact(f)
      return entry
    })
  }

  /** Signs a compacted snapshot of our own feed now (also done automatically). */
  async compact(): Promise<void> {
    this.assertOpen()
    await this.queue.run(this.self, async () => {
      const f = this.feeds.get(this.self)!
      if (f.vv.size > 0) await this.snapshotOwn(f, this.epoch, this.currentKey().key, [])
    })
  }

  /**
   * Starts a new key epoch (a contact was removed): a fresh random key, and a snapshot of our
   * feed sealed under it, so that contacts who get only the new key can still read everything.
   */
  async rotateKey(): Promise<{ epoch: number; key: Uint8Array }> {
    this.assertOpen()
    return this.queue.run(this.self, async () => {
      if (this.epoch >= MAX_EPOCH) throw new FeedError('TooLarge', 'key epochs exhausted')
      const epoch = this.epoch + 1
      const key = randomBytes(FEED_KEY_BYTES)
      const self: SelfRecord = { version: 1, replica: this.replica, epoch }
      const ops: BatchOp[] = [
        { type: 'put', key: FeedKeys.key(this.self, epoch), value: key },
        { type: 'put', key: FeedKeys.self(), value: encodeJson(self) },
      ]
      const f = this.feeds.get(this.self)!
      if (f.vv.size > 0) await this.snapshotOwn(f, epoch, key, ops)
      else await this.store.batch(ops)
      this.keys.get(this.self)!.set(epoch, key)
      this.epoch = epoch
      this.log.info('feed key rotated', { epoch })
      return { epoch, key }
    })
  }

  private async maybeCompact(f: HeldFeed): Promise<void> {
    if (f.id !== this.self) return
    if (f.pendingUpdates >= this.snapshotEveryUpdates || f.pendingBytes >= this.snapshotEveryBytes) {
      await this.snapshotOwn(f, this.epoch, this.currentKey().key, [])
    }
  }

  /** Inside the own feed's queue: seals, signs and stores a snapshot of `f` (plus `ops`). */
  private async snapshotOwn(f: HeldFeed, epoch: number, key: Uint8Array, ops: BatchOp[]): Promise<void> {
    const vv = new Map(f.vv)
    const snapshot = sealSnapshot({
      identity: this.identity,
      key,
      epoch,
      vv,
      state: Y.encodeStateAsUpdate(f.doc),
    })
    const base = mergeVV(f.base, f.snapshot ?? new Map())
    await this.storeSnapshot(f, snapshot, base, true, ops)
    this.counters.add('snapshotsMade')
  }

  // ------------------------------------------------------------------ keys

  /** Our own feed keys by epoch (for another device of ours, over a channel of its own). */
  ownKeys(): Map<number, Uint8Array> {
    return new Map([...this.keys.get(this.self)!].map(([e, k]) => [e, Uint8Array.from(k)]))
  }

  /**
   * Device linking: a fresh replica of our feed takes the keys of our other device, so both seal
   * under the same key per epoch. Refused once this replica has written or applied anything.
   */
  async adoptOwnKeys(epoch: number, ring: ReadonlyMap<number, Uint8Array>): Promise<void> {
    await this.queue.run(this.self, async () => {
      if (this.feeds.get(this.self)!.vv.size > 0) throw new FeedError('BadInput', 'this replica is not fresh')
      const key = ring.get(epoch)
      if (key === undefined || [...ring.values()].some((k) => k.length !== FEED_KEY_BYTES)) {
        throw new FeedError('BadInput', 'the key ring must hold 32-byte keys, the current epoch included')
      }
      const self: SelfRecord = { version: 1, replica: this.replica, epoch }
      const ops = await deleteAll(this.store, FeedKeys.keys(this.self))
      for (const [e, k] of ring)
        ops.push({ type: 'put', key: FeedKeys.key(this.self, e), value: Uint8Array.from(k) })
      ops.push({ type: 'put', key: FeedKeys.self(), value: encodeJson(self) })
      await this.store.batch(ops)
      this.keys.set(this.self, new Map([...ring].map(([e, k]) => [e, Uint8Array.from(k)])))
      this.epoch = epoch
    })
  }

  hasKey(feed: FeedId, epoch: number): boolean {
    return this.keys.get(feed)?.has(epoch) ?? false
  }

  /**
   * Store ops that record a contact's feed key (for the messenger's extension Tx, so the key
   * commits together with the ratchet step that delivered it). Call `keyStored` after the commit.
   */
  keyOps(feed: FeedId, epoch: number, key: Uint8Array): BatchOp[] {
    if (key.length !== FEED_KEY_BYTES) throw new FeedError('Malformed', 'a feed key is 32 bytes')
    const ops: BatchOp[] = [{ type: 'put', key: FeedKeys.key(feed, epoch), value: Uint8Array.from(key) }]
    if (!this.feeds.has(feed))
      ops.push({ type: 'put', key: FeedKeys.meta(feed), value: encodeJson(emptyMeta()) })
    return ops
  }

  /** Makes a key committed by `keyOps` usable (and starts following the feed). */
  keyStored(feed: FeedId, epoch: number, key: Uint8Array): void {
    if (feed === this.self) return
    let ring = this.keys.get(feed)
    if (ring === undefined) {
      ring = new Map()
      this.keys.set(feed, ring)
    }
    ring.set(epoch, Uint8Array.from(key))
    if (!this.feeds.has(feed)) this.feeds.set(feed, emptyFeed(feed))
  }

  /** Stores a key directly (outside a messenger Tx). */
  async addKey(feed: FeedId, epoch: number, key: Uint8Array): Promise<void> {
    if (feed === this.self) throw new FeedError('BadInput', 'our own keys are made here')
    await this.queue.run(feed, async () => {
      await this.store.batch(this.keyOps(feed, epoch, key))
      this.keyStored(feed, epoch, key)
    })
  }

  /** Forgets a feed entirely: its keys, log, snapshot and doc (the contact was removed). */
  async dropFeed(feed: FeedId): Promise<void> {
    if (feed === this.self) return
    await this.queue.run(feed, async () => {
      const ops = await deleteAll(this.store, FeedKeys.keys(feed))
      await deleteAll(this.store, FeedKeys.entries(feed), ops)
      ops.push({ type: 'del', key: FeedKeys.meta(feed) }, { type: 'del', key: FeedKeys.snapshot(feed) })
      await this.store.batch(ops)
      this.keys.delete(feed)
      this.feeds.get(feed)?.doc.destroy()
      this.feeds.delete(feed)
      this.events.emit('change', { feed, local: false })
    })
  }

  // ------------------------------------------------------------------ ingest (from the network)

  /** Verifies and applies one entry; throws (and counts) a FeedError rejection otherwise. */
  async ingestEntry(entry: SignedEntry, from?: string): Promise<void> {
    this.assertOpen()
    const feed = feedIdOf(entry.feed)
    await this.queue.run(feed, () =>
      this.counted(async () => {
        const replica = replicaIdOf(entry.replica)
        if (entry.signature.length === 0) throw new FeedError('Unsigned', 'entry carries no signature')
        const key = this.keys.get(feed)?.get(entry.epoch)
        const f = this.feeds.get(feed)
        if (key === undefined || f === undefined) throw new FeedError('Keyless', 'no key for this feed epoch')
        const have = seqOf(f.vv, replica)
        if (entry.seq <= have) throw new FeedError('Replayed', 'entry already applied')
        if (entry.seq !== have + 1) throw new FeedError('OutOfOrder', 'entry is not the next in its log')
        verifyEntry(entry)
        const update = openEntry(entry, key)
        checkUpdate(update)
        await this.applyOrReload(f, update)
        try {
          await this.appendEntry(f, entry, replica, from)
        } catch (error) {
          await this.reload(f)
          throw error
        }
        this.counters.add('entriesApplied')
        this.events.emit('change', { feed, local: false })
        await this.maybeCompact(f)
      }),
    )
  }

  /** The checks a snapshot's header can pass before its bytes arrive (counted when they fail). */
  checkSnapshotHeader(header: SnapshotHeader): void {
    this.countedSync(() => this.checkHeader(header))
  }

  /** Verifies and applies a snapshot; throws (and counts) a FeedError rejection otherwise. */
  async ingestSnapshot(snapshot: Snapshot, from?: string): Promise<void> {
    this.assertOpen()
    const feed = feedIdOf(snapshot.feed)
    await this.queue.run(feed, () =>
      this.counted(async () => {
        const { f, key } = this.checkHeader(snapshot)
        verifySnapshotBytes(snapshot)
        const state = openSnapshot(snapshot, key)
        checkUpdate(state)
        const before = new Map(f.vv)
        // Entries we never had below the snapshot cannot be served one by one: raise the base.
        const base = new Map(f.base)
        for (const [r, seq] of snapshot.vv)
          if (seqOf(before, r) < seq && seqOf(base, r) < seq) base.set(r, seq)
        const replaces = f.snapshot === undefined || dominates(snapshot.vv, f.snapshot)
        await this.applyOrReload(f, state)
        try {
          if (replaces) {
            await this.storeSnapshot(f, snapshot, mergeVV(base, f.snapshot ?? new Map()), false, [], from)
          } else {
            f.vv = mergeVV(f.vv, snapshot.vv)
            f.base = base
            await this.store.put(FeedKeys.meta(feed), encodeJson(metaOf(f)))
          }
        } catch (error) {
          await this.reload(f)
          throw error
        }
        this.counters.add('snapshotsApplied')
        this.events.emit('change', { feed, local: false })
      }),
    )
  }

  /** Applies a checked update; should Yjs still fail half-way, the doc is rebuilt from the store. */
  private async applyOrReload(f: HeldFeed, update: Uint8Array): Promise<void> {
    try {
      Y.applyUpdate(f.doc, update, REMOTE)
    } catch (cause) {
      await this.reload(f)
      throw new FeedError('BadUpdate', 'the update does not apply', { cause })
    }
  }

  private checkHeader(h: SnapshotHeader): { f: HeldFeed; key: Uint8Array } {
    const feed = feedIdOf(h.feed)
    if (h.signature.length === 0) throw new FeedError('Unsigned', 'snapshot carries no signature')
    const key = this.keys.get(feed)?.get(h.epoch)
    const f = this.feeds.get(feed)
    if (key === undefined || f === undefined) throw new FeedError('Keyless', 'no key for this feed epoch')
    let news = false
    for (const [r, seq] of h.vv) if (seq > seqOf(f.vv, r)) news = true
    if (!news) throw new FeedError('Replayed', 'snapshot holds nothing new')
    verifySnapshotHeader(h)
    return { f, key }
  }

  private async counted<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task()
    } catch (error) {
      if (isRejection(error)) this.counters.reject(error.code)
      throw error
    }
  }

  private countedSync<T>(task: () => T): T {
    try {
      return task()
    } catch (error) {
      if (isRejection(error)) this.counters.reject(error.code)
      throw error
    }
  }

  // ------------------------------------------------------------------ serving

  /**
   * What a requester holding `known` of `feed` (and keys up to `maxEpoch`) lacks, in the order to
   * send it: the snapshot first when it is too far behind for entries alone, then each replica's
   * entries in sequence. Stops a replica at anything the requester could not read or we lack.
   */
  async *missing(feedId: FeedId, known: VersionVector, maxEpoch: number): AsyncGenerator<ServeItem> {
    const f = this.feeds.get(feedId)
    if (f === undefined || this.closed) return
    let need: VersionVector = known
    let behindBase = false
    for (const [r, seq] of f.vv) {
      const k = seqOf(need, r)
      if (k < seq && k < seqOf(f.base, r)) behindBase = true
    }
    // A newcomer always starts from the snapshot: it may hold only the newest key (after a rotation).
    if (behindBase || (vvTotal(need) === 0 && f.snapshot !== undefined)) {
      const bytes = await this.store.get(FeedKeys.snapshot(feedId))
      if (bytes === undefined) return
      const snapshot = decodeSnapshot(bytes)
      if (snapshot.epoch > maxEpoch) return
      yield { kind: 'snapshot', snapshot }
      need = mergeVV(need, snapshot.vv)
    }
    for (const [r, head] of [...f.vv]) {
      let k = seqOf(need, r)
      if (k >= head || k < seqOf(f.base, r)) continue
      for await (const [, value] of this.store.iterate({
        gt: FeedKeys.entry(feedId, r, k),
        lte: FeedKeys.entry(feedId, r, head),
      })) {
        const entry = decodeEntry(value)
        if (entry.seq !== k + 1 || entry.epoch > maxEpoch) break
        yield { kind: 'entry', entry }
        k++
      }
    }
  }

  // ------------------------------------------------------------------ persistence

  /** Stores `entry` as the next of `replica`'s log in `f` (already applied to the doc). */
  private async appendEntry(
    f: HeldFeed,
    entry: SignedEntry,
    replica: ReplicaId,
    from?: string,
  ): Promise<void> {
    const encoded = encodeEntry(entry)
    f.vv.set(replica, entry.seq)
    f.pendingUpdates++
    f.pendingBytes += encoded.length
    await this.store.batch([
      { type: 'put', key: FeedKeys.entry(f.id, replica, entry.seq), value: encoded },
      { type: 'put', key: FeedKeys.meta(f.id), value: encodeJson(metaOf(f)) },
    ])
    this.events.emit('appended', { feed: f.id, vv: new Map([[replica, entry.seq]]), from })
  }

  /**
   * Stores `snapshot` as the feed's newest, keeping entries above `base` only (plus `ops`, in the
   * same batch). `applied`: the doc already holds exactly the snapshot's vector.
   */
  private async storeSnapshot(
    f: HeldFeed,
    snapshot: Snapshot,
    base: Map<ReplicaId, number>,
    own: boolean,
    ops: BatchOp[],
    from?: string,
  ): Promise<void> {
    for (const [r, seq] of base) {
      if (seq <= seqOf(f.base, r)) continue
      for await (const [k] of this.store.iterate({
        gt: FeedKeys.entry(f.id, r, seqOf(f.base, r)),
        lte: FeedKeys.entry(f.id, r, seq),
      })) {
        ops.push({ type: 'del', key: k })
      }
    }
    const next: HeldFeed = {
      ...f,
      vv: mergeVV(f.vv, snapshot.vv),
      base,
      snapshot: new Map(snapshot.vv),
      pendingUpdates: own ? 0 : f.pendingUpdates,
      pendingBytes: own ? 0 : f.pendingBytes,
    }
    ops.push(
      { type: 'put', key: FeedKeys.snapshot(f.id), value: encodeSnapshot(snapshot) },
      { type: 'put', key: FeedKeys.meta(f.id), value: encodeJson(metaOf(next)) },
    )
    await this.store.batch(ops)
    f.vv = next.vv
    f.base = next.base
    f.snapshot = next.snapshot
    f.pendingUpdates = next.pendingUpdates
    f.pendingBytes = next.pendingBytes
    this.events.emit('appended', { feed: f.id, vv: snapshot.vv, from })
  }

  /** Builds a feed's doc from the store: its snapshot, then the entries after it. */
  private async load(feed: FeedId): Promise<void> {
    const metaBytes = await this.store.get(FeedKeys.meta(feed))
    if (metaBytes === undefined) return
    const meta = decodeJson<MetaRecord>(metaBytes)
    const f = emptyFeed(feed)
    f.base = vvFromJson(meta.base)
    f.snapshot = meta.snapshot === undefined ? undefined : vvFromJson(meta.snapshot)
    f.pendingUpdates = meta.pendingUpdates
    f.pendingBytes = meta.pendingBytes
    const target = vvFromJson(meta.vv)
    const applied = new Map<ReplicaId, number>()
    const ring = this.keys.get(feed)
    try {
      const snapBytes = await this.store.get(FeedKeys.snapshot(feed))
      if (snapBytes !== undefined) {
        const snapshot = decodeSnapshot(snapBytes)
        const key = ring?.get(snapshot.epoch)
        if (key === undefined) throw new FeedError('Keyless', 'stored snapshot without its key')
        Y.applyUpdate(f.doc, openSnapshot(snapshot, key), REMOTE)
        for (const [r, seq] of snapshot.vv) applied.set(r, seq)
      }
      const updates: Uint8Array[] = []
      for (const [r, head] of target) {
        let k = seqOf(applied, r)
        if (k >= head) continue
        for await (const [, value] of this.store.iterate({
          gt: FeedKeys.entry(feed, r, k),
          lte: FeedKeys.entry(feed, r, head),
        })) {
          const entry = decodeEntry(value)
          if (entry.seq !== k + 1) break
          const key = ring?.get(entry.epoch)
          if (key === undefined) break
          updates.push(openEntry(entry, key))
          k = entry.seq
        }
        applied.set(r, k)
      }
      if (updates.length > 0) Y.applyUpdate(f.doc, Y.mergeUpdates(updates), REMOTE)
    } catch (error) {
      // A damaged record: keep what loaded; sync fetches the rest again.
      this.log.warn('feed partly loaded', { code: FeedError.is(error) ? error.code : 'Unknown' })
    }
    f.vv = applied
    this.feeds.get(feed)?.doc.destroy()
    this.feeds.set(feed, f)
  }

  /** After a failed write: rebuild the feed's doc from what the store really holds. */
  private async reload(f: HeldFeed): Promise<void> {
    await this.load(f.id)
    this.events.emit('change', { feed: f.id, local: false })
  }

  /** Resolves when every queued write and ingest has finished. */
  async idle(): Promise<void> {
    await this.queue.idle()
  }

  async close(): Promise<void> {
    this.closed = true
    await this.queue.idle()
    for (const f of this.feeds.values()) f.doc.destroy()
  }

  private assertOpen(): void {
    if (this.closed) throw new FeedError('Stopped', 'the feed is closed')
  }
}

function emptyMeta(): MetaRecord {
  return { version: 1, vv: {}, base: {}, pendingUpdates: 0, pendingBytes: 0 }
}

function emptyFeed(id: FeedId): HeldFeed {
  return {
    id,
    doc: new Y.Doc(),
    vv: new Map(),
    base: new Map(),
    snapshot: undefined,
    pendingUpdates: 0,
    pendingBytes: 0,
  }
}

function metaOf(f: HeldFeed): MetaRecord {
  const meta: MetaRecord = {
    version: 1,
    vv: vvToJson(f.vv),
    base: vvToJson(f.base),
    pendingUpdates: f.pendingUpdates,
    pendingBytes: f.pendingBytes,
  }
  return f.snapshot === undefined ? meta : { ...meta, snapshot: vvToJson(f.snapshot) }
}

function dominates(a: VersionVector, b: VersionVector): boolean {
  for (const [r, seq] of b) if (seqOf(a, r) < seq) return false
  return true
}

/** A signed update must still be a well-formed Yjs update before it touches a doc. */
function checkUpdate(update: Uint8Array): void {
  try {
    Y.decodeUpdate(update)
  } catch (cause) {
    throw new FeedError('BadUpdate', 'not a Yjs update', { cause })
  }
}
