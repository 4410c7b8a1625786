/**
 * `jiayi group create|add|remove|leave|promote|demote|transfer|rename …` and `jiayi groups`:
 * group chats (群聊), over the control socket like the other commands. Who may change a group
 * and how its messages reach members are the peer's business (@jiayi/core groups/).
 *
 * Contract (--json): `group …` prints {"group":{"id","name","members":[{"id","name","role"}],
 * "admins":[...]}}; `groups` prints [{"id","name","members","admins","unread"}].
 */
import type { GroupView } from '@jiayi/core'
import { arg, type Context, optString } from '../cli/context.js'
import { CliError } from '../cli/errors.js'
import { shownLine } from '../cli/terminal-text.js'
import { drawQr } from './card-print.js'
import { shortTime } from './format.js'
import { withPeer } from './remote.js'

const USAGE =
  'jiayi group create NAME [CONTACT…] | add GROUP CONTACT | remove GROUP MEMBER | leave GROUP | ' +
  'promote GROUP MEMBER | demote GROUP MEMBER | transfer GROUP MEMBER | rename GROUP NAME | ' +
  'invite GROUP [--expires 7d] | join LINK | approve GROUP MEMBER | refuse GROUP MEMBER | ' +
  'revoke GROUP LINK|ID | ' +
  'settings GROUP [--join-approval on|off] [--admins-only on|off]'

const usage = (): never => {
  throw new CliError('Usage', `usage: ${USAGE}`)
}

export async function group(ctx: Context): Promise<void> {
  const action = arg(
    ctx,
    0,
    'create, add, remove, leave, promote, demote, transfer, rename, invite, join, approve, refuse, revoke or settings',
  )
  const rest = ctx.args.slice(1)
  const two = () => (rest.length === 2 ? ([rest[0]!, rest[1]!] as const) : usage())
  let view: GroupView
  let said: string
  switch (action) {
    case 'invite': {
      if (rest.length !== 1) return usage()
      const expires = optString(ctx, 'expires')
      const invite = await withPeer(ctx, (c) =>
        c.call('groupInvite', {
          group: rest[0]!,
          ...(expires === undefined ? {} : { expiresInMs: durationMs(expires) }),
        }),
      )
      if (ctx.json)
        return ctx.out.json({ link: invite.link, qr: invite.qr, expiresAt: invite.expiresAt, id: invite.id })
      ctx.out.line(await drawQr(invite.qr))
      ctx.out.line(invite.link)
      ctx.out.line(
        `Valid until ${shortTime(invite.expiresAt)}. Revoke it with: jiayi group revoke ${rest[0]} ${invite.id}`,
      )
      return
    }
    case 'join': {
      if (rest.length !== 1) return usage()
      if (!ctx.json) ctx.out.note('Asking the admin who made this invite…')
      const joined = await withPeer(ctx, (c) => c.call('groupJoin', { link: rest[0]! }))
      if (ctx.json) return ctx.out.json({ group: contract(joined.group), state: joined.state })
      ctx.out.line(
        joined.state === 'joined'
          ? `You are in ${shownLine(joined.group.name)} (id ${joined.group.id}).`
          : `Asked to join ${shownLine(joined.group.name)}; an admin lets you in.`,
      )
      return
    }
    case 'approve': {
      const [g, member] = two()
      view = await withPeer(ctx, (c) => c.call('groupApprove', { group: g, member }))
      said = `Let ${shownLine(member)} into ${shownLine(view.name)}.`
      break
    }
    case 'refuse': {
      const [g, member] = two()
      view = await withPeer(ctx, (c) => c.call('groupRefuse', { group: g, member }))
      said = `Turned down ${shownLine(member)}'s request to join ${shownLine(view.name)}; they are told.`
      break
    }
    case 'revoke': {
      const [g, invite] = two()
      view = await withPeer(ctx, (c) => c.call('groupRevokeInvite', { group: g, invite }))
      said = `Revoked; joins asked with that invite are refused (${shownLine(view.name)}).`
      break
    }
    case 'settings': {
      if (rest.length !== 1) return usage()
      const current = await withPeer(ctx, (c) => c.call('group', { group: rest[0]! }))
      const joinApproval = onOff(optString(ctx, 'join-approval'), current.joinApproval)
      const adminsOnly = onOff(optString(ctx, 'admins-only'), current.adminsOnly)
      view = await withPeer(ctx, (c) =>
        c.call('groupSettings', { group: rest[0]!, joinApproval, adminsOnly }),
      )
      said = `Join approval ${view.joinApproval ? 'on' : 'off'}; ${view.adminsOnly ? 'only admins post' : 'everyone posts'}.`
      break
    }
    case 'create': {
      const [name, ...contacts] = rest
      if (name === undefined) return usage()
      view = await withPeer(ctx, (c) => c.call('createGroup', { name, contacts }))
      said = `Created ${shownLine(view.name)} (id ${view.id}) with ${view.members.length} member${view.members.length === 1 ? '' : 's'}.`
      break
    }
    case 'add': {
      const [g, contact] = two()
      view = await withPeer(ctx, (c) => c.call('groupAdd', { group: g, contact }))
      said = `Added ${shownLine(contact)} to ${shownLine(view.name)}.`
      break
    }
    case 'remove':
    case 'promote':
    case 'demote':
    case 'transfer': {
      const [g, member] = two()
      const method = (
        {
          remove: 'groupRemove',
          promote: 'groupPromote',
          demote: 'groupDemote',
          transfer: 'groupTransfer',
        } as const
      )[action]
      view = await withPeer(ctx, (c) => c.call(method, { group: g, member }))
      const done = {
        remove: 'Removed',
        promote: 'Made an admin:',
        demote: 'No longer an admin:',
        transfer: 'Now the owner:',
      }[action]
      said = `${done} ${shownLine(member)} (${shownLine(view.name)}).`
      break
    }
    case 'leave': {
      if (rest.length !== 1) return usage()
      const g = rest[0]!
      view = await withPeer(ctx, (c) => c.call('groupLeave', { group: g }))
      said = `You left ${shownLine(view.name)}.`
      break
    }
    case 'rename': {
      const [g, ...words] = rest
      if (g === undefined || words.length === 0) return usage()
      view = await withPeer(ctx, (c) => c.call('groupRename', { group: g, name: words.join(' ') }))
      said = `Renamed to ${shownLine(view.name)}.`
      break
    }
    default:
      return usage()
  }
  if (ctx.json) return ctx.out.json({ group: contract(view) })
  ctx.out.line(said)
  ctx.out.line(formatGroup(view))
}

