/**
 * The moments methods over @jiayi/feed: timeline, post (with links and attachments), editPost,
 * deletePost, like, unlike, comment, deleteComment.
 *
 * Attachments: the feed doc holds references only. `post` reads each attachment once to hash it,
 * then offers it to every accepted contact through the files layer, and the post refers to it as
 * `sha256:<hex>` with its name, type and size. A reader shows the received file whose SHA-256
 * matches. Contacts accepted after the post get the pictures from the host's MomentOffers.
 */

import type { FileSource } from '@jiayi/core'
import type { LinkPreview } from '@jiayi/feed'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { withSource } from './file-methods.js'
import type { FeedApi, FileHost } from './host.js'
import type { AttachmentParam } from './methods.js'
import { array, int, obj, str } from './params.js'
import { ControlError } from './protocol.js'
import { limitAbove, type MethodContext, type MethodTable, params } from './table.js'

const MAX_ATTACHMENTS = 9
const MAX_LINKS = 8
const HASH_READ_BYTES = 1024 * 1024
/** Moments attachments are pictures and small documents, not archives. */
const MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024

const itemId = str({ min: 1, max: 64 })
const links = { optional: true, check: array(str({ min: 1, max: 2048 }), MAX_LINKS) } as const

/** The host's previews for the links, when it makes them; a failed preview leaves the bare link. */
async function withPreviews(
  c: MethodContext,
  links: readonly string[],
): Promise<readonly (string | LinkPreview)[]> {
  if (c.previewLinks === undefined || links.length === 0) return links
  try {
    return await c.previewLinks(links)
  } catch {
    return links
  }
}

function feedOf(c: MethodContext): FeedApi {
  if (c.feed === undefined) throw new ControlError('Unsupported', 'this peer has no moments feed')
  return c.feed
}

async function hashSource(s: FileSource): Promise<string> {
  const h = sha256.create()
  for (let offset = 0; offset < s.size; offset += HASH_READ_BYTES)
    h.update(await s.read(offset, Math.min(HASH_READ_BYTES, s.size - offset)))
  return bytesToHex(h.digest())
}

interface Prepared {
  readonly ref: string
  readonly name: string
  readonly type: string
  readonly size: number
  readonly source: string
}

async function prepare(files: FileHost, a: AttachmentParam): Promise<Prepared> {
  const s = await files.openSource(a.source)
  try {
    if (s.size > MAX_ATTACHMENT_BYTES)
      throw new ControlError('BadParams', `a moments attachment is at most ${MAX_ATTACHMENT_BYTES} bytes`)
    return {
      ref: `sha256:${await hashSource(s)}`,
      name: a.name ?? s.name,
      type: a.mime ?? s.mime ?? 'application/octet-stream',
      size: s.size,
      source: a.source,
    }
  } finally {
    await s.close().catch(() => undefined)
  }
}

export type FeedMethodName =
  | 'timeline'
  | 'post'
  | 'editPost'
  | 'deletePost'
  | 'like'
  | 'unlike'
  | 'comment'
  | 'deleteComment'

export const FEED_METHODS: MethodTable<FeedMethodName> = {
  timeline: {
    needs: 'feed',
    heavy: limitAbove(100, 50),
    check: params({
      limit: { optional: true, check: int(1, 1000) },
      before: { optional: true, check: int(0, Number.MAX_SAFE_INTEGER) },
      beforePost: { optional: true, check: str({ min: 1, max: 128 }) },
    }),
    run: (c, p) =>
      feedOf(c).timeline({
        ...(p.limit === undefined ? {} : { limit: p.limit }),
        ...(p.before === undefined ? {} : { before: p.before }),
        ...(p.beforePost === undefined ? {} : { beforePost: p.beforePost }),
      }),
  },
  post: {
    needs: 'feed',
    check: params({
      text: str({ max: 20_000 }),
      links,
      attachments: {
        optional: true,
        check: array(
          obj({
            source: str({ min: 1, max: 4096 }),
            name: { optional: true, check: str({ min: 1, max: 255 }) },
            mime: { optional: true, check: str({ min: 1, max: 127 }) },
          }),
          MAX_ATTACHMENTS,
        ),
      },
    }),
    run: async (c, p) => {
      const feed = feedOf(c)
      const wanted = p.attachments ?? []
      if (wanted.length > 0 && c.files === undefined)
        throw new ControlError('Unsupported', 'this peer does not transfer files')
      const files = c.files!
      const prepared = await Promise.all(wanted.map((a) => prepare(files, a)))
      const post = await feed.post({
        text: p.text,
        links: await withPreviews(c, p.links ?? []),
        attachments: prepared.map(({ ref, name, type, size }) => ({ ref, name, type, size })),
      })
      // The bytes follow through the files layer, one offer per accepted contact (contacts
      // accepted later get them from the host's MomentOffers).
      const offerAll = async () => {
        const contacts = c.messenger.contactList().filter((x) => x.state === 'accepted')
        for (const a of prepared) {
          for (const contact of contacts) {
            await withSource(files, a.source, (s) =>
              files.files.sendFile(contact.id, s, {
                name: a.name,
                mime: a.type,
                kind: a.type.startsWith('image/') ? 'image' : 'file',
                purpose: 'post-attachment',
              }),
            ).catch((error) =>
              c.log?.warn('moments attachment not offered', {
                contact: contact.id,
                error: error instanceof Error ? error.name : 'unknown',
              }),
            )
          }
        }
      }
      await (c.momentOffers?.exclusive(offerAll) ?? offerAll())
      return post
    },
  },
  editPost: {
    needs: 'feed',
    check: params({ postId: itemId, text: str({ max: 20_000 }), links }),
    run: async (c, p) => {
      const feed = feedOf(c)
      // An edit replaces the whole post: the attachments stay as they were.
      const attachments = feed.get(p.postId)?.attachments ?? []
      return feed.edit(p.postId, { text: p.text, links: await withPreviews(c, p.links ?? []), attachments })
    },
  },
  deletePost: {
    needs: 'feed',
    check: params({ postId: itemId }),
    run: async (c, p) => {
      await feedOf(c).deletePost(p.postId)
      return null
    },
  },
  like: { needs: 'feed', check: params({ postId: itemId }), run: (c, p) => feedOf(c).like(p.postId) },
  unlike: {
    needs: 'feed',
    check: params({ postId: itemId }),
    run: async (c, p) => {
      await feedOf(c).unlike(p.postId)
      return null
    },
  },
  comment: {
    needs: 'feed',
    check: params({ postId: itemId, text: str({ min: 1, max: 5_000 }) }),
    run: (c, p) => feedOf(c).comment(p.postId, p.text),
  },
  deleteComment: {
    needs: 'feed',
    check: params({ commentId: itemId }),
    run: async (c, p) => {
      await feedOf(c).deleteComment(p.commentId)
      return null
    },
  },
}
