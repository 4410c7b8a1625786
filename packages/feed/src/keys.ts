/**
 * Feed keys between contacts, over the messenger (PROTOCOL.md, "Feed keys").
 *
 * - Each accepted contact gets our current feed key once per epoch, as a 'feed-key' extension
 *   payload through our pairwise Double Ratchet session (end to end encrypted, persisted outbox,
 *   retried). A marker per contact records the epoch last handed over.
 * - A contact's key is stored in the same Tx as the ratchet step that delivered it.
 * - Removing a contact who had our key rotates it: a new epoch, a snapshot sealed under the new
 *   key, and the new key to every remaining contact. The removed one can read nothing new.
 *   Their feed is forgotten here too.
 * - Self-healing: a contact whose HAVE shows an older epoch of our feed than ours (a lost key
 *   message, say) gets the key again, at most once a minute.
 */
import {
  type ContactId,
  type ContactView,
  decodeStoreKey,
  type ExtensionContext,
  type ExtensionHandler,
  KeyedQueue,
  type Logger,
  type Messenger,
  peerMay,
} from '@jiayi/core'
import type { FeedEngine } from './engine.js'
import { FeedError } from './errors.js'
import { type FeedId, feedIdOf, isFeedId } from './ids.js'
import { decodeJson, encodeJson, FeedKeys } from './storage.js'
import { decodeFeedKey, encodeFeedKey, type FeedHave } from './wire.js'

export const FEED_KEY_EXTENSION = 'feed-key'

const RESEND_INTERVAL_MS = 60_000

export interface KeyDistributionInit {
  readonly messenger: Messenger
  readonly engine: FeedEngine
  /** A contact became accepted. */
  readonly onAccepted: (contact: ContactView) => void
  /** A contact's feed was dropped (removed). */
  readonly onRemoved: (feed: FeedId) => void
  readonly log: Logger
}

/**
 * The receiving side of 'feed-key' (give it to `Messenger.open({ extensions })` so that no key
 * can arrive before it is in place). Runs inside the conversation's queue: the key is stored in the
 * same Tx as the ratchet step that delivered it; `onStored` runs after the commit.
 */
export function feedKeyHandler(
  engine: FeedEngine,
  onStored: (contact: ContactId, feed: FeedId) => void,
): ExtensionHandler {
  return {
    requires: 'feed-key',
    async receive(ctx: ExtensionContext): Promise<void> {
      let message: { epoch: number; key: Uint8Array }
      try {
        message = decodeFeedKey(ctx.body)
      } catch (error) {
        if (!FeedError.is(error)) throw error
        engine.counters.reject('Malformed')
        return
      }
      const feed = ctx.contact.identityKey as FeedId
      if (!isFeedId(feed) || feed === engine.self) return
      for (const op of engine.keyOps(feed, message.epoch, message.key)) {
        if (op.type === 'put') ctx.put(op.key, op.value)
        else ctx.del(op.key)
      }
      ctx.after(() => {
        engine.keyStored(feed, message.epoch, message.key)
        onStored(ctx.contact.id, feed)
      })
    },
  }
}

export class KeyDistribution {
  private readonly queue = new KeyedQueue()
  /** Contact id -> their feed id, so a removal (which carries only the id) finds the feed. */
  private readonly feedOf = new Map<ContactId, FeedId>()
  private readonly lastResend = new Map<ContactId, number>()
  private unsubscribe: (() => void) | undefined
  private stopped = false

  constructor(private readonly init: KeyDistributionInit) {}

  private get messenger(): Messenger {
    return this.init.messenger
  }

  private get engine(): FeedEngine {
    return this.init.engine
  }

