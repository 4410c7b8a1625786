/**
 * What a feed's Y.Doc holds, how the owner writes it, and how anyone reads it back.
 *
 *   posts:     Y.Map  PostId     -> Post            (text, links with previews, attachment refs, times)
 *   reactions: Y.Map  ReactionId -> SealedReaction  (the owner's likes and comments on anyone's
 *                                                     posts, sealed under the post owner's key:
 *                                                     reactions.ts opens them)
 *   deleted:   Y.Map  "post:<id>" | "reaction:<id>" -> Tombstone
 *
 * Values are plain objects (Yjs ContentAny): an edit replaces the whole post, so two replicas'
 * concurrent edits resolve to one of them, never a mix. A deletion removes the content and leaves
 * a tombstone, which wins over a concurrent edit from another replica. Tombstones are signed like
 * every other change, because they travel inside signed updates.
 *
 * Reading never trusts a doc: another person's feed could hold anything, so every value is checked
 * against the same limits the writer enforces, and what does not fit is skipped.
 */
import type * as Y from 'yjs'
import { FeedError } from './errors.js'
import { type FeedId, isItemId, type PostId, type ReactionId } from './ids.js'
import {
  MAX_ATTACHMENT_NAME_CHARS,
  MAX_ATTACHMENT_REF_BYTES,
  MAX_ATTACHMENTS,
  MAX_COMMENT_CHARS,
  MAX_DESCRIPTION_CHARS,
  MAX_LINKS,
  MAX_MIME_BYTES,
  MAX_POST_CHARS,
  MAX_PREVIEW_IMAGE_BYTES,
  MAX_REACTION_BOX_BYTES,
  MAX_TITLE_CHARS,
  MAX_URL_BYTES,
  PREVIEW_IMAGE_TYPES,
  REACTION_HINT_BYTES,
} from './limits.js'

export interface LinkPreview {
  readonly url: string
  readonly title?: string
  readonly description?: string
  /** A small image made by the poster (readers never fetch the URL). */
  readonly image?: { readonly type: string; readonly bytes: Uint8Array }
}

export interface AttachmentRef {
  /** The files layer's reference (e.g. a file offer id). */
  readonly ref: string
  readonly name: string
  readonly type: string
  readonly size: number
}

export interface Post {
  readonly text: string
  readonly links: readonly LinkPreview[]
  readonly attachments: readonly AttachmentRef[]
  readonly createdAt: number
  readonly editedAt?: number
}

export interface PostRef {
  readonly feed: FeedId
  readonly post: PostId
}

/** A like or comment as its writer's doc holds it: which key opens it, and the sealed content. */
export interface SealedReaction {
  readonly hint: Uint8Array
  readonly box: Uint8Array
}

export interface Tombstone {
  readonly deletedAt: number
}

export interface PostInput {
  readonly text: string
  readonly links?: readonly (string | LinkPreview)[]
  readonly attachments?: readonly AttachmentRef[]
}

export function postsOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('posts')
}
export function reactionsOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('reactions')
}
export function deletedOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap('deleted')
}

/** One string per post of one feed (the timeline groups reactions by it). */
export function postKey(ref: PostRef): string {
  return `${ref.feed}:${ref.post}`
}

// ------------------------------------------------------------------ checks shared by writer and reader

function codePoints(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length
}

function isWellFormed(text: string): boolean {
  // A lone surrogate would not survive UTF-8 and could make two texts compare equal.
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)
}

function checkText(text: unknown, max: number, what: string, allowEmpty = false): string {
  if (typeof text !== 'string' || !isWellFormed(text)) throw new FeedError('BadInput', `${what} must be text`)
  if (!allowEmpty && text.trim().length === 0) throw new FeedError('BadInput', `${what} is empty`)
  if (codePoints(text) > max) throw new FeedError('BadInput', `${what} is longer than ${max} characters`)
  return text
}

function checkTime(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new FeedError('BadInput', 'a time is milliseconds since the epoch')
  }
  return value
}

/** http(s) URLs only, at most MAX_URL_BYTES; returned as given (not normalised). */
export function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0 || utf8Length(url) > MAX_URL_BYTES) {
    throw new FeedError('BadInput', `a link is an http(s) URL of at most ${MAX_URL_BYTES} bytes`)
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new FeedError('BadInput', 'a link must be a valid URL')
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new FeedError('BadInput', 'a link must be an http(s) URL')
  }
  return url
}

function checkLink(link: unknown): LinkPreview {
  if (typeof link === 'string') return { url: checkUrl(link) }
  if (typeof link !== 'object' || link === null)
    throw new FeedError('BadInput', 'a link is a URL or a preview')
  const l = link as Record<string, unknown>
  const out: { url: string; title?: string; description?: string; image?: LinkPreview['image'] } = {
    url: checkUrl(l.url),
  }
  if (l.title !== undefined) out.title = checkText(l.title, MAX_TITLE_CHARS, 'a link title', true)
  if (l.description !== undefined) {
    out.description = checkText(l.description, MAX_DESCRIPTION_CHARS, 'a link description', true)
  }
  if (l.image !== undefined) {
    const image = l.image as Record<string, unknown> | null
    if (
      typeof image !== 'object' ||
      image === null ||
      typeof image.type !== 'string' ||
      !PREVIEW_IMAGE_TYPES.includes(image.type) ||
      !(image.bytes instanceof Uint8Array) ||
      image.bytes.length === 0 ||
      image.bytes.length > MAX_PREVIEW_IMAGE_BYTES
    ) {
      throw new FeedError(
        'BadInput',
        `a preview image is JPEG, PNG, WebP or GIF of at most ${MAX_PREVIEW_IMAGE_BYTES} bytes`,
      )
    }
    out.image = { type: image.type, bytes: Uint8Array.from(image.bytes) }
  }
  return out
}

