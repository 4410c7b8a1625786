/**
 * /jiayi/prekeys/1: one request frame, one response frame. The request proves that the fetcher
 * holds one of our cards (a MAC keyed with the identity keys printed on it, bound to both peer
 * ids), so a peer id alone tells no one who is behind it; the response carries the signed
 * prekey, one one-time prekey (while the pool lasts) and an ML-KEM-768 prekey (one-time while
 * they last, else the last-resort one), each signed by the identity, and never the identity keys
 * themselves: the fetcher has them from the card and checks every signature against them.
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { concatBytes, equalBytes, utf8 } from '../bytes.js'
import type { ContactCard } from '../card/card.js'
import { verifyKemPreKey, verifySignedPreKey } from '../crypto/prekeys.js'
import { hmacSha256, KEM_PUBLIC_BYTES, KEY_BYTES } from '../crypto/primitives.js'
import type { PreKeyBundle } from '../crypto/x3dh.js'
import type { PublicIdentity } from '../identity/identity.js'
import { openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import type { JiayiNode } from '../net/network-stack.js'
import { PROTOCOL_PREKEYS } from '../net/protocols.js'
import { MalformedFrameError } from './msg-protocol.js'
import type { PublicPreKeys } from './prekey-store.js'
import { PrekeyRequest, PrekeyResponse } from './wire.pb.js'

export const PREKEY_PROTOCOL_VERSION = 2
const TIMEOUT_MS = 5_000
const CARD_PROOF_LABEL = utf8('Jiayi_PrekeyFetch_v1')
/** How long a fetch for a new session waits for the peer's fresh prekeys before using the card's. */
export const PREKEY_FETCH_TIMEOUT_MS = 4_000

/**
 * The proof that a fetcher holds a card of `identity`: HMAC-SHA256 keyed with the identity's two
 * public keys (Ed25519 || X25519, which only its cards carry, never a peer id) over the label and
 * both peer ids, so it is worth nothing on another connection.
 */
export function cardProof(identity: PublicIdentity, responder: PeerId, requester: PeerId): Uint8Array {
  return hmacSha256(
    concatBytes(identity.signingKey, identity.agreementKey),
    concatBytes(
      CARD_PROOF_LABEL,
      Uint8Array.of(0),
      responder.toMultihash().bytes,
      requester.toMultihash().bytes,
    ),
  )
}

/**
 * Serves one request: `handOut` gets the request's card proof and decides (trust, proof, rate
 * limits); undefined refuses the stream.
 */
export async function servePrekeyStream(
  framed: FramedStream,
  handOut: (cardProof: Uint8Array) => Promise<PublicPreKeys | undefined>,
): Promise<void> {
  const bytes = await framed.read({ timeoutMs: TIMEOUT_MS })
  if (bytes === null) return
  let request: PrekeyRequest
  try {
    request = PrekeyRequest.decode(bytes)
  } catch {
    throw new MalformedFrameError('not a prekey request')
  }
  if (request.version !== PREKEY_PROTOCOL_VERSION)
    throw new MalformedFrameError('unknown prekey protocol version')
  const keys = await handOut(request.cardProof)
  if (keys === undefined) throw new MalformedFrameError('refused')
  const response = PrekeyResponse.encode({
    signedPrekeyId: keys.signedPreKey.id,
    signedPrekey: keys.signedPreKey.keyPair.publicKey as Uint8Array<ArrayBuffer>,
    signedPrekeySignature: keys.signedPreKey.signature as Uint8Array<ArrayBuffer>,
    oneTimePrekeyId: keys.oneTimePreKey?.id,
    oneTimePrekey: keys.oneTimePreKey?.publicKey as Uint8Array<ArrayBuffer> | undefined,
    kemPrekeyId: keys.kemPreKey.id,
    kemPrekey: keys.kemPreKey.publicKey as Uint8Array<ArrayBuffer>,
    kemPrekeySignature: keys.kemPreKey.signature as Uint8Array<ArrayBuffer>,
  })
  await framed.write(response, { timeoutMs: TIMEOUT_MS })
  await framed.close()
}

/** Whether `proof` shows that `requester` holds a card of ours (constant-time comparison). */
export function isCardProof(
  proof: Uint8Array,
  identity: PublicIdentity,
  self: PeerId,
  requester: PeerId,
): boolean {
  return proof.length === 32 && equalBytes(proof, cardProof(identity, self, requester))
}

/**
 * Fetches a prekey bundle from `peer` and verifies it against `expected` (the identity on the
 * card). Returns undefined when the peer cannot be reached or answers with anything that does not
 * verify: the caller then falls back to the card's signed prekey alone.
 */
export async function fetchPreKeyBundle(
  node: JiayiNode,
  peer: PeerId,
  expected: PublicIdentity,
  options: { signal?: AbortSignal } = {},
): Promise<PreKeyBundle | undefined> {
  let framed: FramedStream | undefined
  try {
    framed = await openFramed(node, peer, PROTOCOL_PREKEYS, {
      signal: options.signal,
      runOnLimitedConnection: true,
    })
    const request = PrekeyRequest.encode({
      version: PREKEY_PROTOCOL_VERSION,
      cardProof: cardProof(expected, peer, node.peerId) as Uint8Array<ArrayBuffer>,
    })
    await framed.write(request, { timeoutMs: TIMEOUT_MS })
    const bytes = await framed.read({ timeoutMs: TIMEOUT_MS, signal: options.signal })
    await framed.close().catch(() => undefined)
    if (bytes === null) return undefined
    return verifyBundle(PrekeyResponse.decode(bytes), expected)
  } catch {
    framed?.abort(new Error('prekey fetch failed'))
    return undefined
  }
}

/** A fresh bundle from the card's device (one-time prekeys, ML-KEM); else the card's signed prekey. */
export async function bundleFor(node: JiayiNode, card: ContactCard): Promise<PreKeyBundle> {
  const fetched = await fetchPreKeyBundle(node, peerIdFromString(card.peerId), card.identity, {
    signal: AbortSignal.timeout(PREKEY_FETCH_TIMEOUT_MS),
  })
  return fetched ?? { identity: card.identity, signedPreKey: card.signedPreKey }
}

export function verifyBundle(r: PrekeyResponse, expected: PublicIdentity): PreKeyBundle | undefined {
  if (r.signedPrekey.length !== KEY_BYTES) return undefined
  if (!verifySignedPreKey(expected.signingKey, r.signedPrekeyId, r.signedPrekey, r.signedPrekeySignature))
    return undefined
  let kemPreKey: PreKeyBundle['kemPreKey']
  if (r.kemPrekeyId !== undefined && r.kemPrekey !== undefined && r.kemPrekeySignature !== undefined) {
    if (r.kemPrekey.length !== KEM_PUBLIC_BYTES) return undefined
    if (!verifyKemPreKey(expected.signingKey, r.kemPrekeyId, r.kemPrekey, r.kemPrekeySignature))
      return undefined
    kemPreKey = { id: r.kemPrekeyId, publicKey: r.kemPrekey }
  }
  let oneTimePreKey: PreKeyBundle['oneTimePreKey']
  if (r.oneTimePrekeyId !== undefined && r.oneTimePrekey !== undefined) {
    if (r.oneTimePrekey.length !== KEY_BYTES) return undefined
    oneTimePreKey = { id: r.oneTimePrekeyId, publicKey: r.oneTimePrekey }
  }
  return {
    identity: expected,
    signedPreKey: { id: r.signedPrekeyId, publicKey: r.signedPrekey },
    oneTimePreKey,
    kemPreKey,
  }
}
