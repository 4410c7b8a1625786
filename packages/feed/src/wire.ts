/**
 * The feed's byte formats as pure encodeX / decodeX pairs with no I/O (y-protocols style); the
 * grammar is in PROTOCOL.md. Decoding is strict: exact lengths, canonical varints and orderings,
 * bounds checked before anything is allocated, no trailing bytes. Every fault is a FeedError
 * ('Malformed' or 'TooLarge').
 */

import { ByteReader, ByteWriter } from './byte-io.js'
import { FeedError } from './errors.js'
import { FEED_ID_BYTES, REPLICA_ID_BYTES, type ReplicaId, replicaIdBytes, replicaIdOf } from './ids.js'
import {
  MAX_EPOCH,
  MAX_HAVE_BOX_BYTES,
  MAX_HAVE_FEEDS,
  MAX_REPLICAS,
  MAX_SEALED_UPDATE_BYTES,
  MAX_SNAPSHOT_BYTES,
  SNAPSHOT_CHUNK_BYTES,
} from './limits.js'
import type { VersionVector } from './version-vector.js'

export const SIGNATURE_BYTES = 64
export const HASH_BYTES = 32
export const FEED_KEY_BYTES = 32
/** The server's per-stream challenge, and a HAVE claim's proof tag (HMAC-SHA256). */
export const CHALLENGE_BYTES = 32
export const PROOF_TAG_BYTES = 32

/** One Yjs update of a feed, sealed with the feed key of `epoch` and signed by the owner. */
export interface SignedEntry {
  readonly feed: Uint8Array
  readonly replica: Uint8Array
  readonly seq: number
  readonly epoch: number
  /** The link (hash) of the replica's previous entry; 32 zero bytes for the first. */
  readonly prev: Uint8Array
  readonly sealed: Uint8Array
  /** 64 bytes; empty when unsigned (which verification rejects). */
  readonly signature: Uint8Array
}

/** A compacted snapshot's signed description; its sealed bytes follow in chunks. */
export interface SnapshotHeader {
  readonly feed: Uint8Array
  readonly epoch: number
  readonly vv: VersionVector
  /** For each replica in `vv`, the link of its entry at that sequence (the chain goes on from it). */
  readonly heads: ReadonlyMap<ReplicaId, Uint8Array>
  readonly sealedBytes: number
  readonly sealedHash: Uint8Array
  readonly signature: Uint8Array
}

export interface Snapshot extends SnapshotHeader {
  readonly sealed: Uint8Array
}

/** What a requester holds of one feed, once its claim is proven (have-proof.ts). */
export interface FeedHave {
  readonly feed: Uint8Array
  /** The feed-key epoch the asker proved it holds (its newest): later entries would be unreadable to it. */
  readonly maxEpoch: number
  readonly vv: VersionVector
}

/**
 * One feed as a HAVE names it on the wire: a tag proving the requester holds the feed's key (bound
 * to this stream), and its version vector sealed under that key. Neither names the feed: a
 * server that holds no key for it learns nothing (have-proof.ts).
 */
export interface HaveClaim {
  readonly tag: Uint8Array
  readonly box: Uint8Array
}

export const FrameType = {
  Have: 1,
  Entry: 2,
  Snapshot: 3,
  Chunk: 4,
  Synced: 5,
  Ack: 6,
  Challenge: 7,
} as const

export type SyncFrame =
  /** The server's first frame on every stream: what the requester's proofs are bound to. */
  | { readonly type: 'challenge'; readonly nonce: Uint8Array }
  | { readonly type: 'have'; readonly round: number; readonly claims: readonly HaveClaim[] }
  | { readonly type: 'entry'; readonly entry: SignedEntry }
  | { readonly type: 'snapshot'; readonly header: SnapshotHeader }
  | { readonly type: 'chunk'; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly type: 'synced'; readonly round: number }
  /** Flow control: the bytes of server frames the client has finished with, in all. */
  | { readonly type: 'ack'; readonly consumed: number }

/** The body of the 'feed-key' messenger extension: the sender's feed key for one epoch. */
export interface FeedKeyMessage {
  readonly epoch: number
  readonly key: Uint8Array
}

const FEED_KEY_VERSION = 1

// ------------------------------------------------------------------ version vectors

export function writeVV(w: ByteWriter, vv: VersionVector): void {
  const replicas = [...vv.entries()].filter(([, seq]) => seq > 0)
  if (replicas.length > MAX_REPLICAS) throw new FeedError('TooLarge', 'too many replicas')
  replicas.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  w.varuint(replicas.length)
  for (const [replica, seq] of replicas) w.fixed(replicaIdBytes(replica)).varuint(seq)
}

export function readVV(r: ByteReader): Map<ReplicaId, number> {
  const count = r.varuint(MAX_REPLICAS)
  const vv = new Map<ReplicaId, number>()
  let previous: ReplicaId | undefined
  for (let i = 0; i < count; i++) {
    const replica = replicaIdOf(r.fixed(REPLICA_ID_BYTES))
    if (previous !== undefined && replica <= previous) {
      throw new FeedError('Malformed', 'replicas must be strictly ascending')
    }
    const seq = r.varuint()
    if (seq === 0) throw new FeedError('Malformed', 'a listed replica has sequence 0')
    vv.set(replica, seq)
    previous = replica
  }
  return vv
}

