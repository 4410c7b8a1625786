/**
 * `jiayi home-link` (on the home node's machine: the link its owner adds) and `jiayi home-node
 * [add LINK]` (on the owner's device: the home node it has, or link one).
 */
import { arg, type Context } from '../cli/context.js'
import { CliError } from '../cli/errors.js'
import { jiayiCommand } from '../cli/home.js'
import { readHomeLink } from '../daemon/home-node.js'
import { drawQr } from './card-print.js'
import { withPeer } from './remote.js'

export async function homeLinkCommand(ctx: Context): Promise<void> {
  const link = await readHomeLink(ctx.paths.home)
  if (link === undefined)
    throw new CliError(
      'NotRunning',
      `no home node runs in ${ctx.paths.home}; start one with: ${jiayiCommand(ctx.paths.home, 'start --serve')}`,
    )
  // Upper case keeps the whole QR code in alphanumeric mode (base32 has no lower-case letters).
  const qr = link.toUpperCase()
  if (ctx.json) return ctx.out.json({ link, qr })
  ctx.out.line(link)
  ctx.out.line(await drawQr(qr))
}

export async function homeNodeCommand(ctx: Context): Promise<void> {
  const sub = ctx.args[0]
  if (sub === undefined) {
    const homeNode = await withPeer(ctx, (c) => c.call('homeNode'))
    if (ctx.json) return ctx.out.json({ homeNode })
    if (homeNode === null) {
      ctx.out.line(
        `No home node yet. Link one with: ${jiayiCommand(ctx.paths.home, "home-node add 'jiayi:home/…'")}`,
      )
      return
    }
    ctx.out.line(`Home node ${homeNode.peerId}`)
    for (const a of homeNode.addrs) ctx.out.line(`  ${a}`)
    return
  }
  if (sub !== 'add') throw new CliError('Usage', `unknown: home-node ${sub} (expected: home-node [add LINK])`)
  const link = arg(ctx, 1, 'the home node link (jiayi:home/…)')
  const homeNode = await withPeer(ctx, (c) => c.call('addHomeNode', { link }))
  if (ctx.json) return ctx.out.json({ homeNode })
  ctx.out.line(
    `Linked the home node ${homeNode.peerId}: it keeps messages for you while you are offline, and your contacts learn it.`,
  )
}
