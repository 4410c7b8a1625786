/**
 * The home node's two signed documents, both made by the owner's identity key through
 * identity.ts (Ed25519 over a context label and the exact bytes):
 * - the certificate (HomeGrant): "this home node serves me; these are my devices; until then".
 *   The home node keeps it and serves that owner only; contacts get it in the owner's card and
 *   address updates and so learn where the owner's mailbox is.
 * - the depositor list: the device peer ids of the owner's accepted contacts. A home node holds no
 *   keys, so it cannot check a contact itself; it checks the depositor's Noise-authenticated peer
 *   id against the newest list the owner signed (PROTOCOL.md, "Home node", says why a list).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { isEd25519PublicKey, SIGNATURE_BYTES } from '../crypto/primitives.js'
import { SignatureContext } from '../identity/contexts.js'
import { type IdentityKeyPair, signAs, verifySignedBy } from '../identity/identity.js'
import { MailboxError } from './errors.js'
import { Depositors, HomeCertificate, HomeGrant, SignedDepositors } from './mailbox-wire.pb.js'

/** The owner's devices a certificate may name (DESIGN "Several devices"). */
export const MAX_HOME_DEVICES = 8
/** The home node's addresses a certificate carries (cards are small: card.ts MAX_CARD_BYTES). */
export const MAX_HOME_ADDRS = 3
const MAX_ADDR_BYTES = 128
/** Contacts a depositor list may name; a list of this many is ~53 KiB, within one frame. */
export const MAX_DEPOSITORS = 1000
/** Longest text form of a peer id (an Ed25519 one is 52 characters; RSA ones are longer). */
const MAX_PEER_ID_CHARS = 128
/** A certificate is valid this long unless the owner says otherwise: renewed at each start. */
export const DEFAULT_HOME_VALIDITY_S = 365 * 24 * 3600

export interface HomeGrantInput {
  readonly homePeerId: string
  readonly devices: readonly string[]
  readonly addrs: readonly string[]
  /** Seconds since the Unix epoch. */
  readonly notAfter: number
  readonly issuedAt?: number
  /** The version of the owner's device list `devices` comes from (identity/device-list.ts). */
  readonly deviceListVersion?: number
}

/** A verified certificate. */
export interface HomeCert {
  readonly ownerKey: Uint8Array
  readonly homePeerId: string
  readonly devices: readonly string[]
  /** Multiaddrs without /p2p. */
  readonly addrs: readonly string[]
  readonly notAfter: number
  readonly issuedAt: number
  /**
   * The owner's device list version `devices` was taken from (0 in certificates made before
   * several devices): a home node keeps no certificate from an older list than the one it holds,
   * so a device that has not heard of a newer list cannot undo it.
   */
  readonly deviceListVersion: number
  /** Its encoded form (what cards, address updates and the home node keep). */
  readonly bytes: Uint8Array
}

export function createHomeCertificate(identity: IdentityKeyPair, input: HomeGrantInput): Uint8Array {
  const grant = HomeGrant.encode({
    homePeerId: input.homePeerId,
    devices: [...input.devices].slice(0, MAX_HOME_DEVICES),
    notAfter: BigInt(Math.floor(input.notAfter)),
    issuedAt: BigInt(Math.floor(input.issuedAt ?? Date.now() / 1000)),
    deviceListVersion: BigInt(Math.floor(input.deviceListVersion ?? 0)),
    addrs: input.addrs
      .slice(0, MAX_HOME_ADDRS)
      .map((a) => multiaddr(a.replace(/\/p2p\/[^/]+$/, '')).bytes as Uint8Array<ArrayBuffer>),
  })
  const signature = signAs(identity, SignatureContext.HomeNode, grant)
  const bytes = HomeCertificate.encode({
    ownerKey: identity.signing.publicKey as Uint8Array<ArrayBuffer>,
    grant,
    signature: signature as Uint8Array<ArrayBuffer>,
  })
  verifyHomeCertificate(bytes)
  return bytes
}

