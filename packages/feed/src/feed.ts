/**
 * The moments feed for an app: `Feed.open(messenger)` right after `Messenger.open`, then post,
 * like, comment and read the timeline. Wires the engine (signed logs in the store), the sync
 * protocol (/jiayi/feed/2) and key distribution (over the messenger's sessions) together.
 */
import {
  type ContactId,
  type ContactView,
  contactIdFor,
  Emitter,
  type ExtensionHandler,
  type IdentityKeyPair,
  type Logger,
  type Messenger,
  type Store,
} from '@jiayi/core'
import type { FeedStats } from './counters.js'
import { FeedEngine } from './engine.js'
import { FeedError } from './errors.js'
import { type CommentId, type FeedId, isItemId, newItemId, type PostId } from './ids.js'
import { FEED_KEY_EXTENSION, feedKeyHandler, KeyDistribution } from './keys.js'
import {
  checkCommentText,
  checkPostInput,
  commentsOf,
  isDeleted,
  likeKey,
  likesOf,
  type PostInput,
  type PostRef,
  readPost,
  writeComment,
  writeDeleteComment,
  writeDeletePost,
  writeLike,
  writePost,
  writeUnlike,
} from './schema.js'
import { type FeedSync, feedSync, type PeerId } from './sync.js'
import {
  type AuthorView,
  buildTimeline,
  type CommentView,
  type FeedSource,
  findPost,
  type PostView,
  type TimelineOptions,
} from './timeline.js'

export interface FeedInit {
  /** The owner signs a compacted snapshot after this many updates (default 256). */
  readonly snapshotEveryUpdates?: number
  /** ... or after this many bytes of updates (default 256 KiB). */
  readonly snapshotEveryBytes?: number
  readonly log?: Logger
}

export interface FeedCreateInit extends FeedInit {
  /** The messenger's store (the feed keeps its records under its own prefix). */
  readonly store: Store
  /** The account's identity: it signs our feed. */
  readonly identity: IdentityKeyPair
}

export interface FeedEvents extends Record<string, unknown> {
  /** Someone's feed changed (ours included): re-read the timeline. */
  change: { readonly feed: FeedId; readonly author?: AuthorView; readonly local: boolean }
}

const silent: Logger = { debug() {}, info() {}, warn() {} }

/**
 * Two ways to start, like the files service:
 *
 *   const feed = await Feed.create({ store, identity: account.identity })
 *   const messenger = await Messenger.open({ store, node, account, extensions: feed.extensions })
 *   await feed.start(messenger)
 *
 * so that no feed key can arrive before its handler is in place; or `Feed.open(messenger)` right
 * after `Messenger.open` (a key that slipped in between is sent again: see keys.ts).
 */
export class Feed {
  readonly events = new Emitter<FeedEvents>()
  /** Messenger extension handlers to install at `Messenger.open`. */
  readonly extensions: Readonly<Record<string, ExtensionHandler>>
  private readonly unsubscribe: (() => void)[] = []
  private running: { messenger: Messenger; sync: FeedSync; keys: KeyDistribution } | undefined
  private stopped = false

  private constructor(
    private readonly engineRef: FeedEngine,
    private readonly log: Logger,
  ) {
    this.extensions = {
      [FEED_KEY_EXTENSION]: feedKeyHandler(engineRef, (contact) => this.keyArrived(contact)),
    }
  }

  /** Opens the feed's store records; `start` it once the messenger runs. */
  static async create(init: FeedCreateInit): Promise<Feed> {
    const log = init.log ?? silent
    const engine = await FeedEngine.open({
      store: init.store,
      identity: init.identity,
      snapshotEveryUpdates: init.snapshotEveryUpdates,
      snapshotEveryBytes: init.snapshotEveryBytes,
      log,
    })
    return new Feed(engine, log)
  }

  /** Creates and starts the feed on a running messenger. */
  static async open(messenger: Messenger, init: FeedInit = {}): Promise<Feed> {
    const feed = await Feed.create({ ...init, store: messenger.store, identity: messenger.account.identity })
    await feed.start(messenger)
    return feed
  }

