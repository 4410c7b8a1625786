/**
 * The feed keys a peer holds, as the constructions made from them see them (proofs in HAVE,
 * sealed reactions): the engine is the one implementation; tests pass made-up ones.
 */
import type { FeedId } from './ids.js'

export interface HeldKeys {
  /** Our own feed. */
  readonly self: FeedId
  /** Every feed we hold a key for, our own included. */
  feedIds(): FeedId[]
  /** The newest epoch held (0 = none). */
  maxEpoch(feed: FeedId): number
  /** The epochs held, oldest first. */
  epochs(feed: FeedId): number[]
  /** The same object for as long as it is held (derived keys are cached on it). */
  key(feed: FeedId, epoch: number): Uint8Array | undefined
  /** Grows whenever the set of keys changes. */
  readonly keyVersion: number
}
