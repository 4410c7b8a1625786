import { defineError } from '../errors.js'

/**
 * Why a mailbox request or a home node certificate was refused. Stable codes, one per refusal a
 * home node counts (MailboxServer.stats) and a client sees:
 * - NotAllowed: the depositor is not on the owner's current list (a stranger, a removed contact),
 *   or the home node has no owner yet.
 * - NotOwner: a fetch, an acknowledgement or a list from a peer that is not one of the owner's
 *   devices.
 * - OverQuota: the depositor's share of the mailbox (items or bytes) is full.
 * - Expired: the owner's certificate is past its validity; nothing is deposited until a new one.
 * - BadCertificate: a certificate or depositor list that does not verify, names another home
 *   node, or comes from another owner than the one this home node serves.
 * - BadRequest: a request that is not exactly one thing, or a field out of bounds.
 * - BadLink: text that is not a home node link (jiayi:home/…).
 * - Unavailable: the home node could not be reached or answered nothing sensible.
 */
export const MailboxError = defineError('MailboxError', [
  'NotAllowed',
  'NotOwner',
  'OverQuota',
  'Expired',
  'BadCertificate',
  'BadRequest',
  'BadLink',
  'Unavailable',
] as const)
export type MailboxError = InstanceType<typeof MailboxError>
export type MailboxErrorCode = MailboxError['code']
