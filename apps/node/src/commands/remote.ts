/**
 * Commands that drive the running peer over its control socket. Each is one or two control
 * calls and a print; with no peer running they fail with a hint to run `jiayi start`.
 */
import type { MessageView } from '@jiayi/core'
import { arg, type Context, optFlag, optLimit, optString, textArg } from '../cli/context.js'
import { CliError, RemoteError } from '../cli/errors.js'
import { jsonText, shownLine } from '../cli/terminal-text.js'
import { ControlClient } from '../control/client.js'
import {
  formatContacts,
  formatMessage,
  formatSafetyNumber,
  nameOf,
  STATUS_MARK,
  shortTime,
} from './format.js'

export async function withPeer<T>(ctx: Context, run: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = await ControlClient.connect(ctx.paths.socket, ctx.paths.home)
  try {
    return await run(client)
  } finally {
    client.close()
  }
}

export async function add(ctx: Context): Promise<void> {
  const link = arg(ctx, 0, 'the card link (jiayi:add/…)')
  const { contact, known } = await withPeer(ctx, async (c) => {
    const before = await c.call('contactList')
    const added = await c.call('addContact', { link })
    return { contact: added, known: before.find((b) => b.id === added.id) }
  })
  if (ctx.json) return ctx.out.json({ contact, ...(known ? { alreadyAdded: true } : {}) })
  const name = shownLine(nameOf(contact))
  if (known?.state === 'accepted') ctx.out.line(`${name} is already a contact (id ${contact.id}).`)
  else if (contact.state === 'accepted') ctx.out.line(`${name} is now a contact (id ${contact.id}).`)
  else if (known !== undefined)
    ctx.out.line(
      `You added ${name} before (id ${contact.id}); they have not accepted yet. ` +
        'Your request reaches them the next time both of you are online.',
    )
  else
    ctx.out.line(
      `Added ${name} (id ${contact.id}); a contact request is on its way. ` +
        'You can already send messages: they are delivered once the request arrives.',
    )
}

export async function contacts(ctx: Context): Promise<void> {
  const list = await withPeer(ctx, (c) => c.call('contactList'))
  if (ctx.json) return ctx.out.json(list)
  for (const line of formatContacts(list)) ctx.out.line(line)
}

export async function accept(ctx: Context): Promise<void> {
  const ref = arg(ctx, 0, 'the contact (id or name)')
  const contact = await withPeer(ctx, (c) => c.call('accept', { contact: ref }))
  if (ctx.json) return ctx.out.json({ contact })
  ctx.out.line(
    `${shownLine(nameOf(contact))} is now a contact (id ${contact.id}); you can chat: jiayi chat ${contact.id}`,
  )
}

export async function reject(ctx: Context): Promise<void> {
  const ref = arg(ctx, 0, 'the contact (id or name)')
  const contact = await withPeer(ctx, async (c) => {
    const found = await c.call('contact', { contact: ref })
    await c.call('reject', { contact: found.id })
    return found
  })
  if (ctx.json)
    return ctx.out.json({
      contact: { id: contact.id, name: contact.name, peerId: contact.peerId },
      removed: true,
    })
  ctx.out.line(
    `Removed ${shownLine(nameOf(contact))}; their requests are refused from now on (adding their card again lifts that).`,
  )
}

export async function send(ctx: Context): Promise<void> {
  const ref = arg(ctx, 0, 'the contact (id or name)')
  const text = await textArg(ctx, 1, 'jiayi send CONTACT TEXT (or - to read stdin)')
  const message = await withPeer(ctx, (c) => c.call('send', { contact: ref, text }))
  if (ctx.json) return ctx.out.json(message)
  ctx.out.line(
    `Sent (${message.status}${STATUS_MARK[message.status] ? ` ${STATUS_MARK[message.status]}` : ''}), id ${message.id}`,
  )
}

/** What one `messages` request asks for at first; halved while an answer is too large for a line. */
export const MESSAGES_PAGE = 500
/** `--limit` at most: any history a store can hold. */
const MAX_MESSAGES = 100_000_000

/**
 * The newest N messages, oldest first. Read in pages through the control socket (each answer is
 * one line of at most MAX_MESSAGE_BYTES, so no single answer holds them all), then printed one
 * by one. A page that is still too large is asked for again at half the size; a single message
 * too large for a line is the typed error ReplyTooLarge.
 */