/** One 32-byte head per replica of `vv`, in the order writeVV lists them. */
export function writeHeads(
  w: ByteWriter,
  vv: VersionVector,
  heads: ReadonlyMap<ReplicaId, Uint8Array>,
): void {
  for (const replica of [...vv.keys()].filter((r) => (vv.get(r) ?? 0) > 0).sort()) {
    const head = heads.get(replica)
    if (head === undefined || head.length !== HASH_BYTES)
      throw new FeedError('BadInput', 'a head per replica')
    w.fixed(head)
  }
}

export function encodeHeads(vv: VersionVector, heads: ReadonlyMap<ReplicaId, Uint8Array>): Uint8Array {
  const w = new ByteWriter()
  writeHeads(w, vv, heads)
  return w.finish()
}

export function encodeVV(vv: VersionVector): Uint8Array {
  const w = new ByteWriter()
  writeVV(w, vv)
  return w.finish()
}

export function decodeVV(bytes: Uint8Array): Map<ReplicaId, number> {
  const r = new ByteReader(bytes)
  const vv = readVV(r)
  r.end()
  return vv
}

// ------------------------------------------------------------------ entries

function checkEntryShape(e: SignedEntry): void {
  if (
    e.feed.length !== FEED_ID_BYTES ||
    e.replica.length !== REPLICA_ID_BYTES ||
    e.prev.length !== HASH_BYTES
  ) {
    throw new FeedError('BadInput', 'entry ids have the wrong length')
  }
  if (e.signature.length !== 0 && e.signature.length !== SIGNATURE_BYTES) {
    throw new FeedError('BadInput', 'signature has the wrong length')
  }
}

function writeEntry(w: ByteWriter, e: SignedEntry): void {
  checkEntryShape(e)
  w.fixed(e.feed)
    .fixed(e.replica)
    .varuint(e.seq)
    .varuint(e.epoch)
    .fixed(e.prev)
    .bytes(e.sealed)
    .bytes(e.signature)
}

function readEntry(r: ByteReader): SignedEntry {
  const feed = r.fixed(FEED_ID_BYTES)
  const replica = r.fixed(REPLICA_ID_BYTES)
  const seq = r.varuint()
  if (seq === 0) throw new FeedError('Malformed', 'sequence numbers start at 1')
  const epoch = r.varuint(MAX_EPOCH)
  const prev = r.fixed(HASH_BYTES)
  const sealed = r.bytes(MAX_SEALED_UPDATE_BYTES)
  const signature = r.bytes(SIGNATURE_BYTES)
  if (signature.length !== 0 && signature.length !== SIGNATURE_BYTES) {
    throw new FeedError('Malformed', 'signature has the wrong length')
  }
  return { feed, replica, seq, epoch, prev, sealed, signature }
}

export function encodeEntry(e: SignedEntry): Uint8Array {
  const w = new ByteWriter()
  writeEntry(w, e)
  return w.finish()
}

export function decodeEntry(bytes: Uint8Array): SignedEntry {
  const r = new ByteReader(bytes)
  const e = readEntry(r)
  r.end()
  return e
}

// ------------------------------------------------------------------ snapshots

function writeSnapshotHeader(w: ByteWriter, h: SnapshotHeader): void {
  if (h.feed.length !== FEED_ID_BYTES || h.sealedHash.length !== HASH_BYTES) {
    throw new FeedError('BadInput', 'snapshot header fields have the wrong length')
  }
  w.fixed(h.feed).varuint(h.epoch)
  writeVV(w, h.vv)
  writeHeads(w, h.vv, h.heads)
  w.varuint(h.sealedBytes).fixed(h.sealedHash).bytes(h.signature)
}

function readSnapshotHeader(r: ByteReader): SnapshotHeader {
  const feed = r.fixed(FEED_ID_BYTES)
  const epoch = r.varuint(MAX_EPOCH)
  const vv = readVV(r)
  if (vv.size === 0) throw new FeedError('Malformed', 'a snapshot covers at least one update')
  const heads = new Map<ReplicaId, Uint8Array>()
  for (const replica of vv.keys()) heads.set(replica, r.fixed(HASH_BYTES))
  const sealedBytes = r.varuint(MAX_SNAPSHOT_BYTES)
  const sealedHash = r.fixed(HASH_BYTES)
  const signature = r.bytes(SIGNATURE_BYTES)
  if (signature.length !== 0 && signature.length !== SIGNATURE_BYTES) {
    throw new FeedError('Malformed', 'signature has the wrong length')
  }
  return { feed, epoch, vv, heads, sealedBytes, sealedHash, signature }
}

export function encodeSnapshotHeader(h: SnapshotHeader): Uint8Array {
  const w = new ByteWriter()
  writeSnapshotHeader(w, h)
  return w.finish()
}

export function decodeSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  const r = new ByteReader(bytes)
  const h = readSnapshotHeader(r)
  r.end()
  return h
}

