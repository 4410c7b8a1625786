/**
 * When each of our other devices was last heard from, kept in the store so that `devices` still
 * says it after a restart. A device is heard from with every connection (and while one is open,
 * whenever the list is shown), so the record is written at most once a minute per device: the
 * time shown may be up to a minute old, and no message costs a write.
 */
import { fromUtf8, utf8 } from '../bytes.js'
import { key } from '../store/keys.js'
import type { Store } from '../store/store.js'

/** `account device-seen`: JSON, peer id -> ms. An `account` record: it stays on this device. */
export const ownDeviceSeenKey = (): Uint8Array => key('account', 'device-seen')

/** How often one device's time is written at most. */
export const SEEN_WRITE_MS = 60_000

export class SeenDevices {
  private readonly at = new Map<string, number>()
  /** When each device's time was last written (the time written, our clock). */
  private readonly written = new Map<string, number>()
  private writing: Promise<void> = Promise.resolve()

  constructor(private readonly store: Store) {}

  /** Reads the stored times of the devices `keep` accepts (the others were removed meanwhile). */
  async load(keep: (peer: string) => boolean): Promise<void> {
    const bytes = await this.store.get(ownDeviceSeenKey())
    if (bytes === undefined) return
    let stored: unknown
    try {
      stored = JSON.parse(fromUtf8(bytes))
    } catch {
      return // a damaged record only loses the times: they come back with the next connection
    }
    if (typeof stored !== 'object' || stored === null) return
    for (const [peer, at] of Object.entries(stored)) {
      if (!keep(peer) || !Number.isSafeInteger(at)) continue
      // Heard from while loading: the newer time stays.
      if ((this.at.get(peer) ?? 0) < (at as number)) this.at.set(peer, at as number)
      this.written.set(peer, at as number)
    }
  }

  get map(): ReadonlyMap<string, number> {
    return this.at
  }

  /** `peer` was heard from at `now`: stored if its stored time is a minute old or more. */
  heard(peer: string, now: number): void {
    this.at.set(peer, now)
    const last = this.written.get(peer)
    if (last === undefined || now - last >= SEEN_WRITE_MS) this.save()
  }

  forget(peer: string): void {
    if (!this.at.delete(peer)) return
    this.written.delete(peer)
    this.save()
  }

  /** Resolves once the writes started so far are done. */
  flushWrites(): Promise<void> {
    return this.writing
  }

  /** Writes the times not written yet (at stop). */
  async flush(): Promise<void> {
    if ([...this.at].some(([peer, at]) => this.written.get(peer) !== at)) this.save()
    await this.writing
  }

  private save(): void {
    const snapshot = new Map(this.at)
    for (const [peer, at] of snapshot) this.written.set(peer, at)
    // One write at a time, in order: the last one holds the newest times.
    this.writing = this.writing
      .then(() => this.store.put(ownDeviceSeenKey(), utf8(JSON.stringify(Object.fromEntries(snapshot)))))
      .catch(() => undefined)
  }
}
