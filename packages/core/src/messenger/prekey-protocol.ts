/**
 * /jiayi/prekeys/1: one request frame, one response frame. The response carries the identity keys,
 * the signed prekey with its signature, one one-time prekey (while the pool lasts) and the
 * identity-signed ML-KEM-768 prekey. The fetcher checks every signature against the identity it
 * expected (from the card) before any key is used.
 */
import type { PeerId } from '@libp2p/interface'
import { equalBytes } from '../bytes.js'
import { verifyKemPreKey, verifySignedPreKey } from '../crypto/prekeys.js'
import { KEM_PUBLIC_BYTES, KEY_BYTES } from '../crypto/primitives.js'
import type { PreKeyBundle } from '../crypto/x3dh.js'
import type { PublicIdentity } from '../identity/identity.js'
import { openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import type { JiayiNode } from '../net/network-stack.js'
import { PROTOCOL_PREKEYS } from '../net/protocols.js'
import { MalformedFrameError } from './msg-protocol.js'
import type { PublicPreKeys } from './prekey-store.js'
import { PrekeyRequest, PrekeyResponse } from './wire.pb.js'

export const PREKEY_PROTOCOL_VERSION = 1
const TIMEOUT_MS = 5_000

export async function servePrekeyStream(
  framed: FramedStream,
  identity: PublicIdentity,
  handOut: () => Promise<PublicPreKeys | undefined>,
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
  const keys = await handOut()
  if (keys === undefined) throw new MalformedFrameError('rate-limited')
  const response = PrekeyResponse.encode({
    identitySigningKey: identity.signingKey as Uint8Array<ArrayBuffer>,
    identityAgreementKey: identity.agreementKey as Uint8Array<ArrayBuffer>,
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
    framed = await openFramed(node, peer, PROTOCOL_PREKEYS, { signal: options.signal })
    await framed.write(PrekeyRequest.encode({ version: PREKEY_PROTOCOL_VERSION }), { timeoutMs: TIMEOUT_MS })
    const bytes = await framed.read({ timeoutMs: TIMEOUT_MS, signal: options.signal })
    await framed.close().catch(() => undefined)
    if (bytes === null) return undefined
    return verifyBundle(PrekeyResponse.decode(bytes), expected)
  } catch {
    framed?.abort(new Error('prekey fetch failed'))
    return undefined
  }
}

export function verifyBundle(r: PrekeyResponse, expected: PublicIdentity): PreKeyBundle | undefined {
  if (
    !equalBytes(r.identitySigningKey, expected.signingKey) ||
    !equalBytes(r.identityAgreementKey, expected.agreementKey)
  ) {
    return undefined
  }
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
