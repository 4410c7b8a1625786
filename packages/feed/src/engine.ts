/**
 * The feed engine: every feed this peer holds (its own and its contacts'), as Y.Docs built only
 * from verified, signed update logs, persisted in the store. No network here: the sync protocol
 * (sync.ts) and the owner's API (feed.ts) drive it, and tests can drive it directly.
 *
 * A feed is one log per writer replica (a device of the owner), each a hash chain of entries with
 * sequence numbers 1, 2, 3, ... An entry is applied only after the checks of chain.ts and then
 * decryption and the Yjs check pass; a rejected entry changes nothing (not the doc, not the store)
 * and is counted by its code.
 *
 * The owner signs a compacted snapshot every SNAPSHOT_EVERY_UPDATES updates (or bytes), and at
 * every key rotation; a peer keeps the newest snapshot it holds plus the entries after the one
 * before it, and serves a requester entries when it can, the snapshot when the requester is new
 * or further behind. Loading after a restart = the stored snapshot + the entries after it.
 */
import {
  type BatchOp,
  Emitter,
  equalBytes,
  type IdentityKeyPair,
  KeyedQueue,
  type Logger,
  randomBytes,
  type Store,
} from '@jiayi/core'
import * as Y from 'yjs'
import { checkRun } from './chain.js'
import { FeedCounters } from './counters.js'
import { FeedError, isRejection } from './errors.js'
import {
  dominates,
  emptyFeed,
  emptyMeta,
  type HeldFeed,
  LOCAL,
  loadFeed,
  metaOp,
  REMOTE,
  snapshotOps,
} from './held-feed.js'
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
  entryLink,
  GENESIS_LINK,
  openEntry,
  openSnapshot,
  sealEntry,
  sealSnapshot,
  verifySnapshotBytes,
  verifySnapshotHeader,
} from './log-crypto.js'
import {
  decodeJson,
  deleteAll,
  encodeJson,
  FeedKeys,
  type SelfRecord,
  storedFeeds,
  storedKeys,
} from './storage.js'
import { mergeVV, seqOf, type VersionVector, vvTotal } from './version-vector.js'
import {
  decodeEntry,
  decodeSnapshot,
  encodeEntry,
  FEED_KEY_BYTES,
  type FeedHave,
  type SignedEntry,
  type Snapshot,
  type SnapshotHeader,
} from './wire.js'

export interface FeedEngineInit {
  readonly store: Store
  readonly identity: IdentityKeyPair
  readonly snapshotEveryUpdates?: number
  readonly snapshotEveryBytes?: number
  readonly log?: Logger
}

export interface EngineEvents extends Record<string, unknown> {
  /** A feed's doc changed: a local write, applied entries or a snapshot, or the feed was dropped. */
  change: { readonly feed: FeedId; readonly local: boolean }
  /**
   * Something new to serve for this feed (entries or a snapshot were stored), with the version
   * vector it brought, and the peer it came from (which need not be sent it back).
   */
  appended: { readonly feed: FeedId; readonly vv: VersionVector; readonly from?: string }
  /** A key of `feed` was added (a contact's arrived, or we rotated ours). */
  keys: { readonly feed: FeedId }
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
  private keysChanged = 0

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

