/**
 * Delivery of each conversation's outbox: envelopes are persisted (encrypted) before anyone tries
 * to send them, then pushed in order over /jiayi/msg/1 and deleted only when the peer acks. When
 * the peer cannot be reached the pump backs off (1 s doubling to 60 s, with jitter) and starts
 * again at once whenever the peer is seen (it connects, mDNS finds it, identify runs).
 *
 * Once the outbox is empty the stream stays open for LINGER_MS: a conversation goes in bursts,
 * and opening a stream (a protocol negotiation with the peer) cost more than the rest of a
 * message's way there. A write that fails on a stream that waited is retried at once on a new
 * one (the peer may simply have closed it), not after a backoff.
 */
import type { ConnectionRoute } from '../net/connection-info.js'
import { afterTurn } from '../next-turn.js'
import type { ContactId } from './ids.js'
import type { AckStatus, OutgoingEnvelope } from './msg-protocol.js'
import type { OutboxRecord } from './records.js'

const BATCH = 256
const MIN_BACKOFF_MS = 1_000
const MAX_BACKOFF_MS = 60_000
/** How long an idle stream is kept for the next envelope. */
export const LINGER_MS = 10_000

export interface OutboxDriver {
  /** Up to `limit` entries in order, after seq `after` when given, once they are durable. */
  load(cid: ContactId, limit: number, after?: number): Promise<OutboxRecord[]>
  /** Sends in order; calls onAck for each ack in order; throws if the stream fails. */
  send(
    cid: ContactId,
    next: () => Promise<readonly OutgoingEnvelope[]>,
    onAck: (ref: number, status: AckStatus, route: ConnectionRoute | undefined) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>
  /** Applies acks, in order, as one change (deletes the entries, updates message statuses). */
  acked(cid: ContactId, acks: readonly AppliedAck[]): Promise<void>
  /** Drops ephemeral entries after a failed attempt. */
  dropEphemeral(cid: ContactId, entries: readonly OutboxRecord[]): Promise<void>
  /**
   * The peer answered `entry` STALE (its PreKey message names prekeys that are gone): start the
   * session again (true: deliver again now) or not now (false: back off). Without it, a stale
   * entry fails like a rejected one.
   */
  restart?(cid: ContactId, entry: OutboxRecord): Promise<boolean>
  /**
   * The peer could not be reached: hand what waits to someone who keeps it for them (their home
   * node's mailbox, mailbox/deposit.ts), taking it out of the outbox. True when such a mailbox
   * took all that waited (then new entries go there too while the peer stays away).
   */
  unreachable?(cid: ContactId, signal: AbortSignal): Promise<boolean>
  onError?(cid: ContactId, error: unknown): void
}

/** An acknowledged outbox entry and what the peer said about it. */
export interface AppliedAck {
  readonly entry: OutboxRecord
  readonly status: 'ok' | 'rejected'
  readonly route: ConnectionRoute | undefined
}

class RetryLater extends Error {}

/** The peer holds no longer the prekeys `entry`'s session started from (see OutboxDriver.restart). */
class RestartSession extends Error {
  constructor(readonly entry: OutboxRecord) {
    super('the session must start again')
  }
}

/** A delivery stream waiting for more envelopes: woken by a kick, or giving up after LINGER_MS. */
interface Lingering {
  readonly wake: (more: boolean) => void
  /** Envelopes sent on this stream and not acknowledged yet. */
  unacked: () => number
}

export class OutboxPump {
  private readonly running = new Set<ContactId>()
  private readonly again = new Set<ContactId>()
  private readonly timers = new Map<ContactId, ReturnType<typeof setTimeout>>()
  private readonly failures = new Map<ContactId, number>()
  private readonly controller = new AbortController()
  private readonly idle = new Map<ContactId, (() => void)[]>()
  private readonly lingering = new Map<ContactId, Lingering>()
  /** Conversations whose running delivery reads from a position that no longer exists. */
  private readonly stale = new Set<ContactId>()
  /** Unreachable, and their mailbox took what waited: new entries go there at once (handOverNow). */
  private readonly mailboxed = new Set<ContactId>()
  /** Bumped by reset: a delivery applies acks only while its conversation's number is unchanged. */
  private readonly generations = new Map<ContactId, number>()

  constructor(private readonly driver: OutboxDriver) {}

