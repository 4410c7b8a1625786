/**
 * What the messenger keeps in the store, as JSON inside sealed values (binary fields in base64);
 * outbox entries have a binary format of their own (outbox-record.ts). Record keys (keys.ts)
 * carry ids and counters only.
 */
import { fromUtf8, utf8 } from '../bytes.js'
import type { ConnectionRoute } from '../net/connection-info.js'
import type { ContactId, MessageId } from './ids.js'

/**
 * `member`: someone we share a group with but did not add (WeChat groups are full of strangers).
 * Their record holds the card the group carries and the pairwise session group traffic uses; it
 * is not a contact, never listed as one, and may send group traffic only (trust.ts).
 */
export type ContactState = 'accepted' | 'pending-in' | 'pending-out' | 'member'

export interface ContactRecord {
  readonly id: ContactId
  readonly name: string
  /** Hex of the Ed25519 identity key. */
  readonly identityKey: string
  /** Hex of the X25519 identity key. */
  readonly agreementKey: string
  readonly peerId: string
  /** Multiaddrs without /p2p/, newest knowledge first (card, address updates). */
  readonly addrs: readonly string[]
  readonly state: ContactState
  readonly verified: boolean
  /**
   * Their device started a session under other identity keys than these ("safety number
   * changed", identity-change.ts): refused, shown, and `verified` cleared. Cleared again when the
   * user marks them verified.
   */
  readonly identityChanged?: boolean | undefined
  /** Whether the session we send on was agreed with ML-KEM (PQXDH); kept in step by commit. */
  readonly postQuantum?: boolean | undefined
  /** The latest card we hold for them, as its link payload. */
  readonly card: string
  /** The user's private name for them (备注): shown instead of `name`, sent only to our own devices. */
  readonly remark?: string | undefined
  /** The user's labels for them (标签, labels/labels.ts), by name; private like `remark`. */
  readonly labels?: readonly string[] | undefined
  /** Their profile picture's hash (profile-picture.ts), when they sent one. */
  readonly picture?: string | undefined
  /**
   * Their home node certificate (mailbox/certificate.ts), base64, from their card or an address
   * update: where their mailbox is while they are offline.
   */
  readonly home?: string | undefined
  /**
   * Their newest verified device list (identity/device-list.ts), base64, from their card, an
   * address update or group state, kept to pass on (group state) and to compare versions.
   */
  readonly deviceList?: string | undefined
  /**
   * The peer ids on `deviceList`, written only after it verified under `identityKey`. Absent:
   * they have one device, `peerId` (contactDevices).
   */
  readonly devices?: readonly string[] | undefined
  readonly addedAt: number
  readonly updatedAt: number
}

/**
 * The peer ids of a contact's devices: those on their device list, or the one device their card
 * named when no list has come (a person with one device, or an older build).
 */
export function contactDevices(record: Pick<ContactRecord, 'peerId' | 'devices'>): readonly string[] {
  return record.devices !== undefined && record.devices.length > 0 ? record.devices : [record.peerId]
}

/** 'stored': deposited in the recipient's mailbox on their home node, not on their device yet. */
export type MessageStatus = 'queued' | 'stored' | 'sent' | 'delivered' | 'read' | 'failed' | 'received'

const OUT_ORDER: Record<MessageStatus, number> = {
  queued: 0,
  stored: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  failed: -1,
  received: 0,
}

/** Statuses only move forward (queued -> stored -> sent -> delivered -> read); receipts may arrive out of order. */
export function advanceStatus(current: MessageStatus, next: MessageStatus): MessageStatus {
  if (current === 'failed') return current
  return OUT_ORDER[next] > OUT_ORDER[current] ? next : current
}

export interface MessageRecord {
  readonly id: MessageId
  readonly contactId: ContactId
  /** Local order within the conversation. */
  readonly seq: number
  readonly direction: 'in' | 'out'
  readonly text: string
  readonly replyTo?: MessageId | undefined
  /** Sender's clock, ms since the epoch. */
  readonly sentAt: number
  /** Our clock when it arrived (incoming) or was queued (outgoing). */
  readonly at: number
  readonly status: MessageStatus
  /** Emoji reactions by side; absent = none. */
  readonly reactions?:
    | { readonly mine?: string | undefined; readonly theirs?: string | undefined }
    | undefined
  readonly editedAt?: number | undefined
  readonly deleted?: boolean | undefined
  /** Kind-specific extra data (files: offer metadata), owned by the extension that wrote it. */
  readonly extension?: { readonly kind: string; readonly data: unknown } | undefined
  /** How it travelled: the connection it arrived on, or the one its envelope was acknowledged on. */
  readonly route?: ConnectionRoute | undefined
}

/** An envelope waiting for the peer's ack; stored in its own format (outbox-record.ts). */
export interface OutboxRecord {
  readonly seq: number
  readonly type: 'prekey' | 'message'
  /** The envelope's body, as it goes on the wire. */
  readonly envelope: Uint8Array
  /** The user-visible message this envelope carries, if any (receipts carry none). */
  readonly messageId?: MessageId | undefined
  /** Ephemeral envelopes (typing) are dropped on the first failure instead of retried. */
  readonly ephemeral?: boolean | undefined
  readonly createdAt: number
  /**
   * PreKey entries only: the payload's plaintext, so that it can be encrypted again under a new
   * session if the peer no longer holds the prekeys the envelope names (session-restart.ts). Such
   * records are sealed by the store like every record that is not ciphertext already.
   */
  readonly payload?: Uint8Array | undefined
}

export function encodeRecord(value: unknown): Uint8Array {
  return utf8(JSON.stringify(value))
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return JSON.parse(fromUtf8(bytes)) as T
}
