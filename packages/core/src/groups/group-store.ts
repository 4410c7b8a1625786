/**
 * How a group is kept in the messenger's sealed store. What changes with each message is kept
 * apart from what changes with the group: a message read rewrites its sender's sender-key record
 * and the counters, never the op log, which names every member's card (about 2 MB at 500).
 *
 *   grp  <group id>            -> StoredGroup (JSON): its ops, pending join requests
 *   grpn <group id>            -> StoredCounters (JSON): unread, mentions, next message seq
 *   grpo <group id>            -> our own sender-key chain (JSON), absent while we have none
 *   grpr <group id> <member>   -> that member's sender-key record (JSON: member id, its codec's
 *                                 bytes, and `devices`: [key id, peer id of the device that
 *                                 handed it] where known; the id is in the value, since a
 *                                 sealed store's keys may not read back)
 *   gmsg <group id> <seq>      -> StoredMessage (JSON): what was said, and the sender-key
 *                                 message itself, kept to carry it to members who were away
 *
 * A `grp` record in the first layout (everything in it, `channel` and counters too) still loads;
 * the next write of that group stores it in this one.
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../bytes.js'
import type { ContactId } from '../messenger/ids.js'
import type { Tx } from '../messenger/tx.js'
import { key } from '../store/keys.js'
import type { Store } from '../store/store.js'
import { type ChannelChanges, type ChannelSnapshot, GroupChannel, type KeyDevices } from './channel.js'
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
  /**
   * The sender-key message, kept for carrying; '' for ours mirrored from another device of ours
   * (messenger/sync.ts), which members get from that device.
   */
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

interface StoredOwn {
  readonly state: string
  readonly first: string
  readonly givenTo: [string, number][]
}

interface StoredCounters {
  readonly unread: number
  readonly mentioned?: number
  readonly nextSeq: number
}

interface StoredGroup {
  /** 2: the layout above; absent: the first layout, with `channel` and the counters in here. */
  readonly v?: 2
  readonly ops: string[]
  readonly requests?: [string, string, number][]
  readonly channel?: { own?: StoredOwn; records: [string, string][] }
  readonly unread?: number
  readonly mentioned?: number
  readonly nextSeq?: number
}

export const GroupKeys = {
  group: (gid: GroupId) => key('grp', gid),
  groups: () => key('grp'),
  counters: (gid: GroupId) => key('grpn', gid),
  ownKey: (gid: GroupId) => key('grpo', gid),
  senderKey: (gid: GroupId, member: string) => key('grpr', gid, member),
  senderKeys: (gid: GroupId) => key('grpr', gid),
  message: (gid: GroupId, seq: number) => key('gmsg', gid, seq),
  /** Where our own message `id` is: group id and seq (its delivery is counted there). */
  sent: (id: string) => key('gsent', id),
  messages: (gid: GroupId) => key('gmsg', gid),
}

/** The group's structure: its ops and pending join requests (written when they change). */
export function encodeGroupStructure(g: HeldGroup): Uint8Array {
  const stored: StoredGroup = {
    v: 2,
    ops: g.log.ordered().map((o) => toBase64(o.bytes)),
    requests: [...g.requests].map(([id, r]) => [id, toBase64(r.card), r.at]),
  }
  return utf8(JSON.stringify(stored))
}

/** What `structure` says changed: ops or join requests (cheap to compare, unlike the record). */
export function structureMark(g: HeldGroup): string {
  return `${g.log.ordered().length} ${[...g.requests.keys()].join(',')}`
}

