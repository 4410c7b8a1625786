/**
 * Reading and numbering a conversation's records. Sequence numbers (local message order and
 * outbox order) come from the last stored key, read once per conversation and then kept in memory;
 * callers reserve numbers inside the conversation's lock and persist them in their batch.
 */

import { decodeKey } from '../store/keys.js'
import type { Store } from '../store/store.js'
import type { ContactId, MessageId } from './ids.js'
import { Keys, unreadSeq } from './keys.js'
import { laneContact } from './lanes.js'
import { decodeOutboxRecord } from './outbox-record.js'
import { OutboxTail } from './outbox-tail.js'
import { decodeRecord, encodeRecord, type MessageRecord, type OutboxRecord } from './records.js'
import { type EncodedRun, StatusRuns, withRun } from './status-runs.js'
import { trimOldest } from './trim-oldest.js'
import type { Tx } from './tx.js'

interface Counters {
  nextMsg: number
  nextOutbox: number
  /** Highest payload seq received from the contact. */
  maxIn: number
  /** Where the outgoing messages stand (status-runs.ts). */
  readonly runs: StatusRuns
  /**
   * Receipts owed: every incoming message up to these local numbers has its delivered (read)
   * receipt in the outbox already. Those above are looked for at start (receipts.ts): a receipt
   * waits in memory for company, and a crash there would otherwise lose it for good.
   */
  readonly receiptsThrough: Record<ReceiptKind, number>
  /** Every incoming message up to this local number is read (see MetaRecord.read). */
  readTo: number
  /** Incoming messages above `readTo` still unread. */
  unread: number
  /**
   * Per-message unread markers of a store written before the read marker (`unread <cid> <seq>`):
   * counted once into `readTo` and `unread`, deleted with the first counters record written.
   */
  legacyUnread: Uint8Array[]
}

export type ReceiptKind = 'delivered' | 'read'

/**
 * What `meta <cid>` holds: counters that must survive an empty outbox and a restart, and the
 * outgoing messages' status runs. The outbox number is the larger of `lastOut` and the last outbox
 * key, so `meta` need not be written with every new entry, only with every change that deletes
 * entries (acks, dropped typing), every stored incoming message (maxIn) and every receipt (runs).
 */
interface MetaRecord {
  readonly lastOut: number
  readonly maxIn: number
  /** The outgoing messages' status runs; absent when there are none. */
  readonly runs?: EncodedRun[]
  /**
   * [delivered, read]: receipts are in the outbox for incoming messages up to these numbers.
   * Absent in records written before it: everything up to the last message counts as receipted.
   */
  readonly rcpt?: readonly [number, number]
  /**
   * [readTo, unread]: every incoming message up to local number readTo reads as read, whatever
   * its record says, and `unread` incoming messages above it are not read yet. Reading a
   * conversation moves the marker in one write instead of rewriting each message. Absent in
   * records written before it: derived from the per-message unread markers (loadCounters).
   */
  readonly read?: readonly [number, number]
}

const RECENT_MESSAGES = 4096

export class Conversations {
  private readonly counters = new Map<ContactId, Counters>()
  private readonly loading = new Map<ContactId, Promise<Counters>>()
  private readonly recent = new Map<string, MessageRecord>()
  /** Entries just committed, so a running delivery need not read them back (outbox-tail.ts). */
  readonly outboxTail = new OutboxTail()

  /**
   * The conversation's other outboxes: lanes to a contact's other devices (lanes.ts) take the
   * conversation's numbers too, so the next number must pass theirs as well. Set by the core.
   */
  otherLanes: (cid: ContactId) => readonly ContactId[] = () => []

  constructor(private readonly store: Store) {}

  /**
   * The conversation's counters, loaded once. The first load is shared by everyone who asks
   * while it runs (a send in the conversation's queue and the delivery outside it, say): two loads
   * would each hand out numbers from their own copy, and two messages would get the same one.
   */
  private countersFor(cid: ContactId): Promise<Counters> | Counters {
    const c = this.counters.get(cid)
    if (c !== undefined) return c
    const loading = this.loading.get(cid)
    if (loading !== undefined) return loading
    const load: Promise<Counters> = this.loadCounters(cid).then(
      (loaded) => {
        // Kept unless the conversation was forgotten meanwhile (its contact removed).
        if (this.loading.get(cid) === load) {
          this.loading.delete(cid)
          this.counters.set(cid, loaded)
        }
        return loaded
      },
      (error: unknown) => {
        if (this.loading.get(cid) === load) this.loading.delete(cid)
        throw error
      },
    )
    this.loading.set(cid, load)
    return load
  }

