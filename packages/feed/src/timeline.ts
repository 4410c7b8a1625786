/**
 * The Moments timeline: the merge of every feed this peer holds (its own and its contacts'),
 * newest first, with the likes and comments gathered under each post. A like or comment lives in
 * its writer's feed, sealed under the post owner's key, so it shows only to someone who holds
 * both: WeChat's mutual-friends rule, enforced by who has which key rather than by a server.
 *
 * Views are plain JSON-friendly objects (they cross the control socket and the web app's
 * WebSocket unchanged); times are ISO 8601 strings, a preview image a data: URL.
 */
import type { ContactId } from '@jiayi/core'
import type * as Y from 'yjs'
import type { CommentId, FeedId, PostId } from './ids.js'
import type { Reaction } from './reaction-reader.js'
import { type AttachmentRef, type LinkPreview, type Post, postKey, readPost, readPosts } from './schema.js'

export interface AuthorView {
  /** The contact id (our own for our posts). */
  readonly id: ContactId
  readonly name: string
  readonly me: boolean
}

export interface LinkView {
  readonly url: string
  readonly title?: string
  readonly description?: string
  /** The poster's preview image as a data: URL. */
  readonly image?: string
}

export interface LikeView {
  readonly author: AuthorView
  readonly createdAt: string
}

export interface CommentView {
  readonly id: CommentId
  readonly author: AuthorView
  readonly text: string
  readonly createdAt: string
}

export interface PostView {
  readonly id: PostId
  readonly author: AuthorView
  readonly text: string
  readonly links: readonly LinkView[]
  readonly attachments: readonly AttachmentRef[]
  readonly createdAt: string
  readonly editedAt?: string
  readonly likes: readonly LikeView[]
  /** Whether we like it. */
  readonly liked: boolean
  readonly comments: readonly CommentView[]
}

/** One feed as the timeline sees it. */
export interface FeedSource {
  readonly feed: FeedId
  readonly doc: Y.Doc
  readonly author: AuthorView
  /** Its likes and comments that we can open (reaction-reader.ts); none if absent. */
  readonly reactions?: () => Iterable<Reaction>
}

export interface TimelineOptions {
  /** At most this many posts (default 50, at most 1000). */
  readonly limit?: number
  /** Only posts created before this time (ms since the epoch), for paging. */
  readonly before?: number
  /**
   * Only posts after this one in the timeline's order (a page cursor: the last post of the page
   * before). Exact where `before` is not: posts made in the same millisecond are neither skipped
   * nor shown twice. A post no longer there falls back to `before`.
   */
  readonly beforePost?: string
}

interface Found {
  readonly source: FeedSource
  readonly id: PostId
  readonly post: Post
}

export function buildTimeline(sources: readonly FeedSource[], options: TimelineOptions = {}): PostView[] {
  const limit = Math.max(1, Math.min(Math.floor(options.limit ?? 50), 1000))
  const cursor = options.beforePost === undefined ? undefined : findFound(sources, options.beforePost)
  const found: Found[] = []
  for (const source of sources) {
    for (const [id, post] of safely(() => readPosts(source.doc))) {
      const f = { source, id, post }
      if (
        cursor !== undefined
          ? timelineOrder(cursor, f) < 0
          : options.before === undefined || post.createdAt < options.before
      )
        found.push(f)
    }
  }
  found.sort(timelineOrder)
  return gather(sources, found.slice(0, limit))
}

/** Newest first; posts of the same millisecond by feed, then id: a total order, for cursors. */
function timelineOrder(a: Found, b: Found): number {
  return b.post.createdAt - a.post.createdAt || compare(a.source.feed, b.source.feed) || compare(a.id, b.id)
}

function findFound(sources: readonly FeedSource[], id: string): Found | undefined {
  for (const source of sources) {
    const post = safe(() => readPost(source.doc, id))
    if (post !== undefined) return { source, id: id as PostId, post }
  }
  return undefined
}

/** One post by id (the first feed holding it, ours first), with its likes and comments. */
export function findPost(sources: readonly FeedSource[], id: string): PostView | undefined {
  for (const source of sources) {
    const post = safe(() => readPost(source.doc, id))
    if (post !== undefined) return gather(sources, [{ source, id: id as PostId, post }])[0]
  }
  return undefined
}

function gather(sources: readonly FeedSource[], found: readonly Found[]): PostView[] {
  const likes = new Map<string, LikeView[]>()
  const comments = new Map<string, CommentView[]>()
  const liked = new Set<string>()
  for (const f of found) {
    const key = postKey({ feed: f.source.feed, post: f.id })
    likes.set(key, [])
    comments.set(key, [])
  }
  for (const source of sources) {
    // One like per writer and post shows, though two of the writer's devices may each have made one.
    const likedHere = new Set<string>()
    for (const r of safely(() => source.reactions?.() ?? [])) {
      const key = postKey(r.target)
      if (r.kind === 'comment') {
        comments
          .get(key)
          ?.push({ id: r.id, author: source.author, text: r.text, createdAt: iso(r.createdAt) })
        continue
      }
      const list = likes.get(key)
      if (list === undefined || likedHere.has(key)) continue
      likedHere.add(key)
      list.push({ author: source.author, createdAt: iso(r.createdAt) })
      if (source.author.me) liked.add(key)
    }
  }
  return found.map(({ source, id, post }) => {
    const key = postKey({ feed: source.feed, post: id })
    const view: PostView = {
      id,
      author: source.author,
      text: post.text,
      links: post.links.map(linkView),
      attachments: post.attachments,
      createdAt: iso(post.createdAt),
      likes: likes.get(key)!.sort(byTime),
      liked: liked.has(key),
      comments: comments.get(key)!.sort(byTime),
    }
    return post.editedAt === undefined ? view : { ...view, editedAt: iso(post.editedAt) }
  })
}

function linkView(link: LinkPreview): LinkView {
  const out: { url: string; title?: string; description?: string; image?: string } = { url: link.url }
  if (link.title !== undefined) out.title = link.title
  if (link.description !== undefined) out.description = link.description
  if (link.image !== undefined) out.image = `data:${link.image.type};base64,${base64(link.image.bytes)}`
  return out
}

function base64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x2000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x2000))
  }
  return btoa(binary)
}

function iso(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString()
}

function byTime(a: { createdAt: string }, b: { createdAt: string }): number {
  return compare(a.createdAt, b.createdAt)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A hostile doc must not take the timeline down: a feed that fails to read yields nothing. */
function* safely<T>(read: () => Iterable<T>): Generator<T> {
  try {
    yield* read()
  } catch {
    // skip the rest of this feed
  }
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}
