/**
 * What search finds in one feed: the text of each post, and of each comment in it that we can
 * open, with a version that changes whenever the text does. The indexer compares versions, so a
 * change to a feed re-tokenises only what changed (reading every post again is cheap: about
 * 3 ms for 2,000; tokenising them is not).
 */
import type { CommentId, PostId } from './ids.js'
import { type PostRef, postsOf, readPost } from './schema.js'
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

/**
 * A short hash of `text` (FNV-1a): posts of one id and time can still differ in text (two edits
 * in one millisecond). Not a secret: it is kept sealed, and a hit is checked against the text.
 */
export function textHash(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}

/** One post of the feed, if it is there, well-formed and has text. */
export function postItem(source: FeedSource, id: string, value?: unknown): SearchItem | undefined {
  const post = value === undefined ? readPost(source.doc, id) : readPost(source.doc, id, value)
  if (post === undefined || post.text === '') return undefined
  return {
    kind: 'post',
    id: id as PostId,
    text: post.text,
    createdAt: post.createdAt,
    post: { feed: source.feed, post: id as PostId },
    version: `p${post.editedAt ?? post.createdAt}.${textHash(post.text)}`,
  }
}

/** The comments in the feed that we can open (on posts of any feed). */
export function commentItems(source: FeedSource): SearchItem[] {
  const items: SearchItem[] = []
  for (const r of source.reactions?.() ?? []) {
    if (r.kind !== 'comment') continue
    const { id, text, createdAt, target } = r
    items.push({ kind: 'comment', id, text, createdAt, post: target, version: `c${textHash(text)}` })
  }
  return items
}

/** The feed's posts and the comments in it we can open; a hostile doc yields what reads well. */
export function searchItems(source: FeedSource): SearchItem[] {
  const items: SearchItem[] = []
  try {
    for (const [id, value] of postsOf(source.doc)) {
      const item = postItem(source, id, value)
      if (item !== undefined) items.push(item)
    }
    items.push(...commentItems(source))
  } catch {
    // what was read before the failure is searched
  }
  return items
}
