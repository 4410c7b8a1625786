/**
 * Strict, pure codecs for the two sender-key wire messages (layouts in PROTOCOL-sender-keys.md).
 * Every field has a fixed size except the sealed body, which runs to the signature; a wrong
 * length, an unknown version, trailing bytes or an invalid public key is BadMessage.
 */
import { assertBytes } from '../../bytes.js'
import { CryptoError } from '../errors.js'
import { isEd25519PublicKey, KEY_BYTES, SIGNATURE_BYTES, TAG_BYTES, XNONCE_BYTES } from '../primitives.js'
import { ByteReader, ByteWriter } from './byte-io.js'
import { MAX_ITERATION, SENDER_KEY_WIRE_VERSION } from './constants.js'

/**
 * version (1) || key id (4) || iteration (4) || sealed length (4): signed, and bound into the AEAD's
 * associated data. The explicit length makes the message self-delimiting, so trailing or missing
 * bytes are a structural error (BadMessage) before any signature work.
 */
export const MESSAGE_HEADER_BYTES = 13
/** The smallest sealed body: nonce and tag around an empty plaintext. */
export const MIN_SEALED_BYTES = XNONCE_BYTES + TAG_BYTES
export const MIN_MESSAGE_BYTES = MESSAGE_HEADER_BYTES + MIN_SEALED_BYTES + SIGNATURE_BYTES
export const DISTRIBUTION_BYTES = 1 + 4 + 4 + KEY_BYTES + KEY_BYTES

export interface SenderKeyMessage {
  readonly keyId: number
  readonly iteration: number
  /** nonce (24) || ciphertext || tag (16), as `seal` makes it. */
  readonly sealed: Uint8Array
  readonly signature: Uint8Array
  /** The header bytes exactly as received. */
  readonly header: Uint8Array
  /** Everything the signature covers: header || sealed, exactly as received. */
  readonly signed: Uint8Array
}

export interface SenderKeyDistribution {
  readonly keyId: number
  /** The iteration of `chainKey`: the first message this distribution can open. */
  readonly iteration: number
  readonly chainKey: Uint8Array
  readonly signingPublicKey: Uint8Array
}

export function encodeMessageHeader(keyId: number, iteration: number, sealedLength: number): Uint8Array {
  return new ByteWriter(MESSAGE_HEADER_BYTES)
    .u8(SENDER_KEY_WIRE_VERSION)
    .u32(keyId)
    .u32(iteration)
    .u32(sealedLength)
    .finish()
}

export function decodeSenderKeyMessage(bytes: Uint8Array): SenderKeyMessage {
  assertBytes(bytes, undefined, 'sender key message')
  const r = new ByteReader(bytes, 'BadMessage', 'sender key message')
  if (bytes.length < MIN_MESSAGE_BYTES) r.fail('too short')
  const version = r.u8()
  if (version !== SENDER_KEY_WIRE_VERSION) r.fail('unknown version')
  const keyId = r.u32()
  const iteration = r.u32()
  // A sender never encrypts at the last u32 value (its chain could not step past it).
  if (iteration >= MAX_ITERATION) r.fail('iteration out of range')
  const sealedLength = r.u32()
  if (sealedLength !== r.remaining - SIGNATURE_BYTES)
    r.fail(sealedLength > r.remaining ? 'truncated' : 'trailing bytes')
  const sealed = r.bytes(sealedLength)
  const signature = r.bytes(SIGNATURE_BYTES)
  r.end()
  const signedLength = bytes.length - SIGNATURE_BYTES
  return {
    keyId,
    iteration,
    sealed,
    signature,
    header: new Uint8Array(bytes.subarray(0, MESSAGE_HEADER_BYTES)),
    signed: new Uint8Array(bytes.subarray(0, signedLength)),
  }
}

export function encodeDistributionMessage(d: SenderKeyDistribution): Uint8Array {
  if (!isU32(d.keyId) || !isU32(d.iteration)) {
    throw new CryptoError('BadState', 'sender key distribution: key id or iteration out of range')
  }
  assertBytes(d.chainKey, KEY_BYTES, 'chain key')
  assertBytes(d.signingPublicKey, KEY_BYTES, 'signing public key')
  return new ByteWriter(DISTRIBUTION_BYTES)
    .u8(SENDER_KEY_WIRE_VERSION)
    .u32(d.keyId)
    .u32(d.iteration)
    .raw(d.chainKey)
    .raw(d.signingPublicKey)
    .finish()
}

export function decodeDistributionMessage(bytes: Uint8Array): SenderKeyDistribution {
  assertBytes(bytes, undefined, 'sender key distribution')
  const r = new ByteReader(bytes, 'BadMessage', 'sender key distribution')
  if (bytes.length !== DISTRIBUTION_BYTES) r.fail('wrong length')
  if (r.u8() !== SENDER_KEY_WIRE_VERSION) r.fail('unknown version')
  const keyId = r.u32()
  const iteration = r.u32()
  const chainKey = r.bytes(KEY_BYTES)
  const signingPublicKey = r.bytes(KEY_BYTES)
  r.end()
  if (!isEd25519PublicKey(signingPublicKey)) r.fail('signing key is not a valid Ed25519 public key')
  return { keyId, iteration, chainKey, signingPublicKey }
}

export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_ITERATION
}
