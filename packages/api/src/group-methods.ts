/**
 * The group methods. Who may change a group, how keys rotate and how messages reach members are
 * core's rules (@jiayi/core groups/); these check the parameters and call it.
 *
 *   groups        {}                          -> [GroupView]
 *   group         {group}                     -> GroupView
 *   createGroup   {name, contacts?: [ref...]} -> GroupView
 *   groupAdd      {group, contact}            -> GroupView
 *   groupRemove   {group, member}             -> GroupView
 *   groupLeave    {group}                     -> GroupView (as it was when we left)
 *   groupPromote  {group, member}             -> GroupView
 *   groupDemote   {group, member}             -> GroupView
 *   groupTransfer {group, member}             -> GroupView
 *   groupRename   {group, name}               -> GroupView
 *   groupMessages {group, limit?, peek?}      -> [GroupMessageView]
 *   groupSettings {group, joinApproval, adminsOnly} -> GroupView
 *   groupInvite   {group, expiresInMs?}       -> {link, qr, expiresAt, id}
 *   groupRevokeInvite {group, invite}         -> GroupView (invite: its link or id)
 *   groupJoin     {link}                      -> {group, state: 'joined'|'pending'}
 *   groupApprove  {group, member}             -> GroupView (member: a join request's id or name)
 *   groupRefuse   {group, member}             -> GroupView (turns the request down; the joiner is told)
 *   conversation  {ref}                       -> {kind: 'contact'|'group', id, name}
 * `send`, `messages`, `react` and `markRead` take a group too (messenger-methods.ts).
 */
import { array, bool, int, str } from './params.js'
import { always, type MethodTable, none, params } from './table.js'

const group = str({ min: 1, max: 1024 })
const ref = str({ min: 1, max: 1024 })
/** Members at once: a group holds at most 500. */
const MAX_MEMBERS = 500

export type GroupMethodName =
  | 'groups'
  | 'group'
  | 'createGroup'
  | 'groupAdd'
  | 'groupRemove'
  | 'groupLeave'
  | 'groupPromote'
  | 'groupDemote'
  | 'groupTransfer'
  | 'groupRename'
  | 'groupMessages'
  | 'groupSettings'
  | 'groupInvite'
  | 'groupRevokeInvite'
  | 'groupJoin'
  | 'groupApprove'
  | 'groupRefuse'
  | 'conversation'

export const GROUP_METHODS: MethodTable<GroupMethodName> = {
  groups: { check: none, run: (c) => c.messenger.groups.list() },
  group: { check: params({ group }), run: (c, p) => c.messenger.groups.get(p.group) },
  createGroup: {
    check: params({
      name: str({ min: 1, max: 1024 }),
      contacts: { optional: true, check: array(ref, MAX_MEMBERS) },
    }),
    run: (c, p) => c.messenger.groups.create(p.name, p.contacts ?? []),
  },
  groupAdd: {
    check: params({ group, contact: ref }),
    run: (c, p) => c.messenger.groups.add(p.group, p.contact),
  },
  groupRemove: {
    check: params({ group, member: ref }),
    run: (c, p) => c.messenger.groups.remove(p.group, p.member),
  },
  groupLeave: { check: params({ group }), run: (c, p) => c.messenger.groups.leave(p.group) },
  groupPromote: {
    check: params({ group, member: ref }),
    run: (c, p) => c.messenger.groups.promote(p.group, p.member),
  },
  groupDemote: {
    check: params({ group, member: ref }),
    run: (c, p) => c.messenger.groups.demote(p.group, p.member),
  },
  groupTransfer: {
    check: params({ group, member: ref }),
    run: (c, p) => c.messenger.groups.transfer(p.group, p.member),
  },
  groupRename: {
    check: params({ group, name: str({ min: 1, max: 1024 }) }),
    run: (c, p) => c.messenger.groups.rename(p.group, p.name),
  },
  groupMessages: {
    check: params({
      group,
      limit: { optional: true, check: int(1, 10_000) },
      peek: { optional: true, check: bool },
    }),
    run: (c, p) =>
      c.messenger.groups.messages(p.group, {
        ...(p.limit === undefined ? {} : { limit: p.limit }),
        ...(p.peek === undefined ? {} : { peek: p.peek }),
      }),
  },
  groupSettings: {
    check: params({ group, joinApproval: bool, adminsOnly: bool }),
    run: (c, p) =>
      c.messenger.groups.settings(p.group, { joinApproval: p.joinApproval, adminsOnly: p.adminsOnly }),
  },
  groupInvite: {
    // A minute to a year.
    check: params({ group, expiresInMs: { optional: true, check: int(60_000, 366 * 24 * 3600_000) } }),
    run: (c, p) => c.messenger.groups.invite(p.group, p.expiresInMs),
  },
  groupRevokeInvite: {
    check: params({ group, invite: str({ min: 1, max: 8192 }) }),
    run: (c, p) => c.messenger.groups.revokeInvite(p.group, p.invite),
  },
  groupJoin: {
    // Waits for the admin's peer (up to 15 s) when the group adds joiners at once.
    heavy: always,
    check: params({ link: str({ min: 1, max: 8192 }) }),
    run: (c, p) => c.messenger.groups.join(p.link),
  },
  groupApprove: {
    check: params({ group, member: ref }),
    run: (c, p) => c.messenger.groups.approve(p.group, p.member),
  },
  groupRefuse: {
    check: params({ group, member: ref }),
    run: (c, p) => c.messenger.groups.refuse(p.group, p.member),
  },
  conversation: { check: params({ ref }), run: (c, p) => c.messenger.conversationOf(p.ref) },
}