export async function groups(ctx: Context): Promise<void> {
  const list = await withPeer(ctx, (c) => c.call('groups'))
  if (ctx.json) return ctx.out.json(list.map((g) => ({ ...contract(g), unread: g.unread })))
  if (list.length === 0)
    return ctx.out.line('No groups yet. Start one with: jiayi group create NAME CONTACT…')
  for (const g of list) ctx.out.line(formatGroup(g))
}

/** "7d", "12h", "30m" or a number of seconds. */
function durationMs(text: string): number {
  const m = /^(\d+)\s*([dhms]?)$/.exec(text.trim())
  if (m === null) throw new CliError('Usage', '--expires takes a duration such as 7d, 12h or 30m')
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, '': 1000 }[
    m[2] as 'd' | 'h' | 'm' | 's' | ''
  ]
  return Number(m[1]) * unit
}

function onOff(value: string | undefined, current: boolean): boolean {
  if (value === undefined) return current
  if (value === 'on') return true
  if (value === 'off') return false
  throw new CliError('Usage', 'use on or off')
}

/** The contract's fields first, then the rest (fields may be added, never renamed or dropped). */
function contract(g: GroupView) {
  const { id, name, members, admins, ...rest } = g
  return { id, name, members, admins, ...rest }
}

const ROLE: Record<string, string> = { owner: 'owner', admin: 'admin', member: '' }

function formatGroup(g: GroupView): string {
  const members = g.members
    .map((m) => (ROLE[m.role] ? `${shownLine(m.name)} (${ROLE[m.role]})` : shownLine(m.name)))
    .join(', ')
  const unread = g.unread > 0 ? `  ${g.unread} unread` : ''
  return `${shownLine(g.name)}  ${g.id.slice(0, 8)}  ${g.members.length} members: ${members}${unread}`
}
