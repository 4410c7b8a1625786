/**
 * One atomic change: the store ops, the new session sets, contacts and side effects (events,
 * outbox kicks) that belong together. `Messenger.commit` writes the ops in one batch and only
 * then updates the in-memory caches and runs the effects, so memory never runs ahead of disk.
 */
import type { ConnectionRoute } from '../net/connection-info.js'
import type { WriteOp } from '../store/write-behind.js'
import type { ContactId } from './ids.js'
import type { ContactRecord, OutboxRecord } from './records.js'
import type { SessionSet } from './session-set.js'

export class Tx {
  readonly ops: WriteOp[] = []
  readonly sessions = new Map<ContactId, SessionSet>()
  readonly contacts = new Map<ContactId, ContactRecord>()
  readonly removedContacts = new Set<ContactId>()
  readonly effects: (() => void)[] = []
  readonly kicks = new Set<ContactId>()
  /** The outbox entries this change adds (also in `ops`), for the delivery to take from memory. */
  readonly outbox: { readonly cid: ContactId; readonly entry: OutboxRecord }[] = []
  /** How the envelope this change comes from arrived, when it came from the network. */
  route: ConnectionRoute | undefined
  /** Conversations whose counters record (`meta <cid>`) is already in `ops`. */
  readonly metas = new Set<ContactId>()

  /**
   * `key` and `value` are handed over to the store as they are: never change them afterwards. A
   * value may be a function, called when the batch goes to disk, and not at all when a later
   * write of the key in the same batch replaces it.
   */
  put(
    key: Uint8Array,
    value: Uint8Array | (() => Uint8Array),
    options: { readonly endToEndFrom?: number } = {},
  ): void {
    this.ops.push(
      options.endToEndFrom === undefined
        ? { type: 'put', key, value }
        : { type: 'put', key, value, endToEndFrom: options.endToEndFrom },
    )
  }

  del(key: Uint8Array): void {
    this.ops.push({ type: 'del', key })
  }

  after(effect: () => void): void {
    this.effects.push(effect)
  }
}
