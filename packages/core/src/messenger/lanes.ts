/**
 * Sessions per device (Signal's Sesame). A person may have several devices (their signed device
 * list, identity/device-list.ts); each device has its own prekeys, so each gets its own sessions
 * and its own outbox: a "lane". A payload for a contact is encrypted once per lane, and an offline
 * phone's lane waits without holding back the laptop's.
 *
 * A lane is named like a contact (it keys `sessions <lane>` and `outbox <lane> <seq>`): the device
 * the contact's card names keeps the contact's own id, so a person with one device has exactly
 * the sessions and outbox they had before lanes (nothing to migrate); every other device's lane
 * is `<contact id>.<peer id>`. The outbox numbers are the conversation's (one number per payload,
 * the same in every lane), and every lane of a contact is changed inside that contact's queue.
 *
 * The person's own other devices are lanes of their own identity's id (the "self" conversation):
 * what one device sends is mirrored to the others through them (sync.ts).
 */
import type { ContactId } from './ids.js'
import { type ContactRecord, contactDevices } from './records.js'

export interface Lane {
  readonly lane: ContactId
  /** The device's peer id. */
  readonly device: string
}

const CONTACT_ID_CHARS = 16

/** The lane of `device`, one of `contact`'s devices. */
export function laneOf(contact: Pick<ContactRecord, 'id' | 'peerId'>, device: string): ContactId {
  return device === contact.peerId ? contact.id : (`${contact.id}.${device}` as ContactId)
}

/** The lanes a payload to `contact` goes into: one per device on their list, except `except`. */
export function lanesOf(
  contact: Pick<ContactRecord, 'id' | 'peerId' | 'devices'>,
  except?: string,
): readonly Lane[] {
  return contactDevices(contact)
    .filter((device) => device !== except)
    .map((device) => ({ lane: laneOf(contact, device), device }))
}

/** The contact (conversation) a lane belongs to. */
export function laneContact(lane: ContactId): ContactId {
  return lane.length > CONTACT_ID_CHARS ? (lane.slice(0, CONTACT_ID_CHARS) as ContactId) : lane
}

/** The device a lane of `contact` goes to, or undefined when it is not on their list any more. */
export function laneDevice(contact: ContactRecord, lane: ContactId): string | undefined {
  const device = lane.length > CONTACT_ID_CHARS ? lane.slice(CONTACT_ID_CHARS + 1) : contact.peerId
  return contactDevices(contact).includes(device) ? device : undefined
}

/** Whether `lane` is a contact's first lane (the device their card names). */
export function isFirstLane(lane: ContactId): boolean {
  return lane.length <= CONTACT_ID_CHARS
}
