/**
 * Reactions to group messages: one emoji per member per message, the latest one a member sent
 * standing (an empty emoji takes it back). A reaction is group content of its own kind, one
 * sender-key message for every member like a message, so members carry it to whoever was away
 * exactly as they carry messages; it is no chat line and counts as nothing unread.
 *
 *   plaintext: JSON {kind: "reaction", target (32 hex), emoji (≤ 32 bytes UTF-8, "" = none), sentAt}
 *   grx <group id> <target> <member> -> StoredReaction (JSON): the standing one, and its
 *                                       ciphertext, kept to carry it on after a restart
 *
 * A reaction counts only for a message its group holds. One whose target has not come yet (it
 * was carried ahead of the message it answers) waits, bounded, and counts once the target comes.
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../bytes.js'
import type { MessengerCore } from '../messenger/core.js'
import { MessengerError } from '../messenger/errors.js'
import { type ContactId, isMessageId } from '../messenger/ids.js'
import { MAX_EMOJI_BYTES } from '../messenger/payload.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import { key } from '../store/keys.js'
import type { CarriedMessage } from './carry.js'
import type { HeldGroup, StoredMessage } from './group-store.js'
import type { MessageIndex } from './message-index.js'
import type { GroupId } from './ops.js'

export const REACTION_KIND = 'reaction'
/** Reactions per group waiting for their target: what a hostile member can make a reader hold. */
export const MAX_WAITING_REACTIONS = 256

export interface StoredReaction {
  readonly target: string
  readonly sender: string
  readonly emoji: string
  readonly sentAt: number
  readonly bytes: string
  readonly keyId: number
  readonly iteration: number
  readonly at: number
}

/** The reactions part of a group message's view: 1:1's `mine` and `theirs`, and who chose what. */
export interface GroupReactionsView {
  readonly mine?: string | undefined
  /** The latest another member chose (as a 1:1 view's `theirs`: one emoji for a short display). */
  readonly theirs?: string | undefined
  /** Every member's standing reaction, oldest first. */
  readonly by: readonly { readonly id: ContactId; readonly name: string; readonly emoji: string }[]
}

export const ReactionKeys = {
  reaction: (gid: GroupId, target: string, sender: string) => key('grx', gid, target, sender),
  group: (gid: GroupId) => key('grx', gid),
}

/** What the reactions need of the groups service. */
export interface ReactionHost {
  readonly core: MessengerCore
  readonly me: ContactId
  readonly index: MessageIndex
  /** Seals `plaintext` under our sender key and pushes it to every member (no chat line). */
  broadcast(g: HeldGroup, plaintext: Uint8Array): Promise<CarriedMessage>
  /** The view of a message of `g`, told to listeners once its reactions changed. */
  show(g: HeldGroup, m: StoredMessage): void
}

type Standing = Map<
  ContactId,
  { readonly emoji: string; readonly sentAt: number; readonly iteration: number }
>

export class GroupReactions {
  /** Per group, per target message: each member's standing reaction (empty emoji included). */
  private readonly held = new Map<GroupId, Map<string, Standing>>()
  private readonly waiting = new Map<GroupId, StoredReaction[]>()

  constructor(private readonly host: ReactionHost) {
    // A target that arrives lets the reactions that waited for it count.
    host.core.events.on('group-message', (e) => {
      const waiting = this.waiting.get(e.groupId)
      if (waiting?.some((r) => r.target === e.message.id)) void this.released(e.groupId, e.message.id)
    })
  }

  /** Reads `g`'s reactions from the store and carries their ciphertexts again. */
  async load(g: HeldGroup): Promise<void> {
    for await (const [, value] of this.host.core.store.iterate({ prefix: ReactionKeys.group(g.log.id) })) {
      const r = JSON.parse(fromUtf8(value)) as StoredReaction
      this.stand(g.log.id, r)
      if (r.bytes === '') continue // ours, mirrored from another device: nothing to carry
      g.channel.carried.keep(
        { sender: r.sender, keyId: r.keyId, iteration: r.iteration, bytes: fromBase64(r.bytes), at: r.at },
        Date.now(),
      )
    }
  }

  /** Our reaction to message `target` of `g`; an empty emoji takes it back. */
  async react(g: HeldGroup, target: string, emoji: string, sentAt = Date.now()): Promise<StoredMessage> {
    if (typeof emoji !== 'string' || utf8(emoji).length > MAX_EMOJI_BYTES) {
      throw new MessengerError('BadInput', 'a reaction is one emoji')
    }
    if (!isMessageId(target)) throw new MessengerError('BadInput', 'a message id is 32 hex digits')
    const found = await this.host.index.find(g, target)
    if (found === undefined)
      throw new MessengerError('UnknownMessage', 'no message with that id in this group')
    const content = { kind: REACTION_KIND, target, emoji, sentAt }
    const message = await this.host.broadcast(g, utf8(JSON.stringify(content)))
    await this.keep(g, { target, sender: this.host.me, emoji, sentAt, ...carried(message) })
    return found.message
  }

