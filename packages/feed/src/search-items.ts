/**
 * What search finds in one feed: the text of each post, and of each comment in it that we can
 * open, with a version that changes whenever the text does. The indexer compares versions, so a
 * change to a feed re-tokenises only what changed; a post's checked content is kept per stored
 * value (the same object for as long as the doc holds it), so it is not checked again either.
 */
import type { CommentId, PostId } from './ids.js'
import { isDeleted, type Post, type PostRef, postsOf, readPost } from './schema.js'
import type { FeedSource } from './timeline.js'

export interface SearchItem {
  readonly kind: 'post' | 'comment'
  readonly id: PostId | CommentId
  readonly text: string
  readonly createdAt: number
  /** The post to show: the post itself, or the post a comment is on. */
  readonly post: PostRef
  readonly version: string
}

/** Per stored post value: its checked content (undefined: malformed). */
const checked = new WeakMap<object, Post | undefined>()

/**
 * A short hash of `text` (FNV-1a): posts of one id and time can still differ in text (two edits
 * in one millisecond). Not a secret: it is kept sealed, and a hit is checked against the text.
 */
export function textHash(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}

function postOf(source: FeedSource, id: string, value: unknown): Post | undefined {
  if (isDeleted(source.doc, 'post', id)) return undefined
  if (typeof value !== 'object' || value === null) return readPost(source.doc, id, value)
  if (!checked.has(value)) checked.set(value, readPost(source.doc, id, value))
  return checked.get(value)
}

/** The feed's posts and the comments in it we can open; a hostile doc yields what reads well. */
export function* searchItems(source: FeedSource): Generator<SearchItem> {
  const posts: [string, unknown][] = []
  const comments: SearchItem[] = []
  try {
    for (const entry of postsOf(source.doc)) posts.push(entry)
    for (const r of source.reactions?.() ?? []) {
      if (r.kind !== 'comment') continue
      const version = `c${textHash(r.text)}`
      comments.push({
        kind: 'comment',
        id: r.id,
        text: r.text,
        createdAt: r.createdAt,
        post: r.target,
        version,
      })
    }
  } catch {
    // what was read before the failure is searched
  }
  for (const [id, value] of posts) {
    const post = postOf(source, id, value)
    if (post === undefined || post.text === '') continue
    const version = `p${post.editedAt ?? post.createdAt}.${textHash(post.text)}`
    yield {
      kind: 'post',
      id: id as PostId,
      text: post.text,
      createdAt: post.createdAt,
      post: { feed: source.feed, post: id as PostId },
      version,
    }
  }
  yield* comments
}
