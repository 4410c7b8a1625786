/**
 * A pairwise session: X3DH/PQXDH to agree on keys, then the header-encrypted Double Ratchet.
 * Until the initiator hears back, each of its messages travels as a PreKeyMessage that repeats the
 * X3DH parameters (so any of them can start the session on the other side, in any order).
 * Like the ratchet, every function returns a new Session and leaves its input valid.
 */
import { equalBytes, type RandomSource, randomBytes } from '../bytes.js'
import { assertPublicIdentity, type IdentityKeyPair, type PublicIdentity } from '../identity/identity.js'
import { CryptoError } from './errors.js'
import { KEM_CIPHERTEXT_BYTES, KEY_BYTES } from './primitives.js'
import {
  deserializeRatchetState,
  initInitiator,
  initResponder,
  type RatchetState,
  ratchetDecrypt,
  ratchetEncrypt,
  serializeRatchetState,
} from './ratchet/index.js'
import { PreKeyMessage, SessionRecord } from './session-wire.pb.js'
import { type PreKeyBundle, type ResponderPreKeys, type X3dhInit, x3dhInitiate, x3dhRespond } from './x3dh.js'

export const PREKEY_MESSAGE_VERSION = 1
const SESSION_RECORD_VERSION = 1
/** PreKeyMessages are bounded: the X3DH fields plus a ratchet message of at most this size. */
export const MAX_PREKEY_MESSAGE_BYTES = 256 * 1024

export interface Session {
  readonly ratchet: RatchetState
  readonly associatedData: Uint8Array
  readonly remoteIdentity: PublicIdentity
  /** The X3DH ephemeral key that started this session; names the session on both sides. */
  readonly baseKey: Uint8Array
  readonly postQuantum: boolean
  /** Whether X3DH used a one-time prekey (DH4): without one, only the signed prekey protects it. */
  readonly oneTimePreKey: boolean
  /** Initiator only, until the first reply: the X3DH parameters to repeat with each message. */
  readonly pendingInit: X3dhInit | undefined
}

export type SessionEnvelope =
  | { readonly type: 'prekey'; readonly bytes: Uint8Array }
  | { readonly type: 'message'; readonly bytes: Uint8Array }

/** Starts a session as the initiator. The bundle must already be authenticated (card or signatures). */
export function initiateSession(
  self: IdentityKeyPair,
  bundle: PreKeyBundle,
  random: RandomSource = randomBytes,
): Session {
  const { secrets, init } = x3dhInitiate(self, bundle, random)
  return {
    ratchet: initInitiator({
      sharedSecret: secrets.sharedSecret,
      remoteRatchetKey: bundle.signedPreKey.publicKey,
      headerKeySend: secrets.headerKeyInitiator,
      nextHeaderKeyRecv: secrets.headerKeyResponder,
      random,
    }),
    associatedData: secrets.associatedData,
    remoteIdentity: bundle.identity,
    baseKey: init.ephemeralKey,
    postQuantum: secrets.postQuantum,
    oneTimePreKey: bundle.oneTimePreKey !== undefined,
    pendingInit: init,
  }
}

export function sessionEncrypt(
  session: Session,
  plaintext: Uint8Array,
  self: IdentityKeyPair,
  random: RandomSource = randomBytes,
): { session: Session; envelope: SessionEnvelope } {
  const { state, message } = ratchetEncrypt(session.ratchet, plaintext, session.associatedData, random)
  const next = { ...session, ratchet: state }
  const init = session.pendingInit
  if (init === undefined) return { session: next, envelope: { type: 'message', bytes: message } }
  const bytes = PreKeyMessage.encode({
    version: PREKEY_MESSAGE_VERSION,
    identitySigningKey: self.signing.publicKey as Uint8Array<ArrayBuffer>,
    identityAgreementKey: self.agreement.publicKey as Uint8Array<ArrayBuffer>,
    ephemeralKey: init.ephemeralKey as Uint8Array<ArrayBuffer>,
    signedPrekeyId: init.signedPreKeyId,
    oneTimePrekeyId: init.oneTimePreKeyId,
    kemPrekeyId: init.kemPreKeyId,
    kemCiphertext: init.kemCipherText as Uint8Array<ArrayBuffer> | undefined,
    message: message as Uint8Array<ArrayBuffer>,
  })
  return { session: next, envelope: { type: 'prekey', bytes } }
}

/** Decrypts a ratchet message of this session; the first success ends the initiator's pending X3DH. */
export function sessionDecrypt(
  session: Session,
  message: Uint8Array,
  random: RandomSource = randomBytes,
): { session: Session; plaintext: Uint8Array } {
  const { state, plaintext } = ratchetDecrypt(session.ratchet, message, session.associatedData, random)
  return { session: { ...session, ratchet: state, pendingInit: undefined }, plaintext }
}

export interface DecodedPreKeyMessage {
  readonly initiator: PublicIdentity
  readonly init: X3dhInit
  readonly message: Uint8Array
}

