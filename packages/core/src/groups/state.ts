/**
 * A group's state, computed from its ops in the log's one order (log.ts): each op is applied
 * if its author was allowed to make it at that place, and changes nothing otherwise. The same
 * ops give every member the same state, whatever order they arrived in.
 *
 * The rules (PROTOCOL.md "Groups"):
 * - create: the first op; its author is the owner.
 * - rename, settings, revoke-invite: an admin or the owner.
 * - add: an admin or the owner; any member when join approval is off. Each card must name
 *   someone not in the group; the group holds at most MAX_GROUP_MEMBERS.
 * - remove: the owner removes anyone else; an admin removes plain members.
 * - leave: any member but the owner (who hands ownership on first).
 * - promote, demote: the owner, of a member or an admin respectively.
 * - transfer: the owner makes a member the owner and becomes an admin.
 * An op whose every part is allowed takes effect whole; otherwise not at all.
 */
import { type ContactId, contactIdFor } from '../messenger/ids.js'
import {
  type GroupCard,
  type GroupId,
  type GroupOp,
  type GroupOpId,
  type GroupOpKind,
  MAX_GROUP_MEMBERS,
} from './ops.js'

export type GroupRole = 'owner' | 'admin' | 'member'

export interface GroupMember {
  readonly id: ContactId
  readonly card: GroupCard
  readonly role: GroupRole
  /** When the op that added them was made (the author's clock). */
  readonly since: number
}

/** One change that took effect: what a conversation's system line says. */
export interface GroupChange {
  readonly op: GroupOpId
  readonly kind: GroupOpKind
  readonly by: ContactId
  readonly at: number
  /** Whom it is about: those added, the one removed, promoted, demoted or made owner. */
  readonly members: readonly ContactId[]
  /** A rename's new name. */
  readonly name?: string
}

export interface GroupState {
  readonly id: GroupId
  readonly name: string
  readonly owner: ContactId
  readonly members: ReadonlyMap<ContactId, GroupMember>
  readonly joinApproval: boolean
  readonly adminsOnly: boolean
  readonly revokedInvites: ReadonlySet<string>
  /** Every change that took effect, in order. */
  readonly changes: readonly GroupChange[]
  /** Ops that changed nothing: their author was not allowed at their place in the order. */
  readonly ineffective: ReadonlySet<GroupOpId>
}

interface Draft {
  name: string
  owner: ContactId
  members: Map<ContactId, GroupMember>
  joinApproval: boolean
  adminsOnly: boolean
  revokedInvites: Set<string>
  changes: GroupChange[]
  ineffective: Set<GroupOpId>
}

const isAdmin = (m: GroupMember | undefined) => m !== undefined && m.role !== 'member'

/** Folds `ordered` (the create op first) into the group's state. */
export function foldGroup(ordered: readonly GroupOp[]): GroupState {
  const create = ordered[0]
  if (create === undefined || create.kind !== 'create')
    throw new TypeError('a group log starts with its create op')
  const creatorCard = create.cards[0]!
  const s: Draft = {
    name: create.name,
    owner: create.authorId,
    members: new Map([
      [create.authorId, { id: create.authorId, card: creatorCard, role: 'owner', since: create.createdAt }],
    ]),
    joinApproval: create.joinApproval,
    adminsOnly: create.adminsOnly,
    revokedInvites: new Set(),
    changes: [
      {
        op: create.id,
        kind: 'create',
        by: create.authorId,
        at: create.createdAt,
        members: [create.authorId],
        name: create.name,
      },
    ],
    ineffective: new Set(),
  }
  for (const op of ordered.slice(1)) {
    const change = apply(s, op)
    if (change === undefined) s.ineffective.add(op.id)
    else s.changes.push(change)
  }
  return { id: create.groupId, ...s }
}

/** Applies `op` to `s` if allowed; returns what changed, or undefined (and `s` untouched). */
function apply(s: Draft, op: GroupOp): GroupChange | undefined {
  const author = s.members.get(op.authorId)
  if (op.kind === 'create' || author === undefined) return undefined
  const change = (members: readonly ContactId[], extra: Partial<GroupChange> = {}): GroupChange => ({
    op: op.id,
    kind: op.kind,
    by: op.authorId,
    at: op.createdAt,
    members,
    ...extra,
  })
  const target = op.target === undefined ? undefined : s.members.get(op.target)
  switch (op.kind) {
    case 'rename':
      if (!isAdmin(author)) return undefined
      s.name = op.name
      return change([], { name: op.name })
    case 'settings':
      if (!isAdmin(author)) return undefined
      s.joinApproval = op.joinApproval
      s.adminsOnly = op.adminsOnly
      return change([])
    case 'revoke-invite':
      if (!isAdmin(author) || op.inviteId === undefined) return undefined
      s.revokedInvites.add(op.inviteId)
      return change([])
    case 'add': {
      if (!isAdmin(author) && s.joinApproval) return undefined
      if (s.members.size + op.cards.length > MAX_GROUP_MEMBERS) return undefined
      const added = op.cards.map((card) => ({ card, id: idOf(card) }))
      if (added.some(({ id }) => s.members.has(id))) return undefined
      for (const { card, id } of added) s.members.set(id, { id, card, role: 'member', since: op.createdAt })
      return change(added.map((a) => a.id))
    }
    case 'remove':
      if (target === undefined || target.id === author.id) return undefined
      if (!(author.role === 'owner' || (author.role === 'admin' && target.role === 'member')))
        return undefined
      s.members.delete(target.id)
      return change([target.id])
    case 'leave':
      if (author.role === 'owner') return undefined
      s.members.delete(author.id)
      return change([author.id])
    case 'promote':
      if (author.role !== 'owner' || target?.role !== 'member') return undefined
      s.members.set(target.id, { ...target, role: 'admin' })
      return change([target.id])
    case 'demote':
      if (author.role !== 'owner' || target?.role !== 'admin') return undefined
      s.members.set(target.id, { ...target, role: 'member' })
      return change([target.id])
    case 'transfer':
      if (author.role !== 'owner' || target === undefined || target.id === author.id) return undefined
      s.members.set(target.id, { ...target, role: 'owner' })
      s.members.set(author.id, { ...author, role: 'admin' })
      s.owner = target.id
      return change([target.id])
  }
}

function idOf(card: GroupCard): ContactId {
  return contactIdFor(card.identity.signingKey)
}
