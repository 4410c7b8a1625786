/**
 * Safety numbers: Signal's numeric fingerprint (libsignal fingerprint.rs, version 0 hashing).
 *
 *   h = SHA-512(0x0000 || key || id || key); then `iterations - 1` times: h = SHA-512(h || key)
 *   (libsignal counts the first hash as one of the iterations; so do we)
 *   display: the first 30 bytes as six 5-byte big-endian numbers, each mod 100000, 5 digits
 *   the two 30-digit halves are concatenated, the smaller first, so both people see one number.
 *
 * Jiayi's inputs: key = the Ed25519 identity key, id = the X25519 identity key (the identity's
 * other permanent key, so a matching number vouches for both keys).
 */
import { concatBytes, equalBytes } from '../bytes.js'
import { sha512Hash } from '../crypto/primitives.js'
import { defineError } from '../errors.js'
import type { PublicIdentity } from './identity.js'

export const SAFETY_NUMBER_ITERATIONS = 5200
export const SCANNABLE_VERSION = 1
const SCANNABLE_BYTES = 1 + 32 + 32

export const SafetyNumberError = defineError('SafetyNumberError', ['BadEncoding', 'Mismatch'] as const)
export type SafetyNumberError = InstanceType<typeof SafetyNumberError>

/** The iterated hash of one side (64 bytes). Exposed for libsignal's test vectors. */
export function fingerprintHash(
  key: Uint8Array,
  id: Uint8Array,
  iterations = SAFETY_NUMBER_ITERATIONS,
): Uint8Array {
  let hash = sha512Hash(concatBytes(Uint8Array.of(0, 0), key, id, key))
  for (let i = 1; i < iterations; i++) hash = sha512Hash(concatBytes(hash, key))
  return hash
}

/** 30 decimal digits from the first 30 bytes of a fingerprint hash. */
export function displayDigits(hash: Uint8Array): string {
  let out = ''
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0
    for (let i = 0; i < 5; i++) value = value * 256 + hash[chunk * 5 + i]!
    out += String(value % 100000).padStart(5, '0')
  }
  return out
}

/** Both halves, smaller first (Signal's ordering), as one 60-digit string. */
export function combineDigits(local: string, remote: string): string {
  return local < remote ? local + remote : remote + local
}

export interface SafetyNumber {
  /** 60 digits; show as 12 groups of 5. */
  readonly digits: string
  /** Bytes to put in a QR code for the other person to scan (see compareScannable). */
  readonly scannable: Uint8Array
}

export function safetyNumber(local: PublicIdentity, remote: PublicIdentity): SafetyNumber {
  const localHash = fingerprintHash(local.signingKey, local.agreementKey)
  const remoteHash = fingerprintHash(remote.signingKey, remote.agreementKey)
  return {
    digits: combineDigits(displayDigits(localHash), displayDigits(remoteHash)),
    scannable: concatBytes(Uint8Array.of(SCANNABLE_VERSION), localHash.slice(0, 32), remoteHash.slice(0, 32)),
  }
}

/** Splits 60 digits into groups of five for display. */
export function formatSafetyNumber(digits: string): string {
  return (digits.match(/.{1,5}/g) ?? []).join(' ')
}

/**
 * Compares what we scanned from the other person's screen with our own scannable form: their
 * "local" must be our "remote" and vice versa. True when both identities match.
 */
export function compareScannable(ours: Uint8Array, scanned: Uint8Array): boolean {
  if (
    !(scanned instanceof Uint8Array) ||
    scanned.length !== SCANNABLE_BYTES ||
    scanned[0] !== SCANNABLE_VERSION
  ) {
    throw new SafetyNumberError('BadEncoding', 'the scanned code is not a Jiayi safety number')
  }
  return (
    equalBytes(ours.subarray(1, 33), scanned.subarray(33, 65)) &&
    equalBytes(ours.subarray(33, 65), scanned.subarray(1, 33))
  )
}