  /** Starts key distribution and sync on `messenger` (whose store and identity the feed was created with). */
  async start(messenger: Messenger): Promise<void> {
    if (this.running !== undefined || this.stopped)
      throw new FeedError('Stopped', 'the feed was started already')
    const engine = this.engineRef
    const log = this.log
    for (const [kind, handler] of Object.entries(this.extensions)) messenger.registerExtension(kind, handler)
    const byPeer = (peer: PeerId) => messenger.contactList().find((c) => c.peerId === peer.toString())
    const keys = new KeyDistribution({
      messenger,
      engine,
      log,
      onAccepted: (contact) => this.pullFrom(contact),
      onRemoved: () => undefined,
    })
    const sync = feedSync({
      engine,
      allow: (peer) => messenger.peerMay(peer.toString(), 'sync-feed'),
      onHave: (peer, feeds) => {
        const contact = byPeer(peer)
        if (contact !== undefined) keys.checkHave(contact.id, feeds)
      },
      log,
    })({ node: messenger.node })
    this.running = { messenger, sync, keys }
    this.unsubscribe.push(
      engine.events.on('change', ({ feed, local }) => {
        this.events.emit('change', { feed, author: this.authorOf(feed), local })
      }),
      // A contact removed (or otherwise no longer allowed) loses its open feed streams at once.
      messenger.events.on('contact', () => sync.revalidate()),
    )
    await keys.start()
    await sync.start()
  }

  private get messenger(): Messenger {
    if (this.running === undefined) throw new FeedError('Stopped', 'the feed is not started')
    return this.running.messenger
  }

  private get sync(): FeedSync {
    if (this.running === undefined) throw new FeedError('Stopped', 'the feed is not started')
    return this.running.sync
  }

  /** The engine underneath (signed logs, docs, counters), for tools and tests. */
  get engine(): FeedEngine {
    return this.engineRef
  }

  /** Our feed's id (our identity key, hex). */
  get id(): FeedId {
    return this.engineRef.self
  }

  // ------------------------------------------------------------------ writing

  async post(input: PostInput | string): Promise<PostView> {
    this.assertRunning()
    const content = checkPostInput(typeof input === 'string' ? { text: input } : input)
    const id = newItemId<PostId>()
    await this.engineRef.write((doc) => writePost(doc, id, { ...content, createdAt: Date.now() }))
    return this.get(id)!
  }

  /** Replaces a post's text, links and attachments (our own posts only). */
  async edit(postId: string, input: PostInput | string): Promise<PostView> {
    this.assertRunning()
    const id = checkId<PostId>(postId)
    const content = checkPostInput(typeof input === 'string' ? { text: input } : input)
    await this.engineRef.write((doc) => {
      const old = readPost(doc, id)
      if (old === undefined) throw new FeedError('UnknownPost', 'no such post of ours')
      writePost(doc, id, { ...content, createdAt: old.createdAt, editedAt: Date.now() })
    })
    return this.get(id)!
  }

  /** Deletes one of our posts: its content goes, a signed tombstone stays. */
  async deletePost(postId: string): Promise<void> {
    this.assertRunning()
    const id = checkId<PostId>(postId)
    await this.engineRef.write((doc) => {
      if (readPost(doc, id) === undefined) throw new FeedError('UnknownPost', 'no such post of ours')
      writeDeletePost(doc, id, Date.now())
    })
  }

  async like(postId: string): Promise<PostView> {
    this.assertRunning()
    const ref = this.resolve(postId)
    await this.engineRef.write((doc) => {
      if (!likesOf(doc).has(likeKey(ref))) writeLike(doc, ref, Date.now())
    })
    return this.get(ref.post)!
  }

  async unlike(postId: string): Promise<void> {
    this.assertRunning()
    const id = checkId<PostId>(postId)
    await this.engineRef.write((doc) => {
      // The post may be gone: unlike whatever we liked under that id.
      for (const key of [...likesOf(doc).keys()]) {
        if (key.endsWith(`:${id}`)) {
          const [feed] = key.split(':') as [FeedId]
          writeUnlike(doc, { feed, post: id })
        }
      }
    })
  }

  async comment(postId: string, text: string): Promise<CommentView> {
    this.assertRunning()
    const ref = this.resolve(postId)
    const checked = checkCommentText(text)
    const id = newItemId<CommentId>()
    const createdAt = Date.now()
    await this.engineRef.write((doc) => writeComment(doc, id, { ...ref, text: checked, createdAt }))
    return { id, author: this.me(), text: checked, createdAt: new Date(createdAt).toISOString() }
  }

  async deleteComment(commentId: string): Promise<void> {
    this.assertRunning()
    const id = checkId<CommentId>(commentId)
    await this.engineRef.write((doc) => {
      if (!commentsOf(doc).has(id) || isDeleted(doc, 'comment', id)) {
        throw new FeedError('UnknownComment', 'no such comment of ours')
      }
      writeDeleteComment(doc, id, Date.now())
    })
  }

