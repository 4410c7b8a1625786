/**
 * Where a conversation's outgoing messages stand (sent, delivered, read, and the route they left
 * on), kept as runs of consecutive message numbers instead of in each message's record.
 *
 * Why: every outgoing message changes status at least twice after it is stored (the peer's ack,
 * then its delivery receipt; later its read receipt), and writing the record again for each cost
 * the sender one sealed write per change, about a tenth of its CPU per message at full speed. A
 * conversation's messages go out, get acknowledged and get receipts in order, so their statuses
 * form a few long runs ("1..20000 delivered, over the LAN; 20001..20040 sent"), stored with the
 * conversation's counters (`meta <cid>`) in one small sealed record that the same writes carry.
 *
 * A run holds only numbers that were set one by one, and two runs join only when they touch
 * (`to + 1 === from`) and say the same: so every number in a run is a message this side sent,
 * and nothing is said of a number between runs (an incoming message, one still queued). A
 * conversation whose messages alternate with the peer's leaves short runs; past MAX_RUNS the
 * smallest ones go back into their records (`takeSmallest`), so the record stays small and the
 * cost is at worst what it was.
 *
 * The message's own record still decides what the runs cannot: a 'failed' message stays failed,
 * and a status only moves forward (a record that says more than its run wins).
 */
import type { ConnectionRoute } from '../net/connection-info.js'
import type { MessageRecord, MessageStatus } from './records.js'
import { advanceStatus } from './records.js'

/** The statuses a run can hold: what acks and receipts move an outgoing message to. */
export type RunStatus = 'sent' | 'delivered' | 'read'

export interface StatusRun {
  readonly from: number
  readonly to: number
  readonly status: RunStatus
  readonly route?: ConnectionRoute | undefined
}

/** How many runs a conversation keeps before the smallest go back into their records. */
export const MAX_RUNS = 64

/** Stored form, in `meta <cid>`: [from, to, status, route?]. */
export type EncodedRun = [number, number, RunStatus] | [number, number, RunStatus, ConnectionRoute]

const STATUSES: readonly string[] = ['sent', 'delivered', 'read']
const ROUTES: readonly string[] = ['lan', 'direct', 'relayed', 'mailbox']

export function isRunStatus(status: MessageStatus): status is RunStatus {
  return STATUSES.includes(status)
}

export class StatusRuns {
  /** Sorted by `from`, never overlapping. */
  #runs: StatusRun[] = []

  /** Runs as stored; anything malformed is dropped (the records then say what they said). */
  static decode(encoded: unknown): StatusRuns {
    const runs = new StatusRuns()
    if (!Array.isArray(encoded)) return runs
    let lastTo = 0
    for (const e of encoded) {
      if (!Array.isArray(e) || e.length < 3 || e.length > 4) return new StatusRuns()
      const [from, to, status, route] = e as unknown[]
      if (
        !Number.isSafeInteger(from) ||
        !Number.isSafeInteger(to) ||
        (from as number) <= lastTo ||
        (to as number) < (from as number) ||
        typeof status !== 'string' ||
        !STATUSES.includes(status) ||
        (route !== undefined && (typeof route !== 'string' || !ROUTES.includes(route)))
      ) {
        return new StatusRuns()
      }
      lastTo = to as number
      runs.#runs.push(
        run(from as number, to as number, status as RunStatus, route as ConnectionRoute | undefined),
      )
    }
    return runs
  }

  encode(): EncodedRun[] {
    return this.#runs.map((r) =>
      r.route === undefined ? [r.from, r.to, r.status] : [r.from, r.to, r.status, r.route],
    )
  }

  get size(): number {
    return this.#runs.length
  }

  /** The run holding message number `seq`, if any. */
  get(seq: number): StatusRun | undefined {
    const i = this.#find(seq)
    return i < 0 ? undefined : this.#runs[i]
  }

  /** Message number `seq` now has `status` (and `route`); replaces what a run said of it. */
  set(seq: number, status: RunStatus, route: ConnectionRoute | undefined): void {
    const runs = this.#runs
    let i = this.#find(seq)
    if (i >= 0) {
      const old = runs[i]!
      if (old.status === status && old.route === route) return
      // Cut `seq` out of its run: up to two pieces stay.
      const pieces: StatusRun[] = []
      if (old.from < seq) pieces.push(run(old.from, seq - 1, old.status, old.route))
      if (seq < old.to) pieces.push(run(seq + 1, old.to, old.status, old.route))
      runs.splice(i, 1, ...pieces)
    }
    // The first run after `seq` (runs are sorted by `from`).
    i = this.#insertionPoint(seq)
    const mine = run(seq, seq, status, route)
    const before = runs[i - 1]
    const after = runs[i]
    const joinsBefore = before !== undefined && before.to + 1 === seq && same(before, mine)
    const joinsAfter = after !== undefined && seq + 1 === after.from && same(after, mine)
    if (joinsBefore && joinsAfter) runs.splice(i - 1, 2, run(before.from, after.to, status, route))
    else if (joinsBefore) runs[i - 1] = run(before.from, seq, status, route)
    else if (joinsAfter) runs[i] = run(seq, after.to, status, route)
    else runs.splice(i, 0, mine)
  }

  /**
   * Removes and returns the smallest runs until at most `max` remain: their messages' records
   * must then be written with what the runs said (the caller does it in the same batch).
   */
  takeSmallest(max: number = MAX_RUNS): StatusRun[] {
    if (this.#runs.length <= max) return []
    const bySize = [...this.#runs].sort((a, b) => a.to - a.from - (b.to - b.from) || a.from - b.from)
    const taken = new Set(bySize.slice(0, this.#runs.length - max))
    this.#runs = this.#runs.filter((r) => !taken.has(r))
    return [...taken]
  }

  /** Index of the run holding `seq`, or -1. */
  #find(seq: number): number {
    const i = this.#insertionPoint(seq) - 1
    return i >= 0 && this.#runs[i]!.to >= seq ? i : -1
  }

  /** Index of the first run whose `from` is above `seq`. */
  #insertionPoint(seq: number): number {
    let lo = 0
    let hi = this.#runs.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#runs[mid]!.from <= seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** `record` as its run tells it: what every reader of an outgoing message sees. */
export function withRun(record: MessageRecord, r: StatusRun | undefined): MessageRecord {
  if (r === undefined || record.direction !== 'out' || record.status === 'failed') return record
  const status = advanceStatus(record.status, r.status)
  const route = record.route ?? r.route
  if (status === record.status && route === record.route) return record
  return { ...record, status, ...(route === undefined ? {} : { route }) }
}

function run(from: number, to: number, status: RunStatus, route: ConnectionRoute | undefined): StatusRun {
  return route === undefined ? { from, to, status } : { from, to, status, route }
}

function same(a: StatusRun, b: StatusRun): boolean {
  return a.status === b.status && a.route === b.route
}
