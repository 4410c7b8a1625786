/**
 * Feed errors, with stable codes (libsignal's discipline): callers and counters branch on `code`.
 * Messages never carry key bytes or user content.
 *
 * The codes in REJECTION_CODES are the verdicts on input from the network (or from a store that
 * was tampered with); each is counted when it happens (FeedStats.rejected).
 */
import { defineError } from '@jiayi/core'

export const REJECTION_CODES = [
  /** The bytes do not parse (sync frame, entry, snapshot, key message). */
  'Malformed',
  /** An entry or snapshot without a signature. */
  'Unsigned',
  /** A signature that does not verify under the feed owner's identity key. */
  'Forged',
  /** An entry or snapshot the peer already holds. */
  'Replayed',
  /** An entry whose sequence number is not the next one of its replica. */
  'OutOfOrder',
  /** Sealed under a feed-key epoch this peer was never given. */
  'Keyless',
  /** Signed by the owner, but the AEAD does not open (or the snapshot's bytes do not match). */
  'Undecryptable',
  /** Signed and opened, but not a well-formed Yjs update. */
  'BadUpdate',
  /** Over a size or count limit. */
  'TooLarge',
  /** A frame that is well-formed but breaks the protocol's order (e.g. a chunk without a snapshot). */
  'Protocol',
] as const
export type RejectionCode = (typeof REJECTION_CODES)[number]

export const FeedError = defineError('FeedError', [
  ...REJECTION_CODES,
  /** Bad arguments from the app (empty text, too long, bad URL). */
  'BadInput',
  'UnknownPost',
  'UnknownComment',
  /** A post with new files, on a feed created without the files service. */
  'NoFiles',
  /** The feed service is stopped. */
  'Stopped',
  /** A home node's seeder refused: not its owner's device (a push) or contact (a pull), or full. */
  'Refused',
] as const)
export type FeedError = InstanceType<typeof FeedError>
export type FeedErrorCode = FeedError['code']

export function isRejection(error: unknown): error is FeedError & { code: RejectionCode } {
  return FeedError.is(error) && (REJECTION_CODES as readonly string[]).includes(error.code)
}
