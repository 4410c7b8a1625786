/**
 * Read receipts in small groups, and the lists behind "delivered to N of M" and "read by N".
 *
 * When a member reads a group (opens it: `messages` without `peek`, as reading a 1:1 chat), its
 * peer tells each sender which of their messages it read, pairwise: a `read` list in group
 * traffic to the author alone, in the pairwise session's outbox like a 1:1 receipt. Only the
 * author needs to know, so a receipt costs one small payload per author per reading, where group
 * content would be one ciphertext pushed to, and carried by, every member.
 *
 * Above READ_RECEIPTS_UP_TO members nothing is sent and nothing is shown, as in WeChat.
 */
import { bytesToHex, hexToBytes } from '../bytes.js'
import type { MessengerCore } from '../messenger/core.js'
import type { ContactId } from '../messenger/ids.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import { decodeMessage, GroupKeys, type HeldGroup, type StoredMessage } from './group-store.js'

/**
 * Read receipts go and show in groups of at most this many members. In a big group "read by 312"
 * tells the sender little and makes every reading cost one payload per author it read, and a
 * list of who read tells members of a crowd about each other's habits; a small group is people
 * who know each other and want to know the others saw it.
 */
export const READ_RECEIPTS_UP_TO = 20
/** Ids per receipt payload, as a 1:1 receipt (PROTOCOL.md 9). */
export const MAX_READ_IDS = 512

export interface ReceiptHost {
  readonly core: MessengerCore
  readonly me: ContactId
  /** Puts a `read` list for `to`'s own messages in `to`'s outbox (pairwise group traffic). */
  sendRead(g: HeldGroup, to: ContactId, ids: readonly Uint8Array[]): Promise<void>
  /**
   * Changes our own message `id` in turn with delivery acks (both write its record); `missing`
   * when it is no message of ours.
   */
  updateOwn(
    id: string,
    change: (m: StoredMessage, g: HeldGroup) => StoredMessage | undefined,
    missing: () => void,
  ): void
}

type Who = (id: ContactId) => { id: ContactId; name: string }

export class GroupReceipts {
  /** Receipts go and show in groups of at most this many (READ_RECEIPTS_UP_TO; a test sets less). */
  upTo = READ_RECEIPTS_UP_TO

  constructor(private readonly host: ReceiptHost) {}

  /** Whether `g` is small enough for read receipts now. */
  on(g: HeldGroup): boolean {
    return g.log.state().members.size <= this.upTo
  }

  /**
   * We read `g`, and with it its newest `unread` incoming messages: tells each author which. A
   * failure is logged, not thrown: the reading itself (what the caller shows) succeeded.
   */
  async read(g: HeldGroup, unread: number): Promise<void> {
    if (unread <= 0 || !this.on(g)) return
    await this.tell(g, unread).catch((error) =>
      this.host.core.log.warn('could not send read receipts', {
        error: error instanceof Error ? error.name : 'unknown',
      }),
    )
  }

  private async tell(g: HeldGroup, unread: number): Promise<void> {
    const want = Math.min(unread, MAX_READ_IDS)
    const byAuthor = new Map<ContactId, Uint8Array[]>()
    let n = 0
    for await (const [, value] of this.host.core.store.iterate({
      prefix: GroupKeys.messages(g.log.id),
      reverse: true,
    })) {
      const m = decodeMessage(value)
      if (m.sender === this.host.me) continue
      const ids = byAuthor.get(m.sender as ContactId) ?? []
      ids.push(hexToBytes(m.id))
      byAuthor.set(m.sender as ContactId, ids)
      if (++n >= want) break
    }
    const members = g.log.state().members
    for (const [author, ids] of byAuthor) {
      if (members.has(author)) await this.host.sendRead(g, author, ids.reverse())
    }
  }

  /** `from` (a member of `g`) read these messages of ours. Bad or foreign ids are counted. */
  receive(g: HeldGroup, from: ContactId, ids: readonly Uint8Array[]): void {
    const core: MessengerCore = this.host.core
    if (ids.length > MAX_READ_IDS || ids.some((id) => id.length !== 16)) {
      core.refuse(PROTOCOL_MSG, 'bad-payload')
      return
    }
    // A receipt sent just before the group grew past the limit: nothing to show.
    if (!this.on(g)) return
    const refused = () => void core.refuse(PROTOCOL_MSG, 'not-allowed')
    for (const raw of ids) {
      this.host.updateOwn(
        bytesToHex(raw),
        (m, at) => {
          if (at !== g) return void refused()
          if (m.readBy?.includes(from)) return undefined
          // Read means delivered too, even where the envelope's ack was lost or overtaken.
          const deliveredTo = m.deliveredTo?.includes(from) ? m.deliveredTo : [...(m.deliveredTo ?? []), from]
          return { ...m, deliveredTo, readBy: [...(m.readBy ?? []), from] }
        },
        refused,
      )
    }
  }

  /** Who our message `s` reached and, in a small group, who read it (for its view). */
  lists(g: HeldGroup, s: StoredMessage, who: Who): { deliveredTo: Named[]; readBy?: Named[] } {
    return {
      deliveredTo: (s.deliveredTo ?? []).map((id) => who(id as ContactId)),
      ...(this.on(g) ? { readBy: (s.readBy ?? []).map((id) => who(id as ContactId)) } : {}),
    }
  }
}

type Named = { id: ContactId; name: string }
