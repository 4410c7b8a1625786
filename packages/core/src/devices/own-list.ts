/**
 * Our own device list (identity/device-list.ts) as this device keeps it: the signed bytes under
 * `account device-list`, next to the account. An account made before several devices existed
 * gets its first list (version 1, naming only this device) when it next starts.
 */

import { utf8 } from '../bytes.js'
import { devicePeerId, devicePublicKey } from '../identity/device.js'
import {
  createDeviceList,
  type DeviceEntryInput,
  type DeviceList,
  type DeviceListEntry,
  listsDevice,
  MAX_DEVICE_NAME_BYTES,
  verifyDeviceList,
} from '../identity/device-list.js'
import { IdentityError } from '../identity/identity.js'
import type { Account } from '../messenger/account.js'
import { key } from '../store/keys.js'
import type { Store } from '../store/store.js'
import { hasUnsafeNameChars } from '../unsafe-chars.js'

/** Where the signed list lives (agreed with the sessions-per-device work: one key, one format). */
export const ownDeviceListKey = (): Uint8Array => key('account', 'device-list')

/**
 * Where our other devices were last known to listen, by peer id (JSON): the new device keeps the
 * link's addresses, so that it can reach the existing one at start (and be heard from).
 */
export const ownDeviceAddrsKey = (): Uint8Array => key('account', 'device-addrs')

/** A device name as the list may hold it: trimmed, cut to the limit, never empty. */
export function deviceNameOf(name: string | undefined, fallback = 'Device'): string {
  let text = (name ?? '').trim()
  if (text === '' || hasUnsafeNameChars(text)) text = fallback
  while (utf8(text).length > MAX_DEVICE_NAME_BYTES) text = [...text].slice(0, -1).join('')
  return text
}

/** This device's entry in a list, named `name` and linked now. */
export function thisDeviceEntry(account: Account, name: string, now = Date.now()): DeviceEntryInput {
  return {
    deviceKey: devicePublicKey(account.deviceKey),
    name: deviceNameOf(name),
    linkedAt: Math.floor(now / 1000),
  }
}

export async function loadOwnDeviceList(store: Store, account: Account): Promise<DeviceList | undefined> {
  const bytes = await store.get(ownDeviceListKey())
  return bytes === undefined ? undefined : verifyDeviceList(bytes, account.identity.signing.publicKey)
}

/** The stored list, or a first one (version 1, this device named `name`) written now. */
export async function ensureOwnDeviceList(store: Store, account: Account, name: string): Promise<DeviceList> {
  let held: DeviceList | undefined
  try {
    held = await loadOwnDeviceList(store, account)
  } catch (error) {
    // A list this identity did not sign (the store was given another identity): it is not ours.
    if (!IdentityError.is(error)) throw error
  }
  if (held !== undefined) return held
  const bytes = createDeviceList(account.identity, 1, [thisDeviceEntry(account, name)])
  await store.put(ownDeviceListKey(), bytes)
  return verifyDeviceList(bytes)
}

/** Whether this device is on `list` (a device removed from its own list stops being the person). */
export function listsThisDevice(list: DeviceList, account: Account): boolean {
  return listsDevice(list, devicePeerId(account.deviceKey).toString())
}

export interface DeviceView {
  /** The device's libp2p peer id. */
  readonly id: string
  readonly name: string
  /** Whether it is the device answering. */
  readonly current: boolean
  /** ISO 8601. */
  readonly linkedAt: string
  /** When we last heard from it (ISO 8601); null if never (or it is this device). */
  readonly lastSeen: string | null
}

export function deviceViews(
  list: DeviceList,
  current: string,
  seen: ReadonlyMap<string, number>,
): DeviceView[] {
  return list.devices.map((d: DeviceListEntry) => {
    const at = seen.get(d.peerId)
    return {
      id: d.peerId,
      name: d.name,
      current: d.peerId === current,
      linkedAt: new Date(d.linkedAt * 1000).toISOString(),
      lastSeen: at === undefined ? null : new Date(at).toISOString(),
    }
  })
}
