/**
 * Which of our listen addresses go into our card: at most one per transport (TCP, WebSockets,
 * WebRTC-Direct, WebRTC through a relay) and IP family, LAN addresses before loopback (loopback
 * only when there is nothing else, e.g. a test bound to 127.0.0.1). Of relay addresses only
 * `/p2p-circuit/webrtc` ones (a browser peer's: the relay carries the WebRTC signalling, the data
 * then flows directly), preferring a relay reached over WebSockets, which browsers and Node
 * peers can both dial; a plain circuit would carry all data through the relay. Three addresses
 * keep the QR code at version ≤ 15.
 */
import { MAX_ADDRS } from '../card/card.js'

type Transport = 'tcp' | 'ws' | 'webrtc-direct' | 'webrtc'

function transportOf(addr: string): Transport | undefined {
  if (addr.includes('/p2p-circuit')) return /\/p2p-circuit\/webrtc$/.test(addr) ? 'webrtc' : undefined
  if (addr.includes('/webrtc-direct')) return 'webrtc-direct'
  if (addr.includes('/ws') || addr.includes('/wss')) return 'ws'
  if (addr.includes('/tcp/')) return 'tcp'
  return undefined
}

function isLoopback(addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}

function isUnspecified(addr: string): boolean {
  return addr.startsWith('/ip4/0.0.0.0/') || addr.startsWith('/ip6/::/')
}

/** Drops the trailing `/p2p/<id>` (a relay's id inside a circuit address stays). */
export function stripPeer(addr: string): string {
  return addr.replace(/\/p2p\/[^/]+$/, '')
}

/** For relay addresses: the relay reached over WebSockets first, then WebRTC-Direct, then TCP. */
function relayRank(addr: string): number {
  if (transportOf(addr) !== 'webrtc') return 0
  const relay = addr.slice(0, addr.indexOf('/p2p/'))
  return /\/wss?$/.test(relay) ? 0 : relay.includes('/webrtc-direct') ? 1 : 2
}

export function selectCardAddrs(addrs: readonly string[], limit = 3): string[] {
  const candidates = [...new Set(addrs.map(stripPeer))].filter(
    (a) => transportOf(a) !== undefined && !isUnspecified(a),
  )
  const lan = candidates.filter((a) => !isLoopback(a))
  const pool = lan.length > 0 ? lan : candidates
  const chosen: string[] = []
  const seen = new Set<string>()
  // IPv4 first: phones and QR scanners on a LAN nearly always reach it.
  const ranked = [...pool].sort((a, b) => relayRank(a) - relayRank(b))
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
  return chosen.slice(0, Math.min(limit, MAX_ADDRS))
}