export async function messages(ctx: Context): Promise<void> {
  const ref = arg(ctx, 0, 'the contact or group (id or name)')
  const limit = optLimit(ctx, MAX_MESSAGES) ?? 50
  const peek = optFlag(ctx, 'peek')
  const target = await withPeer(ctx, (c) => c.call('conversation', { ref }))
  if (target.kind === 'group') return groupMessages(ctx, target, limit, peek)
  const { contact, pages } = await withPeer(ctx, async (c) => {
    const contact = await c.call('contact', { contact: target.id })
    const pages: MessageView[][] = []
    let size = MESSAGES_PAGE
    let got = 0
    let before: string | undefined
    while (got < limit) {
      const want = Math.min(size, limit - got)
      let page: MessageView[]
      try {
        page = await c.call('messages', {
          contact: contact.id,
          limit: want,
          // The first page marks the conversation read (unless --peek), the others only read.
          ...(peek || before !== undefined ? { peek: true } : {}),
          ...(before === undefined ? {} : { before }),
        })
      } catch (error) {
        if (!(error instanceof RemoteError && error.code === 'ReplyTooLarge')) throw error
        if (want === 1)
          throw new CliError(
            'ReplyTooLarge',
            'a message in this conversation is too large to pass the control socket (over 1 MiB as JSON)',
          )
        size = Math.max(1, Math.floor(want / 2))
        continue
      }
      pages.push(page)
      got += page.length
      if (page.length < want) break
      before = page[0]!.id
    }
    return { contact, pages: pages.reverse() }
  })
  if (ctx.json) {
    // One JSON document, as JSON.stringify would make it, written a message at a time.
    let first = true
    ctx.out.write('[')
    for (const page of pages)
      for (const m of page) {
        ctx.out.write(`${first ? '' : ','}${jsonText(m)}`)
        first = false
      }
    ctx.out.write(']\n')
    return
  }
  if (pages.every((p) => p.length === 0)) ctx.out.line(`No messages with ${shownLine(nameOf(contact))} yet.`)
  for (const page of pages) for (const m of page) ctx.out.line(formatMessage(m, nameOf(contact)))
}

/** A group's messages, each line naming its sender; `--json` adds `groupId` and `sender`. */
async function groupMessages(
  ctx: Context,
  target: { id: string; name: string },
  limit: number,
  peek: boolean,
): Promise<void> {
  const list = await withPeer(ctx, (c) =>
    c.call('groupMessages', { group: target.id, limit: Math.min(limit, 10_000), ...(peek ? { peek } : {}) }),
  )
  if (ctx.json) return ctx.out.json(list)
  if (list.length === 0) ctx.out.line(`No messages in ${shownLine(target.name)} yet.`)
  for (const m of list) {
    // Read receipts exist in small groups only (core leaves `readBy` out above the limit).
    const read = m.readBy === undefined ? '' : `, read by ${m.readBy.length}`
    const delivery =
      m.delivery === undefined
        ? ''
        : `  (delivered to ${m.delivery.deliveredTo.length} of ${m.delivery.of}${read})`
    // Every member's reaction, by name: a group has more than the "mine" and "theirs" of a 1:1 line.
    const reactions =
      m.reactions === undefined
        ? ''
        : `  ${shownLine(m.reactions.by.map((r) => `${r.emoji} ${r.name}`).join(', '))}`
    ctx.out.line(
      `${formatMessage({ ...m, reactions: undefined }, m.sender.name)}${fileState(m)}${reactions}${delivery}`,
    )
  }
}

/** A group's file that has not arrived yet says so (`jiayi files` tells more). */
function fileState(m: {
  id: string
  direction: string
  extension?: { kind: string; data?: unknown }
}): string {
  if (m.extension?.kind !== 'file-offer' || m.direction !== 'in') return ''
  const f = m.extension.data as { status?: string; note?: string; bytes?: number; size?: number }
  if (f.status === 'complete') return ''
  if (f.status === 'failed') return '  (failed; see: jiayi files)'
  if (f.note === 'needs-accept') return `  (waits for you: jiayi accept-file ${m.id})`
  const pct = f.size ? Math.floor(((f.bytes ?? 0) * 100) / f.size) : 0
  return `  (arriving, ${pct}%)`
}

export async function rename(ctx: Context): Promise<void> {
  const name = await textArg(ctx, 0, 'jiayi name NEW NAME')
  const me = await withPeer(ctx, (c) => c.call('setName', { name }))
  if (ctx.json) return ctx.out.json(me)
  ctx.out.line(
    `Your name is now "${shownLine(me.name)}"; your contacts see it the next time they are online.`,
  )
}

