/**
 * All sessions we hold with one contact (libsignal's SessionRecord idea). Normally one; two appear
 * when both people add each other at the same moment and each starts a session, or when a
 * classical session is upgraded (session-upgrade.ts), perhaps by both sides at once. We send on
 * the current one and decrypt with any. A session the peer just started (a PreKey message) becomes
 * current: the peer may have lost the others. A session we hold already becomes current when it
 * decrypts only if it is stronger than the current one (ML-KEM, then a one-time prekey), or as
 * strong with the smaller base key: both sides apply the same rule to the same sessions, so they
 * settle on the same one after a round trip, and traffic still in flight on an old classical
 * session does not undo an upgrade. Older sessions are kept (at most MAX_SESSIONS) so that
 * envelopes already in flight under them still open.
 */
import type { RandomSource } from '../bytes.js'
import { fromBase64, randomBytes, toBase64 } from '../bytes.js'
import { CryptoError } from '../crypto/errors.js'
import {
  type DecodedPreKeyMessage,
  deserializeSession,
  isSameSession,
  type Session,
  type SessionEnvelope,
  serializeSession,
  sessionDecrypt,
  sessionEncrypt,
} from '../crypto/session.js'
import type { IdentityKeyPair } from '../identity/identity.js'
import { decodeRecord, encodeRecord } from './records.js'

export const MAX_SESSIONS = 5

/** Index 0 is the current session. */
export type SessionSet = readonly Session[]

export function encodeSessionSet(set: SessionSet): Uint8Array {
  return encodeRecord(set.map((s) => toBase64(serializeSession(s))))
}

export function decodeSessionSet(bytes: Uint8Array): SessionSet {
  return decodeRecord<string[]>(bytes).map((b) => deserializeSession(fromBase64(b)))
}

/** Puts `session` in front (current), keeping the others in recency order. */
export function promote(set: SessionSet, session: Session, replacing?: Session): SessionSet {
  const rest = set.filter((s) => s !== session && s !== replacing)
  return [session, ...rest].slice(0, MAX_SESSIONS)
}

export function encryptWith(
  set: SessionSet,
  plaintext: Uint8Array,
  identity: IdentityKeyPair,
  random: RandomSource = randomBytes,
): { set: SessionSet; envelope: SessionEnvelope } {
  const current = set[0]
  if (current === undefined) throw new CryptoError('NoSession', 'no session with this contact')
  const { session, envelope } = sessionEncrypt(current, plaintext, identity, random)
  return { set: [session, ...set.slice(1)], envelope }
}

/** Byte order of two base keys (public values: no need for constant time). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** How much a session's X3DH had: ML-KEM counts most, then a one-time prekey. */
function strength(s: Session): number {
  return (s.postQuantum ? 2 : 0) + (s.oneTimePreKey ? 1 : 0)
}

/** Whether `s`, having decrypted, should be sent on instead of `current` (the same rule on both sides). */
export function preferred(s: Session, current: Session): boolean {
  const d = strength(s) - strength(current)
  return d !== 0 ? d > 0 : compareBytes(s.baseKey, current.baseKey) < 0
}

/**
 * Decrypts a ratchet message with whichever session opens it (current first); that session
 * becomes current if it is `preferred`. 'Duplicate' from any session wins over 'DecryptFailed'
 * from the others, so a replay is recognised as one.
 */
export function decryptMessage(
  set: SessionSet,
  message: Uint8Array,
): { set: SessionSet; plaintext: Uint8Array } {
  let duplicate: unknown
  let last: unknown
  for (const [i, session] of set.entries()) {
    try {
      const out = sessionDecrypt(session, message)
      const next =
        i > 0 && preferred(out.session, set[0]!)
          ? promote(set, out.session, session)
          : set.map((s) => (s === session ? out.session : s))
      return { set: next, plaintext: out.plaintext }
    } catch (error) {
      if (CryptoError.is(error, 'Duplicate')) duplicate = error
      else last = error
    }
  }
  throw duplicate ?? last ?? new CryptoError('NoSession', 'no session with this contact')
}

/** The session a PreKeyMessage continues (retransmission of the first messages), if we hold it. */
export function findSession(set: SessionSet, decoded: DecodedPreKeyMessage): Session | undefined {
  return set.find((s) => isSameSession(s, decoded))
}
