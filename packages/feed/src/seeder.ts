/**
 * A home node's feed seeder (`/jiayi/feed-seed/1`): it keeps its owner's signed, sealed feed log
 * (the newest snapshot and the entries after it) so that the owner's contacts get Moments while
 * the owner's devices are off. The home node is keyless: it checks the owner's signatures (the
 * feed id is the owner's identity key, which its certificate names) and holds ciphertext only; it
 * can neither read nor forge a post, and readers verify every entry themselves as usual.
 *
 * Who may do what comes from the mailbox's signed documents (mailbox/server.ts): only a device
 * the owner's certificate names may push; only a peer on the owner's depositor list (the owner's
 * contacts) may pull. Every refusal is answered with its status and counted; the node goes on.
 *
 * One exchange per stream. The requester's first frame is `op:u8` (1 push, 2 pull), a pull's
 * followed by the requester's version vector of the owner's feed. The seeder answers `status:u8`
 * (a push's followed by the vector it holds). Then /jiayi/feed/2's own frames (wire.ts) carry the
 * log: SNAPSHOT + CHUNKs, ENTRYs, and SYNCED to end, from the pusher or to the puller; a push
 * ends with the seeder's final `status:u8`. PROTOCOL.md, "Seeding on a home node", has the rules.
 */
import {
  type BatchOp,
  concatBytes,
  equalBytes,
  type FramedStream,
  framedHandler,
  type JiayiNode,
  type Store,
  storeKey,
} from '@jiayi/core'
import { FeedError } from './errors.js'
import { type ReplicaId, replicaIdBytes, replicaIdOf } from './ids.js'
import { MAX_SNAPSHOT_BYTES } from './limits.js'
import { verifyEntry, verifySnapshotBytes, verifySnapshotHeader } from './log-crypto.js'
import { hasNews, mergeVV, seqOf, vvTotal } from './version-vector.js'
import {
  decodeEntry,
  decodeFrame,
  decodeSnapshot,
  decodeVV,
  encodeEntry,
  encodeFrame,
  encodeSnapshot,
  encodeVV,
  type SignedEntry,
  type Snapshot,
  type SnapshotHeader,
  snapshotFrames,
} from './wire.js'

export const PROTOCOL_FEED_SEED = '/jiayi/feed-seed/1'
/** As /jiayi/feed/2: a snapshot chunk or an entry with its frame fields. */
export const SEED_FRAME_BYTES = 1088 * 1024
/** Streams one peer may have open at once (its devices push one at a time; a contact pulls one). */
const SEED_INBOUND_STREAMS = 4
/**
 * The owner's log a seeder keeps: room for the largest snapshot and as much again of entries
 * after it (the owner signs a snapshot every 256 KiB of updates, so far less is ever used).
 */
export const SEED_BYTES = 2 * MAX_SNAPSHOT_BYTES

export const SeedOp = { Push: 1, Pull: 2 } as const

export const SeedStatus = {
  Ok: 0,
  /** Not the owner's contact (or no owner yet). */
  NotAllowed: 1,
  /** A push from a peer that is not one of the owner's devices. */
  NotOwner: 2,
  /** The log would not fit in SEED_BYTES. */
  OverQuota: 3,
  /** A frame out of place, or not a request. */
  BadRequest: 4,
  /** Not signed by the owner, or another feed's. */
  Forged: 5,
} as const
export type SeedStatusCode = keyof typeof SeedStatus

export interface FeedSeederInit {
  readonly node: JiayiNode
  /** The home node's store (family `seed`). */
  readonly store: Store
  /** The owner's identity key (the feed id), once a certificate names one. */
  readonly owner: () => Uint8Array | undefined
  readonly isOwnerDevice: (peer: string) => boolean
  readonly isOwnersContact: (peer: string) => boolean
  readonly maxBytes?: number
  readonly log?: (message: string, fields: Record<string, string | number>) => void
}

export interface FeedSeederStats {
  readonly entries: number
  readonly snapshot: boolean
  readonly bytes: number
  readonly refused: Record<string, number>
}

const SNAPSHOT_KEY = storeKey('seed', 's')
const ENTRIES = storeKey('seed', 'e')
const entryKey = (replica: ReplicaId, seq: number) => storeKey('seed', 'e', replicaIdBytes(replica), seq)

class Refused extends Error {
  constructor(readonly code: SeedStatusCode) {
    super(code)
  }
}