  // ------------------------------------------------------------------ reading

  /** Newest first: our posts and our contacts', with likes and comments from feeds we hold. */
  timeline(options: TimelineOptions = {}): PostView[] {
    return buildTimeline(this.sources(), options)
  }

  /** One post we can see, by id. */
  get(postId: string): PostView | undefined {
    return isItemId(postId) ? findPost(this.sources(), postId) : undefined
  }

  stats(): FeedStats & { readonly feeds: number; readonly epoch: number } {
    return {
      ...this.engineRef.counters.snapshot(),
      feeds: this.engineRef.feedIds().length,
      epoch: this.engineRef.currentEpoch(),
    }
  }

  /**
   * Syncs with every connected contact now; resolves when each has sent what we lacked (or
   * could not be reached). Sync also runs by itself on connect and live while connected.
   */
  async syncNow(): Promise<void> {
    await Promise.all(
      this.messenger
        .contactList()
        .filter((c) => c.state === 'accepted' && c.online)
        .map((c) => this.pull(c).catch(() => undefined)),
    )
  }

  /** Syncs with one contact; rejects if they cannot be reached. */
  async syncWith(contactRef: string): Promise<void> {
    await this.pull(this.messenger.contact(contactRef))
  }

  /** Resolves once every queued write and apply has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await this.engineRef.idle()
  }

  /** Stops sync and closes the feed. Does not stop the messenger. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const u of this.unsubscribe) u()
    this.running?.keys.stop()
    await this.running?.sync.stop()
    await this.engineRef.close()
  }

  // ------------------------------------------------------------------ internals

  /** The feeds we show: ours, and those of accepted contacts whose key we hold. */
  private sources(): FeedSource[] {
    const out: FeedSource[] = []
    const ownDoc = this.engineRef.doc(this.engineRef.self)
    if (ownDoc !== undefined) out.push({ feed: this.engineRef.self, doc: ownDoc, author: this.me() })
    for (const c of this.messenger.contactList()) {
      if (c.state !== 'accepted') continue
      const feed = c.identityKey as FeedId
      const doc = this.engineRef.doc(feed)
      if (doc !== undefined) out.push({ feed, doc, author: { id: c.id, name: c.name, me: false } })
    }
    return out
  }

  private me(): AuthorView {
    return {
      id: contactIdFor(this.messenger.account.identity.signing.publicKey),
      name: this.messenger.account.name,
      me: true,
    }
  }

  private authorOf(feed: FeedId): AuthorView | undefined {
    if (feed === this.engineRef.self) return this.me()
    const c = this.messenger.contactList().find((x) => x.identityKey === feed)
    return c === undefined ? undefined : { id: c.id as ContactId, name: c.name, me: false }
  }

  /** The post a like or comment points at: it must be one we can see. */
  private resolve(postId: string): PostRef {
    const id = checkId<PostId>(postId)
    for (const source of this.sources()) {
      if (readPost(source.doc, id) !== undefined) return { feed: source.feed, post: id }
    }
    throw new FeedError('UnknownPost', 'no such post in your timeline')
  }

  private async pull(contact: ContactView): Promise<void> {
    const peer = this.messenger.node.getConnections().find((c) => c.remotePeer.toString() === contact.peerId)
    if (peer === undefined) throw new FeedError('Stopped', 'contact is not connected')
    await this.sync.pull(peer.remotePeer)
  }

  private pullFrom(contact: ContactView): void {
    if (!this.stopped && this.running !== undefined) void this.pull(contact).catch(() => undefined)
  }

  /** A contact's key arrived: ask everyone again (any contact may relay that feed). */
  private keyArrived(contactId: ContactId): void {
    const running = this.running
    if (this.stopped || running === undefined) return
    running.sync.refresh()
    const contact = running.messenger.contactList().find((c) => c.id === contactId)
    if (contact !== undefined && !running.sync.pulling().includes(contact.peerId)) this.pullFrom(contact)
  }

  private assertRunning(): void {
    if (this.stopped) throw new FeedError('Stopped', 'the feed is stopped')
  }
}

function checkId<T extends PostId | CommentId>(id: string): T {
  if (!isItemId(id)) throw new FeedError('BadInput', 'an id is 32 hex characters')
  return id as T
}
