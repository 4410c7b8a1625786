/**
 * Reading and numbering a conversation's records. Sequence numbers (local message order and
 * outbox order) come from the last stored key, read once per conversation and then kept in memory;
 * callers reserve numbers inside the conversation's lock and persist them in their batch.
 */

import { decodeKey } from '../store/keys.js'
import type { Store } from '../store/store.js'
import type { ContactId, MessageId } from './ids.js'
import { Keys } from './keys.js'
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
}

const RECENT_MESSAGES = 4096

export class Conversations {
  private readonly counters = new Map<ContactId, Counters>()
  private readonly loading = new Map<ContactId, Promise<Counters>>()
  private readonly recent = new Map<string, MessageRecord>()
  /** Entries just committed, so a running delivery need not read them back (outbox-tail.ts). */
  readonly outboxTail = new OutboxTail()

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
    const lastOutbox = await this.lastSeq(Keys.outboxPrefix(cid))
    const lastMsg = await this.lastSeq(Keys.msgPrefix(cid))
    const rcpt = validReceipts(meta?.rcpt) ?? [lastMsg, lastMsg]
    return {
      nextMsg: lastMsg + 1,
      nextOutbox: Math.max(lastOutbox, meta?.lastOut ?? 0) + 1,
      maxIn: meta?.maxIn ?? 0,
      runs: StatusRuns.decode(meta?.runs),
      receiptsThrough: { delivered: rcpt[0], read: rcpt[1] },
    }
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
      }
      return encodeRecord(c.runs.size === 0 ? meta : { ...meta, runs: c.runs.encode() })
    })
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
    const runs = await this.runs(cid)
    for await (const [, v] of this.store.iterate({ prefix: Keys.msgPrefix(cid), gt: Keys.msg(cid, seq) })) {
      const m = decodeRecord<MessageRecord>(v)
      yield withRun(m, runs.get(m.seq))
    }
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
    if (cached !== undefined) return cached
    const seq = await this.seqOf(cid, id)
    if (seq === undefined) return undefined
    const record = await this.storedAt(cid, seq)
    // The id index is a hint: the message itself decides.
    if (record === undefined || record.id !== id) return undefined
    return withRun(record, (await this.runs(cid)).get(seq))
  }

  /** Message number `seq` as it is stored, without what a status run says of it. */
  async storedAt(cid: ContactId, seq: number): Promise<MessageRecord | undefined> {
    const bytes = await this.store.get(Keys.msg(cid, seq))
    return bytes === undefined ? undefined : decodeRecord<MessageRecord>(bytes)
  }

  /** The newest `limit` messages (before `beforeSeq` if given), oldest first. */
  async list(cid: ContactId, limit: number, beforeSeq?: number): Promise<MessageRecord[]> {
    const runs = await this.runs(cid)
    const out: MessageRecord[] = []
    const range =
      beforeSeq === undefined
        ? { prefix: Keys.msgPrefix(cid) }
        : { gte: Keys.msgPrefix(cid), lt: Keys.msg(cid, beforeSeq) }
    for await (const [, v] of this.store.iterate({ ...range, reverse: true, limit })) {
      const m = decodeRecord<MessageRecord>(v)
      out.push(withRun(m, runs.get(m.seq)))
    }
    return out.reverse()
  }

  async *all(cid: ContactId): AsyncIterable<MessageRecord> {
    const runs = await this.runs(cid)
    for await (const [, v] of this.store.iterate({ prefix: Keys.msgPrefix(cid) })) {
      const m = decodeRecord<MessageRecord>(v)
      yield withRun(m, runs.get(m.seq))
    }
  }

  /** Outbox entries in order (after seq `after`, when given), once they are durable. */
  async outbox(cid: ContactId, limit: number, after?: number): Promise<OutboxRecord[]> {
    if (after !== undefined) {
      const fromMemory = await this.outboxTail.take(cid, limit, after)
      if (fromMemory !== undefined) return fromMemory
      // Nothing has been numbered after `after` yet (every entry is numbered here first): a
      // delivery that caught up asks this after every message, and a store read would find
      // nothing, after waiting for every pending write.
      if (after >= (await this.countersFor(cid)).nextOutbox - 1) return []
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

function validReceipts(value: unknown): readonly [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined
  const [d, r] = value
  return Number.isSafeInteger(d) && Number.isSafeInteger(r) ? [d as number, r as number] : undefined
}

export function seqBytes(seq: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(seq))
  return out
}
