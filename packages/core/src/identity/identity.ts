/**
 * A person's identity: an Ed25519 signing key and an X25519 key-agreement key. The two are
 * generated independently (never derived from each other, so no key is used on two curves' math),
 * and the agreement key is bound to the person by a signature of the signing key.
 */
import { assertBytes, concatBytes, type RandomSource, randomBytes } from '../bytes.js'
import {
  ed25519KeyPair,
  ed25519Sign,
  ed25519Verify,
  isEd25519PublicKey,
  KEY_BYTES,
  type KeyPair,
  x25519KeyPair,
} from '../crypto/primitives.js'
import { defineError } from '../errors.js'
import { SignatureContext as Ctx, type SignatureContext, signedPayload } from './contexts.js'

export const IdentityError = defineError('IdentityError', ['BadKey', 'BadSignature', 'BadEncoding'] as const)
export type IdentityError = InstanceType<typeof IdentityError>

export interface IdentityKeyPair {
  readonly signing: KeyPair
  readonly agreement: KeyPair
}

export interface PublicIdentity {
  /** Ed25519 public key: who the person is. */
  readonly signingKey: Uint8Array
  /** X25519 public key used in X3DH. */
  readonly agreementKey: Uint8Array
}

export function generateIdentity(random: RandomSource = randomBytes): IdentityKeyPair {
  return { signing: ed25519KeyPair(random(KEY_BYTES)), agreement: x25519KeyPair(random(KEY_BYTES)) }
}

export function publicIdentity(identity: IdentityKeyPair): PublicIdentity {
  return { signingKey: identity.signing.publicKey, agreementKey: identity.agreement.publicKey }
}

export function signAs(
  identity: IdentityKeyPair,
  context: SignatureContext,
  payload: Uint8Array,
): Uint8Array {
  return ed25519Sign(identity.signing.secretKey, signedPayload(context, payload))
}

/** Strict Ed25519 verification of an identity signature; never throws. */
export function verifySignedBy(
  signingKey: Uint8Array,
  context: SignatureContext,
  payload: Uint8Array,
  signature: Uint8Array,
): boolean {
  return ed25519Verify(signingKey, signedPayload(context, payload), signature)
}

/** The identity's signature over its X25519 key, for use wherever the key travels without a card. */
export function signAgreementKey(identity: IdentityKeyPair): Uint8Array {
  return signAs(identity, Ctx.AgreementKey, identity.agreement.publicKey)
}

export function verifyAgreementKey(identity: PublicIdentity, signature: Uint8Array): boolean {
  return verifySignedBy(identity.signingKey, Ctx.AgreementKey, identity.agreementKey, signature)
}

/** Checks the shape of public identity keys received from elsewhere. */
export function assertPublicIdentity(identity: PublicIdentity): void {
  if (!isEd25519PublicKey(identity.signingKey))
    throw new IdentityError('BadKey', 'identity signing key is not a valid Ed25519 key')
  if (!(identity.agreementKey instanceof Uint8Array) || identity.agreementKey.length !== KEY_BYTES) {
    throw new IdentityError('BadKey', 'identity agreement key must be 32 bytes')
  }
}

/** Secret identity to bytes (seal before storing!): version || Ed25519 seed || X25519 secret. */
export function encodeIdentityKeyPair(identity: IdentityKeyPair): Uint8Array {
  return concatBytes(Uint8Array.of(1), identity.signing.secretKey, identity.agreement.secretKey)
}

export function decodeIdentityKeyPair(bytes: Uint8Array): IdentityKeyPair {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 1 + 2 * KEY_BYTES || bytes[0] !== 1) {
    throw new IdentityError('BadEncoding', 'identity key bytes are malformed')
  }
  return {
    signing: ed25519KeyPair(bytes.slice(1, 33)),
    agreement: x25519KeyPair(bytes.slice(33, 65)),
  }
}

export function identityKeysEqual(a: PublicIdentity, b: PublicIdentity): boolean {
  assertBytes(a.signingKey, KEY_BYTES, 'signing key')
  assertBytes(b.signingKey, KEY_BYTES, 'signing key')
  return (
    a.signingKey.every((v, i) => v === b.signingKey[i]) &&
    a.agreementKey.every((v, i) => v === b.agreementKey[i])
  )
}
