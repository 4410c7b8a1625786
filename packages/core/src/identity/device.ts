/**
 * Devices: each device is a libp2p peer with its own Ed25519 key (the peer key). The identity
 * certifies a device by signing its peer id, so a person can later run several devices and a
 * contact can tell which peers speak for whom.
 */
import {
  generateKeyPair,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  publicKeyFromRaw,
} from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id'
import { SignatureContext } from './contexts.js'
import { IdentityError, type IdentityKeyPair, signAs, verifySignedBy } from './identity.js'

export type DeviceKey = Ed25519PrivateKey

export async function generateDeviceKey(): Promise<DeviceKey> {
  return generateKeyPair('Ed25519')
}

export function encodeDeviceKey(key: DeviceKey): Uint8Array {
  return privateKeyToProtobuf(key)
}

export function decodeDeviceKey(bytes: Uint8Array): DeviceKey {
  let key: ReturnType<typeof privateKeyFromProtobuf>
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (cause) {
    throw new IdentityError('BadEncoding', 'device key bytes are malformed', { cause })
  }
  if (key.type !== 'Ed25519') throw new IdentityError('BadKey', 'device key must be Ed25519')
  return key
}

export function devicePeerId(key: DeviceKey): PeerId {
  return peerIdFromPrivateKey(key)
}

/** The raw 32-byte public key of a device (what a card carries instead of the longer peer id). */
export function devicePublicKey(key: DeviceKey): Uint8Array {
  return key.publicKey.raw
}

/** The peer id of the device whose raw Ed25519 public key is `raw`. */
export function peerIdFromDeviceKey(raw: Uint8Array): PeerId {
  let publicKey: ReturnType<typeof publicKeyFromRaw>
  try {
    publicKey = publicKeyFromRaw(raw)
  } catch (cause) {
    throw new IdentityError('BadKey', 'device key is not a valid Ed25519 public key', { cause })
  }
  if (publicKey.type !== 'Ed25519') throw new IdentityError('BadKey', 'device key must be Ed25519')
  return peerIdFromPublicKey(publicKey)
}

/** The identity's certificate for a device: a signature over the device's peer id bytes. */
export function certifyDevice(identity: IdentityKeyPair, peerId: PeerId): Uint8Array {
  return signAs(identity, SignatureContext.DeviceCertificate, peerId.toMultihash().bytes)
}

export function verifyDeviceCertificate(
  signingKey: Uint8Array,
  peerId: PeerId,
  certificate: Uint8Array,
): boolean {
  return verifySignedBy(
    signingKey,
    SignatureContext.DeviceCertificate,
    peerId.toMultihash().bytes,
    certificate,
  )
}
