/**
 * The moments feed for an app: `Feed.open(messenger)` right after `Messenger.open`, then post,
 * like, comment and read the timeline. Wires the engine (signed logs in the store), the sync
 * protocol (/jiayi/feed/2), key distribution (over the messenger's sessions) and, given the
 * files service, the delivery of posts' pictures (attachment-offers.ts) together.
 */
import {
  type ContactId,
  type ContactView,
  contactIdFor,
  Emitter,
  type ExtensionHandler,
  type FileService,
  type IdentityKeyPair,
  type Logger,
  type MessageView,
  type Messenger,
  type Sha256Hasher,
  type Store,
} from '@jiayi/core'
import { AttachmentMessages } from './attachment-messages.js'
import { AttachmentOffers } from './attachment-offers.js'
import {
  isNewAttachment,
  type NewAttachment,
  type PreparedAttachment,
  prepareAttachment,
  refSha256,
} from './attachment-source.js'
import type { FeedStats } from './counters.js'
import { FeedEngine } from './engine.js'
import { FeedError } from './errors.js'
import { FeedSearch } from './feed-search.js'
import { type CommentId, type FeedId, isItemId, newItemId, type PostId, type ReactionId } from './ids.js'
import { FEED_KEY_EXTENSION, feedKeyHandler, KeyDistribution } from './keys.js'
import { MAX_ATTACHMENTS } from './limits.js'
import { ReactionReader } from './reaction-reader.js'
import { type ReactionContent, sealReaction } from './reactions.js'
import {
  type AttachmentRef,
  checkCommentText,
  checkPostInput,
  isDeleted,
  type PostInput,
  type PostRef,
  reactionsOf,
  readPost,
  readPosts,
  writeDeletePost,
  writeDeleteReaction,
  writePost,
  writeReaction,
} from './schema.js'
import { FeedSeeding } from './seeding.js'
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
  /** Where posts' pictures travel; without it a post takes attachment references only. */
  readonly files?: FeedFiles | undefined
  readonly log?: Logger
}

/** The files layer the feed offers its posts' attachments through. */
export interface FeedFiles {
  /** The peer's file service, started before the feed (its transfers say what was offered). */
  readonly service: Pick<FileService, 'sendFile' | 'transfers' | 'forward'>
  /** The platform's SHA-256 (the file storage's `createHasher`); default @noble's. */
  readonly createHasher?: (() => Sha256Hasher) | undefined
}

/** A post as the app writes it: attachments are new files (hashed and offered) or references. */
export interface PostDraft {
  readonly text: string
  readonly links?: PostInput['links']
  readonly attachments?: readonly (AttachmentRef | NewAttachment)[]
}

