/**
 * What apps see: plain JSON-friendly objects (they cross the control socket and the web app's
 * WebSocket unchanged). Times are ISO 8601 strings.
 */
import type { DeviceView } from '../devices/own-list.js'
import type { ConnectionRoute } from '../net/connection-info.js'
import type { ContactId, MessageId } from './ids.js'
import type { ReachProblem } from './reach.js'
import {
  type ContactRecord,
  type ContactState,
  contactDevices,
  type MessageRecord,
  type MessageStatus,
} from './records.js'

export interface MeView {
  readonly name: string
  /** Hex of the Ed25519 identity key. */
  readonly identityKey: string
  readonly peerId: string
  /** Our devices (devices/linker.ts DeviceView); absent where no peer runs to ask. */
  readonly devices?: readonly DeviceView[]
}

export interface CardView {
  readonly link: string
  /** Upper-case text for a QR code (alphanumeric mode). */
  readonly qr: string
  readonly name: string
  readonly peerId: string
  readonly addrs: readonly string[]
}

/**
 * How a contact is reached right now: over a connection ('lan', 'direct', 'relayed': the best of
 * those open), else through their home node's mailbox when their card names a valid one, else
 * 'offline' (what is sent waits in the outbox).
 */
export type ContactReach = 'lan' | 'direct' | 'relayed' | 'mailbox' | 'offline'

export interface ContactView {
  readonly id: ContactId
  /** The name on their card. */
  readonly name: string
  /** The user's private name for them (备注), shown instead of `name` where set. */
  readonly remark?: string | undefined
  /** The user's labels for them (标签), by name; private, like the remark. */
  readonly labels: readonly string[]
  /** Names their profile picture (the `contactPicture` method gives it), when they sent one. */
  readonly picture?: string | undefined
  readonly peerId: string
  readonly state: ContactState
  readonly online: boolean
  readonly reach: ContactReach
  readonly verified: boolean
  /** Their device offered other identity keys than the stored ones: the safety number changed. */
  readonly identityChanged: boolean
  /** Whether the conversation's current session was agreed with ML-KEM-768 (PQXDH). */
  readonly postQuantum: boolean
  readonly identityKey: string
  readonly addrs: readonly string[]
  /** Peer ids of their devices: those on their newest device list, else the card's one device. */
  readonly devices: readonly string[]
  /**
   * Why the last attempt to reach them failed (reach.ts), until a connection to them opens or
   * they acknowledge a delivery; null when nothing failed since. Always set by the messenger.
   */
  readonly lastError?: ReachProblem | null
}

export interface MessageView {
  readonly id: MessageId
  readonly contactId: ContactId
  readonly direction: 'in' | 'out'
  readonly text: string
  readonly sentAt: string
  readonly status: MessageStatus
  readonly replyTo?: MessageId | undefined
  readonly reactions?:
    | { readonly mine?: string | undefined; readonly theirs?: string | undefined }
    | undefined
  readonly edited: boolean
  readonly deleted: boolean
  readonly extension?: { readonly kind: string; readonly data: unknown } | undefined
  /**
   * How it travelled ('lan', 'direct', 'relayed', or 'mailbox': through the recipient's home node);
   * absent until it has moved.
   */
  readonly route?: ConnectionRoute | undefined
}

export function contactView(
  c: ContactRecord,
  online: boolean,
  lastError: ReachProblem | null = null,
  reach: ContactReach = online ? 'direct' : 'offline',
): ContactView {
  return {
    id: c.id,
    name: c.name,
    ...(c.remark !== undefined ? { remark: c.remark } : {}),
    labels: c.labels ?? [],
    ...(c.picture !== undefined ? { picture: c.picture } : {}),
    peerId: c.peerId,
    state: c.state,
    online,
    reach,
    verified: c.verified,
    identityChanged: c.identityChanged === true,
    postQuantum: c.postQuantum === true,
    identityKey: c.identityKey,
    addrs: c.addrs,
    devices: contactDevices(c),
    lastError,
  }
}

export function messageView(m: MessageRecord): MessageView {
  return {
    id: m.id,
    contactId: m.contactId,
    direction: m.direction,
    text: m.deleted ? '' : m.text,
    sentAt: new Date(m.sentAt).toISOString(),
    status: m.status,
    replyTo: m.replyTo,
    reactions: m.reactions,
    edited: m.editedAt !== undefined,
    deleted: m.deleted === true,
    extension: m.extension,
    ...(m.route === undefined ? {} : { route: m.route }),
  }
}
