/**
 * Group encryption with sender keys (libsignal's group_encrypt / group_decrypt and sender-key
 * distribution), over immutable state: each call returns the new state or record and leaves its
 * argument valid, so callers persist the result atomically with the message, and a failure
 * (any thrown CryptoError) changes nothing.
 */
import { assertBytes, concatBytes, type RandomSource, randomBytes, wipe } from '../../bytes.js'
import { InputError } from '../../errors.js'
import { CryptoError } from '../errors.js'
import { ed25519Sign, ed25519Verify, open, seal, TAG_BYTES, XNONCE_BYTES } from '../primitives.js'
import { messageKey, messageKeySeed, nextChainKey, type SkippedMessageKey } from './chain.js'
import { MAX_ITERATION, MAX_PLAINTEXT_BYTES, MAX_SKIP } from './constants.js'
import {
  addState,
  findStateIndex,
  freezeState,
  replaceState,
  type SenderKeyRecord,
  type SenderKeyState,
} from './state.js'
import {
  decodeDistributionMessage,
  decodeSenderKeyMessage,
  encodeDistributionMessage,
  encodeMessageHeader,
} from './wire.js'

/**
 * The distribution message for the sender's current chain: whoever processes it can read this
 * sender's messages from the current iteration on, never earlier ones. In the product it travels
 * sealed over a pairwise Double Ratchet session, which authenticates the sender; it is not signed.
 */
export function encodeDistribution(state: SenderKeyState): Uint8Array {
  return encodeDistributionMessage({
    keyId: state.keyId,
    iteration: state.chainKey.iteration,
    chainKey: state.chainKey.seed,
    signingPublicKey: state.signingPublicKey,
  })
}

/** Adds the sender state a distribution describes to `record` (see `addState` for the rules). */
export function processDistribution(record: SenderKeyRecord, bytes: Uint8Array): SenderKeyRecord {
  const d = decodeDistributionMessage(bytes)
  const state = freezeState({
    keyId: d.keyId,
    chainKey: { iteration: d.iteration, seed: d.chainKey },
    signingPublicKey: d.signingPublicKey,
    skipped: [],
  })
  return addState(record, state)
}

/**
 * Encrypts one group message with the sender's own state: the AEAD binds the message header and
 * `ad` (use `senderKeyAssociatedData(groupId, senderIdentity)`), and the sender's signing key signs
 * header || sealed body. Returns the message and the state to use next.
 */
export function groupEncrypt(
  state: SenderKeyState,
  plaintext: Uint8Array,
  ad: Uint8Array,
  random: RandomSource = randomBytes,
): { message: Uint8Array; state: SenderKeyState } {
  assertBytes(plaintext, undefined, 'plaintext')
  assertBytes(ad, undefined, 'associated data')
  // The sealed length must fit the header's u32 (and the AEAD's own limits) with room to spare.
  if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new InputError('OutOfRange', 'plaintext is too long')
  const secretKey = state.signingSecretKey
  if (secretKey === undefined)
    throw new CryptoError('NoSenderKey', 'this state has no signing key: it cannot send')
  const chain = state.chainKey
  if (chain.iteration >= MAX_ITERATION) {
    throw new CryptoError('BadState', 'sender chain is exhausted; create a new sender key')
  }
  const header = encodeMessageHeader(state.keyId, chain.iteration, sealedLength(plaintext.length))
  const seed = messageKeySeed(chain)
  const key = messageKey(seed)
  const sealed = seal(key, plaintext, concatBytes(header, ad), random)
  wipe(seed, key)
  const signed = concatBytes(header, sealed)
  const message = concatBytes(signed, ed25519Sign(secretKey, signed))
  return { message, state: freezeState({ ...state, chainKey: nextChainKey(chain) }) }
}

/**
 * Decrypts one group message from the sender whose record this is. Order matters: the signature is
 * verified before any key is derived or the chain moves, so unauthenticated bytes cost one
 * verification and nothing else. Errors: BadMessage (malformed), NoSenderKey (unknown key id),
 * BadSignature, Duplicate (already read, or its key was evicted or never kept), TooFarAhead (more
 * than MAX_SKIP iterations ahead), DecryptFailed (wrong associated data or a corrupted body that
 * was nevertheless signed).
 */
export function groupDecrypt(
  record: SenderKeyRecord,
  messageBytes: Uint8Array,
  ad: Uint8Array,
): { plaintext: Uint8Array; record: SenderKeyRecord } {
  assertBytes(ad, undefined, 'associated data')
  const message = decodeSenderKeyMessage(messageBytes)
  const index = findStateIndex(record, message.keyId)
  const state = record.states[index]
  if (state === undefined) throw new CryptoError('NoSenderKey', 'no sender key with this key id')
  if (!ed25519Verify(state.signingPublicKey, message.signed, message.signature)) {
    throw new CryptoError('BadSignature', 'sender key message signature does not verify')
  }
  const { seed, state: next } = takeMessageKeySeed(state, message.iteration)
  const key = messageKey(seed)
  try {
    const plaintext = open(key, message.sealed, concatBytes(message.header, ad))
    return { plaintext, record: replaceState(record, index, next) }
  } finally {
    wipe(key)
  }
}

/**
 * The message-key seed for `iteration` and the state after using it. A past iteration is served
 * from the skipped keys (and removed from them); a future one steps the chain, keeping the keys
 * skipped over. An iteration in the past with no kept key is Duplicate: from the state alone a
 * replay and a message whose key was evicted look the same, and libsignal reports both as a
 * duplicate too.
 */
function takeMessageKeySeed(
  state: SenderKeyState,
  iteration: number,
): { seed: Uint8Array; state: SenderKeyState } {
  let chain = state.chainKey
  if (iteration < chain.iteration) {
    const at = state.skipped.findIndex((k) => k.iteration === iteration)
    const kept = state.skipped[at]
    if (kept === undefined) throw new CryptoError('Duplicate', 'message already received, or its key is gone')
    const skipped = [...state.skipped.slice(0, at), ...state.skipped.slice(at + 1)]
    return { seed: kept.seed, state: freezeState({ ...state, skipped }) }
  }
  if (iteration - chain.iteration > MAX_SKIP) {
    throw new CryptoError('TooFarAhead', `message is more than ${MAX_SKIP} iterations ahead`)
  }
  const added: SkippedMessageKey[] = []
  while (chain.iteration < iteration) {
    added.push({ iteration: chain.iteration, seed: messageKeySeed(chain) })
    chain = nextChainKey(chain)
  }
  const seed = messageKeySeed(chain)
  return {
    seed,
    state: freezeState({ ...state, chainKey: nextChainKey(chain), skipped: [...state.skipped, ...added] }),
  }
}

function sealedLength(plaintextLength: number): number {
  return XNONCE_BYTES + plaintextLength + TAG_BYTES
}
