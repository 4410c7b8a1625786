/**
 * Double Ratchet with header encryption, following Signal's specification (revision 4, section 4)
 * step by step; the spec's names are given in comments. Functions are pure over RatchetState:
 * they return a new state and never modify the one passed in.
 */
import { equalBytes, type RandomSource, randomBytes } from '../../bytes.js'
import { CryptoError } from '../errors.js'
import { type KeyPair, x25519KeyPair, x25519Shared } from '../primitives.js'
import { MAX_RETIRED_CHAINS, MAX_SKIP, MESSAGE_VERSION } from './constants.js'
import { type Header, NONCE_BYTES, openHeader, SEALED_HEADER_BYTES, sealHeaderInto } from './header.js'
import { kdfChain, kdfRoot } from './kdf.js'
import {
  bodyAssociatedData,
  decodeMessage,
  HEADER_AD,
  MIN_MESSAGE_BYTES,
  openBody,
  sealBodyInto,
} from './message.js'
import { addSkippedKeys, takeSkippedKey } from './skipped.js'
import type { Chain, RatchetState, SkippedChain } from './state.js'

export interface InitiatorParams {
  /** SK from X3DH/PQXDH. */
  readonly sharedSecret: Uint8Array
  /** The responder's signed prekey, which is its first ratchet key. */
  readonly remoteRatchetKey: Uint8Array
  /** shared_hka: header key of the initiator's first sending chain. */
  readonly headerKeySend: Uint8Array
  /** shared_nhkb: header key the responder's first reply will use. */
  readonly nextHeaderKeyRecv: Uint8Array
  readonly random?: RandomSource
}

/** RatchetInitAliceHE. */
export function initInitiator(p: InitiatorParams): RatchetState {
  const dhSelf = newRatchetKeyPair(p.random ?? randomBytes)
  const step = kdfRoot(p.sharedSecret, x25519Shared(dhSelf.secretKey, p.remoteRatchetKey))
  return {
    dhSelf,
    dhRemote: p.remoteRatchetKey,
    rootKey: step.rootKey,
    send: { chainKey: step.chainKey, n: 0 },
    recv: undefined,
    prevSendCount: 0,
    headerKeySend: p.headerKeySend,
    headerKeyRecv: undefined,
    nextHeaderKeySend: step.nextHeaderKey,
    nextHeaderKeyRecv: p.nextHeaderKeyRecv,
    skipped: [],
  }
}

export interface ResponderParams {
  readonly sharedSecret: Uint8Array
  /** The responder's signed prekey pair, used as its first ratchet key pair. */
  readonly ratchetKeyPair: KeyPair
  /** shared_hka: the header key the initiator's first messages are sealed with. */
  readonly headerKeyRecvNext: Uint8Array
  /** shared_nhkb: the header key of the responder's first sending chain. */
  readonly nextHeaderKeySend: Uint8Array
}

/** RatchetInitBobHE. */
export function initResponder(p: ResponderParams): RatchetState {
  return {
    dhSelf: p.ratchetKeyPair,
    dhRemote: undefined,
    rootKey: p.sharedSecret,
    send: undefined,
    recv: undefined,
    prevSendCount: 0,
    headerKeySend: undefined,
    headerKeyRecv: undefined,
    nextHeaderKeySend: p.nextHeaderKeySend,
    nextHeaderKeyRecv: p.headerKeyRecvNext,
    skipped: [],
  }
}

/** Whether this side can encrypt yet (a responder must first receive one message). */
export function canEncrypt(state: RatchetState): boolean {
  return state.send !== undefined && state.headerKeySend !== undefined
}

