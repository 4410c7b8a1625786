/**
 * A contact's device list as it arrives (card, address update, group state): verified under the
 * identity key we hold for them, kept only when newer than the one we have (identity/device-list.ts),
 * so a replayed old list cannot bring back a device they removed.
 */
import { fromBase64, hexToBytes, toBase64 } from '../bytes.js'
import { type DeviceList, isNewerDeviceList, verifyDeviceList } from '../identity/device-list.js'
import { IdentityError } from '../identity/identity.js'
import type { ContactRecord } from './records.js'

/** The list we hold for a contact, or undefined when they have sent none (one device). */
export function heldDeviceList(
  contact: Pick<ContactRecord, 'deviceList' | 'identityKey'>,
): DeviceList | undefined {
  if (contact.deviceList === undefined) return undefined
  return verifyDeviceList(fromBase64(contact.deviceList), hexToBytes(contact.identityKey))
}

/**
 * The contact's record with `bytes` as their device list, or undefined when the list changes
 * nothing (not newer than the held one). Throws IdentityError when the list is malformed or
 * signed by another identity: the caller counts it and drops it.
 */
export function withDeviceList(contact: ContactRecord, bytes: Uint8Array): ContactRecord | undefined {
  const list = verifyDeviceList(bytes, hexToBytes(contact.identityKey))
  if (!isNewerDeviceList(list, heldDeviceList(contact))) return undefined
  return {
    ...contact,
    deviceList: toBase64(list.bytes),
    devices: list.devices.map((d) => d.peerId),
    updatedAt: Date.now(),
  }
}

/**
 * `contact` with `bytes` applied when they are a newer list of theirs; `contact` itself when they
 * are absent, not newer, or bad. A bad list (IdentityError) is counted as `bad-device-list` by
 * `onBad` and dropped: whatever carried it is still taken.
 */
export function applyDeviceList(
  contact: ContactRecord,
  bytes: Uint8Array | undefined,
  onBad: (error: unknown) => void,
): ContactRecord {
  if (bytes === undefined) return contact
  try {
    return withDeviceList(contact, bytes) ?? contact
  } catch (error) {
    if (!IdentityError.is(error)) throw error
    onBad(error)
    return contact
  }
}
