/**
 * A group's op log: the ops a member holds, in the one order every member computes.
 *
 * The order is by Lamport number, then by op id. An op's number is one above its parents', so
 * the order never puts an op before one it names; two ops made concurrently (neither saw the
 * other) fall by their numbers and ids, the same way for everyone. The state is then a fold
 * over that order (state.ts), so any two members holding the same ops hold the same state,
 * whatever order the ops arrived in (the property test checks this).
 *
 * An op whose parents are not here yet waits (bounded) until they come; a member that meets
 * another asks for what it lacks by comparing heads (groups/sync).
 */
import type { IdentityKeyPair } from '../identity/identity.js'
import { contactIdFor } from '../messenger/ids.js'
import { GroupError } from './errors.js'
import {
  decodeOp,
  type GroupId,
  type GroupOp,
  type GroupOpDraft,
  type GroupOpId,
  MAX_GROUP_MEMBERS,
  signOp,
} from './ops.js'
import { foldGroup, type GroupState } from './state.js'

/** Ops kept while their parents are missing; past it the oldest waiting op is dropped. */
export const MAX_WAITING_OPS = 256

export type AddOutcome = 'added' | 'known' | 'waiting'

export class GroupLog {
  private readonly ops = new Map<GroupOpId, GroupOp>()
  private readonly waiting = new Map<GroupOpId, GroupOp>()
  private readonly children = new Set<GroupOpId>()
  private cached: GroupState | undefined
  private orderCache: GroupOp[] | undefined

  private constructor(readonly create: GroupOp) {
    this.ops.set(create.id, create)
  }

  get id(): GroupId {
    return this.create.groupId
  }

  /** A log from its create op (signed bytes or decoded). */
  static fromCreate(create: GroupOp | Uint8Array): GroupLog {
    const op = create instanceof Uint8Array ? decodeOp(create) : create
    if (op.kind !== 'create') throw new GroupError('BadField', 'a group log starts with its create op')
    return new GroupLog(op)
  }

  /** Starts a new group: `identity` is its owner. */
  static start(
    identity: IdentityKeyPair,
    input: { name: string; card: Uint8Array; joinApproval?: boolean; adminsOnly?: boolean },
    at?: number,
  ): GroupLog {
    return GroupLog.fromCreate(
      signOp(
        identity,
        { kind: 'create', ...input },
        { groupId: undefined, parents: [], lamport: 0, ...(at === undefined ? {} : { createdAt: at }) },
      ),
    )
  }

  /**
   * Adds a signed op (bytes are decoded and checked first; a bad op throws GroupError). An op
   * waits while a parent is missing; its Lamport number is checked once they are all here.
   */
  add(input: GroupOp | Uint8Array): AddOutcome {
    const op = input instanceof Uint8Array ? decodeOp(input, this.id) : input
    if (op.groupId !== this.id) throw new GroupError('WrongGroup', 'the op belongs to another group')
    if (this.ops.has(op.id)) return 'known'
    if (op.kind === 'create') throw new GroupError('BadField', 'a group has one create op')
    if (!op.parents.every((p) => this.ops.has(p))) {
      if (this.waiting.has(op.id)) return 'known'
      if (this.waiting.size >= MAX_WAITING_OPS) this.waiting.delete(this.waiting.keys().next().value!)
      this.waiting.set(op.id, op)
      return 'waiting'
    }
    this.accept(op)
    this.releaseWaiting()
    return 'added'
  }

  private accept(op: GroupOp): void {
    const expected = 1 + Math.max(...op.parents.map((p) => this.ops.get(p)!.lamport))
    if (op.lamport !== expected) {
      throw new GroupError(
        'BadField',
        `the op's Lamport number is ${op.lamport}, its parents make it ${expected}`,
      )
    }
    this.ops.set(op.id, op)
    for (const p of op.parents) this.children.add(p)
    this.cached = undefined
    this.orderCache = undefined
  }

