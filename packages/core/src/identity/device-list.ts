/**
 * The device list (DESIGN "Several devices, one person"): the identity signs which device keys
 * speak for the person, each with a name and when it was linked, under a version number. Contacts
 * and group members keep the newest list they have verified and refuse a device that is not on
 * it; a list replaces another only with a larger version, so an old list replayed cannot bring a
 * removed device back.
 */
import { equalBytes, utf8 } from '../bytes.js'
import { isEd25519PublicKey, SIGNATURE_BYTES } from '../crypto/primitives.js'
import { hasUnsafeNameChars } from '../unsafe-chars.js'
import { SignatureContext } from './contexts.js'
import { peerIdFromDeviceKey } from './device.js'
import { DeviceListBody, SignedDeviceList } from './device-list.pb.js'
import { IdentityError, type IdentityKeyPair, signAs, verifySignedBy } from './identity.js'

/** Devices one person may have at once: each is one more session per contact and per group member. */
export const MAX_DEVICES = 8
export const MAX_DEVICE_NAME_BYTES = 64
/** A full list of MAX_DEVICES with long names is ~1.1 KiB; nothing valid comes near this. */
export const MAX_DEVICE_LIST_BYTES = 2048

export interface DeviceEntryInput {
  /** Raw Ed25519 public key of the device (its libp2p peer key). */
  readonly deviceKey: Uint8Array
  readonly name: string
  /** Seconds since the Unix epoch. */
  readonly linkedAt: number
}

export interface DeviceListEntry extends DeviceEntryInput {
  /** The device's libp2p peer id, derived from deviceKey. */
  readonly peerId: string
}

/** A verified device list. */
export interface DeviceList {
  readonly ownerKey: Uint8Array
  readonly version: number
  readonly devices: readonly DeviceListEntry[]
  /** Its signed form (what cards, address updates and group state carry). */
  readonly bytes: Uint8Array
}

export function createDeviceList(
  identity: IdentityKeyPair,
  version: number,
  devices: readonly DeviceEntryInput[],
): Uint8Array {
  const body = DeviceListBody.encode({
    version: BigInt(version),
    devices: devices.map((d) => ({
      deviceKey: d.deviceKey as Uint8Array<ArrayBuffer>,
      name: d.name,
      linkedAt: BigInt(Math.floor(d.linkedAt)),
    })),
  })
  const signature = signAs(identity, SignatureContext.DeviceList, body)
  const bytes = SignedDeviceList.encode({
    ownerKey: identity.signing.publicKey as Uint8Array<ArrayBuffer>,
    body,
    signature: signature as Uint8Array<ArrayBuffer>,
  })
  verifyDeviceList(bytes, identity.signing.publicKey)
  return bytes
}

/**
 * The next list after `current`: its version is one more, so every holder of `current` takes it.
 * `change` gets the current entries and returns the new ones.
 */
export function nextDeviceList(
  identity: IdentityKeyPair,
  current: DeviceList,
  change: (devices: readonly DeviceListEntry[]) => readonly DeviceEntryInput[],
): Uint8Array {
  return createDeviceList(identity, current.version + 1, change(current.devices))
}

/**
 * Decodes and verifies a list, and when `ownerKey` is given checks that this identity signed it.
 * Throws IdentityError (BadEncoding, BadSignature or BadKey), nothing else.
 */
export function verifyDeviceList(bytes: Uint8Array, ownerKey?: Uint8Array): DeviceList {
  const malformed = (why: string, cause?: unknown) =>
    new IdentityError('BadEncoding', `device list: ${why}`, { cause })
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_DEVICE_LIST_BYTES)
    throw malformed(`it must be at most ${MAX_DEVICE_LIST_BYTES} bytes`)
  let outer: SignedDeviceList
  let body: DeviceListBody
  try {
    outer = SignedDeviceList.decode(bytes)
  } catch (cause) {
    throw malformed('not a signed list', cause)
  }
  if (!isEd25519PublicKey(outer.ownerKey))
    throw new IdentityError('BadKey', 'device list: the owner key is not Ed25519')
  if (ownerKey !== undefined && !equalBytes(ownerKey, outer.ownerKey))
    throw new IdentityError('BadSignature', 'device list: signed by another identity')
  if (
    outer.signature.length !== SIGNATURE_BYTES ||
    !verifySignedBy(outer.ownerKey, SignatureContext.DeviceList, outer.body, outer.signature)
  )
    throw new IdentityError('BadSignature', 'device list: the signature does not verify')
  try {
    body = DeviceListBody.decode(outer.body)
  } catch (cause) {
    throw malformed('not a list body', cause)
  }
  if (body.version > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('the version is out of range')
  if (body.devices.length === 0 || body.devices.length > MAX_DEVICES)
    throw malformed(`it must name 1 to ${MAX_DEVICES} devices`)
  const seen = new Set<string>()
  const devices = body.devices.map((d): DeviceListEntry => {
    let peerId: string
    try {
      peerId = peerIdFromDeviceKey(d.deviceKey).toString()
    } catch (cause) {
      throw new IdentityError('BadKey', 'device list: a device key is not Ed25519', { cause })
    }
    if (seen.has(peerId)) throw malformed('a device is named twice')
    seen.add(peerId)
    if (utf8(d.name).length > MAX_DEVICE_NAME_BYTES || hasUnsafeNameChars(d.name))
      throw malformed('a device name is too long or holds control characters')
    if (d.linkedAt > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('a time is out of range')
    return { deviceKey: d.deviceKey, name: d.name, linkedAt: Number(d.linkedAt), peerId }
  })
  return { ownerKey: outer.ownerKey, version: Number(body.version), devices, bytes }
}

/** Whether `candidate` should replace `held` (same owner, larger version). */
export function isNewerDeviceList(candidate: DeviceList, held: DeviceList | undefined): boolean {
  if (held === undefined) return true
  return equalBytes(candidate.ownerKey, held.ownerKey) && candidate.version > held.version
}

export function listsDevice(list: DeviceList, peerId: string): boolean {
  return list.devices.some((d) => d.peerId === peerId)
}

/** A name as it came off the wire may only be shown after verifyDeviceList checked it. */
export function deviceName(list: DeviceList, peerId: string): string | undefined {
  return list.devices.find((d) => d.peerId === peerId)?.name
}
