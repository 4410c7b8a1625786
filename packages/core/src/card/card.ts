/**
 * The contact card: a person's name, identity keys, one device, its signed prekey and addresses,
 * all covered by ONE identity signature over the exact body bytes. That signature certifies the
 * device key and the prekey for whoever holds the card; separate signatures exist only for keys
 * that also travel without a card (device certificates, prekey bundles).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { equalBytes, fromUtf8, utf8 } from '../bytes.js'
import { isEd25519PublicKey, KEY_BYTES, SIGNATURE_BYTES } from '../crypto/primitives.js'
import { SignatureContext } from '../identity/contexts.js'
import { peerIdFromDeviceKey } from '../identity/device.js'
import { type DeviceList, listsDevice, verifyDeviceList } from '../identity/device-list.js'
import { type IdentityKeyPair, type PublicIdentity, signAs, verifySignedBy } from '../identity/identity.js'
import { type HomeCert, verifyHomeCertificate } from '../mailbox/certificate.js'
import { hasUnsafeNameChars } from '../unsafe-chars.js'
import { CardBody, SignedCard } from './card-wire.pb.js'
import { CardError } from './errors.js'

export const CARD_VERSION = 1
export const MAX_NAME_BYTES = 64
export const MAX_ADDRS = 8
export const MAX_ADDR_BYTES = 128
/** No valid card comes near this; it bounds the work a hostile QR code can cause. */
export const MAX_CARD_BYTES = 1536

export interface ContactCard {
  readonly version: number
  readonly name: string
  readonly identity: PublicIdentity
  /** Raw Ed25519 public key of the device (its libp2p peer key). */
  readonly deviceKey: Uint8Array
  /** The device's peer id, derived from deviceKey. */
  readonly peerId: string
  readonly signedPreKey: { readonly id: number; readonly publicKey: Uint8Array }
  /** Multiaddrs of the device, without the /p2p/<peer id> suffix. */
  readonly addrs: readonly string[]
  /** Seconds since the Unix epoch. */
  readonly createdAt: number
  /** The owner's home node, certified by this identity (mailbox/certificate.ts); older cards have none. */
  readonly home?: HomeCert | undefined
  /**
   * The owner's device list (identity/device-list.ts), verified under the card's identity and
   * naming the card's device; only cards of people with more than one device carry one.
   */
  readonly deviceList?: DeviceList | undefined
}

export interface CardInput {
  readonly name: string
  readonly deviceKey: Uint8Array
  readonly signedPreKey: { readonly id: number; readonly publicKey: Uint8Array }
  readonly addrs: readonly string[]
  readonly createdAt?: number
  /** The home node certificate (createHomeCertificate), when the owner has one. */
  readonly home?: Uint8Array | undefined
  /** The signed device list (createDeviceList), when the owner has more than one device. */
  readonly deviceList?: Uint8Array | undefined
}

/** Builds and signs a card; returns its binary form (what links and QR codes encode). */
export function createCard(identity: IdentityKeyPair, input: CardInput): Uint8Array {
  const addrs = input.addrs.slice(0, MAX_ADDRS).map((a) => stripPeerId(a))
  const body = CardBody.encode({
    version: CARD_VERSION,
    name: input.name,
    identitySigningKey: identity.signing.publicKey as Uint8Array<ArrayBuffer>,
    identityAgreementKey: identity.agreement.publicKey as Uint8Array<ArrayBuffer>,
    deviceKey: input.deviceKey as Uint8Array<ArrayBuffer>,
    signedPrekeyId: input.signedPreKey.id,
    signedPrekey: input.signedPreKey.publicKey as Uint8Array<ArrayBuffer>,
    addrs: addrs.map((a) => multiaddr(a).bytes as Uint8Array<ArrayBuffer>),
    createdAt: BigInt(input.createdAt ?? Math.floor(Date.now() / 1000)),
    ...(input.home === undefined ? {} : { home: input.home as Uint8Array<ArrayBuffer> }),
    ...(input.deviceList === undefined ? {} : { deviceList: input.deviceList as Uint8Array<ArrayBuffer> }),
  })
  const signature = signAs(identity, SignatureContext.Card, body)
  const bytes = SignedCard.encode({ body, signature: signature as Uint8Array<ArrayBuffer> })
  // Validate what we made with the same strict decoder a receiver uses.
  decodeCardBytes(bytes)
  return bytes
}

/** Drops our own trailing `/p2p/<id>`; a relay's id inside `/p2p/<relay>/p2p-circuit` stays. */
function stripPeerId(addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, '')
}

/**
 * The only peer id an address may hold is a relay's, right before `/p2p-circuit` (a browser is
 * reached through a relay: `<relay addr>/p2p/<relay id>/p2p-circuit/webrtc`).
 */
function hasForeignPeerId(addr: string): boolean {
  return addr.replace(/\/p2p\/[^/]+\/p2p-circuit(?=\/|$)/g, '/p2p-circuit').includes('/p2p/')
}

/** Decodes and verifies a binary card. Throws CardError, nothing else. */
/** The devices a card speaks for: those on the list it carries, or the one device it names. */
export function cardDevices(card: Pick<ContactCard, 'peerId' | 'deviceList'>): readonly string[] {
  return card.deviceList === undefined ? [card.peerId] : card.deviceList.devices.map((d) => d.peerId)
}