/** A stored snapshot: header, then its sealed bytes. */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new ByteWriter()
  writeSnapshotHeader(w, s)
  w.bytes(s.sealed)
  return w.finish()
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const r = new ByteReader(bytes)
  const h = readSnapshotHeader(r)
  const sealed = r.bytes(MAX_SNAPSHOT_BYTES)
  r.end()
  if (sealed.length !== h.sealedBytes) throw new FeedError('Malformed', 'snapshot length mismatch')
  return { ...h, sealed }
}

// ------------------------------------------------------------------ sync frames

/** A snapshot as it travels: its header, then its sealed bytes in chunks of SNAPSHOT_CHUNK_BYTES. */
export function* snapshotFrames(snapshot: Snapshot): Generator<SyncFrame> {
  const { sealed, ...header } = snapshot
  yield { type: 'snapshot', header }
  for (let offset = 0; offset < sealed.length; offset += SNAPSHOT_CHUNK_BYTES)
    yield { type: 'chunk', offset, bytes: sealed.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES) }
}

export function encodeFrame(frame: SyncFrame): Uint8Array {
  const w = new ByteWriter()
  switch (frame.type) {
    case 'challenge':
      if (frame.nonce.length !== CHALLENGE_BYTES) throw new FeedError('BadInput', 'a challenge is 32 bytes')
      w.byte(FrameType.Challenge).fixed(frame.nonce)
      break
    case 'have':
      if (frame.claims.length > MAX_HAVE_FEEDS) throw new FeedError('TooLarge', 'too many feeds')
      w.byte(FrameType.Have).varuint(frame.round).varuint(frame.claims.length)
      for (const c of frame.claims) {
        if (c.tag.length !== PROOF_TAG_BYTES) throw new FeedError('BadInput', 'a proof tag is 32 bytes')
        if (c.box.length > MAX_HAVE_BOX_BYTES) throw new FeedError('TooLarge', 'a claim box is too large')
        w.fixed(c.tag).bytes(c.box)
      }
      break
    case 'entry':
      w.byte(FrameType.Entry)
      writeEntry(w, frame.entry)
      break
    case 'snapshot':
      w.byte(FrameType.Snapshot)
      writeSnapshotHeader(w, frame.header)
      break
    case 'chunk':
      if (frame.bytes.length === 0 || frame.bytes.length > SNAPSHOT_CHUNK_BYTES) {
        throw new FeedError('BadInput', 'chunk size out of range')
      }
      w.byte(FrameType.Chunk).varuint(frame.offset).bytes(frame.bytes)
      break
    case 'synced':
      w.byte(FrameType.Synced).varuint(frame.round)
      break
    case 'ack':
      w.byte(FrameType.Ack).varuint(frame.consumed)
      break
  }
  return w.finish()
}

export function decodeFrame(bytes: Uint8Array): SyncFrame {
  const r = new ByteReader(bytes)
  const type = r.byte()
  let frame: SyncFrame
  switch (type) {
    case FrameType.Challenge:
      frame = { type: 'challenge', nonce: r.fixed(CHALLENGE_BYTES) }
      break
    case FrameType.Have: {
      const round = r.varuint()
      const count = r.varuint(MAX_HAVE_FEEDS)
      const claims: HaveClaim[] = []
      for (let i = 0; i < count; i++) {
        const tag = r.fixed(PROOF_TAG_BYTES)
        claims.push({ tag, box: r.bytes(MAX_HAVE_BOX_BYTES) })
      }
      frame = { type: 'have', round, claims }
      break
    }
    case FrameType.Entry:
      frame = { type: 'entry', entry: readEntry(r) }
      break
    case FrameType.Snapshot:
      frame = { type: 'snapshot', header: readSnapshotHeader(r) }
      break
    case FrameType.Chunk: {
      const offset = r.varuint(MAX_SNAPSHOT_BYTES)
      const chunk = r.bytes(SNAPSHOT_CHUNK_BYTES)
      if (chunk.length === 0) throw new FeedError('Malformed', 'empty chunk')
      frame = { type: 'chunk', offset, bytes: chunk }
      break
    }
    case FrameType.Synced:
      frame = { type: 'synced', round: r.varuint() }
      break
    case FrameType.Ack:
      frame = { type: 'ack', consumed: r.varuint() }
      break
    default:
      throw new FeedError('Malformed', 'unknown frame type')
  }
  r.end()
  return frame
}

// ------------------------------------------------------------------ feed-key extension body

export function encodeFeedKey(m: FeedKeyMessage): Uint8Array {
  if (m.key.length !== FEED_KEY_BYTES) throw new FeedError('BadInput', 'a feed key is 32 bytes')
  return new ByteWriter().byte(FEED_KEY_VERSION).varuint(m.epoch).fixed(m.key).finish()
}

export function decodeFeedKey(bytes: Uint8Array): FeedKeyMessage {
  const r = new ByteReader(bytes)
  if (r.byte() !== FEED_KEY_VERSION) throw new FeedError('Malformed', 'unknown feed-key version')
  const epoch = r.varuint(MAX_EPOCH)
  const key = r.fixed(FEED_KEY_BYTES)
  r.end()
  return { epoch, key }
}
