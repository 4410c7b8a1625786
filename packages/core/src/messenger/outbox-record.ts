/**
 * How an outbox entry is stored: a few fixed fields and the envelope's bytes as they are.
 *
 *   record    = version flags seq created [message-id] [payload] envelope
 *   version   = %x01
 *   flags     = OCTET            ; bit 0: a PreKey message; bit 1: ephemeral; bit 2: message-id follows;
 *                                ; bit 3: payload follows (PreKey entries)
 *   seq       = 8OCTET           ; float64, big-endian (a safe integer)
 *   created   = 8OCTET           ; float64, big-endian, ms since the epoch
 *   message-id = 16OCTET
 *   payload   = length *OCTET    ; length: 4OCTET big-endian; the envelope's plaintext
 *   envelope  = *OCTET           ; the rest
 *
 * Earlier versions stored the entry as JSON with the envelope in base64 (`{"seq":..,"body":..}`);
 * such a record starts with `{` (%x7B), never with %x01, and still decodes. The binary form saves
 * the sender the base64 text and the JSON for every message, and lets a ratchet message's
 * envelope skip the store's seal (store/record.ts END_TO_END_FAMILIES): it is ciphertext already,
 * and the store seals only the fields in front of it.
 */
import { fromBase64, fromUtf8 } from '../bytes.js'
import { StoreError } from '../store/errors.js'
import { MESSAGE_ID_BYTES, type MessageId, messageIdBytes, messageIdFromBytes } from './ids.js'
import type { OutboxRecord } from './records.js'

const VERSION = 0x01
const JSON_START = 0x7b // '{'
const FLAG_PREKEY = 1
const FLAG_EPHEMERAL = 2
const FLAG_MESSAGE_ID = 4
const FLAG_PAYLOAD = 8
const KNOWN_FLAGS = FLAG_PREKEY | FLAG_EPHEMERAL | FLAG_MESSAGE_ID | FLAG_PAYLOAD
const FIXED_BYTES = 2 + 8 + 8

export function encodeOutboxRecord(r: OutboxRecord): Uint8Array {
  const idBytes = r.messageId === undefined ? 0 : MESSAGE_ID_BYTES
  const payloadBytes = r.payload === undefined ? 0 : 4 + r.payload.length
  const out = new Uint8Array(FIXED_BYTES + idBytes + payloadBytes + r.envelope.length)
  const view = new DataView(out.buffer)
  out[0] = VERSION
  out[1] =
    (r.type === 'prekey' ? FLAG_PREKEY : 0) |
    (r.ephemeral === true ? FLAG_EPHEMERAL : 0) |
    (r.messageId === undefined ? 0 : FLAG_MESSAGE_ID) |
    (r.payload === undefined ? 0 : FLAG_PAYLOAD)
  view.setFloat64(2, r.seq)
  view.setFloat64(10, r.createdAt)
  let at = FIXED_BYTES
  if (r.messageId !== undefined) out.set(messageIdBytes(r.messageId), at)
  at += idBytes
  if (r.payload !== undefined) {
    view.setUint32(at, r.payload.length)
    out.set(r.payload, at + 4)
    at += payloadBytes
  }
  out.set(r.envelope, at)
  return out
}

/** Reads either form; anything else is a StoreError 'Corrupt'. */
export function decodeOutboxRecord(bytes: Uint8Array): OutboxRecord {
  if (bytes.length > 0 && bytes[0] === JSON_START) return decodeLegacy(bytes)
  if (bytes.length < FIXED_BYTES || bytes[0] !== VERSION) throw corrupt()
  const flags = bytes[1]!
  if ((flags & ~KNOWN_FLAGS) !== 0) throw corrupt()
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const seq = view.getFloat64(2)
  const createdAt = view.getFloat64(10)
  if (!Number.isSafeInteger(seq) || seq < 0 || !Number.isFinite(createdAt)) throw corrupt()
  let at = FIXED_BYTES
  let messageId: MessageId | undefined
  if ((flags & FLAG_MESSAGE_ID) !== 0) {
    if (bytes.length < at + MESSAGE_ID_BYTES) throw corrupt()
    messageId = messageIdFromBytes(bytes.subarray(at, at + MESSAGE_ID_BYTES))
    at += MESSAGE_ID_BYTES
  }
  let payload: Uint8Array | undefined
  if ((flags & FLAG_PAYLOAD) !== 0) {
    if (bytes.length < at + 4) throw corrupt()
    const length = view.getUint32(at)
    if (bytes.length < at + 4 + length) throw corrupt()
    payload = bytes.slice(at + 4, at + 4 + length)
    at += 4 + length
  }
  return {
    seq,
    type: (flags & FLAG_PREKEY) !== 0 ? 'prekey' : 'message',
    envelope: bytes.slice(at),
    messageId,
    ephemeral: (flags & FLAG_EPHEMERAL) !== 0 ? true : undefined,
    createdAt,
    ...(payload === undefined ? {} : { payload }),
  }
}

/** The JSON of earlier versions: the same fields, the envelope as base64 `body`. */
type LegacyOutboxRecord = Omit<OutboxRecord, 'envelope'> & { readonly body: string }

function decodeLegacy(bytes: Uint8Array): OutboxRecord {
  try {
    const { body, ...rest } = JSON.parse(fromUtf8(bytes)) as LegacyOutboxRecord
    if (typeof body !== 'string') throw new TypeError('no body')
    return { ...rest, envelope: fromBase64(body) }
  } catch (cause) {
    throw corrupt(cause)
  }
}

function corrupt(cause?: unknown) {
  return new StoreError('Corrupt', 'an outbox record is malformed', { cause })
}