export function decodeCardBytes(bytes: Uint8Array): ContactCard {
  if (bytes.length > MAX_CARD_BYTES)
    throw new CardError('TooLarge', `card is larger than ${MAX_CARD_BYTES} bytes`)
  const outer = parseCanonical<SignedCard>(bytes, SignedCard, 'card')
  if (outer.signature.length !== SIGNATURE_BYTES)
    throw new CardError('BadField', 'card signature must be 64 bytes')
  const body = parseCanonical<CardBody>(outer.body, CardBody, 'card body')
  if (body.version !== CARD_VERSION)
    throw new CardError('BadVersion', `card version ${body.version} is not supported`)
  const card = checkFields(body)
  if (!verifySignedBy(card.identity.signingKey, SignatureContext.Card, outer.body, outer.signature)) {
    throw new CardError('BadSignature', 'the card is not signed by the identity it names')
  }
  return card
}

interface Codec<T> {
  decode(bytes: Uint8Array): T
  encode(value: Partial<T>): Uint8Array
}

/**
 * Protobuf decoders accept unknown fields, repeated scalars and non-minimal varints. A card must be
 * exactly what our encoder writes, so that one card has one byte form.
 */
function parseCanonical<T>(bytes: Uint8Array, codec: Codec<T>, what: string): T {
  let value: T
  try {
    value = codec.decode(bytes)
  } catch (cause) {
    throw new CardError('BadEncoding', `${what} is not a valid structure`, { cause })
  }
  const again = codec.encode(value)
  if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) {
    throw new CardError('BadEncoding', `${what} is not in canonical form`)
  }
  return value
}

function checkFields(body: CardBody): ContactCard {
  const nameBytes = utf8(body.name)
  if (nameBytes.length === 0 || nameBytes.length > MAX_NAME_BYTES) {
    throw new CardError('BadField', `name must be 1 to ${MAX_NAME_BYTES} UTF-8 bytes`)
  }
  // protons decodes strings leniently; round-tripping proves the UTF-8 was valid.
  if (fromUtf8(nameBytes) !== body.name || hasUnsafeNameChars(body.name)) {
    throw new CardError('BadField', 'name contains control, text-direction or invisible characters')
  }
  if (!isEd25519PublicKey(body.identitySigningKey))
    throw new CardError('BadField', 'identity signing key is invalid')
  if (body.identityAgreementKey.length !== KEY_BYTES)
    throw new CardError('BadField', 'identity agreement key must be 32 bytes')
  if (body.signedPrekey.length !== KEY_BYTES)
    throw new CardError('BadField', 'signed prekey must be 32 bytes')
  // libp2p takes any 32 bytes as an Ed25519 key without checking that they encode a curve point.
  if (!isEd25519PublicKey(body.deviceKey))
    throw new CardError('BadField', 'device key is not a valid Ed25519 public key')
  let peerId: string
  try {
    peerId = peerIdFromDeviceKey(body.deviceKey).toString()
  } catch (cause) {
    throw new CardError('BadField', 'device key is not a valid Ed25519 public key', { cause })
  }
  if (body.addrs.length > MAX_ADDRS)
    throw new CardError('BadField', `a card holds at most ${MAX_ADDRS} addresses`)
  const addrs = body.addrs.map((bytes) => {
    if (bytes.length > MAX_ADDR_BYTES) throw new CardError('BadField', 'an address is too long')
    try {
      // An empty byte string is a valid multiaddr ('/') but no address at all.
      if (bytes.length === 0) throw new Error('empty address')
      const text = multiaddr(bytes).toString()
      // Binary multiaddrs can hold codes whose text form does not parse back (found by the
      // fuzz test): an address must survive bytes -> text -> bytes, or nobody can dial it.
      if (!equalBytes(multiaddr(text).bytes, bytes)) throw new Error('address does not round-trip')
      if (hasForeignPeerId(text)) throw new Error('peer id inside address')
      return text
    } catch (cause) {
      throw new CardError('BadField', 'an address is not a valid multiaddr', { cause })
    }
  })
  if (body.createdAt > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CardError('BadField', 'creation time is out of range')
  const home = body.home === undefined ? undefined : checkHome(body.home, body.identitySigningKey)
  const deviceList =
    body.deviceList === undefined
      ? undefined
      : checkDeviceList(body.deviceList, body.identitySigningKey, peerId)
  return {
    version: body.version,
    name: body.name,
    identity: { signingKey: body.identitySigningKey, agreementKey: body.identityAgreementKey },
    deviceKey: body.deviceKey,
    peerId,
    signedPreKey: { id: body.signedPrekeyId, publicKey: body.signedPrekey },
    addrs,
    createdAt: Number(body.createdAt),
    ...(home === undefined ? {} : { home }),
    ...(deviceList === undefined ? {} : { deviceList }),
  }
}

/** A device list inside a card must verify under the card's identity and name the card's device. */
function checkDeviceList(bytes: Uint8Array, identityKey: Uint8Array, peerId: string): DeviceList {
  let list: DeviceList
  try {
    list = verifyDeviceList(bytes, identityKey)
  } catch (cause) {
    throw new CardError('BadField', 'the device list does not verify under the card’s identity', { cause })
  }
  if (!listsDevice(list, peerId))
    throw new CardError('BadField', 'the device list does not name the card’s device')
  return list
}

/** A home node certificate inside a card must verify and be made by the card's own identity. */
function checkHome(bytes: Uint8Array, identityKey: Uint8Array): HomeCert {
  let home: HomeCert
  try {
    home = verifyHomeCertificate(bytes)
  } catch (cause) {
    throw new CardError('BadField', 'the home node certificate does not verify', { cause })
  }
  if (!equalBytes(home.ownerKey, identityKey))
    throw new CardError('BadField', 'the home node certificate is not made by the card’s identity')
  return home
}