/** Strictly parses a PreKeyMessage; anything malformed is CryptoError 'BadMessage'. */
export function decodePreKeyMessage(bytes: Uint8Array): DecodedPreKeyMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_PREKEY_MESSAGE_BYTES) {
    throw new CryptoError('BadMessage', 'prekey message is too large')
  }
  let m: PreKeyMessage
  try {
    m = PreKeyMessage.decode(bytes)
  } catch (cause) {
    throw new CryptoError('BadMessage', 'prekey message does not parse', { cause })
  }
  if (m.version !== PREKEY_MESSAGE_VERSION)
    throw new CryptoError('BadMessage', 'unknown prekey message version')
  const initiator = { signingKey: m.identitySigningKey, agreementKey: m.identityAgreementKey }
  try {
    assertPublicIdentity(initiator)
  } catch (cause) {
    throw new CryptoError('BadMessage', 'prekey message carries a malformed identity', { cause })
  }
  if (m.ephemeralKey.length !== KEY_BYTES)
    throw new CryptoError('BadMessage', 'ephemeral key must be 32 bytes')
  if ((m.kemPrekeyId === undefined) !== (m.kemCiphertext === undefined)) {
    throw new CryptoError('BadMessage', 'KEM prekey id and ciphertext must come together')
  }
  if (m.kemCiphertext !== undefined && m.kemCiphertext.length !== KEM_CIPHERTEXT_BYTES) {
    throw new CryptoError('BadMessage', `KEM ciphertext must be ${KEM_CIPHERTEXT_BYTES} bytes`)
  }
  return {
    initiator,
    init: {
      ephemeralKey: m.ephemeralKey,
      signedPreKeyId: m.signedPrekeyId,
      oneTimePreKeyId: m.oneTimePrekeyId,
      kemPreKeyId: m.kemPrekeyId,
      kemCipherText: m.kemCiphertext,
    },
    message: m.message,
  }
}

/**
 * Starts a session as the responder from a decoded PreKeyMessage and decrypts its message.
 * `prekeys` are the private keys the message names (the caller looks them up, and deletes the
 * one-time prekey only after the new session is stored). Fails without side effects.
 */
export function acceptSession(
  self: IdentityKeyPair,
  decoded: DecodedPreKeyMessage,
  prekeys: ResponderPreKeys,
  random: RandomSource = randomBytes,
): { session: Session; plaintext: Uint8Array } {
  const secrets = x3dhRespond(self, decoded.initiator, decoded.init, prekeys)
  const ratchet = initResponder({
    sharedSecret: secrets.sharedSecret,
    ratchetKeyPair: prekeys.signedPreKey,
    headerKeyRecvNext: secrets.headerKeyInitiator,
    nextHeaderKeySend: secrets.headerKeyResponder,
  })
  const session: Session = {
    ratchet,
    associatedData: secrets.associatedData,
    remoteIdentity: decoded.initiator,
    baseKey: decoded.init.ephemeralKey,
    postQuantum: secrets.postQuantum,
    oneTimePreKey: decoded.init.oneTimePreKeyId !== undefined,
    pendingInit: undefined,
  }
  const { state, plaintext } = ratchetDecrypt(ratchet, decoded.message, secrets.associatedData, random)
  return { session: { ...session, ratchet: state }, plaintext }
}

/** Whether a PreKeyMessage belongs to this already established session (a retransmission). */
export function isSameSession(session: Session, decoded: DecodedPreKeyMessage): boolean {
  return equalBytes(session.baseKey, decoded.init.ephemeralKey)
}

export function serializeSession(session: Session): Uint8Array {
  const init = session.pendingInit
  return SessionRecord.encode({
    version: SESSION_RECORD_VERSION,
    ratchet: serializeRatchetState(session.ratchet) as Uint8Array<ArrayBuffer>,
    associatedData: session.associatedData as Uint8Array<ArrayBuffer>,
    remoteSigningKey: session.remoteIdentity.signingKey as Uint8Array<ArrayBuffer>,
    remoteAgreementKey: session.remoteIdentity.agreementKey as Uint8Array<ArrayBuffer>,
    baseKey: session.baseKey as Uint8Array<ArrayBuffer>,
    postQuantum: session.postQuantum,
    // Written only when false, so that records of sessions with one read as before.
    withoutOneTimePrekey: session.oneTimePreKey ? undefined : true,
    pendingInit: init && {
      ephemeralKey: init.ephemeralKey as Uint8Array<ArrayBuffer>,
      signedPrekeyId: init.signedPreKeyId,
      oneTimePrekeyId: init.oneTimePreKeyId,
      kemPrekeyId: init.kemPreKeyId,
      kemCiphertext: init.kemCipherText as Uint8Array<ArrayBuffer> | undefined,
    },
  })
}

export function deserializeSession(bytes: Uint8Array): Session {
  let r: SessionRecord
  try {
    r = SessionRecord.decode(bytes)
  } catch (cause) {
    throw new CryptoError('BadState', 'session record does not parse', { cause })
  }
  if (r.version !== SESSION_RECORD_VERSION)
    throw new CryptoError('BadState', 'unknown session record version')
  if (
    r.remoteSigningKey.length !== KEY_BYTES ||
    r.remoteAgreementKey.length !== KEY_BYTES ||
    r.baseKey.length !== KEY_BYTES
  ) {
    throw new CryptoError('BadState', 'session record holds a malformed key')
  }
  const p = r.pendingInit
  return {
    ratchet: deserializeRatchetState(r.ratchet),
    associatedData: r.associatedData,
    remoteIdentity: { signingKey: r.remoteSigningKey, agreementKey: r.remoteAgreementKey },
    baseKey: r.baseKey,
    postQuantum: r.postQuantum,
    oneTimePreKey: r.withoutOneTimePrekey !== true,
    pendingInit: p && {
      ephemeralKey: p.ephemeralKey,
      signedPreKeyId: p.signedPrekeyId,
      oneTimePreKeyId: p.oneTimePrekeyId,
      kemPreKeyId: p.kemPrekeyId,
      kemCipherText: p.kemCiphertext,
    },
  }
}
