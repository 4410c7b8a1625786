/**
 * A new post's picture (or small document): opened, checked and hashed here, once. The post
 * refers to it as `sha256:<hex>` with its name, type and size (the doc holds references only),
 * and the same digest goes with every offer of the bytes (attachment-offers.ts), so a picture is
 * read for its hash once however many contacts get it.
 */
import { bytesToHex, type FileSource, nobleSha256, type Sha256Hasher } from '@jiayi/core'
import { FeedError } from './errors.js'
import { MAX_ATTACHMENT_BYTES } from './limits.js'
import type { AttachmentRef } from './schema.js'

/** A file to attach to a post, given by how to open it (a path, an upload, a blob). */
export interface NewAttachment {
  /** Opens the bytes: once to hash them, then once per contact they are offered to. */
  readonly open: () => Promise<FileSource>
  /** Default: the source's name. */
  readonly name?: string | undefined
  /** MIME type; default: the source's, else application/octet-stream. */
  readonly type?: string | undefined
}

/** An attachment hashed and ready to offer. */
export interface PreparedAttachment {
  readonly ref: AttachmentRef
  readonly sha256: Uint8Array
  readonly open: () => Promise<FileSource>
}

/** Bytes read per step while hashing: the source streams, it is never held whole. */
const HASH_READ_BYTES = 1024 * 1024

export function isNewAttachment(value: AttachmentRef | NewAttachment): value is NewAttachment {
  return typeof (value as NewAttachment).open === 'function'
}

/** The reference a post keeps for a file with this SHA-256. */
export function attachmentRef(sha256Hex: string): string {
  return `sha256:${sha256Hex}`
}

/** The SHA-256 (hex) an attachment reference names, if it is one of ours. */
export function refSha256(ref: string): string | undefined {
  return ref.startsWith('sha256:') ? ref.slice(7) : undefined
}

/** Opens, checks and hashes one attachment (the source is closed again). */
export async function prepareAttachment(
  a: NewAttachment,
  createHasher: () => Sha256Hasher = nobleSha256,
): Promise<PreparedAttachment> {
  const source = await a.open()
  try {
    if (source.size > MAX_ATTACHMENT_BYTES)
      throw new FeedError('BadInput', `a post's attachment is at most ${MAX_ATTACHMENT_BYTES} bytes`)
    const hasher = createHasher()
    for (let offset = 0; offset < source.size; offset += HASH_READ_BYTES)
      hasher.update(await source.read(offset, Math.min(HASH_READ_BYTES, source.size - offset)))
    const sha256 = hasher.digest()
    return {
      ref: {
        ref: attachmentRef(bytesToHex(sha256)),
        name: a.name ?? source.name,
        type: a.type ?? source.mime ?? 'application/octet-stream',
        size: source.size,
      },
      sha256,
      open: a.open,
    }
  } finally {
    await source.close().catch(() => undefined)
  }
}
