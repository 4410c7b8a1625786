/**
 * Delivery and read receipts, batched: ids collected over a few milliseconds go out as one
 * encrypted receipt per kind (at most MAX_RECEIPT_IDS ids each), so a burst of 500 messages costs
 * a handful of receipts, not 500.
 */
import type { MessengerCore } from './core.js'
import type { ContactId, MessageId } from './ids.js'
import { MAX_RECEIPT_IDS } from './payload.js'
import { Tx } from './tx.js'

const FLUSH_MS = 25

export class ReceiptBatcher {
  private readonly pending = new Map<ContactId, { delivered: MessageId[]; read: MessageId[] }>()
  private readonly timers = new Map<ContactId, ReturnType<typeof setTimeout>>()

  constructor(private readonly core: MessengerCore) {}

  queue(cid: ContactId, kind: 'delivered' | 'read', ids: readonly MessageId[]): void {
    if (ids.length === 0 || this.core.stopped) return
    let pending = this.pending.get(cid)
    if (pending === undefined) {
      pending = { delivered: [], read: [] }
      this.pending.set(cid, pending)
    }
    pending[kind].push(...ids)
    if (this.timers.has(cid)) return
    this.timers.set(
      cid,
      setTimeout(() => {
        this.timers.delete(cid)
        void this.flush(cid).catch((error) =>
          this.core.log.warn('could not send receipts', {
            error: error instanceof Error ? error.name : 'unknown',
          }),
        )
      }, FLUSH_MS),
    )
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  private async flush(cid: ContactId): Promise<void> {
    const pending = this.pending.get(cid)
    this.pending.delete(cid)
    const core = this.core
    if (pending === undefined || core.stopped || core.contacts.get(cid) === undefined) return
    const durable = await core.queue.run(cid, async () => {
      const tx = new Tx()
      for (const kind of ['delivered', 'read'] as const) {
        for (let i = 0; i < pending[kind].length; i += MAX_RECEIPT_IDS) {
          const ids = pending[kind].slice(i, i + MAX_RECEIPT_IDS)
          await core.encryptToOutbox(tx, cid, { kind: 'receipt', receipt: kind, ids })
        }
      }
      return core.commit(tx)
    })
    await durable
  }
}
