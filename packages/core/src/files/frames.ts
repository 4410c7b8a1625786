/**
 * The frames of /jiayi/file/1 as a discriminated union, with a strict pure codec. A frame carries
 * exactly one of its fields; lengths are checked here so the protocol code can trust the shape.
 * A chunk frame can also be encoded in parts around its sealed bytes (`encodeChunkFrame`), so
 * the sender writes it without copying the chunk into a new buffer.
 */
import { encodeLengthPrefix } from '../net/varint.js'
import { FileError } from './errors.js'
import { FileFrame as WireFrame } from './file-wire.pb.js'
import { CHUNK_NONCE_BYTES, CHUNK_TAG_BYTES, FILE_ID_BYTES, MAX_CHUNK_BYTES, SHA256_BYTES } from './limits.js'

/** Why a transfer cannot go on. Stable numbers on the wire; stable names in records and events. */
export const REJECT_REASONS = {
  /** The peer holds no transfer with that id (never offered, or forgotten). */
  'unknown-file': 1,
  /** Another stream already moves this file; try again later. */
  busy: 2,
  /** The receiver does not want it (over its size limit, cancelled, contact not accepted yet). */
  refused: 3,
  /** A chunk failed authentication. */
  'bad-chunk': 4,
  /** A chunk's length does not fit the offered size. */
  'size-mismatch': 5,
  /** What arrived hashes to something else than the offer says. */
  'hash-mismatch': 6,
  /** The sender's file changed since it was offered. */
  'source-changed': 7,
  /** The sender can no longer read the file. */
  'source-gone': 8,
  /** The sender cancelled. */
  cancelled: 9,
  /** Local storage failed on the side that says so. */
  storage: 10,
  /** A frame out of turn or malformed. */
  protocol: 11,
} as const
export type RejectReason = keyof typeof REJECT_REASONS
const REASON_BY_NUMBER = new Map<number, RejectReason>(
  Object.entries(REJECT_REASONS).map(([k, v]) => [v, k as RejectReason]),
)

export type Frame =
  | { readonly type: 'have'; readonly fileId: Uint8Array }
  | { readonly type: 'want'; readonly fileId: Uint8Array; readonly nextChunk: number }
  | ChunkFrame
  | { readonly type: 'ack'; readonly nextChunk: number }
  | { readonly type: 'done'; readonly sha256: Uint8Array }
  | { readonly type: 'reject'; readonly reason: RejectReason; readonly fileId?: Uint8Array | undefined }

/** A chunk; the last one of a file carries the file's SHA-256 (and only the last one). */
export interface ChunkFrame {
  readonly type: 'chunk'
  readonly index: number
  readonly nonce: Uint8Array
  readonly sealed: Uint8Array
  readonly sha256?: Uint8Array | undefined
}

type Bytes = Uint8Array<ArrayBuffer>

export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.type) {
    case 'have':
      return WireFrame.encode({ have: { fileId: frame.fileId as Bytes } })
    case 'want':
      return WireFrame.encode({ want: { fileId: frame.fileId as Bytes, nextChunk: frame.nextChunk } })
    case 'chunk':
      return WireFrame.encode({
        chunk: {
          index: frame.index,
          nonce: frame.nonce as Bytes,
          sealed: frame.sealed as Bytes,
          sha256: (frame.sha256 ?? new Uint8Array(0)) as Bytes,
        },
      })
    case 'ack':
      return WireFrame.encode({ ack: { nextChunk: frame.nextChunk } })
    case 'done':
      return WireFrame.encode({ done: { sha256: frame.sha256 as Bytes } })
    case 'reject':
      return WireFrame.encode({
        reject: {
          reason: REJECT_REASONS[frame.reason],
          fileId: (frame.fileId ?? new Uint8Array(0)) as Bytes,
        },
      })
  }
}

