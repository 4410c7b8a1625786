/**
 * Sealing and signing the feed's update log (PROTOCOL.md, "Entries" and "Snapshots").
 *
 * An entry is one Yjs update, sealed with XChaCha20-Poly1305 under the owner's feed key of an epoch
 * (associated data: feed, replica, sequence, epoch), and signed by the owner's identity key over
 * (feed id, replica, sequence number, epoch, SHA-256 of the sealed bytes). Signing the sealed bytes
 * rather than the plaintext lets a peer check an entry before (or without) opening it, and lets a
 * contact pass entries on that it could not forge; the feed key is fixed per epoch and handed out
 * only by the owner, so the signed ciphertext also pins the plaintext.
 *
 * Only constructions over core's primitive wrappers: no cryptography is implemented here.
 */
import {
  aeadOpen,
  aeadSeal,
  concatBytes,
  equalBytes,
  type IdentityKeyPair,
  SignatureContext,
  sha256Hash,
  signAs,
  utf8,
  verifySignedBy,
} from '@jiayi/core'
import { FeedError } from './errors.js'
import type { ReplicaId } from './ids.js'
import { FEED_ID_BYTES, REPLICA_ID_BYTES } from './ids.js'
import { MAX_SNAPSHOT_BYTES, MAX_UPDATE_BYTES } from './limits.js'
import type { VersionVector } from './version-vector.js'
import { encodeHeads, encodeVV, type SignedEntry, type Snapshot, type SnapshotHeader } from './wire.js'

const ENTRY_AD_LABEL = utf8('Jiayi_FeedEntry_v1\0')
const SNAPSHOT_AD_LABEL = utf8('Jiayi_FeedSnapshot_v1\0')

function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false)
  return out
}

function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value, false)
  return out
}

function position(feed: Uint8Array, replica: Uint8Array, seq: number, epoch: number): Uint8Array {
  return concatBytes(feed, replica, u64be(seq), u32be(epoch))
}

/**
 * What the owner signs for an entry:
 *   feed || replica || u64be(seq) || u32be(epoch) || SHA-256(sealed) || prev
 * where `prev` is the link of the replica's previous entry, so each replica's log is a hash chain:
 * one good signature on the newest entry of a run vouches for every entry before it.
 */
export function entrySignedPayload(e: Omit<SignedEntry, 'signature'>): Uint8Array {
  return concatBytes(position(e.feed, e.replica, e.seq, e.epoch), sha256Hash(e.sealed), e.prev)
}

/** An entry's link: SHA-256 of its signed payload (what the next entry's `prev` must be). */
export function entryLink(e: Omit<SignedEntry, 'signature'>): Uint8Array {
  return sha256Hash(entrySignedPayload(e))
}

/** The `prev` of a replica's first entry. */
export const GENESIS_LINK: Uint8Array = new Uint8Array(32)

export interface EntryInput {
  readonly identity: IdentityKeyPair
  readonly key: Uint8Array
  readonly replica: Uint8Array
  readonly seq: number
  readonly epoch: number
  /** The link of this replica's previous entry (GENESIS_LINK for seq 1). */
  readonly prev: Uint8Array
  readonly update: Uint8Array
}

export function sealEntry(input: EntryInput): SignedEntry {
  if (input.update.length > MAX_UPDATE_BYTES) throw new FeedError('TooLarge', 'update over its limit')
  if (input.replica.length !== REPLICA_ID_BYTES) throw new FeedError('BadInput', 'replica id length')
  const feed = input.identity.signing.publicKey
  const ad = concatBytes(ENTRY_AD_LABEL, position(feed, input.replica, input.seq, input.epoch))
  const sealed = aeadSeal(input.key, input.update, ad)
  const unsigned = {
    feed,
    replica: input.replica,
    seq: input.seq,
    epoch: input.epoch,
    prev: input.prev,
    sealed,
  }
  const signature = signAs(input.identity, SignatureContext.FeedUpdate, entrySignedPayload(unsigned))
  return { ...unsigned, signature }
}

