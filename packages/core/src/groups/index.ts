/** Groups: the signed op log, the state it folds into, and invites. The public surface. */
export {
  type CarriedMessage,
  type CarryLimits,
  CarryStore,
  DEFAULT_CARRY_LIMITS,
  type HighWaterMarks,
} from './carry.js'
export { GroupChannel, type KeyHandout, MAX_WAITING_MESSAGES, type ReceiveOutcome } from './channel.js'
export { GroupError } from './errors.js'
export { decodeGroupFile, encodeGroupFile, type GroupTransferView } from './group-files.js'
export {
  checkInviteFresh,
  DEFAULT_INVITE_TTL_MS,
  decodeInviteBytes,
  decodeInviteLink,
  type GroupInvite,
  inviteLink,
  inviteQrText,
  isInviteLink,
  makeInvite,
} from './invite.js'
export { type AddOutcome, GroupLog, MAX_WAITING_OPS } from './log.js'
export {
  checkGroupName,
  decodeOp,
  GROUP_OP_KINDS,
  type GroupCard,
  type GroupId,
  type GroupOp,
  type GroupOpDraft,
  type GroupOpId,
  type GroupOpKind,
  isGroupId,
  MAX_CARDS_PER_OP,
  MAX_GROUP_MEMBERS,
  MAX_GROUP_NAME_BYTES,
} from './ops.js'
export { type GroupReactionsView, MAX_WAITING_REACTIONS } from './reactions.js'
export { MAX_READ_IDS, READ_RECEIPTS_UP_TO } from './receipts.js'
export {
  GROUP_EXTENSION,
  type GroupMemberView,
  type GroupMessageView,
  Groups,
  type GroupView,
  type InviteView,
  type JoinResult,
} from './service.js'
export { foldGroup, type GroupChange, type GroupMember, type GroupRole, type GroupState } from './state.js'
