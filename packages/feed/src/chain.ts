/**
 * Checking a run of one feed's entries against what we hold, without changing anything.
 *
 * Each replica's log is a hash chain: an entry's signed payload carries the link (hash) of the
 * previous entry. So for a run of entries that follow each other and our trusted head, one good
 * signature on the newest entry vouches for all of them; only when that fails is each checked on
 * its own (to keep the good prefix). A fresh contact catching up on hundreds of entries verifies one
 * signature per replica instead of hundreds.
 */
import { equalBytes } from '@jiayi/core'
import { FeedError } from './errors.js'
import { type ReplicaId, replicaIdOf } from './ids.js'
import { entryLink, GENESIS_LINK, verifyEntry } from './log-crypto.js'
import { seqOf, type VersionVector } from './version-vector.js'
import type { SignedEntry } from './wire.js'

export interface ChainState {
  /** Applied sequence per replica. */
  readonly vv: VersionVector
  /** Link of the last applied entry per replica. */
  readonly heads: ReadonlyMap<ReplicaId, Uint8Array>
  hasKey(epoch: number): boolean
}

export interface CheckedRun {
  /** Per entry: the rejection, or undefined if it may be applied (in order). */
  readonly verdicts: (FeedError | undefined)[]
  /** Per entry that may be applied: its link (the replica's head once it is applied). */
  readonly links: (Uint8Array | undefined)[]
}

/**
 * The checks of PROTOCOL.md in order (Unsigned, Keyless, Replayed / OutOfOrder, Forged) for
 * `entries`, all of one feed. Decryption and the Yjs check come after, when applying.
 */
export function checkRun(entries: readonly SignedEntry[], state: ChainState): CheckedRun {
  const verdicts: (FeedError | undefined)[] = new Array(entries.length).fill(undefined)
  const links: (Uint8Array | undefined)[] = new Array(entries.length).fill(undefined)
  const seq = new Map(state.vv)
  const heads = new Map(state.heads)
  const chains = new Map<ReplicaId, number[]>()
  entries.forEach((entry, i) => {
    const replica = replicaIdOf(entry.replica)
    const have = seqOf(seq, replica)
    const expected = have === 0 ? GENESIS_LINK : heads.get(replica)
    if (entry.signature.length === 0) verdicts[i] = new FeedError('Unsigned', 'entry carries no signature')
    else if (!state.hasKey(entry.epoch)) verdicts[i] = new FeedError('Keyless', 'no key for this feed epoch')
    else if (entry.seq <= have) verdicts[i] = new FeedError('Replayed', 'entry already applied')
    else if (entry.seq !== have + 1)
      verdicts[i] = new FeedError('OutOfOrder', 'entry is not the next in its log')
    else if (expected === undefined || !equalBytes(entry.prev, expected)) {
      verdicts[i] = new FeedError('Forged', 'entry does not follow its replica’s last entry')
    } else {
      const link = entryLink(entry)
      links[i] = link
      seq.set(replica, entry.seq)
      heads.set(replica, link)
      const chain = chains.get(replica)
      if (chain === undefined) chains.set(replica, [i])
      else chain.push(i)
    }
  })
  for (const chain of chains.values()) {
    if (signed(entries[chain[chain.length - 1]!]!)) continue
    // The newest does not verify: check each, keep the good prefix; what follows a forgery is forged.
    let forged = false
    for (const i of chain) {
      forged ||= !signed(entries[i]!)
      if (forged) {
        verdicts[i] = new FeedError('Forged', 'entry signature does not verify')
        links[i] = undefined
      }
    }
  }
  return { verdicts, links }
}

function signed(entry: SignedEntry): boolean {
  try {
    verifyEntry(entry)
    return true
  } catch {
    return false
  }
}
