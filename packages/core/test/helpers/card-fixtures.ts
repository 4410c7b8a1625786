/**
 * Fixtures for the contact-card tests: real identities and device keys, realistic multiaddrs, and a
 * forger that builds card bytes field by field with the generated protobuf codec and signs them
 * with an identity key, so a test can make a card that is wrong in exactly one way.
 */
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { base64url } from 'multiformats/bases/base64'
import { sha256 } from 'multiformats/hashes/sha2'
import { concatBytes } from '../../src/bytes.js'
import { CARD_VERSION, type ContactCard, createCard } from '../../src/card/card.js'
import { CardBody, SignedCard } from '../../src/card/card-wire.pb.js'
import { CardError } from '../../src/card/errors.js'
import { x25519KeyPair } from '../../src/crypto/primitives.js'
import { SignatureContext } from '../../src/identity/contexts.js'
import {
  type DeviceKey,
  devicePeerId,
  devicePublicKey,
  generateDeviceKey,
} from '../../src/identity/device.js'
import { generateIdentity, type IdentityKeyPair, signAs } from '../../src/identity/identity.js'

type CardErrorCode = (typeof CardError.codes)[number]

export interface CardOwner {
  readonly identity: IdentityKeyPair
  readonly device: DeviceKey
  readonly deviceKey: Uint8Array
  readonly peerId: string
  readonly signedPreKey: { readonly id: number; readonly publicKey: Uint8Array }
}

export async function makeOwner(preKeyId = 1): Promise<CardOwner> {
  const device = await generateDeviceKey()
  return {
    identity: generateIdentity(),
    device,
    deviceKey: devicePublicKey(device),
    peerId: devicePeerId(device).toString(),
    signedPreKey: { id: preKeyId, publicKey: x25519KeyPair().publicKey },
  }
}

/** A WebRTC-direct certhash as libp2p prints it: multibase base64url of a sha2-256 multihash. */
export async function certhash(seed: string): Promise<string> {
  const digest = await sha256.digest(new TextEncoder().encode(seed))
  return base64url.encode(digest.bytes)
}

/** The three addresses a LAN device typically has: TCP, WebSocket, WebRTC-direct with certhash. */
export async function lanAddrs(ip = '192.168.1.20'): Promise<string[]> {
  return [
    `/ip4/${ip}/tcp/4001`,
    `/ip4/${ip}/tcp/4002/ws`,
    `/ip4/${ip}/udp/4003/webrtc-direct/certhash/${await certhash(ip)}`,
  ]
}

export function ownerCard(
  owner: CardOwner,
  name: string,
  addrs: readonly string[],
  createdAt = 1_750_000_000,
): Uint8Array {
  return createCard(owner.identity, {
    name,
    deviceKey: owner.deviceKey,
    signedPreKey: owner.signedPreKey,
    addrs,
    createdAt,
  })
}

/** The protobuf body an honest encoder writes for `owner` (before any tampering). */
export function honestBody(owner: CardOwner, overrides: Partial<CardBody> = {}): CardBody {
  return {
    version: CARD_VERSION,
    name: 'Mallory',
    identitySigningKey: owner.identity.signing.publicKey as Uint8Array<ArrayBuffer>,
    identityAgreementKey: owner.identity.agreement.publicKey as Uint8Array<ArrayBuffer>,
    deviceKey: owner.deviceKey as Uint8Array<ArrayBuffer>,
    signedPrekeyId: owner.signedPreKey.id,
    signedPrekey: owner.signedPreKey.publicKey as Uint8Array<ArrayBuffer>,
    addrs: [multiaddr('/ip4/192.168.1.20/tcp/4001').bytes as Uint8Array<ArrayBuffer>],
    createdAt: 1_750_000_000n,
    ...overrides,
  }
}

export interface ForgeOptions {
  /** Who signs (default: the owner named in the body). */
  readonly signer?: IdentityKeyPair
  /** Signature context (default: the card's). */
  readonly context?: SignatureContext
  /** Raw bytes appended to the encoded body BEFORE signing (e.g. an unknown field). */
  readonly appendToBody?: Uint8Array
  /** Raw body bytes to sign instead of encoding `body` (for hand-made non-canonical forms). */
  readonly rawBody?: Uint8Array
  /** Replaces the signature after signing. */
  readonly signature?: Uint8Array
  /** Raw bytes appended to the outer SignedCard. */
  readonly appendToOuter?: Uint8Array
}

/** Encodes `body`, signs it like createCard does (or as `options` say) and wraps it as a card. */
export function forgeCard(
  signer: IdentityKeyPair,
  body: Partial<CardBody>,
  options: ForgeOptions = {},
): Uint8Array {
  let bodyBytes: Uint8Array = options.rawBody ?? CardBody.encode(body)
  if (options.appendToBody) bodyBytes = concatBytes(bodyBytes, options.appendToBody)
  const signature =
    options.signature ?? signAs(options.signer ?? signer, options.context ?? SignatureContext.Card, bodyBytes)
  const outer = SignedCard.encode({
    body: bodyBytes as Uint8Array<ArrayBuffer>,
    signature: signature as Uint8Array<ArrayBuffer>,
  })
  return options.appendToOuter ? concatBytes(outer, options.appendToOuter) : outer
}

export function splitCard(cardBytes: Uint8Array): { body: Uint8Array; signature: Uint8Array } {
  const outer = SignedCard.decode(cardBytes)
  return { body: outer.body, signature: outer.signature }
}

export function bodyOf(cardBytes: Uint8Array): CardBody {
  return CardBody.decode(splitCard(cardBytes).body)
}

/** Asserts that `fn` throws a CardError with `code` and a message matching `message`. */
export function assertCardError(fn: () => unknown, code: CardErrorCode, message?: RegExp): CardError {
  let thrown: unknown
  try {
    fn()
  } catch (error) {
    thrown = error
  }
  assert.ok(thrown !== undefined, `expected CardError ${code}, but nothing was thrown`)
  assert.ok(
    CardError.is(thrown),
    `expected CardError ${code}, got ${String((thrown as Error)?.name)}: ${String((thrown as Error)?.message)}`,
  )
  assert.equal(thrown.code, code, `expected CardError ${code}, got ${thrown.code}: ${thrown.message}`)
  assert.ok(thrown.message.length > 10, 'a CardError message says what is wrong')
  if (message) assert.match(thrown.message, message)
  return thrown
}

/** Every field of a decoded card in a shape assert.deepEqual compares byte for byte. */
export function plainCard(card: ContactCard): Record<string, unknown> {
  return {
    version: card.version,
    name: card.name,
    signingKey: Uint8Array.from(card.identity.signingKey),
    agreementKey: Uint8Array.from(card.identity.agreementKey),
    deviceKey: Uint8Array.from(card.deviceKey),
    peerId: card.peerId,
    signedPreKeyId: card.signedPreKey.id,
    signedPreKey: Uint8Array.from(card.signedPreKey.publicKey),
    addrs: [...card.addrs],
    createdAt: card.createdAt,
  }
}
