/**
 * All sessions we hold with one contact (libsignal's SessionRecord idea). Normally one; two appear
 * when both people add each other at the same moment and each starts a session. We send on the
 * current one and decrypt with any; whichever session last decrypted becomes current, so both
 * sides settle on the same session after one round trip. Older sessions are kept (at most
 * MAX_SESSIONS) so that envelopes already in flight under them still open.
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

/**
 * Decrypts a ratchet message with whichever session opens it (current first) and promotes that
 * session. 'Duplicate' from any session wins over 'DecryptFailed' from the others, so a replay
 * is recognised as one.
 */
export function decryptMessage(
  set: SessionSet,
  message: Uint8Array,
): { set: SessionSet; plaintext: Uint8Array } {
  let duplicate: unknown
  let last: unknown
  for (const session of set) {
    try {
      const out = sessionDecrypt(session, message)
      return { set: promote(set, out.session, session), plaintext: out.plaintext }
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