/** Our latest posts whose attachments a newly accepted contact gets. */
const RECENT_POSTS_OFFERED = 50

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
  private readonly reader: ReactionReader
  private resealing: Promise<void> = Promise.resolve()
  private finder: FeedSearch | undefined
  private offers: AttachmentOffers | undefined
  private seeding: FeedSeeding | undefined
  private readonly attachmentMessages = new AttachmentMessages(() => this.referencedAttachments())

  private constructor(
    private readonly engineRef: FeedEngine,
    private readonly log: Logger,
    private readonly files: FeedFiles | undefined,
  ) {
    this.reader = new ReactionReader(engineRef)
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
    return new Feed(engine, log, init.files)
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
      // Accepted contacts, and our own other devices: what we post, like and comment on one
      // device (its own replica of our feed) reaches the others directly.
      allow: (peer) =>
        messenger.peerMay(peer.toString(), 'sync-feed') || messenger.isOwnDevice(peer.toString()),
      onHave: (peer, feeds) => {
        const contact = byPeer(peer)
        if (contact !== undefined) keys.checkHave(contact.id, feeds)
      },
      log,
    })({ node: messenger.node })
    this.running = { messenger, sync, keys }
    this.unsubscribe.push(
      engine.events.on('change', ({ feed, local }) => {
        this.attachmentMessages.changed()
        this.events.emit('change', { feed, author: this.authorOf(feed), local })
      }),
      // A contact removed (or otherwise no longer allowed) loses its open feed streams at once.
      messenger.events.on('contact', () => sync.revalidate()),
      // So does a device of ours that was removed.
      messenger.events.on('own-devices', () => sync.revalidate()),
      engine.events.on('keys', () => this.reseal()),
    )
    await keys.start()
    await sync.start()
    // Posts and comments join the messenger's search (feed-search.ts).
    this.finder = new FeedSearch({
      store: messenger.store,
      engine,
      messenger,
      sources: () => this.sources(),
      log,
    })
    this.finder.start()
    this.seeding = new FeedSeeding(messenger, engine, log)
    this.seeding.start()
    // A key may have arrived just before a crash, its resealing not yet written.
    this.reseal()
    if (this.files !== undefined) {
      this.offers = new AttachmentOffers({
        messenger,
        files: this.files.service,
        recentOwn: () => this.recentOwnAttachments(),
        log,
      })
      this.offers.start()
    }
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

  /**
   * Writes a new post. Each new attachment (`{ open }`) is hashed once and referred to as
   * `sha256:<hex>`; its bytes are offered to every accepted contact as the post's attachment
   * (resolves once each offer is queued), and to contacts accepted later.
   */
  async post(input: PostDraft | string): Promise<PostView> {
    this.assertRunning()
    const draft = typeof input === 'string' ? { text: input } : input
    const wanted = draft.attachments ?? []
    // Everything else is checked before any file is read.
    checkPostInput({ ...draft, attachments: [] })
    if (wanted.length > MAX_ATTACHMENTS)
      throw new FeedError('BadInput', `a post has at most ${MAX_ATTACHMENTS} attachments`)
    const fresh = await this.prepareAttachments(wanted)
    const content = checkPostInput({
      ...draft,
      attachments: wanted.map((a) => (isNewAttachment(a) ? fresh.get(a)!.ref : a)),
    })
    const id = newItemId<PostId>()
    await this.engineRef.write((doc) => writePost(doc, id, { ...content, createdAt: Date.now() }))
    await this.offers?.offerNew([...fresh.values()])
    return this.get(id)!
  }

  private async prepareAttachments(
    wanted: readonly (AttachmentRef | NewAttachment)[],
  ): Promise<Map<NewAttachment, PreparedAttachment>> {
    const fresh = wanted.filter(isNewAttachment)
    if (fresh.length === 0) return new Map()
    if (this.files === undefined)
      throw new FeedError('NoFiles', 'this feed has no files service to send pictures with')
    const createHasher = this.files.createHasher
    const prepared = await Promise.all(fresh.map((a) => prepareAttachment(a, createHasher)))
    return new Map(fresh.map((a, i) => [a, prepared[i]!]))
  }

  /**
   * The full id of a post we can see, from its id or from its first 4 or more hex digits (as
   * people copy them from a list). UnknownPost when none matches; BadInput when several do.
   */
  postIdOf(ref: string): PostId {
    const wanted = typeof ref === 'string' ? ref.toLowerCase() : ''
    if (isItemId(wanted)) return wanted
    if (!/^[0-9a-f]{4,31}$/.test(wanted))
      throw new FeedError('BadInput', 'a post id is 32 hex digits, or its first 4 or more')
    const matches = new Set<PostId>()
    for (const source of this.sources())
      for (const [id] of readPosts(source.doc)) if (id.startsWith(wanted)) matches.add(id)
    const [only, ...others] = matches
    if (only === undefined)
      throw new FeedError('UnknownPost', `no post in your timeline starts with ${wanted}`)
    if (others.length > 0)
      throw new FeedError('BadInput', `${matches.size} posts start with ${wanted}: give more of the id`)
    return only
  }

  /** Replaces a post's text, links and attachments (our own posts only). */
  async edit(postId: string, input: PostInput | string): Promise<PostView> {
    this.assertRunning()
    const id = this.postIdOf(postId)
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
    const id = this.postIdOf(postId)
    await this.engineRef.write((doc) => {
      if (readPost(doc, id) === undefined) throw new FeedError('UnknownPost', 'no such post of ours')
      writeDeletePost(doc, id, Date.now())
    })
  }

  async like(postId: string): Promise<PostView> {
    this.assertRunning()
    const ref = this.resolve(postId)
    const already = this.ownReactions().some((r) => r.kind === 'like' && sameRef(r.target, ref))
    if (!already) await this.react(ref, { kind: 'like', post: ref.post, text: '', createdAt: Date.now() })
    return this.get(ref.post)!
  }

  async unlike(postId: string): Promise<void> {
    this.assertRunning()
    // The post may be gone (then only its whole id names it): unlike whatever we liked under it.
    const id = isItemId(postId) ? postId : this.postIdOf(postId)
    // The post may be gone: unlike whatever we liked under that id.
    const ours = this.ownReactions().filter((r) => r.kind === 'like' && r.target.post === id)
    if (ours.length === 0) return
    await this.engineRef.write((doc) => {
      for (const r of ours) writeDeleteReaction(doc, r.id, Date.now())
    })
  }

  async comment(postId: string, text: string): Promise<CommentView> {
    this.assertRunning()
    const ref = this.resolve(postId)
    const checked = checkCommentText(text)
    const createdAt = Date.now()
    const id = await this.react(ref, { kind: 'comment', post: ref.post, text: checked, createdAt })
    return { id, author: this.me(), text: checked, createdAt: new Date(createdAt).toISOString() }
  }

  async deleteComment(commentId: string): Promise<void> {
    this.assertRunning()
    const id = checkId<CommentId>(commentId)
    await this.engineRef.write((doc) => {
      if (!reactionsOf(doc).has(id) || isDeleted(doc, 'reaction', id)) {
        throw new FeedError('UnknownComment', 'no such comment of ours')
      }
      writeDeleteReaction(doc, id, Date.now())
    })
  }

  /**
   * Writes a like or comment into our feed, sealed under the newest key we hold of the post
   * owner's feed: only the owner's friends open it, and only ours receive it.
   */
  private async react(ref: PostRef, content: ReactionContent): Promise<ReactionId> {
    const keys = this.reader.sealingKeys(ref.feed)
    if (keys === undefined) throw new FeedError('UnknownPost', 'no such post in your timeline')
    const id = newItemId<ReactionId>()
    const sealed = sealReaction(keys, this.engineRef.self, id, content)
    await this.engineRef.write((doc) => writeReaction(doc, id, sealed))
    return id
  }

  /**
   * Our likes and comments sealed under an older key of their post owner's feed than the newest
   * we hold are sealed again under it: a friend the owner makes after a rotation holds only the
   * new key, and must still read them (as WeChat shows a new friend the old comments of friends
   * in common). Runs one at a time; nothing is written when nothing is stale.
   */
  private reseal(): void {
    const self = this.engineRef.self
    this.resealing = this.resealing
      .then(() =>
        this.engineRef.write((doc) => {
          const stale = [...this.reader.read(self, doc)].filter(
            (r) => r.epoch < this.engineRef.maxEpoch(r.target.feed),
          )
          for (const r of stale) {
            const keys = this.reader.sealingKeys(r.target.feed)
            if (keys === undefined) continue
            const { kind, post, text, createdAt } = r
            writeReaction(doc, r.id, sealReaction(keys, self, r.id, { kind, post, text, createdAt }))
          }
        }),
      )
      .then(
        () => undefined,
        (error) => {
          if (!FeedError.is(error) || error.code !== 'Stopped') {
            this.log.warn('reactions not sealed again', {
              code: FeedError.is(error) ? error.code : 'Unknown',
            })
          }
        },
      )
  }

  /** Our own likes and comments that we can still open. */
  private ownReactions() {
    const doc = this.engineRef.doc(this.engineRef.self)
    return doc === undefined ? [] : [...this.reader.read(this.engineRef.self, doc)]
  }

  // ------------------------------------------------------------------ reading

  /**
   * Whether a chat message is one of the posts' attachments (a file offered before offers said
   * so): apps leave such messages out of conversations.
   */
  isAttachmentMessage(message: MessageView): boolean {
    return this.attachmentMessages.isAttachmentMessage(message)
  }

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

  /**
   * Pushes what our home node lacks of our feed, now (it also goes by itself after each change);
   * nothing without a home node. Rejects with FeedError when the home node refuses or is away.
   */
  async pushToHomeNode(): Promise<void> {
    if (this.seeding === undefined) throw new FeedError('Stopped', 'the feed is not started')
    await this.seeding.push()
  }

  /**
   * Pulls the feeds of contacts who are offline from their home nodes, now (also at start and
   * every ten minutes); resolves to the entries and snapshots applied.
   */
  async pullFromHomeNodes(): Promise<number> {
    if (this.seeding === undefined) throw new FeedError('Stopped', 'the feed is not started')
    return this.seeding.pullAll()
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
    this.offers?.stop()
    await this.seeding?.stop()
    for (const u of this.unsubscribe) u()
    await this.finder?.stop()
    this.running?.keys.stop()
    await this.running?.sync.stop()
    await this.engineRef.close()
  }

  // ------------------------------------------------------------------ internals

  /** The feeds we show: ours, and those of accepted contacts whose key we hold. */
  private sources(): FeedSource[] {
    const out: FeedSource[] = []
    const self = this.engineRef.self
    const ownDoc = this.engineRef.doc(self)
    if (ownDoc !== undefined) {
      out.push({
        feed: self,
        doc: ownDoc,
        author: this.me(),
        reactions: () => this.reader.read(self, ownDoc),
      })
    }
    for (const c of this.messenger.contactList()) {
      if (c.state !== 'accepted') continue
      const feed = c.identityKey as FeedId
      const doc = this.engineRef.doc(feed)
      if (doc === undefined) continue
      const author = { id: c.id, name: c.name, me: false }
      out.push({ feed, doc, author, reactions: () => this.reader.read(feed, doc) })
    }
    return out
  }

  /** The SHA-256 (hex) of every attachment of our latest posts. */
  private recentOwnAttachments(): Set<string> {
    const hashes = new Set<string>()
    const doc = this.engineRef.doc(this.engineRef.self)
    if (doc === undefined) return hashes
    const latest = [...readPosts(doc)]
      .sort(([, a], [, b]) => b.createdAt - a.createdAt)
      .slice(0, RECENT_POSTS_OFFERED)
    for (const [, post] of latest) addAttachmentHashes(post.attachments, hashes)
    return hashes
  }

  /** The SHA-256 (hex) of every attachment of the posts we can see. */
  private referencedAttachments(): Set<string> {
    const hashes = new Set<string>()
    for (const source of this.sources())
      for (const [, post] of readPosts(source.doc)) addAttachmentHashes(post.attachments, hashes)
    return hashes
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
    const id = this.postIdOf(postId)
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

function addAttachmentHashes(attachments: readonly AttachmentRef[], into: Set<string>): void {
  for (const a of attachments) {
    const sha = refSha256(a.ref)
    if (sha !== undefined) into.add(sha)
  }
}

function sameRef(a: PostRef, b: PostRef): boolean {
  return a.feed === b.feed && a.post === b.post
}

function checkId<T extends PostId | CommentId>(id: string): T {
  if (!isItemId(id)) throw new FeedError('BadInput', 'an id is 32 hex characters')
  return id as T
}