  /** Accepts waiting ops whose parents have all come, until none is left that can be. */
  private releaseWaiting(): void {
    let progress = true
    while (progress) {
      progress = false
      for (const [id, op] of this.waiting) {
        if (!op.parents.every((p) => this.ops.has(p))) continue
        this.waiting.delete(id)
        try {
          this.accept(op)
        } catch {
          continue // a wrong Lamport number: dropped (counted where it arrived, as any bad op)
        }
        progress = true
      }
    }
  }

  has(id: GroupOpId): boolean {
    return this.ops.has(id)
  }

  get size(): number {
    return this.ops.size
  }

  /** Ops no other op names: what a new op names as its parents, and what members compare. */
  heads(): GroupOpId[] {
    return [...this.ops.keys()].filter((id) => !this.children.has(id)).sort()
  }

  /** Parents named by waiting ops that nobody here holds: what to ask another member for. */
  missing(): GroupOpId[] {
    const wanted = new Set<GroupOpId>()
    for (const op of this.waiting.values())
      for (const p of op.parents) if (!this.ops.has(p) && !this.waiting.has(p)) wanted.add(p)
    return [...wanted]
  }

  /** Every op in the one order. */
  ordered(): readonly GroupOp[] {
    this.orderCache ??= [...this.ops.values()].sort(
      (a, b) => a.lamport - b.lamport || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )
    return this.orderCache
  }

  /** Ops that `heads` (another member's) does not reach: what that member lacks. */
  missingFrom(heads: readonly GroupOpId[]): GroupOp[] {
    const reached = new Set<GroupOpId>()
    const stack = heads.filter((h) => this.ops.has(h))
    while (stack.length > 0) {
      const id = stack.pop()!
      if (reached.has(id)) continue
      reached.add(id)
      for (const p of this.ops.get(id)!.parents) stack.push(p)
    }
    return this.ordered().filter((op) => !reached.has(op.id))
  }

  state(): GroupState {
    this.cached ??= foldGroup(this.ordered())
    return this.cached
  }

  /**
   * Makes, signs and adds an op by `identity` after everything this log holds. An op that would
   * change nothing (the author is not allowed to) throws NotAllowed and is never added, so a
   * refused change never leaves this member.
   */
  make(identity: IdentityKeyPair, draft: Exclude<GroupOpDraft, { kind: 'create' }>, at?: number): GroupOp {
    const heads = this.heads()
    // Every op is an ancestor of a head and numbers grow along parents: this op sorts last.
    const lamport = 1 + Math.max(...heads.map((h) => this.ops.get(h)!.lamport))
    const op = signOp(identity, draft, {
      groupId: this.id,
      parents: heads,
      lamport,
      ...(at === undefined ? {} : { createdAt: at }),
    })
    if (foldGroup([...this.ordered(), op]).ineffective.has(op.id)) {
      throw new GroupError('NotAllowed', `this ${draft.kind} is not allowed: ${whyNot(this.state(), op)}`)
    }
    this.add(op)
    return op
  }
}

/** Says in words why an op would change nothing (for the error a user sees). */
function whyNot(state: GroupState, op: GroupOp): string {
  const me = state.members.get(op.authorId)
  if (me === undefined) return 'you are not a member of this group'
  const target = op.target === undefined ? undefined : state.members.get(op.target)
  switch (op.kind) {
    case 'leave':
      return 'the owner hands ownership on (group transfer) before leaving'
    case 'add':
      if (op.cards.some((c) => state.members.has(contactIdFor(c.identity.signingKey))))
        return 'already a member'
      if (state.members.size + op.cards.length > MAX_GROUP_MEMBERS)
        return `a group holds at most ${MAX_GROUP_MEMBERS} people`
      return 'only admins add members while join approval is on'
    case 'remove':
      if (target === undefined) return 'not a member of this group'
      if (target.id === me.id) return 'leave the group instead'
      return 'admins remove members; only the owner removes an admin'
    case 'promote':
    case 'demote':
    case 'transfer':
      if (target === undefined) return 'not a member of this group'
      if (me.role !== 'owner') return 'only the owner changes roles'
      return op.kind === 'promote'
        ? 'already an admin'
        : op.kind === 'demote'
          ? 'not an admin'
          : 'already the owner'
    default:
      return 'only admins change the group'
  }
}
