import { defineError } from '../errors.js'

/**
 * Why a group op, invite or request was refused. Stable codes:
 * - BadEncoding: not a canonical structure of the expected kind.
 * - BadField: a field is out of bounds (name, keys, parents, lamport, kind, cards).
 * - BadSignature: the author's signature does not verify.
 * - WrongGroup: the op or invite names another group.
 * - Expired / Revoked: an invite past its expiry, or revoked by an admin.
 * - NotAllowed: the local user may not make this change (not an admin, the owner leaving, …).
 * - NotFound: no such group or member.
 * - Full: the group holds MAX_GROUP_MEMBERS already.
 * - Refused: an admin turned down a join request.
 */
export const GroupError = defineError('GroupError', [
  'BadEncoding',
  'BadField',
  'BadSignature',
  'WrongGroup',
  'Expired',
  'Revoked',
  'NotAllowed',
  'NotFound',
  'Full',
  'Refused',
] as const)
export type GroupError = InstanceType<typeof GroupError>
