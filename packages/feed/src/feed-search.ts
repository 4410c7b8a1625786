/**
 * Search over Moments: the posts and comments of the feeds the timeline shows (ours and our
 * accepted contacts'), as a search source of the Messenger, so that one search finds messages,
 * files, contacts, posts and comments, ranked together.
 *
 * The index is core's Postings under families of its own (`fx…`) in the messenger's store, so it
 * is sealed at rest like the rest: on disk a token is a keyed name, never the word. A group is a
 * feed; its mark is the feed's version vector and the keys held when it was indexed (a key that
 * arrives opens comments the feed held already). Indexing runs shortly after a feed changes, a
 * key arrives or a contact comes or goes, and at start (a store from before search, or a crash),
 * for each feed whose mark is not its state now: it compares each post's and comment's version
 * with the one indexed and writes only the difference, so an edit or a delete takes the old
 * words out. A feed no longer shown (its contact removed) is forgotten.
 *
 * Every hit is checked against the feeds as they are now: a feed not shown, a post gone, a
 * comment on a post we cannot see, or words no longer there show nothing.
 */
import {
  type BatchOp,
  BurstRunner,
  type ContactId,
  type Logger,
  type Messenger,
  Postings,
  type SearchResult,
  type SearchSource,
  type Store,
  tokensOf,
} from '@jiayi/core'
import type { FeedEngine } from './engine.js'
import type { FeedId } from './ids.js'
import { readPost } from './schema.js'
import { commentItems, postItem, type SearchItem, searchItems, textHash } from './search-items.js'
import type { FeedSource } from './timeline.js'

export interface FeedSearchInit {
  /** The messenger's store. */
  readonly store: Store
  readonly engine: FeedEngine
  readonly messenger: Pick<Messenger, 'events' | 'addSearchSource'>
  /** The feeds the timeline shows (feed.ts): the only ones indexed and found. */
  readonly sources: () => FeedSource[]
  readonly log: Logger
}

const FAMILY = 'fx'
/** A change is indexed once the feeds have been quiet this long, and at the latest after MAX_WAIT. */
const INDEX_DELAY_MS = 200
const INDEX_MAX_WAIT_MS = 2_000
/** Items per batch write while catching up. */
const BATCH = 500

export class FeedSearch implements SearchSource {
  private readonly postings: Postings
  /** Each indexed feed's mark; loaded at the first indexing. */
  private marks: Map<FeedId, string> | undefined
  /** Per feed, what is indexed: item id -> version; loaded when the feed is first indexed again. */
  private readonly indexed = new Map<FeedId, Map<string, string>>()
  private readonly off: (() => void)[] = []
  private stopped = false
  private readonly burst = new BurstRunner({
    delayMs: INDEX_DELAY_MS,
    maxWaitMs: INDEX_MAX_WAIT_MS,
    run: () => this.flush(),
    failed: (error) => this.init.log.warn('moments search indexing failed', { error }),
  })

  constructor(private readonly init: FeedSearchInit) {
    this.postings = new Postings(init.store, FAMILY)
  }

