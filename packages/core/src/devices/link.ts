/**
 * The device link, `jiayi:link/<PAYLOAD>` (upper-case base32 like card and home node links, so it
 * survives a QR code and a paste): the existing device's peer id and addresses, a one-time
 * 16-byte secret and an expiry. And what both ends derive from the secret (PROTOCOL.md "Linking a
 * device"): the MACs that prove each side holds it, bound to both peer ids, and the 6-digit code
 * the person compares.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { base32upper } from 'multiformats/bases/base32'
import { concatBytes, equalBytes, u32be, utf8 } from '../bytes.js'
import { hkdfSha256, hmacSha256 } from '../crypto/primitives.js'
import { DeviceError } from './errors.js'
import { DeviceLink } from './link-wire.pb.js'

const PREFIX = 'jiayi:link/'
const MAX_LINK_CHARS = 2048
export const LINK_SECRET_BYTES = 16
/** How long a link works: long enough to pick up a phone, short enough that a photo of it ages out. */
export const LINK_TTL_MS = 5 * 60_000
const MAX_LINK_ADDRS = 8

export interface DeviceLinkRef {
  readonly peerId: string
  /** Multiaddrs without /p2p. */
  readonly addrs: readonly string[]
  readonly secret: Uint8Array
  /** ms since the epoch. */
  readonly expiresAt: number
}

export function deviceLink(ref: DeviceLinkRef): string {
  const bytes = DeviceLink.encode({
    peerId: ref.peerId,
    addrs: ref.addrs
      .slice(0, MAX_LINK_ADDRS)
      .map((a) => multiaddr(a.replace(/\/p2p\/[^/]+$/, '')).bytes as Uint8Array<ArrayBuffer>),
    secret: ref.secret as Uint8Array<ArrayBuffer>,
    expiresAt: BigInt(ref.expiresAt),
  })
  return PREFIX + base32upper.baseEncode(bytes)
}

/** Decodes a device link; throws DeviceError BadLink. Expiry is checked by the caller. */
export function decodeDeviceLink(text: string): DeviceLinkRef {
  const bad = (why: string, cause?: unknown) => new DeviceError('BadLink', why, { cause })
  if (typeof text !== 'string' || text.length > MAX_LINK_CHARS) throw bad('not a device link (不是设备链接)')
  const trimmed = text.trim()
  if (!trimmed.toLowerCase().startsWith(PREFIX))
    throw bad('not a device link (expected jiayi:link/…) (不是设备链接)')
  const payload = trimmed.slice(PREFIX.length)
  if (!/^[A-Za-z2-7]+$/.test(payload)) throw bad('this device link is damaged; copy it again (链接已损坏)')
  try {
    const link = DeviceLink.decode(base32upper.baseDecode(payload.toUpperCase()))
    if (link.addrs.length > MAX_LINK_ADDRS) throw new Error('too many addresses')
    if (link.secret.length !== LINK_SECRET_BYTES) throw new Error('bad secret')
    peerIdFromString(link.peerId)
    return {
      peerId: link.peerId,
      addrs: link.addrs.map((a) => multiaddr(a).toString()),
      secret: link.secret,
      expiresAt: Number(link.expiresAt),
    }
  } catch (cause) {
    throw bad('this device link is damaged; copy it again (链接已损坏)', cause)
  }
}

/** What both MACs cover: the protocol, then both peer ids (so a proof cannot be replayed elsewhere). */
function transcript(oldPeer: string, newPeer: string): Uint8Array {
  const a = peerIdFromString(oldPeer).toMultihash().bytes
  const b = peerIdFromString(newPeer).toMultihash().bytes
  return concatBytes(utf8('jiayi/link/1'), u32be(a.length), a, u32be(b.length), b)
}

function authKey(secret: Uint8Array): Uint8Array {
  return hkdfSha256(secret, undefined, utf8('jiayi/link/1 auth'), 32)
}

export function linkMac(
  secret: Uint8Array,
  side: 'new' | 'old',
  oldPeer: string,
  newPeer: string,
): Uint8Array {
  return hmacSha256(authKey(secret), concatBytes(utf8(side), transcript(oldPeer, newPeer)))
}

export function checkLinkMac(
  secret: Uint8Array,
  side: 'new' | 'old',
  oldPeer: string,
  newPeer: string,
  mac: Uint8Array,
): boolean {
  return mac.length === 32 && equalBytes(linkMac(secret, side, oldPeer, newPeer), mac)
}

/**
 * The 6-digit code both devices show. It depends on both peer ids: a stranger who copied the link
 * and connected first gets another code than the person's own new device shows.
 */
export function linkCode(secret: Uint8Array, oldPeer: string, newPeer: string): string {
  const bytes = hkdfSha256(secret, undefined, concatBytes(utf8('code'), transcript(oldPeer, newPeer)), 4)
  const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false)
  return String(n % 1_000_000).padStart(6, '0')
}
