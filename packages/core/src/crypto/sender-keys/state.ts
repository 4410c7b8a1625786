/**
 * Sender-key state and the per-sender record, as plain immutable values.
 *
 * Every function here returns new objects and never mutates its inputs, so a caller can keep the
 * old value until the new one is persisted (atomically with the message it consumed), and a failed
 * operation leaves nothing half-changed. Byte arrays are shared between old and new values and are
 * never written to: callers must not write to them either.
 */
import { equalBytes, type RandomSource, randomBytes, readU32be } from '../../bytes.js'
import { ed25519KeyPair, KEY_BYTES } from '../primitives.js'
import type { SenderChainKey, SkippedMessageKey } from './chain.js'
import { MAX_SKIPPED_KEYS, MAX_STATES } from './constants.js'

/**
 * One sender chain (libsignal's SenderKeyState). The sender's own state carries the signing secret
 * key and never has skipped keys; a receiver's copy carries only the public key.
 */
export interface SenderKeyState {
  /** Random u32 naming this chain; a re-key (membership change) makes a new one. */
  readonly keyId: number
  readonly chainKey: SenderChainKey
  readonly signingPublicKey: Uint8Array
  /** Ed25519 secret key (32-byte seed); present only in the sender's own state. */
  readonly signingSecretKey?: Uint8Array
  /** Seeds of message keys skipped over and not yet used, ascending by iteration (oldest first). */
  readonly skipped: readonly SkippedMessageKey[]
}

/** What a receiver holds for one sender in one group: up to MAX_STATES states, newest first. */
export interface SenderKeyRecord {
  readonly states: readonly SenderKeyState[]
}

const EMPTY_RECORD: SenderKeyRecord = Object.freeze({ states: Object.freeze([]) })

export function emptySenderKeyRecord(): SenderKeyRecord {
  return EMPTY_RECORD
}

export function freezeState(state: SenderKeyState): SenderKeyState {
  Object.freeze(state.chainKey)
  for (const key of state.skipped) Object.freeze(key)
  Object.freeze(state.skipped)
  return Object.freeze(state)
}

export function freezeRecord(states: readonly SenderKeyState[]): SenderKeyRecord {
  return Object.freeze({ states: Object.freeze([...states]) })
}

/**
 * A fresh sender key for the sender's own use: random key id, random chain key at iteration 0,
 * new Ed25519 signing key pair. Call again to re-key (for instance on every membership change).
 */
export function createSenderKey(random: RandomSource = randomBytes): SenderKeyState {
  const keyId = readU32be(random(4))
  const seed = random(KEY_BYTES)
  const signing = ed25519KeyPair(random(KEY_BYTES))
  return freezeState({
    keyId,
    chainKey: { iteration: 0, seed: new Uint8Array(seed) },
    signingPublicKey: signing.publicKey,
    signingSecretKey: signing.secretKey,
    skipped: [],
  })
}

export function findStateIndex(record: SenderKeyRecord, keyId: number): number {
  return record.states.findIndex((s) => s.keyId === keyId)
}

/**
 * Adds a received state the way libsignal's SenderKeyRecord does: if a state with the same key id
 * and the same signing key is already held, that one is kept (with its progress and skipped keys)
 * and moved to the front, so a re-sent distribution cannot rewind the chain and re-open messages
 * already read. A state with the same key id but another signing key is replaced. The record then
 * keeps the MAX_STATES most recently added states.
 */
export function addState(record: SenderKeyRecord, incoming: SenderKeyState): SenderKeyRecord {
  const existing = record.states.find((s) => s.keyId === incoming.keyId)
  const keep =
    existing !== undefined && equalBytes(existing.signingPublicKey, incoming.signingPublicKey)
      ? existing
      : incoming
  const others = record.states.filter((s) => s.keyId !== incoming.keyId)
  return freezeRecord([keep, ...others].slice(0, MAX_STATES))
}

/** The record with the state at `index` replaced, then the skipped-key cap applied. */
export function replaceState(record: SenderKeyRecord, index: number, state: SenderKeyState): SenderKeyRecord {
  const states = [...record.states]
  states[index] = state
  return freezeRecord(capSkippedKeys(states))
}

/**
 * Enforces MAX_SKIPPED_KEYS over all of one sender's states. Evicts the oldest keys first: those
 * of the oldest states (the end of the list) before newer ones, and within a state the lowest
 * iterations first. An evicted key's message then fails with Duplicate, like a replay.
 */
export function capSkippedKeys(states: SenderKeyState[]): SenderKeyState[] {
  let excess = states.reduce((n, s) => n + s.skipped.length, 0) - MAX_SKIPPED_KEYS
  for (let i = states.length - 1; i >= 0 && excess > 0; i--) {
    const state = states[i]!
    const drop = Math.min(excess, state.skipped.length)
    if (drop === 0) continue
    states[i] = freezeState({ ...state, skipped: state.skipped.slice(drop) })
    excess -= drop
  }
  return states
}