function checkAttachment(a: unknown): AttachmentRef {
  if (typeof a !== 'object' || a === null) throw new FeedError('BadInput', 'an attachment is a reference')
  const r = a as Record<string, unknown>
  if (typeof r.ref !== 'string' || r.ref.length === 0 || utf8Length(r.ref) > MAX_ATTACHMENT_REF_BYTES) {
    throw new FeedError('BadInput', 'an attachment reference is 1..256 bytes')
  }
  const name = checkText(r.name, MAX_ATTACHMENT_NAME_CHARS, 'an attachment name')
  if (
    typeof r.type !== 'string' ||
    utf8Length(r.type) > MAX_MIME_BYTES ||
    !/^[\w.+-]+\/[\w.+-]+$/.test(r.type)
  ) {
    throw new FeedError('BadInput', 'an attachment type is a MIME type')
  }
  if (typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 0) {
    throw new FeedError('BadInput', 'an attachment size is a byte count')
  }
  return { ref: r.ref, name, type: r.type, size: r.size }
}

function checkList<T>(value: unknown, max: number, what: string, check: (v: unknown) => T): T[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new FeedError('BadInput', `${what} must be a list`)
  if (value.length > max) throw new FeedError('BadInput', `at most ${max} ${what}`)
  return value.map(check)
}

export function checkPostInput(input: PostInput): Pick<Post, 'text' | 'links' | 'attachments'> {
  if (typeof input !== 'object' || input === null) throw new FeedError('BadInput', 'a post needs text')
  const links = checkList(input.links, MAX_LINKS, 'links', checkLink)
  const attachments = checkList(input.attachments, MAX_ATTACHMENTS, 'attachments', checkAttachment)
  // A post may be only links or attachments; otherwise it needs text.
  const text = checkText(input.text ?? '', MAX_POST_CHARS, 'a post', links.length + attachments.length > 0)
  return { text, links, attachments }
}

export function checkCommentText(text: string): string {
  return checkText(text, MAX_COMMENT_CHARS, 'a comment')
}

// ------------------------------------------------------------------ writing (owner only)

/** Plain objects for Yjs: no undefined fields (ContentAny would keep them). */
function stored(post: Post): Record<string, unknown> {
  const links = post.links.map((l) => {
    const out: Record<string, unknown> = { url: l.url }
    if (l.title !== undefined) out.title = l.title
    if (l.description !== undefined) out.description = l.description
    if (l.image !== undefined) out.image = { type: l.image.type, bytes: l.image.bytes }
    return out
  })
  const out: Record<string, unknown> = {
    text: post.text,
    links,
    attachments: post.attachments.map((a) => ({ ...a })),
    createdAt: post.createdAt,
  }
  if (post.editedAt !== undefined) out.editedAt = post.editedAt
  return out
}

export function writePost(doc: Y.Doc, id: PostId, post: Post): void {
  postsOf(doc).set(id, stored(post))
}

export function writeDeletePost(doc: Y.Doc, id: PostId, now: number): void {
  postsOf(doc).delete(id)
  deletedOf(doc).set(`post:${id}`, { deletedAt: now })
}

/** A like or comment, already sealed (reactions.ts). */
export function writeReaction(doc: Y.Doc, id: ReactionId, sealed: SealedReaction): void {
  reactionsOf(doc).set(id, { hint: sealed.hint, box: sealed.box })
}

/** Takes a like back or deletes a comment: its content goes, a tombstone stays. */
export function writeDeleteReaction(doc: Y.Doc, id: ReactionId, now: number): void {
  reactionsOf(doc).delete(id)
  deletedOf(doc).set(`reaction:${id}`, { deletedAt: now })
}

// ------------------------------------------------------------------ reading (anyone's doc)

function attempt<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}

export function isDeleted(doc: Y.Doc, kind: 'post' | 'reaction', id: string): boolean {
  return deletedOf(doc).has(`${kind}:${id}`)
}

/** A post as stored, if it is well-formed and not deleted. */
export function readPost(doc: Y.Doc, id: string, value: unknown = postsOf(doc).get(id)): Post | undefined {
  if (!isItemId(id) || isDeleted(doc, 'post', id)) return undefined
  return attempt(() => {
    const v = value as Record<string, unknown>
    if (typeof v !== 'object' || v === null) return undefined
    const content = checkPostInput({
      text: v.text as string,
      links: v.links as LinkPreview[],
      attachments: v.attachments as AttachmentRef[],
    })
    const post: Post = { ...content, createdAt: checkTime(v.createdAt) }
    return v.editedAt === undefined ? post : { ...post, editedAt: checkTime(v.editedAt) }
  })
}

export function* readPosts(doc: Y.Doc): Generator<[PostId, Post]> {
  for (const [id, value] of postsOf(doc)) {
    const post = readPost(doc, id, value)
    if (post !== undefined) yield [id as PostId, post]
  }
}

/**
 * The sealed reactions of a doc that have the right shape (still unopened), with the value
 * object itself: it stays the same object for as long as the doc holds it, so openings can be
 * cached on it.
 */
export function* readReactions(doc: Y.Doc): Generator<[ReactionId, SealedReaction]> {
  for (const [id, value] of reactionsOf(doc)) {
    if (!isItemId(id) || isDeleted(doc, 'reaction', id)) continue
    const v = value as Record<string, unknown> | null
    if (
      typeof v !== 'object' ||
      v === null ||
      !(v.hint instanceof Uint8Array) ||
      v.hint.length !== REACTION_HINT_BYTES ||
      !(v.box instanceof Uint8Array) ||
      v.box.length > MAX_REACTION_BOX_BYTES
    ) {
      continue
    }
    yield [id as ReactionId, v as unknown as SealedReaction]
  }
}
