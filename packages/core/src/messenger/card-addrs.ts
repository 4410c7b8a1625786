/**
 * Which of our listen addresses go into our card: at most one per transport (TCP, WebSockets,
 * WebRTC-Direct, WebRTC through a relay) and IP family, LAN addresses before loopback (loopback
 * only when there is nothing else, e.g. a test bound to 127.0.0.1). Of relay addresses only
 * `/p2p-circuit/webrtc` ones (a browser peer's: the relay carries the WebRTC signalling, the data
 * then flows directly); a plain circuit would carry all data through the relay. A browser peer
 * keeps two of them when its relay offers both: one through the relay over TLS WebSockets (what
 * another browser on an HTTPS page can dial: plain ws:// is mixed content there) and one through
 * a relay address without TLS (what a Node peer dials: it does not accept the relay's self-signed
 * certificate), WebSockets before WebRTC-Direct before TCP. A node's own WebSockets slot takes
 * plain ws before TLS (its TLS address is the web app's port, made for pages of that origin).
 * Three addresses keep the QR code at version ≤ 15. A Node peer holding a reservation on its home
 * node (reach-services.ts) also has a plain circuit through it over TCP: that one goes last, and
 * takes the last place when direct addresses would fill the card (it is the way from outside).
 * Likewise a peer on a LAN whose router forwards a public port to it (UPnP, upnp.ts; or a port
 * given with --announce) keeps one public address, TCP before WebSockets, just before the
 * circuit: the LAN's addresses for contacts beside it, that one for everyone else.
 */
import { MAX_ADDRS } from '../card/card.js'
import { isPublicIp } from '../net/ip-scope.js'

type Transport = 'tcp' | 'ws' | 'webrtc-direct' | 'webrtc' | 'webrtc-tls' | 'circuit'

function transportOf(addr: string): Transport | undefined {
  if (addr.includes('/p2p-circuit')) {
    // A plain circuit through a home node (reach-services.ts): how contacts reach a Node peer
    // behind NAT. Only over TCP: the home node's relay is dialled like any Node peer.
    if (/\/tcp\/\d+\/p2p\/[^/]+\/p2p-circuit$/.test(addr)) return 'circuit'
    if (!/\/p2p-circuit\/webrtc$/.test(addr)) return undefined
    return isTls(addr.slice(0, addr.indexOf('/p2p/'))) ? 'webrtc-tls' : 'webrtc'
  }
  if (addr.includes('/webrtc-direct')) return 'webrtc-direct'
  if (addr.includes('/ws') || addr.includes('/wss')) return 'ws'
  if (addr.includes('/tcp/')) return 'tcp'
  return undefined
}

/** WebSockets over TLS (`/tls/ws`, `/wss`, also with an `/sni/…`). */
function isTls(addr: string): boolean {
  return /\/(tls(\/sni\/[^/]+)?\/ws|wss)$/.test(addr)
}

function isLoopback(addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}

/** A direct address (no relay) at a public IP: a router's forwarded port, or a public host. */
function isPublicDirect(addr: string): boolean {
  const t = transportOf(addr)
  if (t !== 'tcp' && t !== 'ws' && t !== 'webrtc-direct') return false
  const ip = addr.match(/^\/ip[46]\/([^/]+)\//)?.[1]
  return ip !== undefined && isPublicIp(ip)
}

function isUnspecified(addr: string): boolean {
  return addr.startsWith('/ip4/0.0.0.0/') || addr.startsWith('/ip6/::/')
}

/** Drops the trailing `/p2p/<id>` (a relay's id inside a circuit address stays). */
export function stripPeer(addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, '')
}

/**
 * The order of the card: for relay addresses the relay reached over TLS WebSockets first (what
 * a phone scanning the code dials), then plain WebSockets, WebRTC-Direct, TCP; for a node's own
 * WebSockets, plain ws before TLS; a home node's plain circuit last.
 */
function rank(addr: string): number {
  const t = transportOf(addr)
  // The home node's circuit after every direct address: it is the way when those fail.
  if (t === 'circuit') return 9
  if (t === 'ws') return isTls(addr) ? 1 : 0
  if (t === 'webrtc-tls') return 0
  if (t !== 'webrtc') return 0
  const relay = addr.slice(0, addr.indexOf('/p2p/'))
  return /\/ws$/.test(relay) ? 1 : relay.includes('/webrtc-direct') ? 2 : 3
}

export function selectCardAddrs(addrs: readonly string[], limit = 3): string[] {
  const candidates = [...new Set(addrs.map(stripPeer))].filter(
    (a) => transportOf(a) !== undefined && !isUnspecified(a),
  )
  const lan = candidates.filter((a) => !isLoopback(a))
  let pool = lan.length > 0 ? lan : candidates
  // Behind a router that forwards a port to us, the public addresses are the way in from outside:
  // one of them has a place of its own, after the LAN's.
  const onLan = pool.some((a) => transportOf(a) !== 'circuit' && !isPublicDirect(a))
  const outside = onLan
    ? pool
        .filter(isPublicDirect)
        .sort((a, b) => Number(!a.startsWith('/ip4/')) - Number(!b.startsWith('/ip4/')))
        .sort((a, b) => Number(transportOf(a) !== 'tcp') - Number(transportOf(b) !== 'tcp'))[0]
    : undefined
  if (outside !== undefined) pool = pool.filter((a) => !isPublicDirect(a))
  const chosen: string[] = []
  const seen = new Set<string>()
  // IPv4 first: phones and QR scanners on a LAN nearly always reach it.
  const ranked = [...pool].sort((a, b) => rank(a) - rank(b))
  const ordered = [
    ...ranked.filter((a) => a.startsWith('/ip4/')),
    ...ranked.filter((a) => !a.startsWith('/ip4/')),
  ]
  for (const a of ordered) {
    const slot = `${transportOf(a)}${a.startsWith('/ip4/') ? '4' : '6'}`
    if (seen.has(slot)) continue
    seen.add(slot)
    chosen.push(a)
  }
  const max = Math.min(limit, MAX_ADDRS)
  // The ways in from outside the LAN always have a place, the last ones, when the LAN's
  // addresses would fill the card: the forwarded public address, then the home node's circuit.
  const tail = [outside, chosen.find((a) => transportOf(a) === 'circuit')].filter(
    (a): a is string => a !== undefined,
  )
  const head = chosen.filter((a) => !tail.includes(a))
  return [...head.slice(0, Math.max(0, max - tail.length)), ...tail].slice(0, max)
}
