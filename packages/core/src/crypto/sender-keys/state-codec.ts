/**
 * Versioned serialisation of the sender's own state and of a receiver's per-sender record
 * (layouts in PROTOCOL-sender-keys.md). Decoding is strict and canonical, so
 * encode(decode(bytes)) returns the same bytes and decode(encode(value)) an equal value; anything
 * else, including a structure that our own code could never produce, is BadState. The encoder runs
 * the same checks, so a hand-built invalid value is never written to storage either.
 */
import { assertBytes, equalBytes } from '../../bytes.js'
import { CryptoError } from '../errors.js'
import { ed25519PublicKey, isEd25519PublicKey, KEY_BYTES } from '../primitives.js'
import { ByteReader, ByteWriter } from './byte-io.js'
import { MAX_SKIPPED_KEYS, MAX_STATES, SENDER_KEY_STATE_VERSION } from './constants.js'
import { freezeRecord, freezeState, type SenderKeyRecord, type SenderKeyState } from './state.js'
import { isU32 } from './wire.js'

/** Second byte: which of the two structures follows, so one can never be read as the other. */
const KIND_OWN_STATE = 1
const KIND_RECORD = 2

const OWN_STATE_BYTES = 2 + 4 + 4 + KEY_BYTES * 3
const STATE_FIXED_BYTES = 4 + 4 + KEY_BYTES + KEY_BYTES + 2
const SKIPPED_BYTES = 4 + KEY_BYTES

function bad(reason: string): never {
  throw new CryptoError('BadState', `sender key state: ${reason}`)
}

// ---------- the sender's own state ----------

export function encodeSenderKeyState(state: SenderKeyState): Uint8Array {
  checkOwnState(state)
  return new ByteWriter(OWN_STATE_BYTES)
    .u8(SENDER_KEY_STATE_VERSION)
    .u8(KIND_OWN_STATE)
    .u32(state.keyId)
    .u32(state.chainKey.iteration)
    .raw(state.chainKey.seed)
    .raw(state.signingPublicKey)
    .raw(state.signingSecretKey!)
    .finish()
}

export function decodeSenderKeyState(bytes: Uint8Array): SenderKeyState {
  assertBytes(bytes, undefined, 'sender key state')
  const r = new ByteReader(bytes, 'BadState', 'sender key state')
  readPreamble(r, KIND_OWN_STATE)
  if (bytes.length !== OWN_STATE_BYTES) r.fail('wrong length')
  const keyId = r.u32()
  const iteration = r.u32()
  const seed = r.bytes(KEY_BYTES)
  const signingPublicKey = r.bytes(KEY_BYTES)
  const signingSecretKey = r.bytes(KEY_BYTES)
  r.end()
  const state: SenderKeyState = {
    keyId,
    chainKey: { iteration, seed },
    signingPublicKey,
    signingSecretKey,
    skipped: [],
  }
  checkOwnState(state)
  return freezeState(state)
}

function checkOwnState(state: SenderKeyState): void {
  checkCommon(state)
  const secret = state.signingSecretKey
  if (!(secret instanceof Uint8Array) || secret.length !== KEY_BYTES) bad('no signing secret key')
  if (state.skipped.length !== 0) bad("the sender's own state has no skipped keys")
  const derived = ed25519PublicKey(secret)
  if (!equalBytes(derived, state.signingPublicKey)) bad('signing key pair does not match')
}

// ---------- a receiver's record for one sender ----------

export function encodeSenderKeyRecord(record: SenderKeyRecord): Uint8Array {
  checkRecord(record)
  let length = 3
  for (const s of record.states) length += STATE_FIXED_BYTES + s.skipped.length * SKIPPED_BYTES
  const w = new ByteWriter(length).u8(SENDER_KEY_STATE_VERSION).u8(KIND_RECORD).u8(record.states.length)
  for (const s of record.states) {
    w.u32(s.keyId)
      .u32(s.chainKey.iteration)
      .raw(s.chainKey.seed)
      .raw(s.signingPublicKey)
      .u16(s.skipped.length)
    for (const k of s.skipped) w.u32(k.iteration).raw(k.seed)
  }
  return w.finish()
}

export function decodeSenderKeyRecord(bytes: Uint8Array): SenderKeyRecord {
  assertBytes(bytes, undefined, 'sender key record')
  const r = new ByteReader(bytes, 'BadState', 'sender key record')
  readPreamble(r, KIND_RECORD)
  const count = r.u8()
  if (count > MAX_STATES) r.fail('too many states')
  const states: SenderKeyState[] = []
  for (let i = 0; i < count; i++) {
    const keyId = r.u32()
    const iteration = r.u32()
    const seed = r.bytes(KEY_BYTES)
    const signingPublicKey = r.bytes(KEY_BYTES)
    const skippedCount = r.u16()
    // Checked before reading, so a hostile count cannot make us allocate much.
    if (skippedCount > MAX_SKIPPED_KEYS) r.fail('too many skipped keys')
    const skipped = []
    for (let j = 0; j < skippedCount; j++) skipped.push({ iteration: r.u32(), seed: r.bytes(KEY_BYTES) })
    states.push(freezeState({ keyId, chainKey: { iteration, seed }, signingPublicKey, skipped }))
  }
  r.end()
  const record = freezeRecord(states)
  checkRecord(record)
  return record
}

function checkRecord(record: SenderKeyRecord): void {
  if (record.states.length > MAX_STATES) bad('too many states')
  const ids = new Set<number>()
  let skippedTotal = 0
  for (const s of record.states) {
    checkCommon(s)
    if (s.signingSecretKey !== undefined) bad('a received state carries no signing secret key')
    if (ids.has(s.keyId)) bad('duplicate key id')
    ids.add(s.keyId)
    skippedTotal += s.skipped.length
    let previous = -1
    for (const k of s.skipped) {
      // Ascending and below the chain's next iteration: the only order decryption produces.
      if (!isU32(k.iteration) || k.iteration <= previous || k.iteration >= s.chainKey.iteration) {
        bad('skipped keys out of order')
      }
      if (!(k.seed instanceof Uint8Array) || k.seed.length !== KEY_BYTES) bad('bad skipped key')
      previous = k.iteration
    }
  }
  if (skippedTotal > MAX_SKIPPED_KEYS) bad('too many skipped keys')
}

// ---------- shared ----------

function readPreamble(r: ByteReader, kind: number): void {
  if (r.u8() !== SENDER_KEY_STATE_VERSION) r.fail('unknown version')
  if (r.u8() !== kind) r.fail('wrong kind')
}

function checkCommon(s: SenderKeyState): void {
  if (!isU32(s.keyId)) bad('key id out of range')
  if (!isU32(s.chainKey.iteration)) bad('iteration out of range')
  if (!(s.chainKey.seed instanceof Uint8Array) || s.chainKey.seed.length !== KEY_BYTES) bad('bad chain key')
  if (!isEd25519PublicKey(s.signingPublicKey)) bad('bad signing public key')
}
