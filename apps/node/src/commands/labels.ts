/**
 * `jiayi label add|remove LABEL CONTACT…`, `jiayi label delete LABEL`, `jiayi labels` and
 * `jiayi broadcast LABEL TEXT…` (or `--file PATH`): the user's private labels (标签) on contacts,
 * and one message to everyone with a label (群发), each a separate 1:1 message. Over the control
 * socket like the other commands; what a label is and who a broadcast reaches is the peer's
 * business (@jiayi/core labels/).
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { BroadcastResult, LabelMember, LabelView } from '@jiayi/api'
import { arg, type Context, optString, textArg } from '../cli/context.js'
import { CliError } from '../cli/errors.js'
import { shownLine } from '../cli/terminal-text.js'
import { nameOf } from './format.js'
import { withPeer } from './remote.js'

const USAGE = 'jiayi label add|remove LABEL CONTACT…, or jiayi label delete LABEL'

export async function label(ctx: Context): Promise<void> {
  const action = arg(ctx, 0, 'add, remove or delete')
  const name = arg(ctx, 1, 'the label')
  const contacts = ctx.args.slice(2)
  if (action === 'delete') {
    if (contacts.length > 0) throw new CliError('Usage', `usage: ${USAGE}`)
    await withPeer(ctx, (c) => c.call('deleteLabel', { label: name }))
    if (ctx.json) return ctx.out.json({ label: name, deleted: true })
    return ctx.out.line(`No contact has the label "${shownLine(name)}" any more.`)
  }
  if ((action !== 'add' && action !== 'remove') || contacts.length === 0)
    throw new CliError('Usage', `usage: ${USAGE}`)
  const view = await withPeer(ctx, (c) =>
    c.call(action === 'add' ? 'addLabel' : 'removeLabel', { label: name, contacts }),
  )
  if (ctx.json) return ctx.out.json(view)
  ctx.out.line(
    view.contacts.length === 0
      ? `No contact has the label "${shownLine(view.name)}" any more.`
      : formatLabel(view),
  )
}

export async function labels(ctx: Context): Promise<void> {
  const list = await withPeer(ctx, (c) => c.call('labels'))
  if (ctx.json) return ctx.out.json(list)
  if (list.length === 0)
    return ctx.out.line('No labels yet. Label contacts with: jiayi label add LABEL CONTACT…')
  for (const view of list) ctx.out.line(formatLabel(view))
}

export async function broadcast(ctx: Context): Promise<void> {
  const name = arg(ctx, 0, 'the label')
  const file = optString(ctx, 'file')
  let result: BroadcastResult
  if (file !== undefined) {
    if (ctx.args.length > 1) throw new CliError('Usage', 'give a text or --file PATH, not both')
    const path = resolve(file)
    const info = await stat(path).catch(() => undefined)
    if (info === undefined) throw new CliError('Usage', `no such file: ${path}`)
    if (!info.isFile()) throw new CliError('Usage', `not a regular file: ${path}`)
    if (!ctx.json) ctx.out.note(`Hashing and offering ${path} to each contact…`)
    result = await withPeer(ctx, (c) => c.call('broadcastFile', { label: name, source: path }))
  } else {
    const text = await textArg(ctx, 1, 'jiayi broadcast LABEL TEXT (or - to read stdin, or --file PATH)')
    result = await withPeer(ctx, (c) => c.call('broadcast', { label: name, text }))
  }
  if (ctx.json) return ctx.out.json(result)
  const what = file === undefined ? 'message' : 'file'
  ctx.out.line(
    result.sent === 0
      ? `Nobody with the label "${shownLine(result.label)}" is an accepted contact yet: nothing was sent.`
      : `Sent to ${result.sent} contact${result.sent === 1 ? '' : 's'} with the label "${shownLine(result.label)}", ` +
          `each as a ${what} of their own (no one sees who else got it).`,
  )
  if (result.skipped.length > 0)
    ctx.out.line(
      `Not sent to ${result.skipped.length} who ${result.skipped.length === 1 ? 'has' : 'have'} not accepted yet: ` +
        result.skipped.map((c) => shownLine(nameOf(c))).join(', '),
    )
}

function formatLabel(view: LabelView): string {
  const names = view.contacts.map((c: LabelMember) =>
    c.state === 'accepted' ? shownLine(nameOf(c)) : `${shownLine(nameOf(c))} (not accepted yet)`,
  )
  return `${shownLine(view.name)} (${view.contacts.length}): ${names.join(', ')}`
}
