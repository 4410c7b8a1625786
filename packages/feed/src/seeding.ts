/**
 * The feed and home nodes, on a person's own peer: our log goes to our home node (seeder.ts) after
 * every change and whenever a connection to it opens, so friends read our Moments while this
 * device is off; and we pull a contact's feed from their home node (their card or address update
 * names it) when the contact itself cannot be reached: at start and every PULL_EVERY_MS.
 */
import type { Logger, Messenger } from '@jiayi/core'
import type { FeedEngine } from './engine.js'
import type { FeedId } from './ids.js'
import { pullSeededFeed, pushOwnFeed } from './seed-client.js'
import type { PeerId } from './sync.js'

/** Writes in a burst (a post and its pictures, a comment thread) make one push. */
const PUSH_DEBOUNCE_MS = 500
/** How often unreachable contacts' feeds are looked for at their home nodes. */
export const PULL_EVERY_MS = 10 * 60_000
/** After a failed push, the next try waits this long (or for a connection to the home node). */
const PUSH_RETRY_MS = 60_000

export class FeedSeeding {
  private timer: ReturnType<typeof setTimeout> | undefined
  private pullTimer: ReturnType<typeof setInterval> | undefined
  private pushing: Promise<void> | undefined
  private again = false
  private stopped = false
  private readonly controller = new AbortController()
  private readonly off: (() => void)[] = []

  constructor(
    private readonly messenger: Messenger,
    private readonly engine: FeedEngine,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.off.push(
      this.engine.events.on('appended', ({ feed }) => {
        if (feed === this.engine.self) this.schedule(PUSH_DEBOUNCE_MS)
      }),
    )
    const onConnect = (e: Event) => {
      const peer = (e as CustomEvent<PeerId>).detail.toString()
      if (peer === this.messenger.homeNode()?.peerId) this.schedule(0)
    }
    this.messenger.node.addEventListener('peer:connect', onConnect)
    this.off.push(() => this.messenger.node.removeEventListener('peer:connect', onConnect))
    this.schedule(0)
    void this.pullAll().catch(() => undefined)
    // Each round also pushes again: a post made before the home node was linked, or while it was down.
    this.pullTimer = setInterval(() => {
      this.schedule(0)
      void this.pullAll().catch(() => undefined)
    }, PULL_EVERY_MS)
    ;(this.pullTimer as { unref?: () => void }).unref?.()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.controller.abort()
    clearTimeout(this.timer)
    clearInterval(this.pullTimer)
    for (const off of this.off.splice(0)) off()
    await this.pushing?.catch(() => undefined)
  }

  /** Pushes what our home node lacks of our feed now (nothing when we have none). Throws FeedError. */
  async push(): Promise<void> {
    if (this.pushing !== undefined) {
      this.again = true
      return this.pushing
    }
    this.pushing = (async () => {
      do {
        this.again = false
        const home = this.messenger.homeNode()
        if (home === null || this.stopped) return
        await pushOwnFeed(this.messenger.node, home, this.engine, { signal: this.controller.signal })
      } while (this.again && !this.stopped)
    })().finally(() => {
      this.pushing = undefined
    })
    return this.pushing
  }

  /**
   * Pulls from their home nodes the feeds of accepted contacts who are not online and whose key
   * we hold; resolves to the entries and snapshots applied. Unreachable home nodes are skipped.
   */
  async pullAll(): Promise<number> {
    let applied = 0
    for (const c of this.messenger.contactList()) {
      if (this.stopped) break
      if (c.state !== 'accepted' || c.online) continue
      const feed = c.identityKey as FeedId
      if (this.engine.epochs(feed).length === 0) continue
      const home = this.messenger.contactHome(c.id)
      if (home === undefined) continue
      try {
        applied += await pullSeededFeed(this.messenger.node, home, this.engine, feed, {
          signal: this.controller.signal,
        })
      } catch (error) {
        this.log.debug('feed not pulled from a home node', {
          contact: c.id,
          error: error instanceof Error ? error.name : 'unknown',
        })
      }
    }
    return applied
  }

  private schedule(ms: number): void {
    if (this.stopped || this.messenger.homeNode() === null) return
    if (this.timer !== undefined) {
      if (ms > 0) return
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.push().catch((error) => {
        this.log.debug('feed not pushed to the home node', {
          error: error instanceof Error ? error.name : 'unknown',
        })
        if (!this.stopped && this.timer === undefined) this.schedule(PUSH_RETRY_MS)
      })
    }, ms)
  }
}