export class FeedSeeder {
  /** Newest sequence held per replica (in the snapshot or as entries). */
  private vv = new Map<ReplicaId, number>()
  /** The stored snapshot's vector: entries at or below it are not kept. */
  private base = new Map<ReplicaId, number>()
  private snapshotBytes = 0
  private entryBytes = 0
  private entries = 0
  private readonly refused = new Map<string, number>()
  /** One push changes the store at a time. */
  private chain: Promise<unknown> = Promise.resolve()
  private readonly maxBytes: number

  private constructor(private readonly init: FeedSeederInit) {
    this.maxBytes = init.maxBytes ?? SEED_BYTES
  }

  static async open(init: FeedSeederInit): Promise<FeedSeeder> {
    const seeder = new FeedSeeder(init)
    await seeder.load()
    await init.node.handle(
      PROTOCOL_FEED_SEED,
      framedHandler(
        PROTOCOL_FEED_SEED,
        (framed, connection) => seeder.serve(framed, connection.remotePeer.toString()),
        {
          maxFrameBytes: SEED_FRAME_BYTES,
          onRefused: () => seeder.count('BadRequest'),
        },
      ),
      { maxInboundStreams: SEED_INBOUND_STREAMS },
    )
    return seeder
  }

  async stop(): Promise<void> {
    await this.init.node.unhandle(PROTOCOL_FEED_SEED).catch(() => undefined)
    await this.chain.catch(() => undefined)
  }

  stats(): FeedSeederStats {
    return {
      entries: this.entries,
      snapshot: this.snapshotBytes > 0,
      bytes: this.snapshotBytes + this.entryBytes,
      refused: Object.fromEntries(this.refused),
    }
  }

  private async load(): Promise<void> {
    const snapshot = await this.init.store.get(SNAPSHOT_KEY)
    if (snapshot !== undefined) {
      const s = decodeSnapshot(snapshot)
      this.base = new Map(s.vv)
      this.vv = new Map(s.vv)
      this.snapshotBytes = snapshot.length
    }
    for await (const [, value] of this.init.store.iterate({ prefix: ENTRIES })) {
      const e = decodeEntry(value)
      const r = replicaIdOf(e.replica)
      this.vv.set(r, Math.max(seqOf(this.vv, r), e.seq))
      this.entryBytes += value.length
      this.entries++
    }
  }

