/**
 * The home node link, `jiayi:home/<PAYLOAD>`: the home node's peer id and addresses, in upper-case
 * base32 like a card link (card/link.ts), so it survives a QR code and a paste. It is no secret:
 * whoever has it can only ask the home node to serve them, which it does for its first owner only.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { base32upper } from 'multiformats/bases/base32'
import { MAX_HOME_ADDRS } from './certificate.js'
import { MailboxError } from './errors.js'
import { HomeLink } from './mailbox-wire.pb.js'

const PREFIX = 'jiayi:home/'
const MAX_LINK_CHARS = 2048

export interface HomeNodeRef {
  readonly peerId: string
  /** Multiaddrs without /p2p. */
  readonly addrs: readonly string[]
}

export function homeLink(ref: HomeNodeRef): string {
  const bytes = HomeLink.encode({
    peerId: ref.peerId,
    addrs: ref.addrs
      .slice(0, MAX_HOME_ADDRS)
      .map((a) => multiaddr(a.replace(/\/p2p\/[^/]+$/, '')).bytes as Uint8Array<ArrayBuffer>),
  })
  return PREFIX + base32upper.baseEncode(bytes)
}

/** Decodes a home node link; throws MailboxError BadLink. */
export function decodeHomeLink(text: string): HomeNodeRef {
  const bad = (why: string, cause?: unknown) => new MailboxError('BadLink', why, { cause })
  if (typeof text !== 'string' || text.length > MAX_LINK_CHARS) throw bad('not a home node link')
  const trimmed = text.trim()
  if (!trimmed.toLowerCase().startsWith(PREFIX)) throw bad('not a home node link (expected jiayi:home/…)')
  const payload = trimmed.slice(PREFIX.length)
  if (!/^[A-Za-z2-7]+$/.test(payload)) throw bad('this home node link is damaged; copy it again')
  try {
    const link = HomeLink.decode(base32upper.baseDecode(payload.toUpperCase()))
    if (link.addrs.length > MAX_HOME_ADDRS) throw new Error('too many addresses')
    const addrs = link.addrs.map((a) => multiaddr(a).toString())
    // Parses the peer id (throws on garbage).
    peerIdFromString(link.peerId)
    return { peerId: link.peerId, addrs }
  } catch (cause) {
    throw bad('this home node link is damaged; copy it again', cause)
  }
}