/** Decodes and verifies a certificate; throws MailboxError BadCertificate, nothing else. */
export function verifyHomeCertificate(bytes: Uint8Array): HomeCert {
  const bad = (why: string, cause?: unknown) =>
    new MailboxError('BadCertificate', `home node certificate: ${why}`, { cause })
  let outer: HomeCertificate
  let grant: HomeGrant
  try {
    outer = HomeCertificate.decode(bytes)
  } catch (cause) {
    throw bad('not a certificate', cause)
  }
  if (!isEd25519PublicKey(outer.ownerKey)) throw bad('the owner key is not an Ed25519 key')
  if (outer.signature.length !== SIGNATURE_BYTES) throw bad('the signature must be 64 bytes')
  if (!verifySignedBy(outer.ownerKey, SignatureContext.HomeNode, outer.grant, outer.signature))
    throw bad('the signature does not verify')
  try {
    grant = HomeGrant.decode(outer.grant)
  } catch (cause) {
    throw bad('not a grant', cause)
  }
  checkPeerId(grant.homePeerId, bad)
  if (grant.devices.length === 0 || grant.devices.length > MAX_HOME_DEVICES)
    throw bad(`it must name 1 to ${MAX_HOME_DEVICES} devices`)
  for (const d of grant.devices) checkPeerId(d, bad)
  if (grant.addrs.length > MAX_HOME_ADDRS) throw bad(`at most ${MAX_HOME_ADDRS} addresses`)
  const addrs = grant.addrs.map((a) => {
    if (a.length === 0 || a.length > MAX_ADDR_BYTES) throw bad('an address is out of bounds')
    try {
      const text = multiaddr(a).toString()
      if (text.includes('/p2p/')) throw new Error('peer id inside address')
      return text
    } catch (cause) {
      throw bad('an address is not a multiaddr', cause)
    }
  })
  if (
    grant.notAfter > BigInt(Number.MAX_SAFE_INTEGER) ||
    grant.issuedAt > BigInt(Number.MAX_SAFE_INTEGER) ||
    grant.deviceListVersion > BigInt(Number.MAX_SAFE_INTEGER)
  )
    throw bad('a time or version is out of range')
  if (new Set(grant.devices).size !== grant.devices.length) throw bad('a device is named twice')
  return {
    ownerKey: outer.ownerKey,
    homePeerId: grant.homePeerId,
    devices: grant.devices,
    addrs,
    notAfter: Number(grant.notAfter),
    issuedAt: Number(grant.issuedAt),
    deviceListVersion: Number(grant.deviceListVersion),
    bytes,
  }
}

export interface DepositorList {
  readonly homePeerId: string
  readonly version: number
  readonly peers: ReadonlySet<string>
  readonly bytes: Uint8Array
}

export function createDepositorList(
  identity: IdentityKeyPair,
  homePeerId: string,
  peers: readonly string[],
  version = Date.now(),
): Uint8Array {
  const list = Depositors.encode({
    homePeerId,
    version: BigInt(version),
    peers: peers.slice(0, MAX_DEPOSITORS),
  })
  const signature = signAs(identity, SignatureContext.MailboxDepositors, list)
  return SignedDepositors.encode({ list, signature: signature as Uint8Array<ArrayBuffer> })
}

/** Decodes a depositor list and verifies it against the owner's key; throws BadCertificate. */
export function verifyDepositorList(bytes: Uint8Array, ownerKey: Uint8Array): DepositorList {
  const bad = (why: string, cause?: unknown) =>
    new MailboxError('BadCertificate', `depositor list: ${why}`, { cause })
  let outer: SignedDepositors
  let list: Depositors
  try {
    outer = SignedDepositors.decode(bytes)
  } catch (cause) {
    throw bad('not a list', cause)
  }
  if (!verifySignedBy(ownerKey, SignatureContext.MailboxDepositors, outer.list, outer.signature))
    throw bad('not signed by the owner')
  try {
    list = Depositors.decode(outer.list)
  } catch (cause) {
    throw bad('not a list', cause)
  }
  if (list.peers.length > MAX_DEPOSITORS) throw bad(`at most ${MAX_DEPOSITORS} peers`)
  for (const p of list.peers) checkPeerId(p, bad)
  if (list.version > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('the version is out of range')
  return { homePeerId: list.homePeerId, version: Number(list.version), peers: new Set(list.peers), bytes }
}

function checkPeerId(text: string, bad: (why: string, cause?: unknown) => MailboxError): void {
  if (text.length === 0 || text.length > MAX_PEER_ID_CHARS) throw bad('a peer id is out of bounds')
  try {
    peerIdFromString(text)
  } catch (cause) {
    throw bad('a peer id does not parse', cause)
  }
}
