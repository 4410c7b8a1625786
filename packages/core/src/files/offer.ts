/**
 * The file offer: what travels inside the ratchet message (extension "file-offer") before any
 * byte of the file. Pure codec: `encodeOffer` / `decodeOffer`, strict both ways (a decoded offer
 * re-encodes to the same bytes, so unknown fields and non-minimal encodings are refused).
 */
import { equalBytes, randomBytes, utf8 } from '../bytes.js'
import { FileError } from './errors.js'
import { FileOffer as WireOffer } from './file-wire.pb.js'
import {
  chunkCount,
  FILE_KEY_BYTES,
  isValidChunkSize,
  MAX_CHUNKS,
  MAX_NAME_BYTES,
  MAX_OFFER_BYTES,
  MAX_THUMBNAIL_BYTES,
  MAX_THUMBNAIL_SIDE,
  MAX_VOICE_MS,
  MAX_WAVEFORM_SAMPLES,
  SHA256_BYTES,
  THUMBNAIL_MIMES,
} from './limits.js'
import { guessMime, isValidMime } from './names.js'

/**
 * 2: the SHA-256 may come with the last chunk instead of in the offer. A peer that knows only
 * version 1 drops the offer as unknown rather than failing the transfer at its last chunk.
 */
export const OFFER_VERSION = 2
/** Chunks sealed with AES-256-GCM through WebCrypto (PROTOCOL.md "Files" says why). */
export const CIPHER_AES_256_GCM = 1

export type FileKind = 'file' | 'image' | 'voice'

/**
 * Why a file is sent: said in the chat (a message in the conversation at both ends), or a
 * Moments post's attachment (the post shows it; no chat message, nothing unread).
 */
export type FilePurpose = 'chat' | 'post-attachment'
const PURPOSE_ATTACHMENT = 1
const KINDS: readonly FileKind[] = ['file', 'image', 'voice']

export interface Thumbnail {
  readonly mime: string
  readonly width: number
  readonly height: number
  readonly data: Uint8Array
}

export interface VoiceInfo {
  readonly durationMs: number
  /** Loudness samples, 0 (silence) .. 255, at most 256 of them. */
  readonly waveform: Uint8Array
}

export interface FileOffer {
  readonly kind: FileKind
  /** As the sender named it; receivers show and store `sanitizeFileName(name)`. */
  readonly name: string
  readonly mime: string
  readonly size: number
  /** 32 bytes; or empty: the digest comes with the last chunk (a 0-byte file has none, so never). */
  readonly sha256: Uint8Array
  /** The random per-file AES-256-GCM key. */
  readonly key: Uint8Array
  readonly chunkSize: number
  readonly thumbnail?: Thumbnail | undefined
  readonly voice?: VoiceInfo | undefined
  /** Default 'chat'. */
  readonly purpose?: FilePurpose | undefined
}

type Bytes = Uint8Array<ArrayBuffer>

/** Checks every rule of the offer; throws FileError BadOffer naming the field (never its value). */
export function checkOffer(offer: FileOffer): void {
  const bad = (what: string): never => {
    throw new FileError('BadOffer', `file offer: ${what}`)
  }
  if (!KINDS.includes(offer.kind)) bad('unknown kind')
  if (typeof offer.name !== 'string') bad('name is not text')
  const nameBytes = utf8(offer.name).length
  if (nameBytes < 1 || nameBytes > MAX_NAME_BYTES) bad(`name must be 1..${MAX_NAME_BYTES} bytes`)
  if (!isValidMime(offer.mime)) bad('MIME type is not type/subtype')
  if (!Number.isSafeInteger(offer.size) || offer.size < 0) bad('size out of range')
  if (!(offer.sha256 instanceof Uint8Array)) bad('bad SHA-256')
  if (offer.sha256.length !== SHA256_BYTES && (offer.sha256.length !== 0 || offer.size === 0))
    bad('bad SHA-256')
  if (!(offer.key instanceof Uint8Array) || offer.key.length !== FILE_KEY_BYTES) bad('bad key')
  if (!isValidChunkSize(offer.chunkSize)) bad('chunk size must be a power of two, 16..256 KiB')
  if (chunkCount(offer.size, offer.chunkSize) > MAX_CHUNKS) bad('too many chunks')
  const t = offer.thumbnail
  if (t !== undefined) {
    if (offer.kind !== 'image') bad('only images carry a thumbnail')
    if (!THUMBNAIL_MIMES.includes(t.mime)) bad('thumbnail must be JPEG, PNG or WebP')
    const side = (n: number) => Number.isInteger(n) && n >= 1 && n <= MAX_THUMBNAIL_SIDE
    if (!side(t.width) || !side(t.height)) bad(`thumbnail sides must be 1..${MAX_THUMBNAIL_SIDE}`)
    if (!(t.data instanceof Uint8Array) || t.data.length < 1 || t.data.length > MAX_THUMBNAIL_BYTES)
      bad(`thumbnail must be 1..${MAX_THUMBNAIL_BYTES} bytes`)
  }
  if (offer.kind === 'image' && !offer.mime.startsWith('image/')) bad('an image needs an image/* type')
  const v = offer.voice
  if (offer.kind === 'voice') {
    if (!offer.mime.startsWith('audio/')) bad('a voice message needs an audio/* type')
    if (v === undefined) bad('a voice message needs its duration')
  } else if (v !== undefined) bad('only voice messages carry a waveform')
  if (v !== undefined) {
    if (!Number.isInteger(v.durationMs) || v.durationMs < 1 || v.durationMs > MAX_VOICE_MS)
      bad('voice duration out of range')
    if (!(v.waveform instanceof Uint8Array) || v.waveform.length > MAX_WAVEFORM_SAMPLES)
      bad(`waveform must be at most ${MAX_WAVEFORM_SAMPLES} samples`)
  }
}

