/**
 * Likes and comments, sealed again under the post owner's feed key (PROTOCOL.md, "Reactions").
 *
 * A reaction lives in its writer's feed, so only the writer's friends receive it; its content and
 * its target (whose post, which post) are sealed under a key derived from the post owner's feed
 * key, so only the owner's friends can open it. Holding one feed is never enough: WeChat's rule
 * (seen only by friends of both), enforced by keys. A reader who holds the writer's feed but not
 * the owner's sees an opaque value: not the text, not the post, not whose it is.
 *
 * A short hint tells a reader which of its keys opens a reaction without trying them all. It is
 * an HMAC of the writer's feed id under the (owner, epoch) key, so a reader without that key
 * learns only that some of the writer's reactions go to one and the same person, never who; and
 * two writers' hints for the same person differ, so it cannot tell that they share a friend.
 *
 * Only constructions over core's primitive wrappers (HKDF, HMAC, XChaCha20-Poly1305).
 */
import {
  aeadOpen,
  aeadSeal,
  bytesToHex,
  concatBytes,
  fromUtf8,
  hexToBytes,
  hkdfSha256,
  hmacSha256,
  utf8,
} from '@jiayi/core'
import { ByteReader, ByteWriter } from './byte-io.js'
import { FeedError } from './errors.js'
import { type FeedId, feedIdBytes, ITEM_ID_BYTES, isItemId, type PostId } from './ids.js'
import { MAX_COMMENT_CHARS, MAX_REACTION_BOX_BYTES, REACTION_HINT_BYTES } from './limits.js'
import { checkCommentText, type SealedReaction } from './schema.js'

const KEY_INFO = utf8('Jiayi_FeedReaction_v1\0')
const HINT_LABEL = utf8('Jiayi_FeedReactionHint_v1\0')
const AD_LABEL = utf8('Jiayi_FeedReaction_v1\0')

const KIND_BYTES = { like: 1, comment: 2 } as const

export type ReactionKind = keyof typeof KIND_BYTES

/** What a reaction says once opened. */
export interface ReactionContent {
  readonly kind: ReactionKind
  readonly post: PostId
  /** A comment's text; empty for a like. */
  readonly text: string
  readonly createdAt: number
}

/** Keys derived from one feed key of one epoch; they hang on that key's object. */
export interface ReactionKeys {
  readonly target: FeedId
  readonly epoch: number
  readonly box: Uint8Array
  readonly hint: Uint8Array
}

const derived = new WeakMap<Uint8Array, ReactionKeys>()

function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value, false)
  return out
}

/** HKDF-SHA256(feed key, info = label || owner's feed id || u32be(epoch)): 32 bytes to seal, 32 for hints. */
export function reactionKeys(feedKey: Uint8Array, target: FeedId, epoch: number): ReactionKeys {
  const cached = derived.get(feedKey)
  if (cached !== undefined && cached.target === target && cached.epoch === epoch) return cached
  const okm = hkdfSha256(feedKey, undefined, concatBytes(KEY_INFO, feedIdBytes(target), u32be(epoch)), 64)
  const keys = { target, epoch, box: okm.slice(0, 32), hint: okm.slice(32) }
  derived.set(feedKey, keys)
  return keys
}

/** HMAC-SHA256(hint key, label || writer's feed id), first 16 bytes. */
export function reactionHint(keys: ReactionKeys, writer: FeedId): Uint8Array {
  return hmacSha256(keys.hint, concatBytes(HINT_LABEL, feedIdBytes(writer))).slice(0, REACTION_HINT_BYTES)
}

/** Binds a box to its writer, its id in the writer's doc, and the key it was sealed under. */
function associated(keys: ReactionKeys, writer: FeedId, id: string): Uint8Array {
  return concatBytes(
    AD_LABEL,
    feedIdBytes(writer),
    hexToBytes(id),
    feedIdBytes(keys.target),
    u32be(keys.epoch),
  )
}

function encodeContent(c: ReactionContent): Uint8Array {
  const text = c.kind === 'comment' ? utf8(checkCommentText(c.text)) : new Uint8Array(0)
  return new ByteWriter()
    .byte(KIND_BYTES[c.kind])
    .fixed(hexToBytes(c.post))
    .varuint(c.createdAt)
    .bytes(text)
    .finish()
}

function decodeContent(bytes: Uint8Array): ReactionContent {
  const r = new ByteReader(bytes)
  const k = r.byte()
  const kind = k === KIND_BYTES.like ? 'like' : k === KIND_BYTES.comment ? 'comment' : undefined
  if (kind === undefined) throw new FeedError('Malformed', 'unknown reaction kind')
  const post = bytesToHex(r.fixed(ITEM_ID_BYTES)) as PostId
  const createdAt = r.varuint()
  const textBytes = r.bytes(4 * MAX_COMMENT_CHARS)
  r.end()
  if (kind === 'like') {
    if (textBytes.length !== 0) throw new FeedError('Malformed', 'a like has no text')
    return { kind, post, text: '', createdAt }
  }
  let text: string
  try {
    text = fromUtf8(textBytes)
  } catch {
    throw new FeedError('Malformed', 'a comment is UTF-8 text')
  }
  return { kind, post, text: checkCommentText(text), createdAt }
}

/** Seals `content` (a reaction with id `id` in `writer`'s doc) under the post owner's keys. */
export function sealReaction(
  keys: ReactionKeys,
  writer: FeedId,
  id: string,
  content: ReactionContent,
): SealedReaction {
  if (!isItemId(id) || !isItemId(content.post)) throw new FeedError('BadInput', 'an id is 32 hex characters')
  const box = aeadSeal(keys.box, encodeContent(content), associated(keys, writer, id))
  return { hint: reactionHint(keys, writer), box }
}

/** Opens a reaction with the keys its hint named; undefined if it does not open or does not parse. */
export function openReaction(
  keys: ReactionKeys,
  writer: FeedId,
  id: string,
  sealed: SealedReaction,
): ReactionContent | undefined {
  if (!isItemId(id) || sealed.box.length > MAX_REACTION_BOX_BYTES) return undefined
  try {
    return decodeContent(aeadOpen(keys.box, sealed.box, associated(keys, writer, id)))
  } catch {
    return undefined
  }
}
