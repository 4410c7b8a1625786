/**
 * The moments methods over @jiayi/feed: timeline, post (with links and attachments), editPost,
 * deletePost, like, unlike, comment, deleteComment.
 *
 * Attachments: `post` hands the feed each attachment as a way to open the host's source; the
 * feed hashes it, refers to it as `sha256:<hex>` and offers the bytes to contacts (@jiayi/feed's
 * attachment-offers.ts). A reader shows the received file whose SHA-256 matches.
 */

import type { LinkPreview, NewAttachment } from '@jiayi/feed'
import type { FeedApi, FileHost } from './host.js'
import type { AttachmentParam } from './methods.js'
import { array, int, obj, str } from './params.js'
import { ControlError } from './protocol.js'
import { limitAbove, type MethodContext, type MethodTable, params } from './table.js'

const MAX_ATTACHMENTS = 9
const MAX_LINKS = 8

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

/** An attachment param as the feed takes it: the host's source handle, opened when needed. */
function newAttachment(files: FileHost, a: AttachmentParam): NewAttachment {
  return { open: () => files.openSource(a.source), name: a.name, type: a.mime }
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
      const files = c.files
      if (wanted.length > 0 && files === undefined)
        throw new ControlError('Unsupported', 'this peer does not transfer files')
      return feed.post({
        text: p.text,
        links: await withPreviews(c, p.links ?? []),
        attachments: wanted.map((a) => newAttachment(files!, a)),
      })
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
