/**
 * Branded ids (automerge-repo style), so a feed id can never be passed where a post id belongs.
 *
 * - FeedId: the feed owner's Ed25519 identity public key, hex (64 characters). The key that signs
 *   a feed's updates is its id, so nothing has to be looked up to check a signature.
 * - ReplicaId: 8 random bytes, hex: one per device that writes a feed (its own update log).
 * - PostId, CommentId (ReactionId): 16 random bytes, hex (32 characters), like message ids.
 */
import { bytesToHex, hexToBytes, randomBytes } from '@jiayi/core'

export type FeedId = string & { readonly __brand: 'FeedId' }
export type ReplicaId = string & { readonly __brand: 'ReplicaId' }
export type PostId = string & { readonly __brand: 'PostId' }
export type CommentId = string & { readonly __brand: 'CommentId' }
/** A like's or comment's id in its writer's doc (a comment's id is its CommentId). */
export type ReactionId = CommentId

export const FEED_ID_BYTES = 32
export const REPLICA_ID_BYTES = 8
export const ITEM_ID_BYTES = 16

export function feedIdOf(bytes: Uint8Array): FeedId {
  return bytesToHex(bytes) as FeedId
}

export function feedIdBytes(id: FeedId): Uint8Array {
  return hexToBytes(id)
}

export function isFeedId(value: unknown): value is FeedId {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)
}

export function replicaIdOf(bytes: Uint8Array): ReplicaId {
  return bytesToHex(bytes) as ReplicaId
}

export function replicaIdBytes(id: ReplicaId): Uint8Array {
  return hexToBytes(id)
}

export function newReplicaId(): ReplicaId {
  return replicaIdOf(randomBytes(REPLICA_ID_BYTES))
}

export function isReplicaId(value: unknown): value is ReplicaId {
  return typeof value === 'string' && /^[0-9a-f]{16}$/.test(value)
}

export function newItemId<T extends PostId | CommentId>(): T {
  return bytesToHex(randomBytes(ITEM_ID_BYTES)) as T
}

export function isItemId(value: unknown): value is PostId & CommentId {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value)
}
