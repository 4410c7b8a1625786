/**
 * Which records the existing device hands a new one (DESIGN "Several devices, one person"): the
 * person's contacts, groups, feed and keys, and the history asked for; never what belongs to
 * one device. A device has its own key, prekeys and sessions (reusing another device's ratchets
 * would break both), its own outbox (envelopes sealed under those sessions), its own sender keys
 * in groups, its own home node role (`home`, `mailbox`: when it runs one), listen ports and
 * certificates, and its own search indexes (rebuilt from the history it holds). The person's home
 * node (`home-node`: where it is, and its certificate) is handed over: the new device fetches its
 * own box there once the certificate names it (mailbox/owner.ts).
 */

import { bytesToHex, fromUtf8, randomBytes, utf8 } from '../bytes.js'
import { decodeMessage, GroupKeys, type StoredMessage } from '../groups/group-store.js'
import type { GroupId } from '../groups/ops.js'
import type { ContactId } from '../messenger/ids.js'
import { Keys, unreadSeq } from '../messenger/keys.js'
import { decodeRecord, encodeRecord, type MessageRecord } from '../messenger/records.js'
import { decodeKey, key } from '../store/keys.js'
import type { Entry, Store } from '../store/store.js'

/** Record families (a key's first part) that stay on the device that wrote them. */
const DEVICE_FAMILIES = new Set([
  'account',
  'spk',
  'otk',
  'kem',
  'kemotk',
  'prekeymeta',
  'sessions',
  'outbox',
  'announced',
  'home',
  'mailbox',
  'node',
  'grpo',
  'file',
])
/** History: a conversation's or a group's messages, and what points into them. */
const HISTORY_FAMILIES = new Set(['msg', 'gmsg'])
const HISTORY_POINTERS = new Set(['msgid', 'unread', 'gsent'])

/** How much history: the last `days` days, all of it, or none. */
export type HistoryChoice = { readonly days: number } | 'all' | 'none'

export const DEFAULT_HISTORY_DAYS = 90

/** The wire form (LinkHello.history_days): -1 all, 0 none, else days. */
export function historyDays(choice: HistoryChoice): number {
  return choice === 'all' ? -1 : choice === 'none' ? 0 : Math.max(1, Math.floor(choice.days))
}

export function historyChoice(days: number): HistoryChoice {
  return days < 0 ? 'all' : days === 0 ? 'none' : { days }
}

function familyOf(key: Uint8Array): string | undefined {
  try {
    const first = decodeKey(key)[0]
    return typeof first === 'string' ? first : undefined
  } catch {
    return undefined // the store's own records, or keys of no family: never handed over
  }
}

/** Whether a record of `family` may be written by a handover (the new device's side checks too). */
export function isHandedOver(family: string | undefined): boolean {
  if (family === undefined || DEVICE_FAMILIES.has(family)) return false
  // Search indexes (sx…, fx…) are rebuilt on the new device from what it holds.
  return !family.startsWith('sx') && !family.startsWith('fx')
}

export function handedOverKey(key: Uint8Array): boolean {
  return isHandedOver(familyOf(key))
}

/**
 * A handed-over record as the new device keeps it. The feed's own record (@jiayi/feed
 * storage.ts `feed self`: `{version, replica, epoch}`) names the device's writer replica: the new
 * device takes the epoch, with its keys, but writes its Moments under a replica of its own (a
 * per-device log with its own sequence numbers), or both devices' entries would claim the same
 * place in one chain and readers would refuse the second as forged.
 */
export function asNewDevice(key: Uint8Array, value: Uint8Array): Uint8Array {
  if (bytesToHex(key) !== FEED_SELF_KEY) return value
  try {
    const self = decodeRecord<{ replica?: unknown }>(value)
    if (typeof self.replica !== 'string') return value
    return encodeRecord({ ...self, replica: bytesToHex(randomBytes(self.replica.length / 2)) })
  } catch {
    return value
  }
}