  private count(code: SeedStatusCode): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
  }

  private async serve(framed: FramedStream, peer: string): Promise<void> {
    try {
      const first = await framed.read()
      if (first === null) return
      if (first.length === 0) throw new Refused('BadRequest')
      if (first[0] === SeedOp.Pull) await this.pull(framed, peer, first.subarray(1))
      else if (first[0] === SeedOp.Push && first.length === 1) {
        const task = this.chain.then(() => this.push(framed, peer))
        this.chain = task.catch(() => undefined)
        await task
      } else throw new Refused('BadRequest')
      await framed.close()
    } catch (error) {
      const code: SeedStatusCode =
        error instanceof Refused ? error.code : FeedError.is(error, 'Forged') ? 'Forged' : 'BadRequest'
      if (!(error instanceof Refused) && !FeedError.is(error))
        this.init.log?.('feed seed request failed', { error: String(error) })
      this.count(code)
      this.init.log?.('feed seed refused', { code, peer })
      await framed.write(Uint8Array.of(SeedStatus[code])).catch(() => undefined)
      await framed.close().catch(() => undefined)
    }
  }

  /** The owner's device sends what we lack of its log. */
  private async push(framed: FramedStream, peer: string): Promise<void> {
    const owner = this.init.owner()
    if (owner === undefined || !this.init.isOwnerDevice(peer)) throw new Refused('NotOwner')
    await framed.write(concatBytes(Uint8Array.of(SeedStatus.Ok), encodeVV(this.vv)))
    let header: SnapshotHeader | undefined
    let chunks: Uint8Array[] = []
    let received = 0
    let run: SignedEntry[] = []
    for (;;) {
      const bytes = await framed.read()
      if (bytes === null) throw new Refused('BadRequest')
      const frame = decodeFrame(bytes)
      if (header !== undefined && frame.type !== 'chunk') throw new Refused('BadRequest')
      switch (frame.type) {
        case 'snapshot':
          await this.storeEntries(run)
          run = []
          if (!equalBytes(frame.header.feed, owner)) throw new Refused('Forged')
          verifySnapshotHeader(frame.header)
          if (frame.header.sealedBytes > MAX_SNAPSHOT_BYTES) throw new Refused('OverQuota')
          header = frame.header
          chunks = []
          received = 0
          if (header.sealedBytes === 0) throw new Refused('BadRequest')
          break
        case 'chunk':
          if (header === undefined || frame.offset !== received) throw new Refused('BadRequest')
          if (received + frame.bytes.length > header.sealedBytes) throw new Refused('BadRequest')
          chunks.push(frame.bytes)
          received += frame.bytes.length
          if (received === header.sealedBytes) {
            const snapshot: Snapshot = { ...header, sealed: concatBytes(...chunks) }
            verifySnapshotBytes(snapshot)
            await this.storeSnapshot(snapshot)
            header = undefined
            chunks = []
          }
          break
        case 'entry':
          if (!equalBytes(frame.entry.feed, owner)) throw new Refused('Forged')
          verifyEntry(frame.entry)
          run.push(frame.entry)
          if (run.length >= 256) {
            await this.storeEntries(run)
            run = []
          }
          break
        case 'synced':
          await this.storeEntries(run)
          await framed.write(Uint8Array.of(SeedStatus.Ok))
          return
        default:
          throw new Refused('BadRequest')
      }
    }
  }

  /** Keeps the entries that continue each replica's log; copies and gaps are left out. */
  private async storeEntries(run: readonly SignedEntry[]): Promise<void> {
    if (run.length === 0) return
    const ops: BatchOp[] = []
    const vv = new Map(this.vv)
    let bytes = 0
    for (const e of run) {
      const r = replicaIdOf(e.replica)
      if (e.seq !== seqOf(vv, r) + 1) continue
      const value = encodeEntry(e)
      vv.set(r, e.seq)
      bytes += value.length
      ops.push({ type: 'put', key: entryKey(r, e.seq), value })
    }
    if (ops.length === 0) return
    if (this.snapshotBytes + this.entryBytes + bytes > this.maxBytes) throw new Refused('OverQuota')
    await this.init.store.batch(ops)
    this.vv = vv
    this.entryBytes += bytes
    this.entries += ops.length
  }

  /** A snapshot with news replaces the one kept, and the entries it covers go. */
  private async storeSnapshot(snapshot: Snapshot): Promise<void> {
    if (!hasNews(snapshot.vv, this.base)) return
    const value = encodeSnapshot(snapshot)
    const ops: BatchOp[] = [{ type: 'put', key: SNAPSHOT_KEY, value }]
    let freed = 0
    let dropped = 0
    for await (const [k, v] of this.init.store.iterate({ prefix: ENTRIES })) {
      const e = decodeEntry(v)
      if (e.seq > seqOf(snapshot.vv, replicaIdOf(e.replica))) continue
      ops.push({ type: 'del', key: k })
      freed += v.length
      dropped++
    }
    if (value.length + this.entryBytes - freed > this.maxBytes) throw new Refused('OverQuota')
    await this.init.store.batch(ops)
    this.snapshotBytes = value.length
    this.entryBytes -= freed
    this.entries -= dropped
    this.base = new Map(snapshot.vv)
    this.vv = mergeVV(this.vv, snapshot.vv)
  }

  /** A contact of the owner gets what it lacks: the snapshot when it is new or behind it, then entries. */
  private async pull(framed: FramedStream, peer: string, request: Uint8Array): Promise<void> {
    if (this.init.owner() === undefined || !this.init.isOwnersContact(peer)) throw new Refused('NotAllowed')
    let known: Map<ReplicaId, number>
    try {
      known = decodeVV(request)
    } catch {
      throw new Refused('BadRequest')
    }
    await framed.write(Uint8Array.of(SeedStatus.Ok))
    let need: Map<ReplicaId, number> = known
    const snapshotBytes = this.snapshotBytes > 0 ? await this.init.store.get(SNAPSHOT_KEY) : undefined
    if (snapshotBytes !== undefined) {
      const snapshot = decodeSnapshot(snapshotBytes)
      const behind = [...snapshot.vv].some(([r, seq]) => seqOf(known, r) < seq)
      if (behind || vvTotal(known) === 0) {
        for (const frame of snapshotFrames(snapshot)) await framed.write(encodeFrame(frame))
        need = mergeVV(known, snapshot.vv)
      }
    }
    for (const [r, head] of [...this.vv]) {
      const k = seqOf(need, r)
      if (k >= head) continue
      for await (const [, value] of this.init.store.iterate({ gt: entryKey(r, k), lte: entryKey(r, head) })) {
        await framed.write(encodeFrame({ type: 'entry', entry: decodeEntry(value) }))
      }
    }
    await framed.write(encodeFrame({ type: 'synced', round: 0 }))
  }
}