export async function remark(ctx: Context): Promise<void> {
  const ref = arg(ctx, 0, 'the contact (id or name)')
  const text = ctx.args.slice(1).join(' ')
  const contact = await withPeer(ctx, (c) => c.call('setRemark', { contact: ref, remark: text }))
  if (ctx.json) return ctx.out.json(contact)
  ctx.out.line(
    contact.remark === undefined
      ? `${shownLine(contact.name)} is shown by their own name again.`
      : `${shownLine(contact.name)} is shown as "${shownLine(contact.remark)}" (only on this device).`,
  )
}

export async function search(ctx: Context): Promise<void> {
  const query = ctx.args.join(' ')
  const contact = optString(ctx, 'contact')
  const limit = optLimit(ctx, 500)
  const { hits, names } = await withPeer(ctx, async (c) => {
    const hits = await c.call('search', {
      query,
      ...(contact === undefined ? {} : { contact }),
      ...(limit === undefined ? {} : { limit }),
    })
    const names = new Map((await c.call('contactList')).map((k) => [k.id as string, nameOf(k)]))
    return { hits, names }
  })
  if (ctx.json) return ctx.out.json(hits)
  if (hits.length === 0) return ctx.out.line(`Nothing matches "${shownLine(query)}".`)
  for (const h of hits) {
    const who = h.me ? 'You' : shownLine(names.get(h.contactId) ?? h.contactId)
    const text = shownLine(h.text.replace(/\s+/g, ' ')).slice(0, 200)
    if (h.kind === 'contact') ctx.out.line(`contact   ${who}  (id ${h.contactId})`)
    // A post's id (or its first digits) is what `jiayi like` and `jiayi comment` take.
    else if (h.kind === 'post' || h.kind === 'comment')
      ctx.out.line(
        `[${shortTime(h.sentAt)}] ${who} ${h.kind === 'post' ? 'posted' : 'commented'}: ${text}  (post ${shownLine(h.postId ?? h.id).slice(0, 8)})`,
      )
    else
      ctx.out.line(
        `[${shortTime(h.sentAt)}] ${who}: ${h.kind === 'file' ? `📎 ${text}` : text}  (${h.id.slice(0, 8)})`,
      )
  }
}

export async function read(ctx: Context): Promise<void> {
  const ref = arg(ctx, 0, 'the contact (id or name)')
  const contact = await withPeer(ctx, async (c) => {
    const found = await c.call('contact', { contact: ref })
    await c.call('markRead', { contact: found.id })
    return found
  })
  if (ctx.json) return ctx.out.json({ contact: contact.id, read: true })
  ctx.out.line(`Marked everything from ${shownLine(nameOf(contact))} as read.`)
}

export async function verify(ctx: Context): Promise<void> {
  const ref = arg(ctx, 0, 'the contact (id or name)')
  const mark = optFlag(ctx, 'mark')
  const { contact, result } = await withPeer(ctx, async (c) => {
    const contact = await c.call('contact', { contact: ref })
    const result = await c.call('verify', {
      contact: contact.id,
      mark,
    })
    return { contact, result }
  })
  if (ctx.json) return ctx.out.json(result)
  if (contact.identityChanged && !mark)
    ctx.out.line(
      `Warning: ${shownLine(nameOf(contact))}'s device offered other identity keys than these; messages under them ` +
        'are refused. If they really have new keys, remove them (jiayi reject) and add their new card.',
    )
  ctx.out.line(`Safety number with ${shownLine(nameOf(contact))}:`)
  for (const row of formatSafetyNumber(result.safetyNumber)) ctx.out.line(`  ${row}`)
  ctx.out.line()
  if (result.verified) ctx.out.line(`${shownLine(nameOf(contact))} is marked verified.`)
  else
    ctx.out.line(
      `Compare it with the number on ${shownLine(nameOf(contact))}'s screen (in person or on a call you trust);` +
        ` if they match, run: jiayi verify ${contact.id} --mark`,
    )
}

export async function stats(ctx: Context): Promise<void> {
  const s = await withPeer(ctx, (c) => c.call('stats'))
  if (ctx.json) return ctx.out.json(s)
  ctx.out.line(`contacts: ${s.contacts}`)
  ctx.out.line(`refused from the network: ${s.refusedTotal}`)
  for (const [protocol, reasons] of Object.entries(s.refused))
    for (const [reason, n] of Object.entries(reasons)) ctx.out.line(`  ${protocol} ${reason}: ${n}`)
}
