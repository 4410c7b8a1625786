/**
 * @jiayi/feed — the moments feed: one Yjs doc per person, written only by that person's devices,
 * as a log of signed, sealed updates synced peer to peer over /jiayi/feed/1. Isomorphic (no Node
 * APIs, no DOM). This file is the package's whole public API; PROTOCOL.md has the byte grammar.
 */

export type { FeedStats } from './counters.js'
// --- the parts, for tests, tools and other transports ---
export { type EngineEvents, FeedEngine, type FeedEngineInit, type ServeItem } from './engine.js'
export { FeedError, type FeedErrorCode, REJECTION_CODES, type RejectionCode } from './errors.js'
// --- the app-facing feed ---
export { Feed, type FeedCreateInit, type FeedEvents, type FeedInit } from './feed.js'
export { type CommentId, type FeedId, newItemId, type PostId, type ReplicaId } from './ids.js'
export { FEED_KEY_EXTENSION, feedKeyHandler } from './keys.js'
export * as limits from './limits.js'
export { type ExtractedPreview, extractPreview } from './link-preview.js'
export {
  entryLink,
  GENESIS_LINK,
  sealEntry,
  sealSnapshot,
  verifyEntry,
  verifySnapshotHeader,
} from './log-crypto.js'
export {
  checkPreviewUrl,
  checkResolved,
  MAX_PREVIEW_REDIRECTS,
  PreviewError,
  previewPort,
} from './preview-target.js'
export type { AttachmentRef, Comment, Like, LinkPreview, Post, PostInput, PostRef } from './schema.js'
/** The doc schema's writers and readers (for FeedEngine.write, importers and tools). */
export {
  readComments,
  readLikes,
  readPost,
  readPosts,
  writeComment,
  writeDeleteComment,
  writeDeletePost,
  writeLike,
  writePost,
  writeUnlike,
} from './schema.js'
export { FeedSync, type FeedSyncComponents, type FeedSyncInit, feedSync } from './sync.js'
export type {
  AuthorView,
  CommentView,
  LikeView,
  LinkView,
  PostView,
  TimelineOptions,
} from './timeline.js'
export type { VersionVector } from './version-vector.js'
export {
  decodeEntry,
  decodeFeedKey,
  decodeFrame,
  decodeSnapshot,
  decodeSnapshotHeader,
  encodeEntry,
  encodeFeedKey,
  encodeFrame,
  encodeSnapshot,
  encodeSnapshotHeader,
  type FeedHave,
  type FeedKeyMessage,
  FrameType,
  type SignedEntry,
  type Snapshot,
  type SnapshotHeader,
  type SyncFrame,
} from './wire.js'
