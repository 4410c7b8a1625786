/**
 * @jiayi/feed — the moments feed: one Yjs doc per person, written only by that person's devices,
 * as a log of signed, sealed updates synced peer to peer over /jiayi/feed/2; and `openPeer`, the
 * one assembly of a whole peer (the feed being the topmost library, it is the one that knows every
 * part). Isomorphic (no Node APIs, no DOM). This file is the package's whole public API;
 * PROTOCOL.md has the byte grammar.
 */

export type { NewAttachment } from './attachment-source.js'
export type { FeedStats } from './counters.js'
// --- the parts, for tests, tools and other transports ---
export { type EngineEvents, FeedEngine, type FeedEngineInit, type ServeItem } from './engine.js'
export { FeedError, type FeedErrorCode, REJECTION_CODES, type RejectionCode } from './errors.js'
// --- the app-facing feed ---
export {
  Feed,
  type FeedCreateInit,
  type FeedEvents,
  type FeedFiles,
  type FeedInit,
  type PostDraft,
} from './feed.js'
export type { HeldKeys } from './held-keys.js'
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
export { openPeer, Peer, type PeerInit, type PeerLog } from './peer.js'
export {
  checkPreviewUrl,
  checkResolved,
  MAX_PREVIEW_REDIRECTS,
  PreviewError,
  previewPort,
} from './preview-target.js'
/** Likes and comments sealed under the post owner's key, and reading them with the keys held. */
export { type Reaction, ReactionReader } from './reaction-reader.js'
export {
  openReaction,
  type ReactionContent,
  type ReactionKeys,
  type ReactionKind,
  reactionKeys,
  sealReaction,
} from './reactions.js'
export type {
  AttachmentRef,
  LinkPreview,
  Post,
  PostInput,
  PostRef,
  SealedReaction,
} from './schema.js'
/** The doc schema's writers and readers (for FeedEngine.write, importers and tools). */
export {
  readPost,
  readPosts,
  readReactions,
  writeDeletePost,
  writeDeleteReaction,
  writePost,
  writeReaction,
} from './schema.js'
// --- a home node's seeder of its owner's feed, and its clients ---
export { pullSeededFeed, pushOwnFeed, SEED_REQUEST_TIMEOUT_MS } from './seed-client.js'
export {
  FeedSeeder,
  type FeedSeederInit,
  type FeedSeederStats,
  PROTOCOL_FEED_SEED,
  SEED_BYTES,
  SeedStatus,
} from './seeder.js'
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
