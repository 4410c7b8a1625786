/**
 * What the feed accepted and refused, by stable code. Bad input from the network is never an
 * exception that escapes: it is rejected, counted here, and logged without content.
 */
import { REJECTION_CODES, type RejectionCode } from './errors.js'

export interface FeedStats {
  /** Updates (entries) applied from the network. */
  readonly entriesApplied: number
  readonly snapshotsApplied: number
  /** Updates this peer wrote (own feed). */
  readonly entriesWritten: number
  readonly snapshotsMade: number
  readonly rejectedTotal: number
  readonly rejected: Partial<Record<RejectionCode | 'NotAllowed', number>>
  /** Streams that failed for reasons other than bad input (a peer went away mid-frame, say). */
  readonly streamErrors: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly framesIn: number
  readonly framesOut: number
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export class FeedCounters {
  private readonly stats: Mutable<Omit<FeedStats, 'rejected'>> = {
    entriesApplied: 0,
    snapshotsApplied: 0,
    entriesWritten: 0,
    snapshotsMade: 0,
    rejectedTotal: 0,
    streamErrors: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesIn: 0,
    framesOut: 0,
  }
  private readonly rejected = new Map<string, number>()

  reject(code: RejectionCode | 'NotAllowed'): void {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1)
    this.stats.rejectedTotal++
  }

  add(name: keyof Omit<FeedStats, 'rejected' | 'rejectedTotal'>, n = 1): void {
    this.stats[name] += n
  }

  snapshot(): FeedStats {
    return { ...this.stats, rejected: Object.fromEntries(this.rejected) }
  }
}

/** Counts a failed stream by its error's stable code (FeedError, NetError or another). */
export function countFailure(counters: FeedCounters, code: string): void {
  if ((REJECTION_CODES as readonly string[]).includes(code)) counters.reject(code as RejectionCode)
  else if (code === 'NotAllowed') counters.reject('NotAllowed')
  else if (code === 'FrameTooLarge') counters.reject('TooLarge')
  else if (code === 'MalformedFrame' || code === 'TruncatedFrame') counters.reject('Malformed')
  else if (code !== 'Stopped') counters.add('streamErrors')
}

export function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return 'Unknown'
}