/** RatchetEncryptHE. */
export function ratchetEncrypt(
  state: RatchetState,
  plaintext: Uint8Array,
  ad: Uint8Array,
  random: RandomSource = randomBytes,
): { state: RatchetState; message: Uint8Array } {
  const { send, headerKeySend } = state
  if (send === undefined || headerKeySend === undefined) {
    throw new CryptoError('NoSession', 'this session cannot send before it has received a message')
  }
  const step = kdfChain(send.chainKey)
  const nonces = random(2 * NONCE_BYTES)
  const header: Header = { dh: state.dhSelf.publicKey, pn: state.prevSendCount, n: send.n }
  // Both AEADs write straight into the message (layout in message.ts): no copies in between.
  // Three bytes in front put both nonces and ciphertexts on 4-byte boundaries, where @noble
  // works on 32-bit words instead of byte by byte.
  const message = new Uint8Array(3 + MIN_MESSAGE_BYTES + plaintext.length).subarray(3)
  message[0] = MESSAGE_VERSION
  const sealedHeader = message.subarray(1, 1 + SEALED_HEADER_BYTES)
  sealHeaderInto(sealedHeader, headerKeySend, header, HEADER_AD, nonces.subarray(0, NONCE_BYTES))
  sealBodyInto(
    message.subarray(1 + SEALED_HEADER_BYTES),
    step.messageKey,
    plaintext,
    bodyAssociatedData(ad, sealedHeader),
    nonces.subarray(NONCE_BYTES),
  )
  return { state: { ...state, send: { chainKey: step.chainKey, n: send.n + 1 } }, message }
}

/**
 * RatchetDecryptHE. Throws CryptoError (DecryptFailed, Duplicate, TooFarAhead, BadMessage, BadKey)
 * and then the caller's state is untouched, because nothing here mutates it.
 */
export function ratchetDecrypt(
  state: RatchetState,
  messageBytes: Uint8Array,
  ad: Uint8Array,
  random: RandomSource = randomBytes,
): { state: RatchetState; plaintext: Uint8Array } {
  const { sealedHeader, body } = decodeMessage(messageBytes)
  const bodyAd = bodyAssociatedData(ad, sealedHeader)

  // The current receiving chain first: the common, in-order case costs one header trial.
  if (state.headerKeyRecv !== undefined && state.recv !== undefined) {
    const header = openHeader(state.headerKeyRecv, sealedHeader, HEADER_AD)
    if (header !== undefined) {
      if (header.n < state.recv.n) {
        const index = state.skipped.findIndex((c) => equalBytes(c.headerKey, state.headerKeyRecv!))
        return fromSkipped(state, index, header.n, body, bodyAd)
      }
      const next = skipMessageKeys(state, header.n)
      return consumeNext(next, body, bodyAd)
    }
  }

  // TrySkippedMessageKeysHE, for chains older than the current one.
  for (let i = state.skipped.length - 1; i >= 0; i--) {
    const chain = state.skipped[i]!
    if (state.headerKeyRecv !== undefined && equalBytes(chain.headerKey, state.headerKeyRecv)) continue
    const header = openHeader(chain.headerKey, sealedHeader, HEADER_AD)
    if (header !== undefined) return fromSkipped(state, i, header.n, body, bodyAd)
  }

  // DecryptHeader with NHKr: the peer has taken a DH ratchet step.
  const header = openHeader(state.nextHeaderKeyRecv, sealedHeader, HEADER_AD)
  if (header === undefined) {
    // A resent copy of a message from a chain the peer has since left: received already.
    for (const headerKey of state.retiredHeaderKeys ?? []) {
      if (openHeader(headerKey, sealedHeader, HEADER_AD) !== undefined)
        throw new CryptoError('Duplicate', 'message of an earlier chain, already received')
    }
    throw new CryptoError('DecryptFailed', 'no header key of this session opens the message')
  }
  const stepped = dhRatchet(skipMessageKeys(state, header.pn), header, random)
  return consumeNext(skipMessageKeys(stepped, header.n), body, bodyAd)
}

function fromSkipped(
  state: RatchetState,
  chainIndex: number,
  n: number,
  body: Uint8Array,
  bodyAd: Uint8Array,
): { state: RatchetState; plaintext: Uint8Array } {
  const taken = chainIndex >= 0 ? takeSkippedKey(state.skipped, chainIndex, n) : undefined
  if (taken === undefined) {
    throw new CryptoError('Duplicate', 'message was already received, or its key has expired')
  }
  const plaintext = openBody(taken.messageKey, body, bodyAd)
  return { state: { ...state, skipped: taken.skipped }, plaintext }
}