  /** Try to deliver now (new entries, or the peer was just seen). */
  kick(cid: ContactId, resetBackoff = false): void {
    if (this.controller.signal.aborted) return
    if (resetBackoff) {
      this.failures.delete(cid)
      this.mailboxed.delete(cid)
    }
    const timer = this.timers.get(cid)
    if (timer !== undefined) {
      if (!resetBackoff) {
        // A retry is scheduled; it will pick the new entries up. Until then (up to a minute) a
        // mailbox that took the last ones takes these too, rather than let them wait.
        if (this.mailboxed.has(cid)) this.handOverNow(cid)
        return
      }
      clearTimeout(timer)
      this.timers.delete(cid)
    }
    if (this.running.has(cid)) {
      this.again.add(cid)
      this.lingering.get(cid)?.wake(true)
      return
    }
    void this.run(cid)
  }

  /** Resolves when the conversation's pump has nothing in flight (for tests and shutdown). */
  whenIdle(cid: ContactId): Promise<void> {
    if (!this.running.has(cid) || this.isIdleLingering(cid)) return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.idle.get(cid) ?? []
      list.push(resolve)
      this.idle.set(cid, list)
    })
  }

  /**
   * The conversation's outbox was emptied and starts again from seq 0 (the contact was removed):
   * a stream kept open for it ends, and the next delivery reads the outbox from its start.
   */
  reset(cid: ContactId): void {
    // Acks still on their way from the old stream name entries that are gone: the numbers they
    // carry may already belong to new entries (the outbox numbers start again), so they are dropped.
    this.generations.set(cid, this.generationOf(cid) + 1)
    // Nor does the old conversation's backoff hold back a new one (a contact added again).
    this.failures.delete(cid)
    this.mailboxed.delete(cid)
    const timer = this.timers.get(cid)
    if (timer !== undefined) clearTimeout(timer)
    this.timers.delete(cid)
    if (!this.running.has(cid)) return
    this.stale.add(cid)
    this.lingering.get(cid)?.wake(false)
  }

  stop(): void {
    this.controller.abort()
    for (const l of this.lingering.values()) l.wake(false)
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  private async run(cid: ContactId): Promise<void> {
    this.running.add(cid)
    let retriedAfterLinger = false
    try {
      for (;;) {
        this.again.delete(cid)
        if (this.controller.signal.aborted) break
        const pulled = new Map<number, OutboxRecord>()
        const attempt = { lingered: false }
        try {
          const sent = await this.deliver(cid, pulled, attempt)
          this.failures.delete(cid)
          this.mailboxed.delete(cid)
          if (sent === 0) break
        } catch (error) {
          if (error instanceof RestartSession) {
            await this.driver.dropEphemeral(cid, [...pulled.values()]).catch(() => undefined)
            if (await this.restart(cid, error.entry)) continue
            this.schedule(cid)
            break
          }
          if (!(error instanceof RetryLater)) this.driver.onError?.(cid, error)
          await this.driver.dropEphemeral(cid, [...pulled.values()]).catch(() => undefined)
          // A stream that sat idle may have been closed by the peer: a new one, at once.
          if (attempt.lingered && !retriedAfterLinger) {
            retriedAfterLinger = true
            continue
          }
          await this.handOver(cid)
          this.schedule(cid)
          break
        }
        retriedAfterLinger = false
      }
    } finally {
      this.running.delete(cid)
      this.stale.delete(cid)
      for (const resolve of this.idle.get(cid) ?? []) resolve()
      this.idle.delete(cid)
      if (this.again.has(cid) && !this.timers.has(cid)) {
        this.again.delete(cid)
        void this.run(cid)
      }
    }
  }

  /**
   * One stream that keeps going while the outbox keeps filling: each pull loads the entries
   * after the last one sent (waiting for them to be on disk, never sending state that is not),
   * so a steady flow of messages needs no new stream and no round trip per batch.
   */
  private async deliver(
    cid: ContactId,
    pulled: Map<number, OutboxRecord>,
    attempt: { lingered: boolean },
  ): Promise<number> {
    let after: number | undefined
    let ref = 0
    let opened = false
    const next = async () => {
      for (;;) {
        this.again.delete(cid)
        if (this.stale.delete(cid) && opened) return [] // a new delivery starts from the top
        const entries = await this.driver.load(cid, BATCH, after)
        // The first pull decides whether a stream is opened at all; later ones may wait.
        if (entries.length > 0 || !opened) {
          opened = true
          if (entries.length > 0) after = entries[entries.length - 1]!.seq
          return entries.map((e) => {
            pulled.set(ref, e)
            return { ref: ref++, type: e.type, body: e.envelope }
          })
        }
        attempt.lingered = true
        if (!(await this.linger(cid, () => pulled.size))) return []
      }
    }
    // Acks are applied in order through the conversation's queue, but the stream does not wait
    // for them: reading the next ack (and so freeing the window) never waits on our own writes.
    // The acks read in one turn of the event loop (one socket read carries many) are applied
    // together, as one change. (A set, pruned as they settle: a stream that lingers may carry a
    // long conversation.)
    const applying = new Set<Promise<void>>()
    let gathered: AppliedAck[] = []
    const generation = this.generationOf(cid)
    const applyGathered = () => {
      if (gathered.length === 0) return // applied already (the stream ended first)
      const acks = gathered
      gathered = []
      if (this.generationOf(cid) !== generation) return // the conversation was emptied meanwhile
      const applied = this.driver.acked(cid, acks)
      applying.add(applied)
      void applied
        .finally(() => {
          applying.delete(applied)
          if (pulled.size === 0) this.notifyIfIdle(cid)
        })
        .catch(() => undefined)
    }
    try {
      await this.driver.send(
        cid,
        next,
        async (r, status, route) => {
          if (status === 'retry') throw new RetryLater('peer asked to retry later')
          const entry = pulled.get(r)!
          // Left in the outbox: it goes again, encrypted anew, once the session has restarted.
          if (status === 'stale' && this.driver.restart !== undefined) throw new RestartSession(entry)
          pulled.delete(r)
          if (gathered.length === 0) afterTurn(applyGathered)
          gathered.push({ entry, status: status === 'ok' ? 'ok' : 'rejected', route })
        },
        this.controller.signal,
      )
    } finally {
      if (gathered.length > 0) applyGathered()
      // Before anyone reloads the outbox, the acknowledged entries are gone from it.
      await Promise.allSettled(applying)
    }
    return ref
  }

  /** The peer is unreachable: the driver may hand the outbox to their mailbox (never throws). */
  private async handOver(cid: ContactId): Promise<void> {
    if (this.driver.unreachable === undefined || this.controller.signal.aborted) return
    try {
      if (await this.driver.unreachable(cid, this.controller.signal)) this.mailboxed.add(cid)
    } catch (error) {
      this.mailboxed.delete(cid)
      this.driver.onError?.(cid, error)
    }
  }

  /** While a retry is scheduled: new entries to their mailbox now, one hand-over at a time. */
  private handOverNow(cid: ContactId): void {
    if (this.running.has(cid)) {
      this.again.add(cid)
      return
    }
    this.running.add(cid)
    void (async () => {
      try {
        do {
          this.again.delete(cid)
          await this.handOver(cid)
        } while (this.again.has(cid) && this.timers.has(cid) && this.mailboxed.has(cid))
      } finally {
        this.running.delete(cid)
        for (const resolve of this.idle.get(cid) ?? []) resolve()
        this.idle.delete(cid)
        // The retry came due meanwhile (its kick found this running): it runs now.
        if (!this.timers.has(cid) && !this.controller.signal.aborted) {
          this.again.delete(cid)
          void this.run(cid)
        }
      }
    })()
  }

  /** Asks the driver to restart the entry's session; a failure to do so counts as "not now". */
  private async restart(cid: ContactId, entry: OutboxRecord): Promise<boolean> {
    try {
      return await this.driver.restart!(cid, entry)
    } catch (error) {
      this.driver.onError?.(cid, error)
      return false
    }
  }

  /** Waits for a kick (true) or LINGER_MS / stop (false); a kick that came meanwhile counts. */
  private linger(cid: ContactId, unacked: () => number): Promise<boolean> {
    if (this.controller.signal.aborted) return Promise.resolve(false)
    if (this.again.has(cid)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => wake(false), LINGER_MS)
      const wake = (more: boolean) => {
        clearTimeout(timer)
        this.lingering.delete(cid)
        resolve(more)
      }
      this.lingering.set(cid, { wake, unacked })
      this.notifyIfIdle(cid)
    })
  }

  private generationOf(cid: ContactId): number {
    return this.generations.get(cid) ?? 0
  }

  private isIdleLingering(cid: ContactId): boolean {
    const l = this.lingering.get(cid)
    return l !== undefined && l.unacked() === 0
  }

  /** Tells whenIdle's waiters once a lingering stream has nothing unacknowledged. */
  private notifyIfIdle(cid: ContactId): void {
    if (!this.isIdleLingering(cid)) return
    for (const resolve of this.idle.get(cid) ?? []) resolve()
    this.idle.delete(cid)
  }

  private schedule(cid: ContactId): void {
    if (this.controller.signal.aborted || this.timers.has(cid)) return
    const n = (this.failures.get(cid) ?? 0) + 1
    this.failures.set(cid, n)
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (n - 1))
    const delay = base / 2 + Math.random() * (base / 2)
    const timer = setTimeout(() => {
      this.timers.delete(cid)
      this.kick(cid)
    }, delay)
    this.timers.set(cid, timer)
  }
}
