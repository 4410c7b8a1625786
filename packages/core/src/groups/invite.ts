/**
 * Group invites (WeChat's group QR code): a link signed by an admin, naming the group and the
 * admin's card (whom to ask to join, and where), with an expiry (7 days by default, as WeChat's).
 *
 *   jiayi:group/<PAYLOAD>   (a QR code holds it upper-cased, so it stays alphanumeric)
 *
 * Scanning one sends a join request to the admin; the admin's peer checks the invite again
 * (signature, expiry, the admin still an admin, not revoked) and adds the person, or holds the
 * request for an admin's approval when the group asks for it. An invite lets nobody read
 * anything by itself: it holds no key.
 */
import { base32upper } from 'multiformats/bases/base32'
import { bytesToHex, hexToBytes, randomBytes } from '../bytes.js'
import { decodeCardBytes, MAX_CARD_BYTES } from '../card/card.js'
import { SignatureContext } from '../identity/contexts.js'
import { type IdentityKeyPair, signAs, verifySignedBy } from '../identity/identity.js'
import { type ContactId, contactIdFor } from '../messenger/ids.js'
import { GroupError } from './errors.js'
import { GroupInviteBody, SignedGroupInvite } from './group-wire.pb.js'
import { checkGroupName, type GroupCard, type GroupId } from './ops.js'

export const GROUP_INVITE_VERSION = 1
export const DEFAULT_INVITE_TTL_MS = 7 * 24 * 3600_000
const MAX_INVITE_BYTES = MAX_CARD_BYTES + 256
const SCHEME = 'jiayi:group/'

export interface GroupInvite {
  readonly groupId: GroupId
  readonly groupName: string
  /** 32 hex digits: what a revocation names. */
  readonly id: string
  readonly admin: GroupCard
  readonly adminId: ContactId
  readonly expiresAt: number
  /** Whether an admin approves each join, as the group said when the invite was made. */
  readonly joinApproval: boolean
  /** The signed invite, as the link carries it. */
  readonly bytes: Uint8Array
}

export function makeInvite(
  identity: IdentityKeyPair,
  input: {
    groupId: GroupId
    groupName: string
    adminCard: Uint8Array
    expiresAt: number
    joinApproval?: boolean
  },
): GroupInvite {
  const body = GroupInviteBody.encode({
    version: GROUP_INVITE_VERSION,
    groupId: hexToBytes(input.groupId) as Uint8Array<ArrayBuffer>,
    groupName: checkGroupName(input.groupName),
    inviteId: randomBytes(16) as Uint8Array<ArrayBuffer>,
    adminCard: input.adminCard as Uint8Array<ArrayBuffer>,
    expiresAt: BigInt(input.expiresAt),
    joinApproval: input.joinApproval ?? true,
  })
  const signature = signAs(identity, SignatureContext.GroupInvite, body)
  return decodeInviteBytes(
    SignedGroupInvite.encode({ body, signature: signature as Uint8Array<ArrayBuffer> }),
  )
}

/** Checks an invite's form and signature (not its expiry: see `checkInviteFresh`). */
export function decodeInviteBytes(bytes: Uint8Array): GroupInvite {
  if (bytes.length > MAX_INVITE_BYTES) throw new GroupError('BadField', 'the group invite is too large')
  let outer: SignedGroupInvite
  let body: GroupInviteBody
  try {
    outer = SignedGroupInvite.decode(bytes)
    body = GroupInviteBody.decode(outer.body)
  } catch (cause) {
    throw new GroupError('BadEncoding', 'the group invite is damaged; scan or copy it again', { cause })
  }
  if (body.version !== GROUP_INVITE_VERSION)
    throw new GroupError('BadField', `group invite version ${body.version} is not supported`)
  if (body.groupId.length !== 16 || body.inviteId.length !== 16)
    throw new GroupError('BadField', 'the group invite is malformed')
  let admin: GroupCard
  try {
    admin = { ...decodeCardBytes(body.adminCard), bytes: body.adminCard }
  } catch (cause) {
    throw new GroupError('BadField', "the invite's admin card is refused", { cause })
  }
  if (!verifySignedBy(admin.identity.signingKey, SignatureContext.GroupInvite, outer.body, outer.signature)) {
    throw new GroupError('BadSignature', 'the group invite is not signed by the admin it names')
  }
  if (body.expiresAt > BigInt(Number.MAX_SAFE_INTEGER))
    throw new GroupError('BadField', 'the invite expiry is out of range')
  return {
    groupId: bytesToHex(body.groupId) as GroupId,
    groupName: checkGroupName(body.groupName),
    id: bytesToHex(body.inviteId),
    admin,
    adminId: contactIdFor(admin.identity.signingKey),
    expiresAt: Number(body.expiresAt),
    joinApproval: body.joinApproval,
    bytes,
  }
}

export function checkInviteFresh(invite: GroupInvite, now = Date.now()): void {
  if (now >= invite.expiresAt) {
    throw new GroupError(
      'Expired',
      `this group invite expired on ${new Date(invite.expiresAt).toISOString().slice(0, 16).replace('T', ' ')}; ask for a new one`,
    )
  }
}

export function inviteLink(invite: GroupInvite): string {
  return SCHEME + base32upper.baseEncode(invite.bytes)
}

/** The QR code's text: upper case keeps the whole code in alphanumeric mode. */
export function inviteQrText(invite: GroupInvite): string {
  return inviteLink(invite).toUpperCase()
}

export function isInviteLink(text: string): boolean {
  return text.trim().toLowerCase().startsWith(SCHEME)
}

/** Decodes `jiayi:group/…` (any case); checks form and signature, not expiry. */
export function decodeInviteLink(text: string): GroupInvite {
  const trimmed = text.trim()
  if (!isInviteLink(trimmed))
    throw new GroupError('BadEncoding', 'not a Jiayi group invite (expected jiayi:group/…)')
  const payload = trimmed.slice(SCHEME.length)
  if (
    payload.length === 0 ||
    payload.length > Math.ceil((MAX_INVITE_BYTES * 8) / 5) ||
    !/^[A-Za-z2-7]+$/.test(payload)
  ) {
    throw new GroupError('BadEncoding', 'the group invite is damaged or cut short; copy it again')
  }
  let bytes: Uint8Array
  try {
    bytes = base32upper.baseDecode(payload.toUpperCase())
  } catch (cause) {
    throw new GroupError('BadEncoding', 'the group invite is damaged or cut short; copy it again', { cause })
  }
  return decodeInviteBytes(bytes)
}