const FEED_SELF_KEY = bytesToHex(key('feed', 'self'))

function recentEnough(value: Uint8Array, cutoff: number): boolean {
  try {
    const r = decodeRecord<{ at?: unknown; sentAt?: unknown }>(value)
    const at = typeof r.at === 'number' ? r.at : typeof r.sentAt === 'number' ? r.sentAt : undefined
    return at === undefined || at >= cutoff
  } catch {
    return true // a record we cannot date is kept: losing it is worse than one old message more
  }
}

export interface HandoverOptions {
  readonly history: HistoryChoice
  /** The person's own id (contactIdFor their identity): whom a group message may @mention. */
  readonly me: ContactId
  readonly now?: number
  /**
   * Only the records whose key sorts after this one (empty: all): a handover resumed on a new
   * connection continues where the new device's store stopped.
   */
  readonly after?: Uint8Array
}

/** Which messages the new device gets: all, none, or those of the last days. */
function heldBy(history: HistoryChoice, now: number): (value: Uint8Array) => boolean {
  if (history === 'all') return () => true
  if (history === 'none') return () => false
  const cutoff = now - history.days * 86_400_000
  return (value) => recentEnough(value, cutoff)
}

/** Whether a record goes over at all (what it says may still be adjusted: handoverRecords). */
function selected(
  family: string | undefined,
  value: Uint8Array,
  history: HistoryChoice,
  held: (v: Uint8Array) => boolean,
) {
  if (!isHandedOver(family)) return false
  if (HISTORY_FAMILIES.has(family!)) return held(value)
  if (history === 'all') return true
  // The per-message unread markers of old stores: the read marker sent instead counts only
  // messages the new device holds (heldReadMarker).
  if (family === 'unread') return false
  return !(history === 'none' && HISTORY_POINTERS.has(family!))
}

/**
 * The records to hand over, in store order. With part of the history left out, what counts
 * unread messages says what the new device holds: a conversation's read marker and unread count
 * (`meta <cid>`), a group's unread and mention counts (`grpn <gid>`, or a `grp` record of the
 * first layout), never the messages left behind.
 */
export async function* handoverRecords(store: Store, options: HandoverOptions): AsyncGenerator<Entry> {
  const { history, me } = options
  const held = heldBy(history, options.now ?? Date.now())
  const after = options.after
  for await (const entry of store.iterate(after === undefined || after.length === 0 ? {} : { gt: after })) {
    const family = familyOf(entry[0])
    if (!selected(family, entry[1], history, held)) continue
    if (history === 'all') yield entry
    else if (family === 'meta') yield [entry[0], await heldReadMarker(store, entry, held)]
    else if (family === 'grpn' || family === 'grp')
      yield [entry[0], await heldGroupCounters(store, entry, held, me)]
    else yield entry
  }
}

/** How many records handoverRecords will yield (for the progress bar). */
export async function countHandover(store: Store, history: HistoryChoice, now = Date.now()): Promise<number> {
  const held = heldBy(history, now)
  let n = 0
  for await (const [key, value] of store.iterate()) if (selected(familyOf(key), value, history, held)) n++
  return n
}

