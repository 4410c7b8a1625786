/**
 * This person's own devices, as the device list under `account device-list` says (written by
 * linking and unlinking). Absent, unreadable, or not naming this device: this device alone. The
 * other devices on it get what this one sends mirrored to them (sync.ts), through lanes of our
 * own identity (lanes.ts).
 */
import { fromBase64, toBase64 } from '../bytes.js'
import { ownDeviceListKey } from '../devices/own-list.js'
import { type DeviceList, verifyDeviceList } from '../identity/device-list.js'
import type { IdentityKeyPair } from '../identity/identity.js'
import type { Store } from '../store/store.js'

export interface OwnDevices {
  /** Peer ids of every device of ours, this one included. */
  readonly devices: readonly string[]
  /** The signed list, base64, when there is one. */
  readonly list?: string | undefined
}

/** Reads the own device list; anything but a valid list naming `self` means this device alone. */
export async function loadOwnDevices(
  store: Store,
  identity: IdentityKeyPair,
  self: string,
): Promise<OwnDevices> {
  const bytes = await store.get(ownDeviceListKey())
  const alone: OwnDevices = { devices: [self] }
  if (bytes === undefined) return alone
  let list: DeviceList
  try {
    list = verifyDeviceList(bytes, identity.signing.publicKey)
  } catch {
    return alone
  }
  const devices = list.devices.map((d) => d.peerId)
  return devices.includes(self) ? { devices, list: toBase64(list.bytes) } : alone
}

/** The verified list `own` holds, for a caller that needs the entries (names, versions). */
export function ownDeviceList(own: OwnDevices, identity: IdentityKeyPair): DeviceList | undefined {
  return own.list === undefined
    ? undefined
    : verifyDeviceList(fromBase64(own.list), identity.signing.publicKey)
}
