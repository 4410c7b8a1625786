/**
 * Group ops: one signed change to a group (create, rename, add, remove, leave, promote, demote,
 * transfer ownership, settings, revoke an invite). An op names the ops its author had seen last
 * (its parents) and carries a Lamport number one above theirs, so every member can put every op
 * in the same order (log.ts) and decide the same way whether it took effect (state.ts).
 *
 * This module only makes and checks ops in isolation: canonical bytes, field bounds, the
 * author's signature and every card inside. Whether the author was allowed to make the change is
 * decided by its place in the order, never here.
 */
import { bytesToHex, fromUtf8, hexToBytes, utf8 } from '../bytes.js'
import { type ContactCard, decodeCardBytes, MAX_CARD_BYTES } from '../card/card.js'
import { CardError } from '../card/errors.js'
import { isEd25519PublicKey, sha256Hash } from '../crypto/primitives.js'
import { SignatureContext } from '../identity/contexts.js'
import { type IdentityKeyPair, signAs, verifySignedBy } from '../identity/identity.js'
import { type ContactId, contactIdFor } from '../messenger/ids.js'
import { hasUnsafeNameChars } from '../unsafe-chars.js'
import { GroupError } from './errors.js'
import { GroupOpBody, SignedGroupOp } from './group-wire.pb.js'

export const GROUP_OP_VERSION = 1
/** WeChat's limit for a group, and what the benchmarks hold Jiayi to. */
export const MAX_GROUP_MEMBERS = 500
/** Cards per add op: a bigger add is several ops, so an op fits in one message frame (64 KiB). */
export const MAX_CARDS_PER_OP = 20
export const MAX_OP_BYTES = MAX_CARDS_PER_OP * (MAX_CARD_BYTES + 8) + 1024
export const MAX_GROUP_NAME_BYTES = 64
/** Heads an op may name: concurrent admins are few; a longer list is refused, not trimmed. */
export const MAX_PARENTS = 16
const SIGNATURE_BYTES = 64
const OP_ID_BYTES = 32
const GROUP_ID_BYTES = 16
const INVITE_ID_BYTES = 16

export type GroupId = string & { readonly __brand: 'GroupId' }
export type GroupOpId = string & { readonly __brand: 'GroupOpId' }

export function isGroupId(value: string): value is GroupId {
  return /^[0-9a-f]{32}$/.test(value)
}

export const GROUP_OP_KINDS = [
  'create',
  'rename',
  'add',
  'remove',
  'leave',
  'promote',
  'demote',
  'transfer',
  'settings',
  'revoke-invite',
] as const
export type GroupOpKind = (typeof GROUP_OP_KINDS)[number]

/** A card as a group carries it: decoded and verified, with the signed bytes members pass on. */
export type GroupCard = ContactCard & { readonly bytes: Uint8Array }

export interface GroupOp {
  readonly id: GroupOpId
  readonly groupId: GroupId
  /** The author's identity signing key, and its contact id. */
  readonly author: Uint8Array
  readonly authorId: ContactId
  readonly parents: readonly GroupOpId[]
  readonly lamport: number
  readonly createdAt: number
  readonly kind: GroupOpKind
  /** create, rename. */
  readonly name: string
  /** create (the creator's own card) and add. */
  readonly cards: readonly GroupCard[]
  /** remove, promote, demote, transfer: whom it is about. */
  readonly target: ContactId | undefined
  readonly joinApproval: boolean
  readonly adminsOnly: boolean
  /** revoke-invite: the invite's id in hex. */
  readonly inviteId: string | undefined
  /** The signed op, as it travels and is stored. */
  readonly bytes: Uint8Array
}

/** What an author fills in; the log supplies group, parents and Lamport number (log.ts). */
export type GroupOpDraft =
  | {
      readonly kind: 'create'
      readonly name: string
      readonly card: Uint8Array
      readonly joinApproval?: boolean
      readonly adminsOnly?: boolean
    }
  | { readonly kind: 'rename'; readonly name: string }
  | { readonly kind: 'add'; readonly cards: readonly Uint8Array[] }
  | { readonly kind: 'remove' | 'promote' | 'demote' | 'transfer'; readonly target: Uint8Array }
  | { readonly kind: 'leave' }
  | { readonly kind: 'settings'; readonly joinApproval: boolean; readonly adminsOnly: boolean }
  | { readonly kind: 'revoke-invite'; readonly inviteId: string }

export interface OpPlace {
  readonly groupId: GroupId | undefined
  readonly parents: readonly GroupOpId[]
  readonly lamport: number
  readonly createdAt?: number
}

