/**
 * Double Ratchet state with header encryption (Signal spec, section 4). Values are treated as
 * immutable: every operation returns a new state and leaves its input valid, so a caller can
 * persist the new state atomically with the message it produced or consumed, and a failed
 * decryption changes nothing.
 */
import type { KeyPair } from '../primitives.js'

export interface Chain {
  readonly chainKey: Uint8Array
  /** Number of the next message in this chain (Ns or Nr). */
  readonly n: number
}

/** Skipped message keys of one receiving chain, found by that chain's header key. */
export interface SkippedChain {
  readonly headerKey: Uint8Array
  /** Message number -> message key, in ascending order of insertion. */
  readonly keys: ReadonlyMap<number, Uint8Array>
}

export interface RatchetState {
  /** DHs: our current ratchet key pair. */
  readonly dhSelf: KeyPair
  /** DHr: the peer's current ratchet public key (absent until the responder hears from the peer). */
  readonly dhRemote: Uint8Array | undefined
  readonly rootKey: Uint8Array
  readonly send: Chain | undefined
  readonly recv: Chain | undefined
  /** PN: number of messages in our previous sending chain. */
  readonly prevSendCount: number
  readonly headerKeySend: Uint8Array | undefined
  readonly headerKeyRecv: Uint8Array | undefined
  readonly nextHeaderKeySend: Uint8Array
  readonly nextHeaderKeyRecv: Uint8Array
  /** Oldest chain first; bounded by MAX_SKIPPED_CHAINS and MAX_SKIPPED_KEYS. */
  readonly skipped: readonly SkippedChain[]
  /**
   * Header keys of receiving chains the peer has moved on from, oldest first, at most
   * MAX_RETIRED_CHAINS (absent in states written before they were kept). No message key goes
   * with them: they only tell a resent copy of an old message (a duplicate, to be acknowledged)
   * from a message that does not belong to this session.
   */
  readonly retiredHeaderKeys?: readonly Uint8Array[] | undefined
}

export function countSkipped(state: RatchetState): number {
  let total = 0
  for (const chain of state.skipped) total += chain.keys.size
  return total
}
