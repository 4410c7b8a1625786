import { defineError } from '../errors.js'

/**
 * Failures of the cryptographic layer. Codes are stable; messages never contain key material.
 * - BadKey: a public key is malformed or of low order (X25519 all-zero shared secret).
 * - BadSignature: a signature does not verify (strict RFC 8032 Ed25519).
 * - DecryptFailed: authentication failed; the state that was asked to decrypt is unchanged.
 * - Duplicate: the message was already decrypted once (replay or duplicate delivery).
 * - TooFarAhead: a message jumps over more than MAX_SKIP keys in one chain.
 * - BadMessage: the bytes do not parse as the expected structure.
 * - UnknownPreKey: an X3DH message names a prekey this side does not hold (or already used).
 * - BadState: serialised state bytes are malformed or of an unknown version.
 * - NoSession / NoSenderKey: nothing to encrypt or decrypt with yet.
 */
export const CryptoError = defineError('CryptoError', [
  'BadKey',
  'BadSignature',
  'DecryptFailed',
  'Duplicate',
  'TooFarAhead',
  'BadMessage',
  'UnknownPreKey',
  'BadState',
  'NoSession',
  'NoSenderKey',
] as const)
export type CryptoError = InstanceType<typeof CryptoError>
