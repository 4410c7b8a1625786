/**
 * Joining by invite (WeChat's group QR code): what an admin's peer checks before it lets a
 * stranger in, in one place, for the moment the request's session starts (inbound admission)
 * and the moment the request itself is handled.
 *
 * A join request is group traffic carrying the invite and the joiner's card. It is taken only
 * when the invite was made by this peer's identity for a group it holds, has not expired, is
 * not revoked, its maker is still an admin, and the card is the joiner's own (the session that
 * carries it was started under that card's identity, from that card's device).
 */
import { decodeCardBytes } from '../card/card.js'
import type { ContactId } from '../messenger/ids.js'
import { GroupError } from './errors.js'
import type { HeldGroup } from './group-store.js'
import { GroupTraffic } from './group-wire.pb.js'
import { checkInviteFresh, decodeInviteBytes, type GroupInvite } from './invite.js'
import type { GroupCard, GroupId } from './ops.js'

/** Join requests an admin holds per group while approval is on; past it the oldest goes. */
export const MAX_JOIN_REQUESTS = 100

export interface CheckedJoin {
  readonly invite: GroupInvite
  readonly card: GroupCard
}

/**
 * Checks a join request against the group `find` gives for the invite's id. Throws GroupError
 * with the code the joiner is told: Expired, Revoked, NotAllowed (no longer an admin, or not an
 * invite of ours), BadField (malformed).
 */
export function checkJoin(
  inviteBytes: Uint8Array,
  cardBytes: Uint8Array,
  me: ContactId,
  find: (gid: GroupId) => HeldGroup | undefined,
  now = Date.now(),
): CheckedJoin {
  const invite = decodeInviteBytes(inviteBytes)
  const g = find(invite.groupId)
  if (g === undefined || invite.adminId !== me)
    throw new GroupError('NotAllowed', 'not an invite of this peer')
  checkInviteFresh(invite, now)
  const state = g.log.state()
  if (state.revokedInvites.has(invite.id)) throw new GroupError('Revoked', 'this group invite was revoked')
  const role = state.members.get(me)?.role
  if (role === undefined || role === 'member') {
    throw new GroupError('NotAllowed', 'whoever made this invite is no longer an admin of the group')
  }
  let card: GroupCard
  try {
    card = { ...decodeCardBytes(cardBytes), bytes: cardBytes }
  } catch (cause) {
    throw new GroupError('BadField', "the joiner's card is refused", { cause })
  }
  return { invite, card }
}

/** The join request inside a group payload body, if it is one (no checks beyond its form). */
export function joinRequestIn(body: Uint8Array): { invite: Uint8Array; card: Uint8Array } | undefined {
  try {
    const t = GroupTraffic.decode(body)
    return t.invite.length > 0 && t.card.length > 0 ? { invite: t.invite, card: t.card } : undefined
  } catch {
    return undefined
  }
}