/** Puts the counters and what changed of the channel into `tx`; returns those channel changes. */
export function stageGroupState(tx: Tx, g: HeldGroup): ChannelChanges {
  const gid = g.log.id
  const counters: StoredCounters = { unread: g.unread, mentioned: g.mentioned, nextSeq: g.nextSeq }
  tx.put(GroupKeys.counters(gid), utf8(JSON.stringify(counters)))
  const changes = g.channel.takeChanges()
  if (changes.own === null) tx.del(GroupKeys.ownKey(gid))
  else if (changes.own !== undefined) tx.put(GroupKeys.ownKey(gid), encodeOwn(changes.own))
  const keyDevices = new Map(changes.keyDevices ?? [])
  for (const [member, bytes] of changes.records) {
    if (bytes === null) tx.del(GroupKeys.senderKey(gid, member))
    else {
      const devices = keyDevices.get(member)
      const stored = { member, record: toBase64(bytes), ...(devices === undefined ? {} : { devices }) }
      tx.put(GroupKeys.senderKey(gid, member), utf8(JSON.stringify(stored)))
    }
  }
  return changes
}

function encodeOwn(own: NonNullable<ChannelSnapshot['own']>): Uint8Array {
  const stored: StoredOwn = {
    state: toBase64(own.state),
    first: toBase64(own.first),
    givenTo: own.givenTo.map(([id, at]) => [id, at] as [string, number]),
  }
  return utf8(JSON.stringify(stored))
}

function decodeOwn(own: StoredOwn): NonNullable<ChannelSnapshot['own']> {
  return {
    state: fromBase64(own.state),
    first: fromBase64(own.first),
    givenTo: own.givenTo as [ContactId, number][],
  }
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
    let snapshot: ChannelSnapshot
    let counters: StoredCounters
    if (stored.v === 2) {
      const ownBytes = await store.get(GroupKeys.ownKey(log.id))
      const records: (readonly [ContactId, Uint8Array])[] = []
      const keyDevices: (readonly [ContactId, KeyDevices])[] = []
      for await (const [, value] of store.iterate({ prefix: GroupKeys.senderKeys(log.id) })) {
        const r = JSON.parse(fromUtf8(value)) as {
          member: string
          record: string
          devices?: [number, string][]
        }
        records.push([r.member as ContactId, fromBase64(r.record)] as const)
        if (r.devices !== undefined) keyDevices.push([r.member as ContactId, r.devices] as const)
      }
      const own = ownBytes === undefined ? undefined : decodeOwn(JSON.parse(fromUtf8(ownBytes)) as StoredOwn)
      snapshot = { ...(own === undefined ? {} : { own }), records, keyDevices }
      const c = await store.get(GroupKeys.counters(log.id))
      counters = c === undefined ? { unread: 0, nextSeq: 1 } : (JSON.parse(fromUtf8(c)) as StoredCounters)
    } else {
      const own = stored.channel?.own
      snapshot = {
        ...(own === undefined ? {} : { own: decodeOwn(own) }),
        records: (stored.channel?.records ?? []).map(([id, r]) => [id as ContactId, fromBase64(r)] as const),
      }
      counters = {
        unread: stored.unread ?? 0,
        mentioned: stored.mentioned ?? 0,
        nextSeq: stored.nextSeq ?? 1,
      }
    }
    const channel = GroupChannel.restore(log.id, me, snapshot)
    // The first layout: every record is written again in this one at the group's next write.
    if (stored.v !== 2) channel.markChanged()
    const requests = new Map(
      (stored.requests ?? []).map(
        ([id, card, at]) => [id as ContactId, { card: fromBase64(card), at }] as const,
      ),
    )
    for await (const [, m] of store.iterate({ prefix: GroupKeys.messages(log.id) })) {
      const s = decodeMessage(m)
      // Ours, mirrored from another device of ours: no sender-key message to carry.
      if (s.bytes === '') continue
      channel.carried.keep(
        { sender: s.sender, keyId: s.keyId, iteration: s.iteration, bytes: fromBase64(s.bytes), at: s.at },
        Date.now(),
      )
    }
    yield {
      log,
      channel,
      unread: counters.unread,
      mentioned: counters.mentioned ?? 0,
      nextSeq: counters.nextSeq,
      requests,
    }
  }
}
