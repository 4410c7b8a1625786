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

import { bytesToHex, randomBytes } from '../bytes.js'
import { decodeRecord, encodeRecord } from '../messenger/records.js'
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

/**
 * The records to hand over, in store order; with `after`, only those whose key sorts after it
 * (a handover resumed on a new connection continues where the new device's store stopped).
 */
export async function* handoverRecords(
  store: Store,
  history: HistoryChoice,
  now = Date.now(),
  after?: Uint8Array,
): AsyncGenerator<Entry> {
  const cutoff = typeof history === 'object' ? now - history.days * 86_400_000 : 0
  for await (const entry of store.iterate(after === undefined || after.length === 0 ? {} : { gt: after })) {
    const family = familyOf(entry[0])
    if (!isHandedOver(family)) continue
    if (HISTORY_FAMILIES.has(family!)) {
      if (history === 'none') continue
      if (history !== 'all' && !recentEnough(entry[1], cutoff)) continue
    } else if (history === 'none' && HISTORY_POINTERS.has(family!)) continue
    yield entry
  }
}

/** How many records handoverRecords will yield (for the progress bar). */
export async function countHandover(store: Store, history: HistoryChoice, now = Date.now()): Promise<number> {
  let n = 0
  for await (const _ of handoverRecords(store, history, now)) n++
  return n
}