  private async loadCounters(cid: ContactId): Promise<Counters> {
    const metaBytes = await this.store.get(Keys.convMeta(cid))
    const meta = metaBytes === undefined ? undefined : decodeRecord<MetaRecord>(metaBytes)
    let lastOutbox = await this.lastSeq(Keys.outboxPrefix(cid))
    for (const lane of this.otherLanes(cid))
      lastOutbox = Math.max(lastOutbox, await this.lastSeq(Keys.outboxPrefix(lane)))
    const lastMsg = await this.lastSeq(Keys.msgPrefix(cid))
    const rcpt = validReceipts(meta?.rcpt) ?? [lastMsg, lastMsg]
    // No counters record at all: nothing was ever received here (each incoming message writes
    // it), so there are no unread markers of old either.
    const read =
      validPair(meta?.read) ?? (meta === undefined ? [lastMsg, 0] : await this.legacyRead(cid, lastMsg))
    return {
      nextMsg: lastMsg + 1,
      nextOutbox: Math.max(lastOutbox, meta?.lastOut ?? 0) + 1,
      maxIn: meta?.maxIn ?? 0,
      runs: StatusRuns.decode(meta?.runs),
      receiptsThrough: { delivered: rcpt[0], read: rcpt[1] },
      readTo: read[0],
      unread: read[1],
      legacyUnread: read[2] ?? [],
    }
  }

  /**
   * The read marker of a conversation stored before there was one. Its unread messages are those
   * with an `unread <cid> <seq>` marker, and each reading marked all of them read at once, so
   * they are every incoming message from the lowest marked one on: the marker sits just below it.
   * Messages marked read one by one stay read (their records say so); the markers are deleted
   * with the next counters record (writeMeta), so this runs once per conversation.
   */
  private async legacyRead(
    cid: ContactId,
    lastMsg: number,
  ): Promise<readonly [number, number, Uint8Array[]]> {
    const keys: Uint8Array[] = []
    let lowest = Number.POSITIVE_INFINITY
    for await (const [k] of this.store.iterate({ prefix: Keys.unreadPrefix(cid) })) {
      keys.push(k)
      const seq = unreadSeq(k)
      if (seq !== undefined && seq < lowest) lowest = seq
    }
    if (lowest === Number.POSITIVE_INFINITY) return [lastMsg, 0, keys]
    return [lowest - 1, keys.length, keys]
  }

  /**
   * Adds the conversation's counters record to `tx`, once per change and conversation. Encoded
   * lazily, when the batch is written, so it records the latest values and many messages in a
   * row write it once.
   */
  async writeMeta(tx: Tx, cid: ContactId): Promise<void> {
    if (tx.metas.has(cid)) return
    tx.metas.add(cid)
    const c = await this.countersFor(cid)
    tx.put(Keys.convMeta(cid), () => {
      const meta: MetaRecord = {
        lastOut: c.nextOutbox - 1,
        maxIn: c.maxIn,
        rcpt: [c.receiptsThrough.delivered, c.receiptsThrough.read],
        read: [c.readTo, c.unread],
      }
      return encodeRecord(c.runs.size === 0 ? meta : { ...meta, runs: c.runs.encode() })
    })
    // The marker now in this record replaces the old per-message markers.
    for (const k of c.legacyUnread.splice(0)) tx.del(k)
  }

  /** A new incoming message waits to be read (call inside the conversation's lock, in its Tx). */
  async addUnread(tx: Tx, cid: ContactId): Promise<void> {
    const c = await this.countersFor(cid)
    c.unread++
    await this.writeMeta(tx, cid)
  }

  /**
   * Every message up to local number `upTo` (default: the last) is read, within `tx`: one
   * counters record, whatever the number of messages. Returns the local numbers the marker moved
   * over (`from` exclusive, `to` inclusive), or undefined if it did not move. Messages above
   * `upTo` (arrived after the reader's page was read) are counted again, and stay unread.
   */
  async readAll(tx: Tx, cid: ContactId, upTo?: number): Promise<{ from: number; to: number } | undefined> {
    const c = await this.countersFor(cid)
    const last = c.nextMsg - 1
    const to = Math.min(upTo ?? last, last)
    if (to <= c.readTo) return undefined
    const from = c.readTo
    c.readTo = to
    let unread = 0
    if (to < last)
      for await (const m of this.storedBetween(cid, to, last))
        if (m.direction === 'in' && m.status === 'received') unread++
    c.unread = unread
    await this.writeMeta(tx, cid)
    return { from, to }
  }

  /**
   * Messages up to the last one were imported (Messenger.importHistory), `unread` of them
   * incoming and unread: no receipts are owed for any of them (but read receipts, with
   * `readReceipts`, once they are read).
   */
  async imported(tx: Tx, cid: ContactId, unread: number, readReceipts: boolean): Promise<void> {
    const c = await this.countersFor(cid)
    const last = c.nextMsg - 1
    c.receiptsThrough.delivered = Math.max(c.receiptsThrough.delivered, last)
    if (!readReceipts) c.receiptsThrough.read = Math.max(c.receiptsThrough.read, last)
    c.unread += unread
    await this.writeMeta(tx, cid)
  }