export function decodeFrame(bytes: Uint8Array): Frame {
  let w: WireFrame
  try {
    w = WireFrame.decode(bytes)
  } catch (cause) {
    throw new FileError('BadFrame', 'file frame does not parse', { cause })
  }
  const set = [w.have, w.want, w.chunk, w.ack, w.done, w.reject].filter((f) => f !== undefined)
  if (set.length !== 1) throw new FileError('BadFrame', 'a file frame carries exactly one message')
  const bad = (what: string): never => {
    throw new FileError('BadFrame', `file frame: ${what}`)
  }
  const fileId = (id: Uint8Array) => (id.length === FILE_ID_BYTES ? id : bad('file id must be 16 bytes'))
  if (w.have) return { type: 'have', fileId: fileId(w.have.fileId) }
  if (w.want) return { type: 'want', fileId: fileId(w.want.fileId), nextChunk: w.want.nextChunk }
  if (w.chunk) {
    const { index, nonce, sealed, sha256 } = w.chunk
    if (nonce.length !== CHUNK_NONCE_BYTES) bad('nonce must be 12 bytes')
    if (sealed.length < CHUNK_TAG_BYTES || sealed.length > MAX_CHUNK_BYTES + CHUNK_TAG_BYTES)
      bad('sealed chunk length out of range')
    if (sha256.length === 0) return { type: 'chunk', index, nonce, sealed }
    if (sha256.length !== SHA256_BYTES) bad('digest must be 32 bytes')
    return { type: 'chunk', index, nonce, sealed, sha256 }
  }
  if (w.ack) return { type: 'ack', nextChunk: w.ack.nextChunk }
  if (w.done) {
    if (w.done.sha256.length !== SHA256_BYTES) bad('digest must be 32 bytes')
    return { type: 'done', sha256: w.done.sha256 }
  }
  const reason = REASON_BY_NUMBER.get(w.reject!.reason)
  // A reason from a newer version reads as a protocol failure rather than being refused.
  const known = reason ?? 'protocol'
  if (w.reject!.fileId.length === 0) return { type: 'reject', reason: known }
  return { type: 'reject', reason: known, fileId: fileId(w.reject!.fileId) }
}

/**
 * The bytes `encodeFrame(frame)` gives for a chunk, as parts whose concatenation is exactly that
 * (the protobuf encoding of FileFrame { chunk }): what comes before the sealed bytes, the sealed
 * bytes themselves (not copied), and what follows them.
 */
export function encodeChunkFrame(frame: Omit<ChunkFrame, 'type'>): Uint8Array[] {
  const { index, nonce, sealed, sha256 } = frame
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff)
    throw new FileError('BadInput', 'chunk index out of range')
  if (nonce.length !== CHUNK_NONCE_BYTES) throw new FileError('BadInput', 'nonce must be 12 bytes')
  if (sealed.length < CHUNK_TAG_BYTES) throw new FileError('BadInput', 'sealed chunk too short')
  if (sha256 !== undefined && sha256.length !== SHA256_BYTES)
    throw new FileError('BadInput', 'digest must be 32 bytes')
  // Chunk { 1: index (omitted when 0), 2: nonce, 3: sealed, 4: sha256 (omitted when absent) }
  const fields: (number | Uint8Array)[] = []
  if (index !== 0) fields.push(CHUNK_INDEX_TAG, encodeLengthPrefix(index))
  fields.push(CHUNK_NONCE_TAG, encodeLengthPrefix(nonce.length), nonce)
  fields.push(CHUNK_SEALED_TAG, encodeLengthPrefix(sealed.length))
  const tail = sha256 === undefined ? new Uint8Array(0) : concat([CHUNK_SHA256_TAG, sha256.length, sha256])
  const bodyBytes = byteLength(fields) + sealed.length + tail.length
  const head = concat([FRAME_CHUNK_TAG, encodeLengthPrefix(bodyBytes), ...fields])
  return tail.length === 0 ? [head, sealed] : [head, sealed, tail]
}

/** Protobuf tags (field number << 3 | wire type) of FileFrame.chunk and of Chunk's fields. */
const FRAME_CHUNK_TAG = (3 << 3) | 2
const CHUNK_INDEX_TAG = (1 << 3) | 0
const CHUNK_NONCE_TAG = (2 << 3) | 2
const CHUNK_SEALED_TAG = (3 << 3) | 2
const CHUNK_SHA256_TAG = (4 << 3) | 2

function byteLength(parts: readonly (number | Uint8Array)[]): number {
  return parts.reduce<number>((n, p) => n + (typeof p === 'number' ? 1 : p.length), 0)
}

/** Bytes (a number is one byte) into one array. */
function concat(parts: readonly (number | Uint8Array)[]): Uint8Array {
  const out = new Uint8Array(byteLength(parts))
  let at = 0
  for (const p of parts) {
    if (typeof p === 'number') out[at++] = p
    else {
      out.set(p, at)
      at += p.length
    }
  }
  return out
}