/** Signs `draft` as `identity` at `place`; returns the checked op. */
export function signOp(identity: IdentityKeyPair, draft: GroupOpDraft, place: OpPlace): GroupOp {
  const body = GroupOpBody.encode({
    version: GROUP_OP_VERSION,
    groupId: (place.groupId === undefined
      ? new Uint8Array(0)
      : hexToBytes(place.groupId)) as Uint8Array<ArrayBuffer>,
    author: identity.signing.publicKey as Uint8Array<ArrayBuffer>,
    parents: [...place.parents].sort().map((id) => hexToBytes(id) as Uint8Array<ArrayBuffer>),
    lamport: BigInt(place.lamport),
    createdAt: BigInt(place.createdAt ?? Date.now()),
    kind: GROUP_OP_KINDS.indexOf(draft.kind) + 1,
    name: draft.kind === 'create' || draft.kind === 'rename' ? draft.name : '',
    members: membersOf(draft) as Uint8Array<ArrayBuffer>[],
    joinApproval: draft.kind === 'create' || draft.kind === 'settings' ? (draft.joinApproval ?? true) : false,
    adminsOnly: draft.kind === 'create' || draft.kind === 'settings' ? (draft.adminsOnly ?? false) : false,
    inviteId: (draft.kind === 'revoke-invite'
      ? hexToBytes(draft.inviteId)
      : new Uint8Array(0)) as Uint8Array<ArrayBuffer>,
  })
  const signature = signAs(identity, SignatureContext.GroupOp, body)
  // Checked with the receiver's decoder, so a bad draft fails here and never travels.
  return decodeOp(SignedGroupOp.encode({ body, signature: signature as Uint8Array<ArrayBuffer> }))
}

function membersOf(draft: GroupOpDraft): readonly Uint8Array[] {
  switch (draft.kind) {
    case 'create':
      return [draft.card]
    case 'add':
      return draft.cards
    case 'remove':
    case 'promote':
    case 'demote':
    case 'transfer':
      return [draft.target]
    default:
      return []
  }
}

/**
 * Decodes and checks a signed op. `groupId`, when given, must be the op's group. Throws GroupError,
 * nothing else.
 */
export function decodeOp(bytes: Uint8Array, groupId?: GroupId): GroupOp {
  if (bytes.length > MAX_OP_BYTES) throw new GroupError('BadField', 'a group op is too large')
  const outer = canonical(bytes, SignedGroupOp, 'group op')
  if (outer.signature.length !== SIGNATURE_BYTES)
    throw new GroupError('BadField', 'op signature must be 64 bytes')
  const body = canonical(outer.body, GroupOpBody, 'group op body')
  if (body.version !== GROUP_OP_VERSION)
    throw new GroupError('BadField', `group op version ${body.version} is not supported`)
  if (!isEd25519PublicKey(body.author)) throw new GroupError('BadField', "the op's author key is invalid")
  if (!verifySignedBy(body.author, SignatureContext.GroupOp, outer.body, outer.signature)) {
    throw new GroupError('BadSignature', 'the group op is not signed by its author')
  }
  const kind = GROUP_OP_KINDS[body.kind - 1]
  if (kind === undefined) throw new GroupError('BadField', `unknown group op kind ${body.kind}`)
  const id = bytesToHex(sha256Hash(outer.body)) as GroupOpId
  const isCreate = kind === 'create'
  if (isCreate ? body.groupId.length !== 0 : body.groupId.length !== GROUP_ID_BYTES) {
    throw new GroupError('BadField', 'the op names no group, or a malformed one')
  }
  const ownGroup = (isCreate ? id.slice(0, GROUP_ID_BYTES * 2) : bytesToHex(body.groupId)) as GroupId
  if (groupId !== undefined && ownGroup !== groupId)
    throw new GroupError('WrongGroup', 'the op belongs to another group')
  const parents = checkParents(body.parents, isCreate)
  if (body.lamport > BigInt(Number.MAX_SAFE_INTEGER) || body.createdAt > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new GroupError('BadField', 'a number in the op is out of range')
  }
  const lamport = Number(body.lamport)
  if (isCreate !== (lamport === 0))
    throw new GroupError('BadField', 'only the create op has Lamport number 0')
  const authorId = contactIdFor(body.author)
  const op: GroupOp = {
    id,
    groupId: ownGroup,
    author: body.author,
    authorId,
    parents,
    lamport,
    createdAt: Number(body.createdAt),
    kind,
    name: body.name,
    cards: [],
    target: undefined,
    joinApproval: body.joinApproval,
    adminsOnly: body.adminsOnly,
    inviteId: body.inviteId.length === 0 ? undefined : bytesToHex(body.inviteId),
    bytes,
  }
  return checkKind(op, body)
}

