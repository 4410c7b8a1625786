/**
 * How a group is kept in the messenger's sealed store: one record per group (its ops, this
 * member's sender keys, unread count, pending join requests) and one per message (what was said,
 * and the sender-key message itself, kept to carry it to members who were away).
 *
 *   grp  <group id>        -> StoredGroup (JSON)
 *   gmsg <group id> <seq>  -> StoredMessage (JSON)
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../bytes.js'
import type { ContactId } from '../messenger/ids.js'
import { key } from '../store/keys.js'
import type { Store } from '../store/store.js'
import { GroupChannel } from './channel.js'
import { GroupLog } from './log.js'
import type { GroupId } from './ops.js'

/** A group as this member holds it in memory. */
export interface HeldGroup {
  readonly log: GroupLog
  readonly channel: GroupChannel
  unread: number
  /** Unread messages that @mention this member (counted apart, as WeChat shows them). */
  mentioned: number
  nextSeq: number
  /** Join requests waiting for an admin (join approval on): the joiner's signed card. */
  readonly requests: Map<ContactId, { readonly card: Uint8Array; readonly at: number }>
}

export interface StoredMessage {
  readonly id: string
  readonly sender: string
  readonly text: string
  readonly sentAt: number
  /** The sender-key message, kept for carrying. */
  readonly bytes: string
  readonly keyId: number
  readonly iteration: number
  /** When this member got it: what the carrying age limit counts from. */
  readonly at: number
  /** Members the message @mentions (ids), and the message it answers. */
  readonly mentions?: readonly string[]
  readonly replyTo?: string
  /** A file or picture: its offer, base64 (group-files.ts). */
  readonly file?: string
  /** Ours: how many members it went to, and which of their peers have it. */
  readonly recipients?: number
  readonly deliveredTo?: readonly string[]
  /** Ours, in a small group (receipts.ts): members who read it. */
  readonly readBy?: readonly string[]
}

interface StoredGroup {
  readonly ops: string[]
  readonly channel: {
    own?: { state: string; first: string; givenTo: [string, number][] }
    records: [string, string][]
  }
  readonly unread: number
  readonly mentioned?: number
  readonly nextSeq: number
  readonly requests?: [string, string, number][]
}

export const GroupKeys = {
  group: (gid: GroupId) => key('grp', gid),
  groups: () => key('grp'),
  message: (gid: GroupId, seq: number) => key('gmsg', gid, seq),
  /** Where our own message `id` is: group id and seq (its delivery is counted there). */
  sent: (id: string) => key('gsent', id),
  messages: (gid: GroupId) => key('gmsg', gid),
}

export function encodeGroup(g: HeldGroup): Uint8Array {
  const snap = g.channel.snapshot()
  const stored: StoredGroup = {
    ops: g.log.ordered().map((o) => toBase64(o.bytes)),
    channel: {
      ...(snap.own === undefined
        ? {}
        : {
            own: {
              state: toBase64(snap.own.state),
              first: toBase64(snap.own.first),
              givenTo: snap.own.givenTo.map(([id, at]) => [id, at] as [string, number]),
            },
          }),
      records: snap.records.map(([id, r]) => [id, toBase64(r)]),
    },
    unread: g.unread,
    mentioned: g.mentioned,
    nextSeq: g.nextSeq,
    requests: [...g.requests].map(([id, r]) => [id, toBase64(r.card), r.at]),
  }
  return utf8(JSON.stringify(stored))
}

export function encodeMessage(m: StoredMessage): Uint8Array {
  return utf8(JSON.stringify(m))
}

export function decodeMessage(bytes: Uint8Array): StoredMessage {
  return JSON.parse(fromUtf8(bytes)) as StoredMessage
}

/** Every group in `store`, with what this member read put back into its carrying store. */
export async function* loadGroups(store: Store, me: ContactId): AsyncIterable<HeldGroup> {
  for await (const [, value] of store.iterate({ prefix: GroupKeys.groups() })) {
    const stored = JSON.parse(fromUtf8(value)) as StoredGroup
    const ops = stored.ops.map(fromBase64)
    const log = GroupLog.fromCreate(ops[0]!)
    for (const op of ops.slice(1)) log.add(op)
    const own = stored.channel.own
    const channel = GroupChannel.restore(log.id, me, {
      ...(own === undefined
        ? {}
        : {
            own: {
              state: fromBase64(own.state),
              first: fromBase64(own.first),
              givenTo: own.givenTo as [ContactId, number][],
            },
          }),
      records: stored.channel.records.map(([id, r]) => [id as ContactId, fromBase64(r)] as const),
    })
    const requests = new Map(
      (stored.requests ?? []).map(
        ([id, card, at]) => [id as ContactId, { card: fromBase64(card), at }] as const,
      ),
    )
    for await (const [, m] of store.iterate({ prefix: GroupKeys.messages(log.id) })) {
      const s = decodeMessage(m)
      channel.carried.keep(
        { sender: s.sender, keyId: s.keyId, iteration: s.iteration, bytes: fromBase64(s.bytes), at: s.at },
        Date.now(),
      )
    }
    yield {
      log,
      channel,
      unread: stored.unread,
      mentioned: stored.mentioned ?? 0,
      nextSeq: stored.nextSeq,
      requests,
    }
  }
}
