/**
 * Who may do what: the one answer every protocol handler asks (msg, prekeys, file, feed, and the
 * features that come later), so a trust rule is written once and enforced where data enters.
 *
 * The rule (DESIGN.md "Network", PROTOCOL.md "Trust states"): a stranger may fetch prekeys and
 * send a contact request, nothing else. A request makes them `pending-in`: they may hold a capped
 * number of messages until this user accepts, and get nothing from us (no feed key, no receipts,
 * no address updates, no files taken). Only a contact we asked (`pending-out`) becomes `accepted`
 * by their answer; a `pending-in` contact stays pending whatever it sends.
 */
import type { ContactState } from './records.js'

/** Where a peer stands with us. `blocked` is a removed contact or a rejected request. */
export type TrustState = 'stranger' | 'blocked' | ContactState

export const TRUST_STATES: readonly TrustState[] = [
  'stranger',
  'blocked',
  'pending-in',
  'pending-out',
  'accepted',
  'member',
]

/**
 * What a peer may ask of us or send us. The first group is protocols; the second, payload kinds
 * arriving through a session (an extension names its own action); the third, what we give them.
 */
export type PeerAction =
  // protocols
  | 'fetch-prekeys'
  | 'open-file-stream'
  /**
   * /jiayi/file/1 for files offered in a group only: the runner then serves a file only to a
   * current member of the group it was offered in (groups/group-files.ts).
   */
  | 'open-group-file-stream'
  | 'sync-feed'
  // payloads they send
  | 'request'
  | 'accept'
  | 'message'
  | 'receipt'
  | 'typing'
  | 'address-update'
  | 'feed-key'
  /** A new session replacing one that stopped working (session-reset.ts), either way round. */
  | 'reset-session'
  /** Asking where a contact we share is now, or answering that (contact-finder.ts). */
  | 'find-contact'
  /** Their profile picture (profile-picture.ts): only a contact's is taken. */
  | 'profile-picture'
  /**
   * Group traffic (groups/service.ts): ops, sender keys, group messages, carrying. The group
   * checks membership itself; this only says which peers may speak to a group at all.
   */
  | 'group'
  // what we give them
  | 'get-receipts'
  | 'get-feed-key'
  | 'get-address-updates'
  | 'take-file-offer'
  /** Leave envelopes in our mailbox on our home node while we are offline (mailbox/owner.ts). */
  | 'deposit-mail'

export const PEER_ACTIONS: readonly PeerAction[] = [
  'fetch-prekeys',
  'open-file-stream',
  'open-group-file-stream',
  'sync-feed',
  'request',
  'accept',
  'message',
  'receipt',
  'typing',
  'address-update',
  'feed-key',
  'reset-session',
  'find-contact',
  'profile-picture',
  'group',
  'get-receipts',
  'get-feed-key',
  'get-address-updates',
  'take-file-offer',
  'deposit-mail',
]

const EVERYTHING: ReadonlySet<PeerAction> = new Set(PEER_ACTIONS)

const TABLE: Readonly<Record<TrustState, ReadonlySet<PeerAction>>> = {
  stranger: new Set(['fetch-prekeys', 'request']),
  blocked: new Set(),
  // Held until this user accepts (capped: PENDING_IN_LIMITS); their accept means nothing.
  'pending-in': new Set(['fetch-prekeys', 'request', 'message', 'group']),
  // We asked them: their answer (accept, or a request of their own when QR codes were swapped)
  // makes them a contact, and what follows it in their outbox may already arrive. Nothing of
  // ours that only friends get (feed key, files, address updates) goes to them before that.
  'pending-out': new Set([
    'fetch-prekeys',
    'request',
    'accept',
    'message',
    'receipt',
    'typing',
    'address-update',
    'group',
    'get-receipts',
  ]),
  accepted: EVERYTHING,
  // Someone we share a group with but did not add: group traffic, the files offered in a group
  // we share, and a contact request of their own (which makes them pending-in like anyone's);
  // nothing a contact gets.
  member: new Set(['fetch-prekeys', 'request', 'group', 'open-group-file-stream']),
}

/** Whether a peer in `state` may do `action`. */
export function peerMay(state: TrustState, action: PeerAction): boolean {
  return TABLE[state].has(action)
}

/**
 * What a pending request may keep here until it is accepted: a stranger with a card must not be
 * able to fill the disk. Over the limits, messages are dropped (acknowledged, so the sender stops
 * resending) and counted; over `requests`, the oldest pending request is dropped.
 */
export interface PendingLimits {
  readonly messages: number
  readonly bytes: number
  readonly requests: number
}

export const PENDING_IN_LIMITS: PendingLimits = {
  messages: 10,
  bytes: 64 * 1024,
  requests: 100,
}
