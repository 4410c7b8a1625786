/**
 * The outbox entries this process just committed, per conversation, with the promise that they
 * are durable. A delivery stream that is already running asks for "the entries after seq n";
 * when the entries right after n are here, it takes them from memory (once they are on disk)
 * instead of reading them back through the store: no iterator, no unsealing, and no waiting for
 * unrelated writes (a store read first waits until every pending write is durable).
 *
 * Only an unbroken run that starts exactly at n + 1 is served from here. Anything else (the first
 * pull of a delivery, entries from before a restart, a tail cut short by its bound, a gap left by
 * a change that reserved a number and failed) falls back to the store, which is always right.
 */
import type { ContactId } from './ids.js'
import type { OutboxRecord } from './records.js'

/**
 * Kept per conversation (oldest let go first), so a peer that stays away does not grow memory:
 * a delivery needs only what was committed since its last pull. Large enough for what a fast
 * sender queues ahead of its delivery (at full speed that is a few thousand entries; a miss
 * costs a store read, which also has to wait for every pending write).
 */
export const MAX_TAIL_ENTRIES = 4096
export const MAX_TAIL_BYTES = 4 * 1024 * 1024
/** All conversations together; the one written to least recently is let go first. */
export const MAX_TOTAL_TAIL_BYTES = 16 * 1024 * 1024

interface Pending {
  readonly entry: OutboxRecord
  readonly durable: Promise<void>
  /** Set when `durable` resolved (the flag's reaction runs before any later waiter's). */
  settled: boolean
}

export class OutboxTail {
  /** In the order the conversations were last added to (oldest first). */
  private readonly tails = new Map<ContactId, Pending[]>()
  private readonly bytes = new Map<ContactId, number>()
  private totalBytes = 0

  /** Records entries of a committed change; `durable` resolves when that change is on disk. */
  add(cid: ContactId, entry: OutboxRecord, durable: Promise<void>): void {
    const tail = this.tails.get(cid) ?? []
    this.tails.delete(cid) // re-inserted below: now the most recently written conversation
    // Changes of one conversation commit in number order, so this is an append in practice.
    let at = tail.length
    while (at > 0 && tail[at - 1]!.entry.seq > entry.seq) at--
    const pending: Pending = { entry, durable, settled: false }
    durable.then(
      () => {
        pending.settled = true
      },
      () => undefined, // the committer reports a failed write; a take waiting on it fails too
    )
    tail.splice(at, 0, pending)
    let bytes = (this.bytes.get(cid) ?? 0) + heldBytes(entry)
    while (tail.length > MAX_TAIL_ENTRIES || (bytes > MAX_TAIL_BYTES && tail.length > 0)) {
      bytes -= heldBytes(tail.shift()!.entry)
    }
    this.settle(cid, tail, bytes)
    for (const [other] of this.tails) {
      if (this.totalBytes <= MAX_TOTAL_TAIL_BYTES) break
      this.forget(other)
    }
  }

  /**
   * Entries numbered after+1, after+2, … (up to `limit`) once the first is durable, together with
   * every following one that is durable by then (the rest of its group commit): as many as a
   * read of the store would find, without the read. Undefined (now, or once the first is durable)
   * when the tail does not hold entry after+1: ask the store.
   */
  take(cid: ContactId, limit: number, after: number): Promise<OutboxRecord[] | undefined> | undefined {
    this.dropThrough(cid, after)
    const first = this.tails.get(cid)?.[0]
    if (first === undefined || first.entry.seq !== after + 1) return undefined
    return first.durable.then(async () => {
      // A group commit resolves all its writes' promises in one go; one more microtask lets their
      // `settled` flags catch up, so the whole group is taken together.
      await Promise.resolve()
      const tail = this.tails.get(cid)
      // Dropped meanwhile (read from the store, or the contact was removed).
      if (tail === undefined || tail[0] !== first) return undefined
      let n = 0
      while (n < tail.length && n < limit && tail[n]!.entry.seq === after + 1 + n && tail[n]!.settled) n++
      const taken = tail.splice(0, n)
      this.settle(cid, tail, this.bytesAfter(cid, taken))
      return taken.map((p) => p.entry)
    })
  }

  /** Forgets entries numbered `seq` or lower (they were read from the store instead). */
  dropThrough(cid: ContactId, seq: number): void {
    const tail = this.tails.get(cid)
    if (tail === undefined) return
    let n = 0
    while (n < tail.length && tail[n]!.entry.seq <= seq) n++
    if (n > 0) this.settle(cid, tail, this.bytesAfter(cid, tail.splice(0, n)))
  }

  /** The conversation's outbox was emptied (the contact was removed). */
  forget(cid: ContactId): void {
    this.totalBytes -= this.bytes.get(cid) ?? 0
    this.tails.delete(cid)
    this.bytes.delete(cid)
  }

  size(cid: ContactId): number {
    return this.tails.get(cid)?.length ?? 0
  }

  /** Envelope bytes held for the conversation, or for all of them. */
  heldBytes(cid?: ContactId): number {
    return cid === undefined ? this.totalBytes : (this.bytes.get(cid) ?? 0)
  }

  private bytesAfter(cid: ContactId, removed: readonly Pending[]): number {
    let bytes = this.bytes.get(cid) ?? 0
    for (const p of removed) bytes -= heldBytes(p.entry)
    return bytes
  }

  private settle(cid: ContactId, tail: Pending[], bytes: number): void {
    this.totalBytes += bytes - (this.bytes.get(cid) ?? 0)
    if (tail.length === 0) {
      this.tails.delete(cid)
      this.bytes.delete(cid)
    } else {
      this.tails.set(cid, tail)
      this.bytes.set(cid, bytes)
    }
  }
}

/** What an entry holds in memory: its envelope's bytes, nearly all of it. */
function heldBytes(entry: OutboxRecord): number {
  return entry.envelope.length
}
