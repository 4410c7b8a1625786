/**
 * Token buckets for what strangers may ask of us (contact requests, prekey fetches): per peer and
 * overall, so neither one peer nor many can flood the device. Memory is bounded by forgetting
 * the least recently seen peers.
 */
import { trimOldest } from './trim-oldest.js'

export interface RateLimitInit {
  /** Burst size per peer. */
  readonly perPeerBurst: number
  /** Tokens regained per peer per minute. */
  readonly perPeerPerMinute: number
  readonly globalBurst: number
  readonly globalPerMinute: number
  /** Peers remembered (up to an eighth more between two trims; trim-oldest.ts). */
  readonly maxPeers?: number
  readonly now?: () => number
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  private readonly peers = new Map<string, Bucket>()
  private readonly global: Bucket
  private readonly now: () => number

  constructor(private readonly init: RateLimitInit) {
    this.now = init.now ?? Date.now
    this.global = { tokens: init.globalBurst, at: this.now() }
  }

  /** Takes one token for `peer`; false when the peer or everyone is over the limit. */
  tryTake(peer: string): boolean {
    const now = this.now()
    let bucket = this.peers.get(peer)
    if (bucket === undefined) {
      bucket = { tokens: this.init.perPeerBurst, at: now }
    } else {
      this.peers.delete(peer) // re-insert below: Map order = least recently seen first
    }
    this.peers.set(peer, bucket)
    // A flood of strangers' peer ids is what this map bounds: trimmed in passes, not one by one.
    trimOldest(this.peers, this.init.maxPeers ?? 10_000)
    refill(bucket, now, this.init.perPeerBurst, this.init.perPeerPerMinute)
    refill(this.global, now, this.init.globalBurst, this.init.globalPerMinute)
    if (bucket.tokens < 1 || this.global.tokens < 1) return false
    bucket.tokens -= 1
    this.global.tokens -= 1
    return true
  }
}

function refill(bucket: Bucket, now: number, burst: number, perMinute: number): void {
  const elapsed = Math.max(0, now - bucket.at)
  bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * perMinute) / 60_000)
  bucket.at = now
}