  /** Incoming messages not read yet: a counter, no reads. */
  async unread(cid: ContactId): Promise<number> {
    return (await this.countersFor(cid)).unread
  }

  /** Up to which local number everything reads as read. */
  async readTo(cid: ContactId): Promise<number> {
    return (await this.countersFor(cid)).readTo
  }

  /**
   * Records, within `tx`, that receipts of `kind` are in the outbox for incoming messages up to
   * `seq` (call inside the conversation's lock, in the Tx that puts them there).
   */
  async receiptsSent(tx: Tx, cid: ContactId, kind: ReceiptKind, seq: number): Promise<void> {
    const c = await this.countersFor(cid)
    if (seq <= c.receiptsThrough[kind]) return
    c.receiptsThrough[kind] = seq
    await this.writeMeta(tx, cid)
  }

  /** Up to where receipts of each kind are in the outbox (see Counters). */
  async receiptsThrough(cid: ContactId): Promise<Readonly<Record<ReceiptKind, number>>> {
    return (await this.countersFor(cid)).receiptsThrough
  }

  /** Messages with local numbers above `seq`, oldest first. */
  async *after(cid: ContactId, seq: number): AsyncIterable<MessageRecord> {
    const c = await this.countersFor(cid)
    for await (const [, v] of this.store.iterate({ prefix: Keys.msgPrefix(cid), gt: Keys.msg(cid, seq) }))
      yield seen(c, decodeRecord<MessageRecord>(v))
  }

  /** Messages with local numbers in (`from`, `to`] as they are stored (no runs, no read marker). */
  async *storedBetween(cid: ContactId, from: number, to: number): AsyncIterable<MessageRecord> {
    const range = { gt: Keys.msg(cid, from), lte: Keys.msg(cid, to) }
    for await (const [, v] of this.store.iterate(range)) yield decodeRecord<MessageRecord>(v)
  }

  /** The conversation's status runs (changed in place; written with its counters). */
  async runs(cid: ContactId): Promise<StatusRuns> {
    return (await this.countersFor(cid)).runs
  }

  /**
   * Whether an incoming payload may already be stored. The sender numbers its payloads per
   * conversation, strictly increasing, so one above the highest seen is certainly new and needs
   * no read; anything else (reordered, or a duplicate) is looked up.
   */
  async mayBeKnown(cid: ContactId, seq: number, id: MessageId): Promise<boolean> {
    const c = await this.countersFor(cid)
    if (seq > c.maxIn) return false
    return (await this.seqOf(cid, id)) !== undefined
  }

  async sawIncoming(cid: ContactId, seq: number): Promise<void> {
    const c = await this.countersFor(cid)
    if (seq > c.maxIn) c.maxIn = seq
  }

  private async lastSeq(prefix: Uint8Array): Promise<number> {
    for await (const [k] of this.store.iterate({ prefix, reverse: true, limit: 1 })) {
      const parts = decodeKey(k)
      const last = parts[parts.length - 1]
      return typeof last === 'bigint' ? Number(last) : typeof last === 'number' ? last : 0
    }
    return 0
  }

  /** Reserves the next message sequence number (call inside the conversation's lock). */
  async nextMessageSeq(cid: ContactId): Promise<number> {
    const c = await this.countersFor(cid)
    return c.nextMsg++
  }

  async nextOutboxSeq(cid: ContactId): Promise<number> {
    const c = await this.countersFor(cid)
    return c.nextOutbox++
  }

  /** Forgets the counters (after a conversation is deleted). */
  forget(cid: ContactId): void {
    this.counters.delete(cid)
    this.loading.delete(cid)
    this.outboxTail.forget(cid)
    for (const k of [...this.recent.keys()]) if (k.startsWith(`${cid}/`)) this.recent.delete(k)
  }