function checkParents(raw: readonly Uint8Array[], isCreate: boolean): GroupOpId[] {
  if (isCreate ? raw.length !== 0 : raw.length === 0 || raw.length > MAX_PARENTS) {
    throw new GroupError('BadField', `an op names 1 to ${MAX_PARENTS} parents (the create op none)`)
  }
  const ids = raw.map((p) => {
    if (p.length !== OP_ID_BYTES) throw new GroupError('BadField', 'a parent id must be 32 bytes')
    return bytesToHex(p) as GroupOpId
  })
  for (let i = 1; i < ids.length; i++) {
    if (ids[i - 1]! >= ids[i]!)
      throw new GroupError('BadField', 'parents must be distinct and in ascending order')
  }
  return ids
}

/** Fields each kind must have, and must not have. */
function checkKind(op: GroupOp, body: GroupOpBody): GroupOp {
  const { kind } = op
  const named = kind === 'create' || kind === 'rename'
  if (named) checkName(body.name)
  else if (body.name !== '') throw new GroupError('BadField', `a ${kind} op carries no name`)
  const flags = kind === 'create' || kind === 'settings'
  if (!flags && (body.joinApproval || body.adminsOnly))
    throw new GroupError('BadField', `a ${kind} op carries no settings`)
  if ((kind === 'revoke-invite') !== (body.inviteId.length === INVITE_ID_BYTES)) {
    throw new GroupError('BadField', 'only a revoke-invite op names an invite, of 16 bytes')
  }
  if (kind === 'create' || kind === 'add') {
    const count = body.members.length
    if (count === 0 || count > MAX_CARDS_PER_OP || (kind === 'create' && count !== 1)) {
      throw new GroupError(
        'BadField',
        `an add op carries 1 to ${MAX_CARDS_PER_OP} cards, a create op its author's`,
      )
    }
    const cards = body.members.map(decodeMemberCard)
    const seen = new Set<string>()
    for (const card of cards) {
      const cid = contactIdFor(card.identity.signingKey)
      if (seen.has(cid)) throw new GroupError('BadField', 'an add op names a person twice')
      seen.add(cid)
    }
    if (kind === 'create' && contactIdFor(cards[0]!.identity.signingKey) !== op.authorId) {
      throw new GroupError('BadField', "a create op carries its author's own card")
    }
    return { ...op, cards }
  }
  if (kind === 'remove' || kind === 'promote' || kind === 'demote' || kind === 'transfer') {
    const target = body.members[0]
    if (body.members.length !== 1 || target === undefined || !isEd25519PublicKey(target)) {
      throw new GroupError('BadField', `a ${kind} op names one member's identity key`)
    }
    return { ...op, target: contactIdFor(target) }
  }
  if (body.members.length !== 0) throw new GroupError('BadField', `a ${kind} op names no member`)
  return op
}

function checkName(name: string): void {
  const bytes = utf8(name)
  if (
    bytes.length === 0 ||
    bytes.length > MAX_GROUP_NAME_BYTES ||
    fromUtf8(bytes) !== name ||
    hasUnsafeNameChars(name)
  ) {
    throw new GroupError('BadField', `a group name is 1 to ${MAX_GROUP_NAME_BYTES} bytes of printable text`)
  }
}

/** Checks a group name before an op is made with it (the CLI's and web app's input). */
export function checkGroupName(name: string): string {
  const trimmed = name.trim()
  checkName(trimmed)
  return trimmed
}

function decodeMemberCard(bytes: Uint8Array): GroupCard {
  try {
    return { ...decodeCardBytes(bytes), bytes }
  } catch (cause) {
    const why = CardError.is(cause) ? cause.message : 'malformed'
    throw new GroupError('BadField', `a member's card is refused: ${why}`, { cause })
  }
}

interface Codec<T> {
  decode(bytes: Uint8Array): T
  encode(value: Partial<T>): Uint8Array
}

/** One op has one byte form, so its id (the body's hash) cannot be varied by re-encoding it. */
function canonical<T>(bytes: Uint8Array, codec: Codec<T>, what: string): T {
  let value: T
  try {
    value = codec.decode(bytes)
  } catch (cause) {
    throw new GroupError('BadEncoding', `${what} is not a valid structure`, { cause })
  }
  const again = codec.encode(value)
  if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) {
    throw new GroupError('BadEncoding', `${what} is not in canonical form`)
  }
  return value
}
