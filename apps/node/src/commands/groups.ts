/**
 * `jiayi group create|add|remove|leave|promote|demote|transfer|rename …` and `jiayi groups`:
 * group chats (群聊), over the control socket like the other commands. Who may change a group
 * and how its messages reach members are the peer's business (@jiayi/core groups/).
 *
 * Contract (--json): `group …` prints {"group":{"id","name","members":[{"id","name","role"}],
 * "admins":[...]}}; `groups` prints [{"id","name","members","admins","unread"}].
 */
import type { GroupView } from '@jiayi/core'
import { arg, type Context } from '../cli/context.js'
import { CliError } from '../cli/errors.js'
import { shownLine } from '../cli/terminal-text.js'
import { withPeer } from './remote.js'

const USAGE =
  'jiayi group create NAME [CONTACT…] | add GROUP CONTACT | remove GROUP MEMBER | leave GROUP | ' +
  'promote GROUP MEMBER | demote GROUP MEMBER | transfer GROUP MEMBER | rename GROUP NAME'

const usage = (): never => {
  throw new CliError('Usage', `usage: ${USAGE}`)
}

export async function group(ctx: Context): Promise<void> {
  const action = arg(ctx, 0, 'create, add, remove, leave, promote, demote, transfer or rename')
  const rest = ctx.args.slice(1)
  const two = () => (rest.length === 2 ? ([rest[0]!, rest[1]!] as const) : usage())
  let view: GroupView
  let said: string
  switch (action) {
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