export function encodeOffer(offer: FileOffer): Uint8Array {
  checkOffer(offer)
  const wire: WireOffer = {
    version: OFFER_VERSION,
    kind: KINDS.indexOf(offer.kind),
    name: offer.name,
    mime: offer.mime,
    size: BigInt(offer.size),
    sha256: offer.sha256 as Bytes,
    cipher: CIPHER_AES_256_GCM,
    key: offer.key as Bytes,
    chunkSize: offer.chunkSize,
  }
  if (offer.thumbnail !== undefined) {
    const t = offer.thumbnail
    wire.thumbnail = { mime: t.mime, width: t.width, height: t.height, data: t.data as Bytes }
  }
  if (offer.voice !== undefined) {
    wire.voice = { durationMs: offer.voice.durationMs, waveform: offer.voice.waveform as Bytes }
  }
  if (offer.purpose === 'post-attachment') wire.purpose = PURPOSE_ATTACHMENT
  const bytes = WireOffer.encode(wire)
  if (bytes.length > MAX_OFFER_BYTES) throw new FileError('BadOffer', 'file offer: too large')
  return bytes
}

export function decodeOffer(bytes: Uint8Array): FileOffer {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_OFFER_BYTES) {
    throw new FileError('BadOffer', 'file offer: too large')
  }
  let wire: WireOffer
  try {
    wire = WireOffer.decode(bytes)
  } catch (cause) {
    throw new FileError('BadOffer', 'file offer: does not parse', { cause })
  }
  if (wire.version !== OFFER_VERSION) throw new FileError('BadOffer', 'file offer: unknown version')
  if (wire.cipher !== CIPHER_AES_256_GCM) throw new FileError('BadOffer', 'file offer: unknown cipher')
  if (wire.size > BigInt(Number.MAX_SAFE_INTEGER))
    throw new FileError('BadOffer', 'file offer: size out of range')
  const kind = KINDS[wire.kind]
  if (kind === undefined) throw new FileError('BadOffer', 'file offer: unknown kind')
  if (wire.purpose !== undefined && wire.purpose !== PURPOSE_ATTACHMENT)
    throw new FileError('BadOffer', 'file offer: unknown purpose')
  const offer: FileOffer = {
    kind,
    name: wire.name,
    mime: wire.mime,
    size: Number(wire.size),
    sha256: wire.sha256,
    key: wire.key,
    chunkSize: wire.chunkSize,
    thumbnail: wire.thumbnail && { ...wire.thumbnail },
    voice: wire.voice && { durationMs: wire.voice.durationMs, waveform: wire.voice.waveform },
    ...(wire.purpose === PURPOSE_ATTACHMENT ? { purpose: 'post-attachment' as const } : {}),
  }
  checkOffer(offer)
  // Canonical form only: one encoding per offer (no unknown fields, repeats or padding).
  if (!equalBytes(WireOffer.encode(wire), bytes)) {
    throw new FileError('BadOffer', 'file offer: not in canonical form')
  }
  return offer
}

/** What a sender may say about a file it offers (the rest comes from its source). */
export interface OfferChoices {
  readonly name?: string | undefined
  readonly mime?: string | undefined
  readonly kind?: FileKind | undefined
  readonly thumbnail?: Thumbnail | undefined
  readonly voice?: VoiceInfo | undefined
  readonly chunkBytes?: number | undefined
  /** A digest the caller already has: checked for length here. */
  readonly sha256?: Uint8Array | undefined
}

/**
 * The offer of a source before its digest is known (sha256 all zero), with a fresh per-file key:
 * refused (FileError BadInput) when the size is not one this peer sends, or a given digest is not
 * 32 bytes. One place for 1:1 and group offers alike.
 */
export function draftOffer(
  source: { readonly name: string; readonly mime?: string | undefined; readonly size: number },
  choices: OfferChoices,
  limits: { readonly maxFileBytes: number; readonly chunkBytes: number },
): FileOffer {
  const size = source.size
  if (!Number.isSafeInteger(size) || size < 0) throw new FileError('BadInput', 'the source has no valid size')
  if (size > limits.maxFileBytes)
    throw new FileError('BadInput', `files are limited to ${limits.maxFileBytes} bytes here`)
  if (choices.sha256 !== undefined && choices.sha256.length !== SHA256_BYTES)
    throw new FileError('BadInput', 'a SHA-256 is 32 bytes')
  const name = choices.name ?? source.name
  const mime = choices.mime ?? source.mime ?? guessMime(name)
  const kind: FileKind =
    choices.kind ?? (choices.voice !== undefined ? 'voice' : mime.startsWith('image/') ? 'image' : 'file')
  return {
    kind,
    name,
    mime,
    size,
    sha256: new Uint8Array(SHA256_BYTES),
    key: randomBytes(FILE_KEY_BYTES),
    chunkSize: choices.chunkBytes ?? limits.chunkBytes,
    thumbnail: choices.thumbnail,
    voice: choices.voice,
  }
}