/** The id part of a `family <id>` key. */
function idOf(key: Uint8Array): string | undefined {
  try {
    const id = decodeKey(key)[1]
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}

/**
 * A conversation's counters (conversations.ts MetaRecord) as the new device needs them. Its
 * messages are numbered on from the last one it holds, so every number the record names (read
 * marker, receipts, status runs) stops there: a number above would otherwise describe the next
 * message to arrive. Unread: the incoming messages it holds above the marker, not yet read.
 */
async function heldReadMarker(store: Store, [key, value]: Entry, held: (v: Uint8Array) => boolean) {
  const cid = idOf(key) as ContactId | undefined
  let meta: Record<string, unknown>
  try {
    meta = decodeRecord<Record<string, unknown>>(value)
  } catch {
    return value // the new device reads it as the old one would: not ours to mend
  }
  if (cid === undefined) return value
  const marked = pair(meta.read)
  let readTo = marked?.[0] ?? (await legacyReadTo(store, cid))
  let last = 0
  const unreadAbove: number[] = []
  for await (const [, v] of store.iterate({ prefix: Keys.msgPrefix(cid) })) {
    if (!held(v)) continue
    let m: MessageRecord
    try {
      m = decodeRecord<MessageRecord>(v)
    } catch {
      continue
    }
    last = Math.max(last, m.seq)
    if (m.direction === 'in' && m.status === 'received') unreadAbove.push(m.seq)
  }
  readTo = Math.min(readTo ?? last, last)
  const unread = unreadAbove.filter((seq) => seq > readTo!).length
  const rcpt = pair(meta.rcpt)
  const runs = Array.isArray(meta.runs)
    ? meta.runs
        .filter(
          (r): r is [number, number, ...unknown[]] =>
            Array.isArray(r) && typeof r[0] === 'number' && r[0] <= last,
        )
        .map(([from, to, ...rest]) => [from, Math.min(Number(to), last), ...rest])
    : undefined
  const { runs: _, ...rest } = meta
  return encodeRecord({
    ...rest,
    ...(runs === undefined || runs.length === 0 ? {} : { runs }),
    ...(rcpt === undefined ? {} : { rcpt: [Math.min(rcpt[0], last), Math.min(rcpt[1], last)] }),
    read: [readTo, unread],
  })
}

function pair(value: unknown): readonly [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined
  const [a, b] = value
  return Number.isSafeInteger(a) && Number.isSafeInteger(b) ? [a as number, b as number] : undefined
}

/**
 * The read marker of a conversation stored before there was one (Conversations.legacyRead): just
 * below its lowest per-message unread marker; undefined (everything read) when it has none.
 */
async function legacyReadTo(store: Store, cid: ContactId): Promise<number | undefined> {
  let lowest: number | undefined
  for await (const [k] of store.iterate({ prefix: Keys.unreadPrefix(cid) })) {
    const seq = unreadSeq(k)
    if (seq !== undefined && (lowest === undefined || seq < lowest)) lowest = seq
  }
  return lowest === undefined ? undefined : lowest - 1
}

/**
 * A group's counters for the new device. `unread` counts the group's newest incoming messages
 * (groups/service.ts storeMessage), `mentioned` those of them that name us: both now count only
 * the ones among them that the new device holds.
 */
async function heldGroupCounters(
  store: Store,
  [key, value]: Entry,
  held: (v: Uint8Array) => boolean,
  me: ContactId,
): Promise<Uint8Array> {
  const gid = idOf(key)
  let counters: { unread?: unknown; mentioned?: unknown; v?: unknown }
  try {
    counters = JSON.parse(fromUtf8(value)) as typeof counters
  } catch {
    return value
  }
  // A `grp` record of the current layout holds no counters (they are in `grpn`).
  if (gid === undefined || typeof counters !== 'object' || counters === null || counters.v === 2) return value
  const unread = typeof counters.unread === 'number' ? counters.unread : 0
  if (unread <= 0) return value
  let seen = 0
  let kept = 0
  let mentioned = 0
  for await (const [, v] of store.iterate({ prefix: GroupKeys.messages(gid as GroupId), reverse: true })) {
    let m: StoredMessage
    try {
      m = decodeMessage(v)
    } catch {
      continue
    }
    // Ours (sent from this device, or mirrored from another of ours) are never unread.
    if (m.sender === me || m.recipients !== undefined) continue
    if (held(v)) {
      kept++
      if ((m.mentions ?? []).includes(me)) mentioned++
    }
    if (++seen >= unread) break
  }
  const before = typeof counters.mentioned === 'number' ? counters.mentioned : 0
  return utf8(JSON.stringify({ ...counters, unread: kept, mentioned: Math.min(before, mentioned) }))
}