  /**
   * Our reaction made on another device of ours (messenger/sync.ts): it stands here as there. It
   * has no sender-key message here (members get it from that device), so nothing is carried; one
   * to a message this device does not hold (yet) is dropped.
   */
  async mirrored(g: HeldGroup, target: string, emoji: string, sentAt: number): Promise<void> {
    if ((await this.host.index.find(g, target)) === undefined) return
    await this.keep(g, {
      target,
      sender: this.host.me,
      emoji,
      sentAt,
      bytes: '',
      keyId: -1,
      iteration: -1,
      at: Date.now(),
    })
  }

  /**
   * A member's reaction, read under its sender key (so from a current member, service.ts).
   * Malformed content, or a target the group does not hold, is refused and counted.
   */
  async receive(g: HeldGroup, message: CarriedMessage, content: Record<string, unknown>): Promise<void> {
    const { target, emoji, sentAt } = content
    if (
      typeof target !== 'string' ||
      !isMessageId(target) ||
      typeof emoji !== 'string' ||
      utf8(emoji).length > MAX_EMOJI_BYTES ||
      typeof sentAt !== 'number' ||
      !Number.isSafeInteger(sentAt)
    ) {
      this.host.core.refuse(PROTOCOL_MSG, 'bad-payload')
      return
    }
    const r: StoredReaction = { target, sender: message.sender, emoji, sentAt, ...carried(message) }
    if ((await this.host.index.find(g, target)) === undefined) {
      // Counted now (a made-up id is what a hostile member sends); it still counts if the
      // message it answers was only carried behind it.
      this.host.core.refuse(PROTOCOL_MSG, 'not-allowed')
      const waiting = this.waiting.get(g.log.id) ?? []
      if (waiting.length >= MAX_WAITING_REACTIONS) waiting.shift()
      waiting.push(r)
      this.waiting.set(g.log.id, waiting)
      return
    }
    await this.keep(g, r)
  }

  /** The reactions part of the view of message `id` (nothing when no one reacted). */
  viewOf(
    gid: GroupId,
    id: string,
    who: (id: ContactId) => { id: ContactId; name: string },
  ): { reactions?: GroupReactionsView } {
    const standing = this.held.get(gid)?.get(id)
    if (standing === undefined) return {}
    const shown = [...standing].filter(([, r]) => r.emoji !== '').sort(([, a], [, b]) => a.sentAt - b.sentAt)
    if (shown.length === 0) return {}
    const mine = standing.get(this.host.me)?.emoji || undefined
    const theirs = shown.filter(([id]) => id !== this.host.me).at(-1)?.[1].emoji
    return {
      reactions: {
        ...(mine === undefined ? {} : { mine }),
        ...(theirs === undefined ? {} : { theirs }),
        by: shown.map(([id, r]) => ({ ...who(id), emoji: r.emoji })),
      },
    }
  }

  private async released(gid: GroupId, target: string): Promise<void> {
    const waiting = this.waiting.get(gid) ?? []
    const ready = waiting.filter((r) => r.target === target)
    this.waiting.set(
      gid,
      waiting.filter((r) => r.target !== target),
    )
    for (const r of ready) {
      const g = this.groupOf(gid)
      if (g === undefined) return
      await this.keep(g, r).catch((error) =>
        this.host.core.log.warn('could not keep a reaction', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
    }
  }

  /** Set by the service: the group `gid` as held now. */
  groupOf: (gid: GroupId) => HeldGroup | undefined = () => undefined

  /** Stores `r` if it is newer than the sender's standing reaction, and shows the target again. */
  private async keep(g: HeldGroup, r: StoredReaction): Promise<void> {
    if (!this.stand(g.log.id, r)) return
    await this.host.core.store.put(
      ReactionKeys.reaction(g.log.id, r.target, r.sender),
      utf8(JSON.stringify(r)),
    )
    const found = await this.host.index.find(g, r.target)
    if (found !== undefined) this.host.show(g, found.message)
  }

  /** Takes `r` as the sender's standing reaction if it is newer; false if it is not. */
  private stand(gid: GroupId, r: StoredReaction): boolean {
    const byTarget = this.held.get(gid) ?? new Map<string, Standing>()
    this.held.set(gid, byTarget)
    const standing: Standing = byTarget.get(r.target) ?? new Map()
    byTarget.set(r.target, standing)
    const now = standing.get(r.sender as ContactId)
    if (
      now !== undefined &&
      (now.sentAt > r.sentAt || (now.sentAt === r.sentAt && now.iteration >= r.iteration))
    )
      return false
    standing.set(r.sender as ContactId, { emoji: r.emoji, sentAt: r.sentAt, iteration: r.iteration })
    return true
  }
}

function carried(m: CarriedMessage): Pick<StoredReaction, 'bytes' | 'keyId' | 'iteration' | 'at'> {
  return { bytes: toBase64(m.bytes), keyId: m.keyId, iteration: m.iteration, at: m.at }
}
