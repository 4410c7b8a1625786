/**
 * Delivery and read receipts, batched: ids collected over a few milliseconds go out as one
 * encrypted receipt per kind (at most MAX_RECEIPT_IDS ids each), so a burst of 500 messages costs
 * a handful of receipts, not 500.
 *
 * While messages keep coming, receipts go out at most once per BUSY_FLUSH_MS instead: every receipt
 * turns the conversation around, and the next message each way then takes a DH ratchet step
 * (three X25519 operations, ~2.5 ms of blocked main thread here). At 1,000 msg/s, 25 ms batches
 * cost each side ~40 steps a second. The first receipt after a quiet spell still leaves at once.
 */
import type { ReceiptKind } from './conversations.js'
import type { MessengerCore } from './core.js'
import type { ContactId, MessageId } from './ids.js'
import { MAX_RECEIPT_IDS } from './payload.js'
import { peerMay } from './trust.js'
import { Tx } from './tx.js'

export const FLUSH_MS = 25
export const BUSY_FLUSH_MS = 250

/** How long receipts queued `now` wait: at most one flush per BUSY_FLUSH_MS, never less than FLUSH_MS. */
export function receiptFlushDelay(now: number, lastFlush: number | undefined): number {
  return lastFlush === undefined ? FLUSH_MS : Math.max(FLUSH_MS, BUSY_FLUSH_MS - (now - lastFlush))
}

/** An incoming message a receipt is owed for: its id (what the sender knows) and local number. */
export interface ReceiptFor {
  readonly id: MessageId
  readonly seq: number
}

export class ReceiptBatcher {
  private readonly pending = new Map<ContactId, Record<ReceiptKind, ReceiptFor[]>>()
  private readonly timers = new Map<ContactId, ReturnType<typeof setTimeout>>()
  private readonly lastFlush = new Map<ContactId, number>()
  /** Per conversation, the read receipts being gathered (read): one range after another. */
  private readonly gathering = new Map<ContactId, Promise<void>>()

  constructor(private readonly core: MessengerCore) {}

  queue(cid: ContactId, kind: ReceiptKind, messages: readonly ReceiptFor[]): void {
    if (messages.length === 0 || this.core.stopped) return
    let pending = this.pending.get(cid)
    if (pending === undefined) {
      pending = { delivered: [], read: [] }
      this.pending.set(cid, pending)
    }
    pending[kind].push(...messages)
    if (this.timers.has(cid)) return
    const delay = receiptFlushDelay(Date.now(), this.lastFlush.get(cid))
    this.timers.set(
      cid,
      setTimeout(() => {
        this.timers.delete(cid)
        void this.flush(cid).catch((error) =>
          this.core.log.warn('could not send receipts', {
            error: error instanceof Error ? error.name : 'unknown',
          }),
        )
      }, delay),
    )
  }

  /**
   * Read receipts for the incoming messages the read marker just moved over (local numbers in
   * (`from`, `to`]). Runs after the marker is written, so whoever reads is not kept waiting for
   * the messages' ids; the ranges of one conversation are gathered in order, so the receipts
   * queue in the order of their messages (flush relies on it). A crash before they are in the
   * outbox leaves them to `recover`.
   */
  read(cid: ContactId, from: number, to: number): Promise<void> {
    const core = this.core
    const previous = this.gathering.get(cid) ?? Promise.resolve()
    const next = previous.then(async () => {
      if (core.stopped) return
      // Those up to `through` need none (imported ones: Messenger.importHistory).
      const through = (await core.conversations.receiptsThrough(cid)).read
      let batch: ReceiptFor[] = []
      for await (const m of core.conversations.storedBetween(cid, Math.max(from, through), to)) {
        if (core.stopped) return
        // Messages stored read (a notice of ours, one read before the marker) had theirs.
        if (m.direction !== 'in' || m.status !== 'received') continue
        batch.push({ id: m.id, seq: m.seq })
        if (batch.length >= MAX_RECEIPT_IDS) {
          this.queue(cid, 'read', batch)
          batch = []
        }
      }
      this.queue(cid, 'read', batch)
    })
    const settled = next.catch((error: unknown) =>
      core.log.warn('could not gather read receipts', {
        error: error instanceof Error ? error.name : 'unknown',
      }),
    )
    this.gathering.set(cid, settled)
    void settled.then(() => {
      if (this.gathering.get(cid) === settled) this.gathering.delete(cid)
    })
    return settled
  }

  /**
   * Queues again the receipts a stop or a crash left unsent: those of incoming messages above
   * what the conversation's counters say is in the outbox already. Called at start; usually
   * finds nothing, and reads only the messages after that mark.
   */
  async recover(cid: ContactId): Promise<void> {
    const core = this.core
    const contact = core.contacts.get(cid)
    if (contact === undefined || !peerMay(contact.state, 'get-receipts')) return
    const through = await core.conversations.receiptsThrough(cid)
    const readTo = await core.conversations.readTo(cid)
    const owed: Record<ReceiptKind, ReceiptFor[]> = { delivered: [], read: [] }
    // Read receipts can be owed only up to the read marker (messages stored read above it were
    // read before there was one, and the marker sits above those): an unread conversation is
    // not read through at every start.
    const from = through.read < readTo ? Math.min(through.delivered, through.read) : through.delivered
    for await (const m of core.conversations.after(cid, from)) {
      if (m.direction !== 'in') continue
      if (m.seq > through.delivered) owed.delivered.push({ id: m.id, seq: m.seq })
      if (m.seq > through.read && m.status === 'read') owed.read.push({ id: m.id, seq: m.seq })
    }
    this.queue(cid, 'delivered', owed.delivered)
    this.queue(cid, 'read', owed.read)
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  private async flush(cid: ContactId): Promise<void> {
    const pending = this.pending.get(cid)
    this.pending.delete(cid)
    const core = this.core
    if (core.contacts.get(cid) === undefined) {
      this.lastFlush.delete(cid) // a removed contact leaves nothing behind
      return
    }
    this.lastFlush.set(cid, Date.now())
    if (pending === undefined || core.stopped) return
    const durable = await core.queue.run(cid, async () => {
      const tx = new Tx()
      for (const kind of ['delivered', 'read'] as const) {
        const list = pending[kind]
        for (let i = 0; i < list.length; i += MAX_RECEIPT_IDS) {
          const ids = list.slice(i, i + MAX_RECEIPT_IDS).map((m) => m.id)
          await core.encryptToOutbox(tx, cid, { kind: 'receipt', receipt: kind, ids })
        }
        // Receipts are queued in the order their messages were stored, so everything up to the
        // last of them is in the outbox now (or was before).
        if (list.length > 0) await core.conversations.receiptsSent(tx, cid, kind, list[list.length - 1]!.seq)
      }
      return core.commit(tx)
    })
    await durable
  }
}
