/** Branded ids, so a contact id can never be passed where a message id belongs. */
import { bytesToHex, hexToBytes, randomBytes } from '../bytes.js'
import { sha256Hash } from '../crypto/primitives.js'

export type ContactId = string & { readonly __brand: 'ContactId' }
export type MessageId = string & { readonly __brand: 'MessageId' }

export const MESSAGE_ID_BYTES = 16

/** A contact's id: the first 8 bytes of SHA-256 of its identity key, in hex (stable, short, typeable). */
export function contactIdFor(identitySigningKey: Uint8Array): ContactId {
  return bytesToHex(sha256Hash(identitySigningKey).subarray(0, 8)) as ContactId
}

export function isContactId(value: string): value is ContactId {
  return /^[0-9a-f]{16}$/.test(value)
}

/** A random 128-bit message id, as 32 hex characters. */
export function newMessageId(): MessageId {
  return bytesToHex(randomBytes(MESSAGE_ID_BYTES)) as MessageId
}

export function isMessageId(value: string): value is MessageId {
  return /^[0-9a-f]{32}$/.test(value)
}

export function messageIdBytes(id: MessageId): Uint8Array {
  return hexToBytes(id)
}

export function messageIdFromBytes(bytes: Uint8Array): MessageId | undefined {
  return bytes.length === MESSAGE_ID_BYTES ? (bytesToHex(bytes) as MessageId) : undefined
}