/** Derives the key of message `recv.n`, decrypts, and advances the receiving chain. */
function consumeNext(
  state: RatchetState,
  body: Uint8Array,
  bodyAd: Uint8Array,
): { state: RatchetState; plaintext: Uint8Array } {
  const recv = state.recv!
  const step = kdfChain(recv.chainKey)
  const plaintext = openBody(step.messageKey, body, bodyAd)
  return { state: { ...state, recv: { chainKey: step.chainKey, n: recv.n + 1 } }, plaintext }
}

/** SkipMessageKeysHE: stores the keys of messages recv.n .. until-1 of the current chain. */
function skipMessageKeys(state: RatchetState, until: number): RatchetState {
  const recv = state.recv
  if (recv === undefined || state.headerKeyRecv === undefined) return state
  if (until - recv.n > MAX_SKIP) {
    throw new CryptoError('TooFarAhead', `message skips more than ${MAX_SKIP} keys in one chain`)
  }
  if (until <= recv.n) return state
  const entries: [number, Uint8Array][] = []
  let chain: Chain = recv
  while (chain.n < until) {
    const step = kdfChain(chain.chainKey)
    entries.push([chain.n, step.messageKey])
    chain = { chainKey: step.chainKey, n: chain.n + 1 }
  }
  const skipped = addSkippedKeys(state.skipped, state.headerKeyRecv, entries)
  return { ...state, recv: chain, skipped, retiredHeaderKeys: withoutEvicted(state, skipped) }
}

/**
 * A chain whose skipped keys were evicted (the bounds) may still have messages on their way that
 * can never be read: those must fail, not pass for duplicates, so its header key goes too.
 */
function withoutEvicted(
  state: RatchetState,
  skipped: readonly SkippedChain[],
): readonly Uint8Array[] | undefined {
  const retired = state.retiredHeaderKeys
  if (retired === undefined || skipped.length > state.skipped.length) return retired
  const evicted = state.skipped.filter((c) => !skipped.some((k) => equalBytes(k.headerKey, c.headerKey)))
  if (evicted.length === 0) return retired
  return retired.filter((k) => !evicted.some((c) => equalBytes(c.headerKey, k)))
}

/** DHRatchetHE. */
function dhRatchet(state: RatchetState, header: Header, random: RandomSource): RatchetState {
  const receiving = kdfRoot(state.rootKey, x25519Shared(state.dhSelf.secretKey, header.dh))
  const dhSelf = newRatchetKeyPair(random)
  const sending = kdfRoot(receiving.rootKey, x25519Shared(dhSelf.secretKey, header.dh))
  return {
    ...state,
    retiredHeaderKeys: retire(state),
    prevSendCount: state.send?.n ?? 0,
    headerKeySend: state.nextHeaderKeySend,
    headerKeyRecv: state.nextHeaderKeyRecv,
    dhRemote: header.dh,
    dhSelf,
    rootKey: sending.rootKey,
    recv: { chainKey: receiving.chainKey, n: 0 },
    send: { chainKey: sending.chainKey, n: 0 },
    nextHeaderKeyRecv: receiving.nextHeaderKey,
    nextHeaderKeySend: sending.nextHeaderKey,
  }
}

/**
 * The retired header keys after leaving the current receiving chain. Its keys up to PN were taken
 * or skipped just before (skipMessageKeys), so each of its messages is either a skipped key or
 * received already.
 */
function retire(state: RatchetState): readonly Uint8Array[] | undefined {
  if (state.headerKeyRecv === undefined) return state.retiredHeaderKeys
  const next = [...(state.retiredHeaderKeys ?? []), state.headerKeyRecv]
  return next.length > MAX_RETIRED_CHAINS ? next.slice(next.length - MAX_RETIRED_CHAINS) : next
}

function newRatchetKeyPair(random: RandomSource): KeyPair {
  return x25519KeyPair(random(32))
}