/** Throws FeedError 'Unsigned' or 'Forged' unless the feed's owner signed exactly this entry. */
export function verifyEntry(e: SignedEntry): void {
  if (e.signature.length === 0) throw new FeedError('Unsigned', 'entry carries no signature')
  if (e.feed.length !== FEED_ID_BYTES || e.replica.length !== REPLICA_ID_BYTES) {
    throw new FeedError('Malformed', 'entry ids have the wrong length')
  }
  if (!verifySignedBy(e.feed, SignatureContext.FeedUpdate, entrySignedPayload(e), e.signature)) {
    throw new FeedError('Forged', 'entry signature does not verify')
  }
}

/** The Yjs update inside a (verified) entry; 'Undecryptable' if the key does not open it. */
export function openEntry(e: SignedEntry, key: Uint8Array): Uint8Array {
  const ad = concatBytes(ENTRY_AD_LABEL, position(e.feed, e.replica, e.seq, e.epoch))
  let update: Uint8Array
  try {
    update = aeadOpen(key, e.sealed, ad)
  } catch (cause) {
    throw new FeedError('Undecryptable', 'entry does not open with the feed key', { cause })
  }
  if (update.length > MAX_UPDATE_BYTES) throw new FeedError('TooLarge', 'update over its limit')
  return update
}

// ------------------------------------------------------------------ snapshots

function snapshotContext(feed: Uint8Array, epoch: number, vv: VersionVector): Uint8Array {
  return concatBytes(feed, u32be(epoch), encodeVV(vv))
}

/** feed || u32be(epoch) || vv || heads || u64be(sealed length) || SHA-256(sealed). */
export function snapshotSignedPayload(h: Omit<SnapshotHeader, 'signature'>): Uint8Array {
  return concatBytes(
    snapshotContext(h.feed, h.epoch, h.vv),
    encodeHeads(h.vv, h.heads),
    u64be(h.sealedBytes),
    h.sealedHash,
  )
}

export interface SnapshotInput {
  readonly identity: IdentityKeyPair
  readonly key: Uint8Array
  readonly epoch: number
  readonly vv: VersionVector
  /** Each replica's link at its sequence in `vv`. */
  readonly heads: ReadonlyMap<ReplicaId, Uint8Array>
  /** Y.encodeStateAsUpdate of the feed's doc holding exactly the updates in `vv`. */
  readonly state: Uint8Array
}

export function sealSnapshot(input: SnapshotInput): Snapshot {
  const feed = input.identity.signing.publicKey
  const ad = concatBytes(SNAPSHOT_AD_LABEL, snapshotContext(feed, input.epoch, input.vv))
  const sealed = aeadSeal(input.key, input.state, ad)
  if (sealed.length > MAX_SNAPSHOT_BYTES) throw new FeedError('TooLarge', 'snapshot over its limit')
  const header = {
    feed,
    epoch: input.epoch,
    vv: input.vv,
    heads: input.heads,
    sealedBytes: sealed.length,
    sealedHash: sha256Hash(sealed),
  }
  const signature = signAs(input.identity, SignatureContext.FeedSnapshot, snapshotSignedPayload(header))
  return { ...header, signature, sealed }
}

/** Checks the header's signature (before its bytes are even received). */
export function verifySnapshotHeader(h: SnapshotHeader): void {
  if (h.signature.length === 0) throw new FeedError('Unsigned', 'snapshot carries no signature')
  if (!verifySignedBy(h.feed, SignatureContext.FeedSnapshot, snapshotSignedPayload(h), h.signature)) {
    throw new FeedError('Forged', 'snapshot signature does not verify')
  }
}

/** Checks that the bytes are the ones the (verified) header signed. */
export function verifySnapshotBytes(s: Snapshot): void {
  if (s.sealed.length !== s.sealedBytes || !equalBytes(sha256Hash(s.sealed), s.sealedHash)) {
    throw new FeedError('Forged', 'snapshot bytes do not match their signed hash')
  }
}

export function openSnapshot(s: Snapshot, key: Uint8Array): Uint8Array {
  const ad = concatBytes(SNAPSHOT_AD_LABEL, snapshotContext(s.feed, s.epoch, s.vv))
  try {
    return aeadOpen(key, s.sealed, ad)
  } catch (cause) {
    throw new FeedError('Undecryptable', 'snapshot does not open with the feed key', { cause })
  }
}