  /** Follows contact events and catches up: keys owed, feeds of contacts removed meanwhile. */
  async start(): Promise<void> {
    this.unsubscribe = this.messenger.events.on('contact', (e) => {
      if (e.change === 'removed') void this.removed(e.id).catch((error) => this.warn('removal', error))
      else if (e.contact !== undefined) this.seen(e.contact)
    })
    const contacts = this.messenger.contactList()
    for (const c of contacts) this.feedOf.set(c.id, c.identityKey as FeedId)
    // Feeds of people who are no longer contacts (removed while the feed was not running).
    const current = new Set(contacts.map((c) => c.identityKey))
    for (const feed of this.engine.feedIds()) {
      if (feed !== this.engine.self && !current.has(feed)) {
        await this.engine.dropFeed(feed)
        this.init.onRemoved(feed)
      }
    }
    // Markers of contacts removed meanwhile: they had our key, so rotate.
    let rotate = false
    for await (const [k] of this.messenger.store.iterate({ prefix: FeedKeys.sentAll() })) {
      const cid = decodeStoreKey(k)[2]
      if (!contacts.some((c) => c.id === cid)) {
        await this.messenger.store.del(k)
        rotate = true
      }
    }
    if (rotate) await this.rotate()
    for (const c of contacts)
      if (peerMay(c.state, 'get-feed-key')) void this.ensureSent(c.id).catch(() => undefined)
  }

  stop(): void {
    this.stopped = true
    this.unsubscribe?.()
  }

  private seen(contact: ContactView): void {
    if (!isFeedId(contact.identityKey)) return
    this.feedOf.set(contact.id, contact.identityKey)
    if (!peerMay(contact.state, 'get-feed-key') || this.stopped) return
    void this.ensureSent(contact.id).catch((error) => this.warn('send', error))
    this.init.onAccepted(contact)
  }

  private contactView(id: ContactId): ContactView | undefined {
    try {
      return this.messenger.contact(id)
    } catch {
      return undefined
    }
  }

  /** Hands our current key to `cid` unless they have it already (or `force`). */
  async ensureSent(cid: ContactId, force = false): Promise<void> {
    await this.queue.run(cid, async () => {
      if (this.stopped) return
      const contact = this.contactView(cid)
      if (contact === undefined || !peerMay(contact.state, 'get-feed-key')) return
      const { epoch, key } = this.engine.currentKey()
      const marker = await this.messenger.store.get(FeedKeys.sent(cid))
      if (!force && marker !== undefined && decodeJson<number>(marker) >= epoch) return
      await this.messenger.sendExtension(cid, FEED_KEY_EXTENSION, encodeFeedKey({ epoch, key }))
      await this.messenger.store.put(FeedKeys.sent(cid), encodeJson(epoch))
      this.init.log.debug('feed key sent', { contact: cid, epoch })
    })
  }

  /** A contact's HAVE: if it lacks our newest key, send it again (throttled). */
  checkHave(cid: ContactId, feeds: readonly FeedHave[]): void {
    const ours = feeds.find((f) => feedIdOf(f.feed) === this.engine.self)
    if (ours !== undefined && ours.maxEpoch >= this.engine.currentEpoch()) return
    const now = Date.now()
    if (now - (this.lastResend.get(cid) ?? 0) < RESEND_INTERVAL_MS) return
    this.lastResend.set(cid, now)
    void this.ensureSent(cid, true).catch((error) => this.warn('resend', error))
  }

  private async removed(cid: ContactId): Promise<void> {
    const feed = this.feedOf.get(cid)
    this.feedOf.delete(cid)
    this.lastResend.delete(cid)
    if (feed !== undefined) {
      await this.engine.dropFeed(feed)
      this.init.onRemoved(feed)
    }
    const hadKey = await this.queue.run(cid, async () => {
      const marker = await this.messenger.store.get(FeedKeys.sent(cid))
      await this.messenger.store.del(FeedKeys.sent(cid))
      return marker !== undefined
    })
    if (hadKey) await this.rotate()
  }

  /** A new epoch, and its key to every accepted contact. */
  async rotate(): Promise<void> {
    if (this.stopped) return
    await this.engine.rotateKey()
    await Promise.all(
      this.messenger
        .contactList()
        .filter((c) => peerMay(c.state, 'get-feed-key'))
        .map((c) => this.ensureSent(c.id).catch((error) => this.warn('send', error))),
    )
  }

  private warn(what: string, error: unknown): void {
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'Unknown'
    this.init.log.warn(`feed key ${what} failed`, { code })
  }
}
