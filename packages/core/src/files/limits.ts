/**
 * The numbers of the file protocol, in one place (PROTOCOL.md "Files" quotes them).
 */
import { FILE_CHUNK_BYTES } from '../net/protocols.js'

const KiB = 1024

/** Default largest file a peer sends or accepts: 4 GiB (configurable per FileService). */
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024 * KiB
/** Chunk sizes a sender may choose: powers of two from 16 KiB to the frame-sized 256 KiB. */
export const MIN_CHUNK_BYTES = 16 * KiB
export const MAX_CHUNK_BYTES = FILE_CHUNK_BYTES
export const DEFAULT_CHUNK_BYTES = FILE_CHUNK_BYTES
/**
 * Files up to this size are hashed before their offer, which then names them by their SHA-256
 * from the start (that takes about a millisecond here); larger ones are hashed as their chunks
 * leave, and the digest comes with the last chunk, so the first chunk never waits for a pass over
 * the whole file.
 */
export const HASH_FIRST_MAX_BYTES = 1024 * KiB
/** Chunk indexes are u32 on the wire. */
export const MAX_CHUNKS = 0xffff_ffff

export const FILE_ID_BYTES = 16
export const FILE_KEY_BYTES = 32
export const SHA256_BYTES = 32
export const CHUNK_NONCE_BYTES = 12
export const CHUNK_TAG_BYTES = 16

export const MAX_NAME_BYTES = 255
export const MAX_MIME_BYTES = 127
/** The "≤ 20 kB" thumbnail, in bytes. */
export const MAX_THUMBNAIL_BYTES = 20_000
export const MAX_THUMBNAIL_SIDE = 1024
export const THUMBNAIL_MIMES: readonly string[] = ['image/jpeg', 'image/png', 'image/webp']
export const MAX_WAVEFORM_SAMPLES = 256
export const MAX_VOICE_MS = 60 * 60 * 1000
/** An encoded offer stays far below the 64 KiB envelope limit of /jiayi/msg/1. */
export const MAX_OFFER_BYTES = 24 * KiB

/**
 * Flow control: the sender keeps at most this many chunks sent but not yet acknowledged as stored
 * (2 MiB of 256 KiB chunks). It bounds what the receiver buffers (under the framed stream's 4 MiB
 * limit). A receiver that dies loses at most this much in flight; it resumes from what it stored.
 */
export const DEFAULT_WINDOW_CHUNKS = 8
/**
 * The receiver acknowledges at least every this many stored chunks, and at once whenever it has
 * stored everything it received (so a sender blocked on a smaller window never stalls).
 */
export const ACK_EVERY_CHUNKS = 2
/** A transfer stream that brings no frame for this long is abandoned (and retried later). */
export const FRAME_TIMEOUT_MS = 30_000

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

/** Plaintext length of chunk `index` of a file of `size` bytes. */
export function chunkLength(size: number, chunkSize: number, index: number): number {
  return Math.min(chunkSize, size - index * chunkSize)
}

export function isValidChunkSize(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_CHUNK_BYTES && n <= MAX_CHUNK_BYTES && (n & (n - 1)) === 0
}
