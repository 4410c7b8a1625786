/**
 * Proving a feed key in HAVE (PROTOCOL.md, "Proving a key"). A server serves a feed only to a
 * requester that proves it holds the feed's current key; asking for a feed must not be a way to
 * learn who is whose friend, nor when someone posts.
 *
 * The server opens every stream with a random challenge. For each feed it follows, the requester
 * sends a claim: an HMAC-SHA256 tag over the challenge and both peer ids, under a key derived
 * from the feed key of its newest epoch, and its version vector sealed under a second derived
 * key. A claim names no feed: the server computes the tag each feed it holds would have on this
 * stream and looks the claim up. So
 * - a requester learns nothing of a feed it holds no key for: it cannot even name one, and every
 *   claim the server does not recognise (unknown feed, other epoch, forged) gets the same answer,
 *   nothing;
 * - a server learns nothing of the requester's feeds that it holds no key for (the tag is a MAC
 *   under a key it lacks, and the vector is sealed);
 * - a tag is bound to this stream's challenge and to both ends, so it cannot be replayed, nor
 *   relayed by a peer that sits between two others.
 *
 * Only constructions over core's primitive wrappers (HKDF, HMAC, XChaCha20-Poly1305).
 */
import {
  aeadOpen,
  aeadSeal,
  bytesToHex,
  concatBytes,
  hkdfSha256,
  hmacSha256,
  randomBytes,
  utf8,
} from '@jiayi/core'
import { FeedError } from './errors.js'
import type { HeldKeys } from './held-keys.js'
import { type FeedId, feedIdBytes, feedIdOf } from './ids.js'
import { MAX_HAVE_FEEDS } from './limits.js'
import type { VersionVector } from './version-vector.js'
import { CHALLENGE_BYTES, decodeVV, encodeVV, type FeedHave, type HaveClaim } from './wire.js'

const PROOF_INFO = utf8('Jiayi_FeedProof_v2\0')
const HAVE_LABEL = utf8('Jiayi_FeedHave_v2\0')

/** One stream's ends and challenge: what every tag on it is bound to. */
export interface StreamBinding {
  readonly challenge: Uint8Array
  /** Peer ids as strings (Noise authenticated them for this connection). */
  readonly server: string
  readonly client: string
}

interface ProofKeys {
  readonly feed: FeedId
  readonly epoch: number
  readonly mac: Uint8Array
  readonly box: Uint8Array
}

/** Derived keys hang on the feed key object they came from (the engine keeps one per epoch). */
const derived = new WeakMap<Uint8Array, ProofKeys>()

function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value, false)
  return out
}

/** HKDF-SHA256(feed key, info = label || feed id || u32be(epoch)): 32 bytes to MAC with, 32 to seal with. */
function proofKeys(feedKey: Uint8Array, feed: FeedId, epoch: number): ProofKeys {
  const cached = derived.get(feedKey)
  if (cached !== undefined && cached.feed === feed && cached.epoch === epoch) return cached
  const okm = hkdfSha256(feedKey, undefined, concatBytes(PROOF_INFO, feedIdBytes(feed), u32be(epoch)), 64)
  const keys = { feed, epoch, mac: okm.slice(0, 32), box: okm.slice(32) }
  derived.set(feedKey, keys)
  return keys
}

function lengthPrefixed(text: string): Uint8Array {
  const bytes = utf8(text)
  if (bytes.length > 255) throw new FeedError('BadInput', 'a peer id is at most 255 bytes')
  return concatBytes(Uint8Array.of(bytes.length), bytes)
}

/** label || challenge || len || server peer id || len || client peer id */
function transcript(b: StreamBinding): Uint8Array {
  if (b.challenge.length !== CHALLENGE_BYTES) throw new FeedError('BadInput', 'a challenge is 32 bytes')
  return concatBytes(HAVE_LABEL, b.challenge, lengthPrefixed(b.server), lengthPrefixed(b.client))
}

function boxAd(b: StreamBinding, tag: Uint8Array): Uint8Array {
  return concatBytes(HAVE_LABEL, b.challenge, tag)
}

export function newChallenge(): Uint8Array {
  return randomBytes(CHALLENGE_BYTES)
}

/**
 * The requester's claims: one per feed in `have` whose key it holds at the epoch it names. The
 * version vector is sealed so that a server without the key (a removed contact, say, who still
 * knows the feed's replica ids) cannot tell whose feed it is nor how far it has come.
 */
export function makeClaims(keys: HeldKeys, have: readonly FeedHave[], binding: StreamBinding): HaveClaim[] {
  const text = transcript(binding)
  const claims: HaveClaim[] = []
  for (const f of have) {
    if (claims.length >= MAX_HAVE_FEEDS) break
    const feed = feedIdOf(f.feed)
    const feedKey = keys.key(feed, f.maxEpoch)
    if (feedKey === undefined) continue
    const k = proofKeys(feedKey, feed, f.maxEpoch)
    const tag = hmacSha256(k.mac, text)
    claims.push({ tag, box: aeadSeal(k.box, encodeVV(f.vv), boxAd(binding, tag)) })
  }
  return claims
}

/** A claim the server recognised. `current`: it proves the newest key the server holds of that feed. */
export interface ProvenHave extends FeedHave {
  readonly current: boolean
}

/**
 * The server's side of one stream: the tag each feed it holds would have here, looked up by value
 * (a hash-table lookup, so no prefix of a tag is compared byte by byte). Rebuilt when its keys change.
 */
export class ClaimVerifier {
  private table = new Map<string, ProofKeys>()
  private builtAt = -1
  private readonly text: Uint8Array

  constructor(
    private readonly keys: HeldKeys,
    private readonly binding: StreamBinding,
  ) {
    this.text = transcript(binding)
  }

  /**
   * The claims that prove a key we hold, opened; every other claim is dropped without a trace,
   * whatever the reason (so none can be told from a feed nobody has). `onForged` counts a claim
   * whose tag is right but whose box does not open.
   */
  open(claims: readonly HaveClaim[], onForged: () => void): ProvenHave[] {
    this.refresh()
    const out: ProvenHave[] = []
    const seen = new Set<string>()
    for (const claim of claims) {
      const id = bytesToHex(claim.tag)
      const k = this.table.get(id)
      if (k === undefined || seen.has(id)) continue
      seen.add(id)
      let vv: VersionVector
      try {
        vv = decodeVV(aeadOpen(k.box, claim.box, boxAd(this.binding, claim.tag)))
      } catch {
        onForged()
        continue
      }
      const current = k.epoch === this.keys.maxEpoch(k.feed)
      out.push({ feed: feedIdBytes(k.feed), maxEpoch: k.epoch, vv, current })
    }
    return out
  }

  /**
   * The newest epoch of every feed we hold; of our own feed, every epoch, so that a contact still
   * on an old key is recognised (and sent the new one) though not served.
   */
  private refresh(): void {
    if (this.builtAt === this.keys.keyVersion) return
    const table = new Map<string, ProofKeys>()
    for (const feed of this.keys.feedIds()) {
      const epochs = feed === this.keys.self ? this.keys.epochs(feed) : [this.keys.maxEpoch(feed)]
      for (const epoch of epochs) {
        const feedKey = this.keys.key(feed, epoch)
        if (feedKey === undefined) continue
        const k = proofKeys(feedKey, feed, epoch)
        table.set(bytesToHex(hmacSha256(k.mac, this.text)), k)
      }
    }
    this.table = table
    this.builtAt = this.keys.keyVersion
  }
}
