/**
 * Token buckets for what strangers may ask of us (contact requests, prekey fetches: one limiter
 * each, so a flood of one cannot starve the other): per peer, per remote address and overall.
 * Peer ids cost nothing to make, so the per-peer bucket alone stops only the clumsy; the address
 * bucket makes someone with many peer ids behind one address (one host, one IPv6 /64) share one
 * budget, and the overall bucket bounds the device's own work. An address bucket is smaller than
 * the overall one, so one address cannot use up everyone's budget. Memory is bounded by
 * forgetting the least recently seen peers and addresses.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { trimOldest } from './trim-oldest.js'

export interface RateLimitInit {
  /** Burst size per peer. */
  readonly perPeerBurst: number
  /** Tokens regained per peer per minute. */
  readonly perPeerPerMinute: number
  /** Burst size per remote address (addressKey); default: no address limit. */
  readonly perAddressBurst?: number
  readonly perAddressPerMinute?: number
  readonly globalBurst: number
  readonly globalPerMinute: number
  /** Peers (and addresses) remembered (up to an eighth more between two trims; trim-oldest.ts). */
  readonly maxPeers?: number
  readonly now?: () => number
}

/**
 * Strangers' contact requests, and (separately) their prekey fetches: 5 a minute per peer, 10 per
 * address, 60 in all. A request is one envelope (what follows it comes from a pending contact).
 */
export const STRANGER_REQUEST_LIMITS: RateLimitInit = {
  perPeerBurst: 5,
  perPeerPerMinute: 5,
  perAddressBurst: 10,
  perAddressPerMinute: 10,
  globalBurst: 60,
  globalPerMinute: 60,
}
export const STRANGER_FETCH_LIMITS: RateLimitInit = STRANGER_REQUEST_LIMITS
/**
 * Prekey fetches by peers we know (a pending request, a contact upgrading its session): more, but
 * still bounded, so that no one can drain the one-time prekeys that newcomers need.
 */
export const KNOWN_FETCH_LIMITS: RateLimitInit = {
  perPeerBurst: 10,
  perPeerPerMinute: 10,
  globalBurst: 600,
  globalPerMinute: 600,
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  private readonly peers = new Map<string, Bucket>()
  private readonly addresses = new Map<string, Bucket>()
  private readonly global: Bucket
  private readonly now: () => number

  constructor(private readonly init: RateLimitInit) {
    this.now = init.now ?? Date.now
    this.global = { tokens: init.globalBurst, at: this.now() }
  }

  /**
   * Takes one token for `peer` (and its `address`, when known); false when the peer, its address
   * or everyone is over the limit. Nothing is taken from any bucket unless all of them allow it.
   */
  tryTake(peer: string, address?: string): boolean {
    const now = this.now()
    const init = this.init
    const max = init.maxPeers ?? 10_000
    const bucket = touch(this.peers, peer, init.perPeerBurst, now, max)
    refill(bucket, now, init.perPeerBurst, init.perPeerPerMinute)
    refill(this.global, now, init.globalBurst, init.globalPerMinute)
    let byAddress: Bucket | undefined
    if (address !== undefined && init.perAddressBurst !== undefined) {
      byAddress = touch(this.addresses, address, init.perAddressBurst, now, max)
      refill(byAddress, now, init.perAddressBurst, init.perAddressPerMinute ?? init.perAddressBurst)
    }
    if (bucket.tokens < 1 || this.global.tokens < 1 || (byAddress !== undefined && byAddress.tokens < 1))
      return false
    bucket.tokens -= 1
    this.global.tokens -= 1
    if (byAddress !== undefined) byAddress.tokens -= 1
    return true
  }
}

/** The bucket of `key`, now the most recently seen (Map order = least recently seen first). */
function touch(map: Map<string, Bucket>, key: string, burst: number, now: number, max: number): Bucket {
  let bucket = map.get(key)
  if (bucket === undefined) bucket = { tokens: burst, at: now }
  else map.delete(key)
  map.set(key, bucket)
  // A flood of strangers' peer ids is what this map bounds: trimmed in passes, not one by one.
  trimOldest(map, max)
  return bucket
}

function refill(bucket: Bucket, now: number, burst: number, perMinute: number): void {
  const elapsed = Math.max(0, now - bucket.at)
  bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * perMinute) / 60_000)
  bucket.at = now
}

/**
 * Who is behind a remote address, for the per-address buckets: an IPv4 address, or an IPv6 /64
 * (one host or one home network is given a whole /64, and picks addresses in it at will). A
 * relayed connection's address names the relay, so everyone relayed by one relay shares it.
 * Undefined when the address carries no IP (the answering side of browser WebRTC).
 */
export function addressKey(addr: Multiaddr | undefined): string | undefined {
  if (addr === undefined) return undefined
  for (const c of addr.getComponents()) {
    if (c.name === 'ip4' && c.value !== undefined) return c.value
    if (c.name === 'ip6' && c.value !== undefined) return `${ipv6Prefix64(c.value)}::/64`
  }
  return undefined
}

function ipv6Prefix64(ip: string): string {
  // Expand '::' so that the first four groups are the /64 whatever the spelling.
  const [head = '', tail] = ip.toLowerCase().split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')
}
