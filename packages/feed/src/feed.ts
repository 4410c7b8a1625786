/**
 * The moments feed for an app: `Feed.open(messenger)` right after `Messenger.open`, then post,
 * like, comment and read the timeline. Wires the engine (signed logs in the store), the sync
 * protocol (/jiayi/feed/1) and key distribution (over the messenger's sessions) together.
 */
import { type ContactId, type ContactView, contactIdFor, type Logger, type Messenger } from '@jiayi/core'
import type { FeedStats } from './counters.js'
import { FeedEngine } from './engine.js'
import { FeedError } from './errors.js'
import { type CommentId, type FeedId, isItemId, newItemId, type PostId } from './ids.js'
import { KeyDistribution } from './keys.js'
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
import { Emitter } from './util.js'

export interface FeedInit {
  /** The owner signs a compacted snapshot after this many updates (default 256). */
  readonly snapshotEveryUpdates?: number
  /** ... or after this many bytes of updates (default 256 KiB). */
  readonly snapshotEveryBytes?: number
  readonly log?: Logger
}

export interface FeedEvents extends Record<string, unknown> {
  /** Someone's feed changed (ours included): re-read the timeline. */
  change: { readonly feed: FeedId; readonly author?: AuthorView; readonly local: boolean }
}

const silent: Logger = { debug() {}, info() {}, warn() {} }

export class Feed {
  readonly events = new Emitter<FeedEvents>()
  private readonly unsubscribe: (() => void)[] = []
  private stopped = false

  private constructor(
    private readonly messenger: Messenger,
    private readonly engineRef: FeedEngine,
    private readonly sync: FeedSync,
    private readonly keys: KeyDistribution,
  ) {}

  /** Opens the feed on a running messenger (call right after `Messenger.open`). */
  static async open(messenger: Messenger, init: FeedInit = {}): Promise<Feed> {
    const log = init.log ?? silent
    const engine = await FeedEngine.open({
      store: messenger.store,
      identity: messenger.account.identity,
      snapshotEveryUpdates: init.snapshotEveryUpdates,
      snapshotEveryBytes: init.snapshotEveryBytes,
      log,
    })
    const byPeer = (peer: PeerId) => messenger.contactList().find((c) => c.peerId === peer.toString())
    let keys: KeyDistribution | undefined
    const sync = feedSync({
      engine,
      allow: (peer) => byPeer(peer)?.state === 'accepted',
      onHave: (peer, feeds) => {
        const contact = byPeer(peer)
        if (contact !== undefined) keys?.checkHave(contact.id, feeds)
      },
      log,
    })({ node: messenger.node })
    let feed: Feed | undefined
    keys = new KeyDistribution({
      messenger,
      engine,
      log,
      onKey: (contact) => feed?.keyArrived(contact),
      onAccepted: (contact) => feed?.pullFrom(contact),
      onRemoved: () => undefined,
    })
    feed = new Feed(messenger, engine, sync, keys)
    feed.unsubscribe.push(
      engine.events.on('change', ({ feed: id, local }) => {
        feed?.events.emit('change', { feed: id, author: feed.authorOf(id), local })
      }),
    )
    await keys.start()
    await sync.start()
    return feed
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
    this.keys.stop()
    await this.sync.stop()
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
    if (!this.stopped) void this.pull(contact).catch(() => undefined)
  }

  /** A contact's key arrived: ask everyone again (any contact may relay that feed). */
  private keyArrived(contact: ContactView | undefined): void {
    if (this.stopped) return
    this.sync.refresh()
    if (contact !== undefined && !this.sync.pulling().includes(contact.peerId)) this.pullFrom(contact)
  }

  private assertRunning(): void {
    if (this.stopped) throw new FeedError('Stopped', 'the feed is stopped')
  }
}

function checkId<T extends PostId | CommentId>(id: string): T {
  if (!isItemId(id)) throw new FeedError('BadInput', 'an id is 32 hex characters')
  return id as T
}
