/**
 * The local account: the person's identity, this device's libp2p key and the display name.
 * Created once (init / onboarding); everything else hangs off it.
 */
import { bytesToHex, hexToBytes, utf8 } from '../bytes.js'
import { ownDeviceListKey, thisDeviceEntry } from '../devices/own-list.js'
import { type DeviceKey, decodeDeviceKey, encodeDeviceKey, generateDeviceKey } from '../identity/device.js'
import { createDeviceList } from '../identity/device-list.js'
import {
  decodeIdentityKeyPair,
  encodeIdentityKeyPair,
  generateIdentity,
  type IdentityKeyPair,
} from '../identity/identity.js'
import type { Store } from '../store/store.js'
import { hasUnsafeNameChars } from '../unsafe-chars.js'
import { MessengerError } from './errors.js'
import { Keys } from './keys.js'
import { decodeRecord, encodeRecord } from './records.js'

export const MAX_NAME_BYTES = 64

export interface Account {
  readonly name: string
  readonly identity: IdentityKeyPair
  readonly deviceKey: DeviceKey
  readonly createdAt: number
}

interface AccountRecord {
  readonly version: 1
  readonly name: string
  readonly identity: string
  readonly deviceKey: string
  readonly createdAt: number
}

export function checkName(name: string, what = 'a name'): string {
  const trimmed = typeof name === 'string' ? name.trim() : ''
  const bytes = utf8(trimmed).length
  if (bytes === 0 || bytes > MAX_NAME_BYTES) {
    throw new MessengerError('BadInput', `${what} must be 1 to ${MAX_NAME_BYTES} UTF-8 bytes`)
  }
  // The same characters the card decoder refuses (unsafe-chars.ts), so our card always decodes.
  if (hasUnsafeNameChars(trimmed)) {
    throw new MessengerError(
      'BadInput',
      `${what} cannot contain control, text-direction, zero-width or line-separator characters`,
    )
  }
  return trimmed
}

export async function loadAccount(store: Store): Promise<Account | undefined> {
  const bytes = await store.get(Keys.account())
  if (bytes === undefined) return undefined
  const r = decodeRecord<AccountRecord>(bytes)
  return {
    name: r.name,
    identity: decodeIdentityKeyPair(hexToBytes(r.identity)),
    deviceKey: decodeDeviceKey(hexToBytes(r.deviceKey)),
    createdAt: r.createdAt,
  }
}

/**
 * Creates the account and its first device list (version 1, this device named `deviceName`,
 * default "Device"), in one batch; refuses to overwrite an account (AccountExists).
 */
export async function createAccount(
  store: Store,
  name: string,
  options: { readonly deviceName?: string } = {},
): Promise<Account> {
  const checked = checkName(name)
  if ((await store.get(Keys.account())) !== undefined) {
    throw new MessengerError('AccountExists', 'an identity already exists here; it is never overwritten')
  }
  const account: Account = {
    name: checked,
    identity: generateIdentity(),
    deviceKey: await generateDeviceKey(),
    createdAt: Date.now(),
  }
  const list = createDeviceList(account.identity, 1, [thisDeviceEntry(account, options.deviceName ?? '')])
  await store.batch([
    { type: 'put', key: Keys.account(), value: accountRecord(account) },
    { type: 'put', key: ownDeviceListKey(), value: list },
  ])
  return account
}

export function accountRecord(account: Account): Uint8Array {
  const record: AccountRecord = {
    version: 1,
    name: account.name,
    identity: bytesToHex(encodeIdentityKeyPair(account.identity)),
    deviceKey: bytesToHex(encodeDeviceKey(account.deviceKey)),
    createdAt: account.createdAt,
  }
  return encodeRecord(record)
}
