/**
 * "Safety number changed": a contact's device starts a session under identity keys other than
 * the ones stored for that contact. X3DH binds a session to the identity the initiator names, and
 * a contact's identity decides who they are (contact ids, safety numbers, cards): such a session
 * is therefore never accepted in their name, and never becomes a new contact on their device
 * either. It is refused (counted as 'identity-changed'), and the user is told: the contact record
 * says `identityChanged`, `verified` is cleared, and a system line goes into the conversation.
 *
 * The stored keys stay what they were. A person who really has new keys is added again from
 * their new card after the old contact is removed; marking the contact verified (after comparing
 * safety numbers) clears the flag.
 */
import { bytesToHex } from '../bytes.js'
import type { PublicIdentity } from '../identity/identity.js'
import type { MessengerCore } from './core.js'
import { type ContactId, newMessageId } from './ids.js'
import type { ContactRecord, MessageRecord } from './records.js'
import { Tx } from './tx.js'

/** The extension kind of the system line a safety number change leaves in the conversation. */
export const SAFETY_NUMBER_CHANGED = 'safety-number-changed'

/** Whether `identity` is exactly the one stored for `contact` (both keys). */
export function isStoredIdentity(contact: ContactRecord, identity: PublicIdentity): boolean {
  return (
    bytesToHex(identity.signingKey) === contact.identityKey &&
    bytesToHex(identity.agreementKey) === contact.agreementKey
  )
}

/**
 * Records the change on the contact (once until the user acknowledges it: every further message
 * of the new keys is refused without another line). Runs inside the contact's queue.
 */
export async function recordIdentityChange(core: MessengerCore, cid: ContactId): Promise<void> {
  const contact = core.contacts.get(cid)
  if (contact === undefined || contact.identityChanged === true) return
  const tx = new Tx()
  const now = Date.now()
  core.putContact(tx, { ...contact, identityChanged: true, verified: false, updatedAt: now }, 'update')
  const line: MessageRecord = {
    id: newMessageId(),
    contactId: cid,
    seq: await core.conversations.nextMessageSeq(cid),
    direction: 'in',
    // Apps show their own words for the kind (both languages); this is the plain-text form.
    text: `Your safety number with ${contact.name} changed. Messages under the new keys are refused.`,
    sentAt: now,
    at: now,
    // Nothing to acknowledge to anyone: it is ours, and read receipts only go for 'received'.
    status: 'read',
    extension: { kind: SAFETY_NUMBER_CHANGED, data: null },
  }
  core.putMessage(tx, line, 'new')
  await core.commit(tx)
  core.log.warn('safety number changed', { contact: cid })
}