  /** Follows the feeds and contacts, catches up in the background, and joins the messenger's search. */
  start(): void {
    const changed = () => this.burst.schedule()
    this.off.push(
      this.init.engine.events.on('change', changed),
      this.init.engine.events.on('keys', changed),
      this.init.messenger.events.on('contact', changed),
      this.init.messenger.addSearchSource(this),
    )
    this.burst.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const off of this.off) off()
    await this.burst.stop()
  }

  /** Indexes now what waits. */
  async settled(): Promise<void> {
    await this.burst.settled()
  }

  async search(
    tokens: readonly string[],
    options: { readonly contact?: ContactId | undefined; readonly limit: number },
  ): Promise<SearchResult[]> {
    await this.settled()
    const shown = new Map(this.init.sources().map((s) => [s.feed, s]))
    // A feed's comments are opened once per search, and only for a feed that has a candidate.
    const comments = new Map<FeedId, Map<string, SearchItem>>()
    const commentsOf = (source: FeedSource) => {
      let found = comments.get(source.feed)
      if (found === undefined) {
        found = new Map((safely(() => commentItems(source)) ?? []).map((i) => [i.id, i]))
        comments.set(source.feed, found)
      }
      return found
    }
    const hits: SearchResult[] = []
    for (const n of await this.postings.matching(tokens)) {
      if (hits.length >= options.limit) break
      const at = await this.postings.ref(n)
      const source = at && shown.get(at.group as FeedId)
      if (at === undefined || source === undefined) continue
      if (options.contact !== undefined && source.author.id !== options.contact) continue
      const item = safely(() => postItem(source, at.id)) ?? commentsOf(source).get(at.id)
      if (item === undefined) continue
      // A comment shows under its post: one we can see.
      if (item.kind === 'comment' && !visible(shown.get(item.post.feed), item.post.post)) continue
      const now = tokensOf(item.text)
      if (!tokens.every((t) => now.has(t))) continue
      hits.push({
        kind: item.kind,
        id: item.id,
        contactId: source.author.id,
        text: item.text,
        sentAt: iso(item.createdAt),
        postId: item.post.post,
        ...(source.author.me ? { me: true as const } : {}),
      })
    }
    return hits
  }

  private async flush(): Promise<void> {
    if (this.stopped) return
    if (this.marks === undefined) {
      const marks = new Map<FeedId, string>()
      for await (const [feed, mark] of this.postings.marks()) marks.set(feed as FeedId, mark)
      this.marks = marks
    }
    const sources = this.init.sources()
    const shown = new Set(sources.map((s) => s.feed))
    for (const feed of [...this.marks.keys()]) if (!shown.has(feed)) await this.forget(feed)
    const keys = this.keysStamp()
    for (const source of sources) {
      if (this.stopped) return
      const mark = `${this.vvStamp(source.feed)}|${keys}`
      if (this.marks.get(source.feed) !== mark) await this.index(source, mark)
    }
  }

  /** Writes what changed in one feed since it was indexed, then its new mark. */
  private async index(source: FeedSource, mark: string): Promise<void> {
    const feed = source.feed
    const have = await this.indexedOf(feed)
    const now = new Map(searchItems(source).map((i) => [i.id as string, i]))
    const ops: BatchOp[] = []
    for (const [id, version] of have)
      if (now.get(id)?.version !== version) ops.push(...(await this.postings.removeOps(feed, id)))
    // Oldest first, so that numbers (newest checked first) follow time as messages' do.
    const fresh = [...now.values()].filter((i) => have.get(i.id) !== i.version)
    fresh.sort((a, b) => a.createdAt - b.createdAt)
    const done = new Map([...have].filter(([id, version]) => now.get(id)?.version === version))
    // At least one write: the removals and the new mark, when nothing is new.
    for (let i = 0; i === 0 || i < fresh.length; i += BATCH) {
      const part = fresh.slice(i, i + BATCH)
      const docs = part.map((item) => ({
        group: feed,
        id: item.id,
        tokens: [...tokensOf(item.text)],
        version: item.version,
      }))
      ops.push(...(await this.postings.addOps(docs)))
      if (i + BATCH >= fresh.length) ops.push(this.postings.markOp(feed, mark))
      await this.init.store.batch(ops.splice(0))
      for (const item of part) done.set(item.id, item.version)
      this.indexed.set(feed, done)
      if (this.stopped) return
    }
    this.marks!.set(feed, mark)
  }

  /** A feed no longer shown: its items and its mark go. */
  private async forget(feed: FeedId): Promise<void> {
    const ops: BatchOp[] = []
    await this.postings.forget(feed, (key) => ops.push({ type: 'del', key }))
    await this.init.store.batch(ops)
    this.indexed.delete(feed)
    this.marks!.delete(feed)
  }

  private async indexedOf(feed: FeedId): Promise<Map<string, string>> {
    let have = this.indexed.get(feed)
    if (have === undefined) {
      have = new Map()
      for await (const { id, version } of this.postings.docs(feed)) have.set(id, version ?? '')
      this.indexed.set(feed, have)
    }
    return have
  }

  private vvStamp(feed: FeedId): string {
    return [...this.init.engine.versionVector(feed)]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([r, seq]) => `${r}:${seq}`)
      .join(',')
  }

  /** Which keys are held: a new one opens comments already held, a dropped one closes them. */
  private keysStamp(): string {
    const engine = this.init.engine
    const feeds = engine.feedIds().sort()
    const epochs = feeds.map((f) => engine.epochs(f))
    const held = feeds.map((f, i) => `${f}:${epochs[i]!.join('.')}`).join(',')
    return `${feeds.length}.${epochs.flat().length}.${textHash(held)}`
  }
}

function visible(source: FeedSource | undefined, post: string): boolean {
  return source !== undefined && safely(() => readPost(source.doc, post) !== undefined) === true
}

/** What a hostile doc makes throw reads as nothing. */
function safely<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}

function iso(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString()
}