  /**
   * Where the index says message `id` is. A hint: whoever follows it checks the message found
   * there (as `message` does), so a stale or damaged entry is never believed.
   */
  async seqOf(cid: ContactId, id: MessageId): Promise<number | undefined> {
    const bytes = await this.store.get(Keys.msgId(cid, id))
    if (bytes === undefined || bytes.length !== 8) return undefined
    return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0))
  }

  /**
   * Keeps a just-written message at hand: receipts and acks for it usually follow within
   * seconds, and each would otherwise cost two reads (id -> seq, then the record).
   */
  remember(record: MessageRecord): void {
    const k = `${record.contactId}/${record.id}`
    this.recent.delete(k)
    this.recent.set(k, record)
    trimOldest(this.recent, RECENT_MESSAGES)
  }

  /**
   * A message's new status (an ack, a receipt), for the cache: it keeps the message's place
   * there rather than making it the newest. Each message moves on twice or three times after it
   * is stored, and moving it each time took the cache's room from messages still waiting for
   * their acks (a sender running ahead of its peer found a third of them gone, and read them back
   * from the store: ~7% of its main thread).
   */
  refresh(record: MessageRecord): void {
    const k = `${record.contactId}/${record.id}`
    if (this.recent.has(k)) this.recent.set(k, record)
  }

  async message(cid: ContactId, id: MessageId): Promise<MessageRecord | undefined> {
    const cached = this.recent.get(`${cid}/${id}`)
    if (cached !== undefined) return seen(await this.countersFor(cid), cached)
    const seq = await this.seqOf(cid, id)
    if (seq === undefined) return undefined
    const record = await this.storedAt(cid, seq)
    // The id index is a hint: the message itself decides.
    if (record === undefined || record.id !== id) return undefined
    return seen(await this.countersFor(cid), record)
  }

  /** Message number `seq` as it is stored, without what a status run says of it. */
  async storedAt(cid: ContactId, seq: number): Promise<MessageRecord | undefined> {
    const bytes = await this.store.get(Keys.msg(cid, seq))
    return bytes === undefined ? undefined : decodeRecord<MessageRecord>(bytes)
  }

  /**
   * The newest `limit` messages (before `beforeSeq` if given), oldest first; with `afterSeq`,
   * the oldest `limit` after it instead.
   */
  async list(cid: ContactId, limit: number, beforeSeq?: number, afterSeq?: number): Promise<MessageRecord[]> {
    const c = await this.countersFor(cid)
    const out: MessageRecord[] = []
    if (afterSeq !== undefined) {
      const range = { gt: Keys.msg(cid, afterSeq), lt: Keys.msg(cid, beforeSeq ?? Number.MAX_SAFE_INTEGER) }
      for await (const [, v] of this.store.iterate({ ...range, limit }))
        out.push(seen(c, decodeRecord<MessageRecord>(v)))
      return out
    }
    const range =
      beforeSeq === undefined
        ? { prefix: Keys.msgPrefix(cid) }
        : { gte: Keys.msgPrefix(cid), lt: Keys.msg(cid, beforeSeq) }
    for await (const [, v] of this.store.iterate({ ...range, reverse: true, limit }))
      out.push(seen(c, decodeRecord<MessageRecord>(v)))
    return out.reverse()
  }

  async *all(cid: ContactId): AsyncIterable<MessageRecord> {
    const c = await this.countersFor(cid)
    for await (const [, v] of this.store.iterate({ prefix: Keys.msgPrefix(cid) }))
      yield seen(c, decodeRecord<MessageRecord>(v))
  }

  /**
   * Outbox entries in order (after seq `after`, when given), once they are durable. `cid` may be
   * a lane (lanes.ts): its numbers are its contact's.
   */
  async outbox(cid: ContactId, limit: number, after?: number): Promise<OutboxRecord[]> {
    if (after !== undefined) {
      const fromMemory = await this.outboxTail.take(cid, limit, after)
      if (fromMemory !== undefined) return fromMemory
      // Nothing has been numbered after `after` yet (every entry is numbered here first): a
      // delivery that caught up asks this after every message, and a store read would find
      // nothing, after waiting for every pending write.
      if (after >= (await this.countersFor(laneContact(cid))).nextOutbox - 1) return []
    }
    const out: OutboxRecord[] = []
    const range =
      after === undefined
        ? { prefix: Keys.outboxPrefix(cid) }
        : { prefix: Keys.outboxPrefix(cid), gt: Keys.outbox(cid, after) }
    for await (const [, v] of this.store.iterate({ ...range, limit })) out.push(decodeOutboxRecord(v))
    if (out.length > 0) this.outboxTail.dropThrough(cid, out[out.length - 1]!.seq)
    return out
  }

  async outboxSize(cid: ContactId): Promise<number> {
    let n = 0
    for await (const _ of this.store.iterate({ prefix: Keys.outboxPrefix(cid) })) n++
    return n
  }
}

function validPair(value: unknown): readonly [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined
  const [d, r] = value
  return Number.isSafeInteger(d) && Number.isSafeInteger(r) ? [d as number, r as number] : undefined
}

const validReceipts = validPair

/**
 * A message as every reader sees it: an outgoing one with what its status run says, an incoming
 * one at or below the read marker as read.
 */
function seen(c: Counters, m: MessageRecord): MessageRecord {
  if (m.direction === 'out') return withRun(m, c.runs.get(m.seq))
  return m.status === 'received' && m.seq <= c.readTo ? { ...m, status: 'read' } : m
}

export function seqBytes(seq: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(seq))
  return out
}
