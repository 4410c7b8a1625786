/**
 * Tells when this peer's reach (ReachStatus: nat, relays, mapped) changes, so a watcher of the
 * event stream learns what `stats` shows: a router's mapping, a relay reservation, AutoNAT's
 * verdict. The status is read again after a nudge (an address or identify event), at most once
 * per `minGapMs`, and reported only when it differs from the last one reported (or, at first,
 * from the one at start).
 */
import type { ReachStatus } from './reach-service.js'

export interface ReachChangesInit {
  /** The status now. */
  readonly read: () => ReachStatus
  /** Called with the new status when it changed. */
  readonly changed: (status: ReachStatus) => void
  /** The least time between two reads after nudges; default 1 s. */
  readonly minGapMs?: number
}

export interface ReachChanges {
  /** Something that may change the status happened: read it again soon. */
  nudge(): void
  stop(): void
}

const DEFAULT_MIN_GAP_MS = 1_000

export function watchReachChanges(init: ReachChangesInit): ReachChanges {
  const gap = init.minGapMs ?? DEFAULT_MIN_GAP_MS
  let last = key(init.read())
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const check = () => {
    timer = undefined
    if (stopped) return
    const now = init.read()
    const k = key(now)
    if (k === last) return
    last = k
    init.changed(now)
  }
  return {
    nudge() {
      if (stopped || timer !== undefined) return
      timer = setTimeout(check, gap)
    },
    stop() {
      stopped = true
      clearTimeout(timer)
      timer = undefined
    },
  }
}

/** The same status in any order of relays and mapped addresses gives the same key. */
function key(s: ReachStatus): string {
  return JSON.stringify([s.nat, [...s.relays].sort(), [...s.mapped].sort()])
}
