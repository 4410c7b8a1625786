/** Every bound of the feed in one place (PROTOCOL.md quotes them). */

const KiB = 1024
const MiB = 1024 * KiB

/** Post text, in Unicode code points ("5,000 characters"). */
export const MAX_POST_CHARS = 5_000
/** Comment text, in code points. */
export const MAX_COMMENT_CHARS = 1_000
/** A sealed reaction's hint: enough that two of a reader's keys never share one by chance. */
export const REACTION_HINT_BYTES = 16
/** A sealed reaction: kind, post id, time, text (≤ 4 bytes a code point), a nonce and a tag. */
export const MAX_REACTION_BOX_BYTES = 1 + 16 + 8 + 2 + 4 * MAX_COMMENT_CHARS + 40
export const MAX_LINKS = 8
export const MAX_URL_BYTES = 2_048
export const MAX_TITLE_CHARS = 200
export const MAX_DESCRIPTION_CHARS = 500
/** A link preview's image: small, made by the poster. */
export const MAX_PREVIEW_IMAGE_BYTES = 32 * KiB
export const PREVIEW_IMAGE_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/webp', 'image/gif']
/** Attachment references per post (the files issue carries the bytes). */
export const MAX_ATTACHMENTS = 9
export const MAX_ATTACHMENT_REF_BYTES = 256
export const MAX_ATTACHMENT_NAME_CHARS = 255
export const MAX_MIME_BYTES = 127
/** An attachment's bytes: pictures and small documents, not archives. */
export const MAX_ATTACHMENT_BYTES = 64 * MiB

/** One Yjs update (a post with its link previews stays far below this). */
export const MAX_UPDATE_BYTES = 512 * KiB
/** Sealing adds a 24-byte nonce and a 16-byte tag. */
export const MAX_SEALED_UPDATE_BYTES = MAX_UPDATE_BYTES + 40
/** A compacted snapshot, sealed. */
export const MAX_SNAPSHOT_BYTES = 32 * MiB
/** Snapshots cross the wire in chunks of at most this many bytes. */
export const SNAPSHOT_CHUNK_BYTES = 256 * KiB
/** Feeds named in one HAVE frame. */
export const MAX_HAVE_FEEDS = 4_096
/** Writer replicas (devices) per feed. */
export const MAX_REPLICAS = 64
/** A HAVE claim's sealed version vector: the largest vector (a count, then 8 + 8 bytes per replica), a nonce and a tag. */
export const MAX_HAVE_BOX_BYTES = 1 + MAX_REPLICAS * 16 + 24 + 16
/** Feed-key epochs: a u32. */
export const MAX_EPOCH = 0xffff_ffff

/** Defaults: the owner signs a compacted snapshot after this many updates, or this many bytes. */
export const SNAPSHOT_EVERY_UPDATES = 256
export const SNAPSHOT_EVERY_BYTES = 256 * KiB
