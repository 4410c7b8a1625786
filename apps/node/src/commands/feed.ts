/**
 * The moments feed from the command line, over the control socket like the other commands (the
 * API's moments methods: timeline, post, like, unlike, comment, deletePost):
 *
 *   post TEXT... [--link URL ...]   -> {"id"}
 *   feed [--limit N]                -> [{"id","author":{"id","name"},"text","links":[...],"createdAt",
 *                                      "likes":[{"author"}],"comments":[{"id","author","text","createdAt"}]}]
 *   like POST_ID                    -> {"post","liked":true}
 *   unlike POST_ID                  -> {"post","liked":false}
 *   comment POST_ID TEXT...         -> {"id","post"}
 *   delete-post POST_ID             -> {"post","deleted":true}
 *
 * TEXT "-" reads stdin. Post ids are what `jiayi feed` shows.
 */
import { arg, type Context, optLimit, optList, textArg } from '../cli/context.js'
import { shownLine, shownText } from '../cli/terminal-text.js'
import { shortTime } from './format.js'
import { withPeer } from './remote.js'

export async function post(ctx: Context): Promise<void> {
  const text = await textArg(ctx, 0, 'jiayi post TEXT [--link URL ...] (or - to read stdin)')
  const links = optList(ctx, 'link')
  const made = await withPeer(ctx, (c) => c.call('post', { text, ...(links.length > 0 ? { links } : {}) }))
  if (ctx.json) return ctx.out.json({ id: made.id })
  ctx.out.line(`Posted, id ${made.id}`)
}

export async function feed(ctx: Context): Promise<void> {
  const limit = optLimit(ctx, 1000)
  const posts = await withPeer(ctx, (c) => c.call('timeline', limit === undefined ? {} : { limit }))
  if (ctx.json) return ctx.out.json(posts)
  if (posts.length === 0) ctx.out.line('Nothing in your moments yet: post something, or add contacts.')
  for (const p of posts) {
    // Everything here but the ids and times was written by someone (terminal-text.ts).
    const who = p.author.me ? 'You' : shownLine(p.author.name)
    ctx.out.line(`${who} · ${shortTime(p.createdAt)}${p.editedAt ? ' (edited)' : ''}  [${shownLine(p.id)}]`)
    for (const line of shownText(p.text).split('\n')) ctx.out.line(`  ${line}`)
    for (const l of p.links) {
      ctx.out.line(`  🔗 ${shownLine(l.url)}${l.title ? ` — ${shownLine(l.title)}` : ''}`)
      if (l.description) ctx.out.line(`     ${shownLine(l.description)}`)
    }
    for (const a of p.attachments) ctx.out.line(`  📎 ${shownLine(a.name)}`)
    if (p.likes.length > 0)
      ctx.out.line(`  ♥ ${p.likes.map((l) => (l.author.me ? 'you' : shownLine(l.author.name))).join(', ')}`)
    for (const c of p.comments)
      ctx.out.line(`  💬 ${c.author.me ? 'You' : shownLine(c.author.name)}: ${shownLine(c.text)}`)
    ctx.out.line()
  }
}

export async function like(ctx: Context): Promise<void> {
  const postId = arg(ctx, 0, 'the post id (see: jiayi feed)')
  const liked = await withPeer(ctx, (c) => c.call('like', { postId }))
  if (ctx.json) return ctx.out.json({ post: liked.id, liked: true })
  ctx.out.line(`Liked ${liked.author.me ? 'your' : `${shownLine(liked.author.name)}'s`} post.`)
}

export async function unlike(ctx: Context): Promise<void> {
  const postId = arg(ctx, 0, 'the post id (see: jiayi feed)')
  await withPeer(ctx, (c) => c.call('unlike', { postId }))
  if (ctx.json) return ctx.out.json({ post: postId, liked: false })
  ctx.out.line('Like taken back.')
}

export async function comment(ctx: Context): Promise<void> {
  const postId = arg(ctx, 0, 'the post id (see: jiayi feed)')
  const text = await textArg(ctx, 1, 'jiayi comment POST_ID TEXT (or - to read stdin)')
  const made = await withPeer(ctx, (c) => c.call('comment', { postId, text }))
  if (ctx.json) return ctx.out.json({ id: made.id, post: postId })
  ctx.out.line(`Commented, id ${made.id}`)
}

export async function deletePost(ctx: Context): Promise<void> {
  const postId = arg(ctx, 0, 'the post id (see: jiayi feed)')
  await withPeer(ctx, (c) => c.call('deletePost', { postId }))
  if (ctx.json) return ctx.out.json({ post: postId, deleted: true })
  ctx.out.line('Post deleted (your contacts see it go as they sync).')
}
