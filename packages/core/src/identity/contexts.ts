/**
 * Every signature made by an identity key is over `label || 0x00 || payload`, with one label per
 * purpose, so a signature made for one purpose can never be replayed as another.
 */
import { concatBytes, utf8 } from '../bytes.js'

export const SignatureContext = {
  Card: 'Jiayi_Card_v1',
  DeviceCertificate: 'Jiayi_DeviceCertificate_v1',
  AgreementKey: 'Jiayi_IdentityAgreementKey_v1',
  SignedPreKey: 'Jiayi_SignedPreKey_v1',
  KemPreKey: 'Jiayi_KemPreKey_v1',
  /** One update of a moments feed (@jiayi/feed): feed id, replica, sequence, epoch, hash. */
  FeedUpdate: 'Jiayi_FeedUpdate_v1',
  /** A compacted snapshot of a moments feed (@jiayi/feed). */
  FeedSnapshot: 'Jiayi_FeedSnapshot_v1',
  /** One change to a group's state (groups/ops.ts). */
  GroupOp: 'Jiayi_GroupOp_v1',
  /** A group invite, made by an admin (groups/invite.ts). */
  GroupInvite: 'Jiayi_GroupInvite_v1',
  /** The owner names its home node and its own devices (mailbox/certificate.ts). */
  HomeNode: 'Jiayi_HomeNode_v1',
  /** The owner names who may deposit in its mailbox (mailbox/certificate.ts). */
  MailboxDepositors: 'Jiayi_MailboxDepositors_v1',
  /** The person's devices, versioned (identity/device-list.ts). */
  DeviceList: 'Jiayi_DeviceList_v1',
} as const
export type SignatureContext = (typeof SignatureContext)[keyof typeof SignatureContext]

export function signedPayload(context: SignatureContext, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8(context), Uint8Array.of(0), payload)
}