  /** The feeds held here: our own, and every feed we hold a key for. */
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
      const { epoch, key } = this.currentKey()
      const entry = sealEntry({
        identity: this.identity,
        key,
        replica: replicaIdBytes(this.replica),
        seq: seqOf(f.vv, this.replica) + 1,
        epoch,
        prev: f.heads.get(this.replica) ?? GENESIS_LINK,
        update,
      })
      await this.append(f, [{ entry, replica: this.replica, link: entryLink(entry) }], undefined)
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
      this.keysChanged++
      this.log.info('feed key rotated', { epoch })
      this.events.emit('keys', { feed: this.self })
      return { epoch, key }
    })
  }

  private async maybeCompact(f: HeldFeed): Promise<void> {
    if (f.id !== this.self) return
    if (f.pendingUpdates >= this.snapshotEveryUpdates || f.pendingBytes >= this.snapshotEveryBytes) {
      await this.snapshotOwn(f, this.epoch, this.currentKey().key, [])
    }
  }

  /** Inside our feed's queue: seals, signs and stores a snapshot of everything we hold (plus `ops`). */
  private async snapshotOwn(f: HeldFeed, epoch: number, key: Uint8Array, ops: BatchOp[]): Promise<void> {
    const vv = new Map(f.vv)
    const heads = new Map([...vv.keys()].map((r) => [r, f.heads.get(r)!]))
    const state = Y.encodeStateAsUpdate(f.doc)
    const snapshot = sealSnapshot({ identity: this.identity, key, epoch, vv, heads, state })
    await this.storeSnapshot(f, snapshot, mergeVV(f.base, f.snapshot ?? new Map()), true, ops, undefined)
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
      this.keysChanged++
      this.events.emit('keys', { feed: this.self })
    })
  }

  hasKey(feed: FeedId, epoch: number): boolean {
    return this.keys.get(feed)?.has(epoch) ?? false
  }

  /**
   * The feed key of `feed` at `epoch`, for the constructions made from it (proofs in HAVE, sealed
   * reactions). The same object for as long as it is held, so derived keys can be cached on it.
   */
  key(feed: FeedId, epoch: number): Uint8Array | undefined {
    return this.keys.get(feed)?.get(epoch)
  }

  /** The epochs of `feed` whose key is held, oldest first. */
  epochs(feed: FeedId): number[] {
    return [...(this.keys.get(feed)?.keys() ?? [])].sort((a, b) => a - b)
  }

  /** Grows whenever a key is added or dropped: what was derived from the old set is stale. */
  get keyVersion(): number {
    return this.keysChanged
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
    // A key already held stays the same object (caches hang on it).
    const held = ring.get(epoch)
    if (!this.feeds.has(feed)) this.feeds.set(feed, emptyFeed(feed))
    if (held === undefined || !equalBytes(held, key)) {
      ring.set(epoch, Uint8Array.from(key))
      this.keysChanged++
      this.events.emit('keys', { feed })
    }
  }

  /** Stores a contact's key directly (outside a messenger Tx). */
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
      this.keysChanged++
      this.feeds.get(feed)?.doc.destroy()
      this.feeds.delete(feed)
      this.events.emit('change', { feed, local: false })
    })
  }

  // ------------------------------------------------------------------ ingest (from the network)

  /** Verifies and applies one entry; throws (and counts) a FeedError rejection otherwise. */
  async ingestEntry(entry: SignedEntry, from?: string): Promise<void> {
    const [verdict] = await this.ingestEntries([entry], from)
    if (verdict !== undefined) throw verdict
  }

  /**
   * Verifies and applies a run of entries in order, with one signature check per replica chain
   * (chain.ts) and one store batch per feed. Returns, per entry, the rejection (already counted)
   * or undefined if it was applied. A store failure throws.
   */
  async ingestEntries(entries: readonly SignedEntry[], from?: string): Promise<(FeedError | undefined)[]> {
    this.assertOpen()
    const verdicts: (FeedError | undefined)[] = new Array(entries.length).fill(undefined)
    const groups = new Map<FeedId, number[]>()
    entries.forEach((e, i) => {
      const id = feedIdOf(e.feed)
      const list = groups.get(id)
      if (list === undefined) groups.set(id, [i])
      else list.push(i)
    })
    await Promise.all(
      [...groups].map(([feed, indexes]) =>
        this.queue.run(feed, async () => {
          const results = await this.ingestRun(
            feed,
            indexes.map((i) => entries[i]!),
            from,
          )
          indexes.forEach((i, k) => {
            verdicts[i] = results[k]
          })
        }),
      ),
    )
    return verdicts
  }

  /** Inside the feed's queue. */
  private async ingestRun(
    feed: FeedId,
    entries: readonly SignedEntry[],
    from: string | undefined,
  ): Promise<(FeedError | undefined)[]> {
    const ring = this.keys.get(feed)
    let f = this.feeds.get(feed)
    const { verdicts, links } =
      f === undefined || ring === undefined
        ? {
            verdicts: entries.map((e) =>
              e.signature.length === 0
                ? new FeedError('Unsigned', 'entry carries no signature')
                : new FeedError('Keyless', 'no key for this feed'),
            ),
            links: [],
          }
        : checkRun(entries, { vv: f.vv, heads: f.heads, hasKey: (e) => ring.has(e) })
    let accepted: { entry: SignedEntry; replica: ReplicaId; link: Uint8Array }[] = []
    const broken = new Set<ReplicaId>()
    let reloaded = false
    for (let i = 0; i < entries.length && f !== undefined && ring !== undefined; i++) {
      const entry = entries[i]!
      const link = links[i]
      if (verdicts[i] !== undefined || link === undefined) continue
      const replica = replicaIdOf(entry.replica)
      try {
        // An entry after one that failed to apply cannot apply either.
        if (broken.has(replica) || reloaded)
          throw new FeedError('OutOfOrder', 'an earlier entry did not apply')
        const update = openEntry(entry, ring.get(entry.epoch)!)
        checkUpdate(update)
        try {
          Y.applyUpdate(f.doc, update, REMOTE)
        } catch (cause) {
          // Yjs failed half-way: back to what the store holds (this run's earlier entries too).
          await this.reload(f)
          f = this.feeds.get(feed)
          reloaded = true
          for (const a of accepted)
            verdicts[entries.indexOf(a.entry)] = new FeedError('OutOfOrder', 'reloaded')
          accepted = []
          throw new FeedError('BadUpdate', 'the update does not apply', { cause })
        }
        f.vv.set(replica, entry.seq)
        f.heads.set(replica, link)
        accepted.push({ entry, replica, link })
      } catch (error) {
        if (!isRejection(error)) throw error
        verdicts[i] = error
        broken.add(replica)
      }
    }
    for (const v of verdicts) if (v !== undefined && isRejection(v)) this.counters.reject(v.code)
    if (accepted.length > 0 && f !== undefined) {
      await this.append(f, accepted, from)
      this.counters.add('entriesApplied', accepted.length)
      this.events.emit('change', { feed, local: false })
      await this.maybeCompact(f)
    }
    return verdicts
  }

  /** The checks a snapshot's header can pass before its bytes arrive (counted when they fail). */
  checkSnapshotHeader(header: SnapshotHeader): void {
    try {
      this.checkHeader(header)
    } catch (error) {
      if (isRejection(error)) this.counters.reject(error.code)
      throw error
    }
  }

  /** Verifies and applies a snapshot; throws (and counts) a FeedError rejection otherwise. */
  async ingestSnapshot(snapshot: Snapshot, from?: string): Promise<void> {
    this.assertOpen()
    const feed = feedIdOf(snapshot.feed)
    await this.queue.run(feed, async () => {
      try {
        await this.applySnapshot(feed, snapshot, from)
      } catch (error) {
        if (isRejection(error)) this.counters.reject(error.code)
        throw error
      }
    })
  }

  private async applySnapshot(feed: FeedId, snapshot: Snapshot, from: string | undefined): Promise<void> {
    const { f, key } = this.checkHeader(snapshot)
    verifySnapshotBytes(snapshot)
    // Not pre-parsed like an entry (that would double the cost of a large state): should Yjs fail
    // half-way, the doc is rebuilt from the store, as it was before.
    const state = openSnapshot(snapshot, key)
    const before = new Map(f.vv)
    try {
      Y.applyUpdate(f.doc, state, REMOTE)
    } catch (cause) {
      await this.reload(f)
      throw new FeedError('BadUpdate', 'the snapshot does not apply', { cause })
    }
    // Entries we never had below the snapshot cannot be served one by one: raise the base.
    const base = new Map(f.base)
    for (const [r, seq] of snapshot.vv) {
      if (seqOf(before, r) >= seq) continue
      if (seqOf(base, r) < seq) base.set(r, seq)
      f.heads.set(r, snapshot.heads.get(r)!)
    }
    try {
      if (f.snapshot === undefined || dominates(snapshot.vv, f.snapshot)) {
        await this.storeSnapshot(f, snapshot, mergeVV(base, f.snapshot ?? new Map()), false, [], from)
      } else {
        f.vv = mergeVV(f.vv, snapshot.vv)
        f.base = base
        await this.store.batch([metaOp(f)])
      }
    } catch (error) {
      await this.reload(f)
      throw error
    }
    this.counters.add('snapshotsApplied')
    this.events.emit('change', { feed, local: false })
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

  // ------------------------------------------------------------------ serving

  /**
   * What a requester holding `known` of `feed` (and keys up to `maxEpoch`) lacks, in the order to
   * send it: the snapshot first when it is new to the feed or too far behind for entries alone,
   * then each replica's entries in sequence. Stops a replica at anything the requester could not
   * read or we lack.
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

  /** Stores entries already applied to `f` (its vector and heads moved), in one batch. */
  private async append(
    f: HeldFeed,
    accepted: readonly { entry: SignedEntry; replica: ReplicaId; link: Uint8Array }[],
    from: string | undefined,
  ): Promise<void> {
    const ops: BatchOp[] = []
    const vv = new Map<ReplicaId, number>()
    for (const { entry, replica, link } of accepted) {
      const encoded = encodeEntry(entry)
      f.vv.set(replica, entry.seq)
      f.heads.set(replica, link)
      f.pendingUpdates++
      f.pendingBytes += encoded.length
      ops.push({ type: 'put', key: FeedKeys.entry(f.id, replica, entry.seq), value: encoded })
      vv.set(replica, entry.seq)
    }
    ops.push(metaOp(f))
    try {
      await this.store.batch(ops)
    } catch (error) {
      await this.reload(f)
      throw error
    }
    this.events.emit('appended', { feed: f.id, vv, from })
  }

  /** Makes `snapshot` the feed's stored one, keeping entries above `base` only (plus `ops`). */
  private async storeSnapshot(
    f: HeldFeed,
    snapshot: Snapshot,
    base: Map<ReplicaId, number>,
    own: boolean,
    ops: BatchOp[],
    from: string | undefined,
  ): Promise<void> {
    ops.push(...(await snapshotOps(this.store, f, snapshot, base)))
    const previous = { vv: f.vv, base: f.base, snapshot: f.snapshot, u: f.pendingUpdates, b: f.pendingBytes }
    f.vv = mergeVV(f.vv, snapshot.vv)
    f.base = base
    f.snapshot = new Map(snapshot.vv)
    if (own) {
      f.pendingUpdates = 0
      f.pendingBytes = 0
    }
    ops.push(metaOp(f))
    try {
      await this.store.batch(ops)
    } catch (error) {
      f.vv = previous.vv
      f.base = previous.base
      f.snapshot = previous.snapshot
      f.pendingUpdates = previous.u
      f.pendingBytes = previous.b
      throw error
    }
    this.events.emit('appended', { feed: f.id, vv: snapshot.vv, from })
  }

  private async load(feed: FeedId): Promise<void> {
    const f = await loadFeed(this.store, feed, this.keys.get(feed), this.log)
    if (f === undefined) return
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

/** A signed update must still be a well-formed Yjs update before it touches a doc. */
function checkUpdate(update: Uint8Array): void {
  try {
    Y.decodeUpdate(update)
  } catch (cause) {
    throw new FeedError('BadUpdate', 'not a Yjs update', { cause })
  }
}
