/**
 * Counters of what the peer refused or dropped, by protocol and reason. Bad input from the network
 * is never an exception that escapes: it is refused, counted here, and logged without content.
 */
export type RefusalReason =
  | 'malformed-frame'
  | 'not-a-contact'
  | 'rate-limited'
  | 'bad-envelope'
  | 'decrypt-failed'
  | 'unknown-prekey'
  | 'bad-payload'
  | 'bad-request'
  | 'blocked'
  | 'stream-error'
  /** Their trust state does not allow it (trust.ts). */
  | 'not-allowed'
  /** A pending request over what it may hold, or an old request dropped for a new one. */
  | 'over-quota'
  /** A contact's device started a session under other identity keys (identity-change.ts). */
  | 'identity-changed'
  /** A prekey fetch without proof that the fetcher holds our card (prekey-protocol.ts). */
  | 'no-card-proof'
  /**
   * A device list that does not verify under the contact's identity (contact-devices.ts): the
   * list is dropped, the rest of what carried it is taken.
   */
  | 'bad-device-list'
  /**
   * Something a person's device says for them (a group file offered from it) names a device
   * that is not on their current device list: dropped.
   */
  | 'not-a-device'

export class Counters {
  private readonly refused = new Map<string, number>()
  private total = 0

  refuse(protocol: string, reason: RefusalReason): void {
    const k = `${protocol} ${reason}`
    this.refused.set(k, (this.refused.get(k) ?? 0) + 1)
    this.total++
  }

  snapshot(): { refusedTotal: number; refused: Record<string, Record<string, number>> } {
    const refused: Record<string, Record<string, number>> = {}
    for (const [k, n] of this.refused) {
      const [protocol, reason] = k.split(' ') as [string, string]
      refused[protocol] ??= {}
      refused[protocol][reason] = n
    }
    return { refusedTotal: this.total, refused }
  }
}
