/**
 * Jiayi's application protocol ids and the largest frame each one accepts. One place, so that
 * handlers, dialers, the fuzz tests and PROTOCOL.md cannot drift apart.
 *
 * Every frame is bounded so that a peer can never make another buffer more than this much for
 * one frame; a bigger length prefix is refused before any payload is read (NetError FrameTooLarge).
 */

/** Ratchet envelopes (and their acks). */
export const PROTOCOL_MSG = '/jiayi/msg/1'
/** One-time prekey and identity-signed ML-KEM prekey fetch. */
export const PROTOCOL_PREKEYS = '/jiayi/prekeys/1'
/** Chunked, resumable file transfer. */
export const PROTOCOL_FILE = '/jiayi/file/1'
/** Moments feed sync (signed Yjs updates); 2: a requester proves it holds each feed's key. */
export const PROTOCOL_FEED = '/jiayi/feed/2'
/** A home node's mailbox: certify, depositor list, deposit, fetch, acknowledge (mailbox/). */
export const PROTOCOL_MAILBOX = '/jiayi/mailbox/1'
/** A home node tells its owner's connected devices that mail came (mailbox/notice.ts). */
export const PROTOCOL_MAILBOX_NOTICE = '/jiayi/mailbox-notice/1'

export type JiayiProtocol =
  | typeof PROTOCOL_MSG
  | typeof PROTOCOL_PREKEYS
  | typeof PROTOCOL_FILE
  | typeof PROTOCOL_FEED
  | typeof PROTOCOL_MAILBOX
  | typeof PROTOCOL_MAILBOX_NOTICE

export const JIAYI_PROTOCOLS: readonly JiayiProtocol[] = [
  PROTOCOL_MSG,
  PROTOCOL_PREKEYS,
  PROTOCOL_FILE,
  PROTOCOL_FEED,
  PROTOCOL_MAILBOX,
  PROTOCOL_MAILBOX_NOTICE,
]

const KiB = 1024

/** File chunks are 256 KiB of plaintext (DESIGN "Files"); sealing and the chunk header add a little. */
export const FILE_CHUNK_BYTES = 256 * KiB

/**
 * Largest payload (after the length prefix) per protocol, in bytes.
 * - msg: an envelope carries a text message, a contact request with the sender's card, or a
 *   sender-key distribution; 64 KiB is ~50x the biggest of those. Files never travel here.
 * - prekeys: an ML-KEM-768 prekey (1,184 B) + X25519 one-time prekey + signatures fits in 8 KiB.
 * - file: one sealed 256 KiB chunk plus 4 KiB for its header, nonce and tag.
 * - feed: signed Yjs updates and compacted snapshots; larger snapshots must be split by the sender.
 * - mailbox: a deposit or a fetch of envelopes (each at most a msg frame) up to 1 MiB together,
 *   or a depositor list of MAX_DEPOSITORS peer ids (~53 KiB).
 * - mailbox notice: one small count; 64 bytes leave room for a field or two more.
 */
export const MAX_FRAME_BYTES: Readonly<Record<JiayiProtocol, number>> = Object.freeze({
  [PROTOCOL_MSG]: 64 * KiB,
  [PROTOCOL_PREKEYS]: 8 * KiB,
  [PROTOCOL_FILE]: FILE_CHUNK_BYTES + 4 * KiB,
  [PROTOCOL_FEED]: 1024 * KiB,
  [PROTOCOL_MAILBOX]: 1088 * KiB,
  [PROTOCOL_MAILBOX_NOTICE]: 64,
})

export function isJiayiProtocol(value: string): value is JiayiProtocol {
  return (JIAYI_PROTOCOLS as readonly string[]).includes(value)
}

/**
 * Streams a remote peer may have open per protocol on one connection (the handler's
 * `maxInboundStreams`); more are reset. With the per-connection and per-peer limits of
 * resource-limits.ts they bound what one peer can hold.
 * - msg: envelopes of several conversations' outboxes, receipts and typing can overlap.
 * - prekeys: one fetch per contact request; a few in parallel at most.
 * - file: one stream per file moving at once between two peers.
 * - feed: one sync session per direction, plus a fresh one while an old one closes.
 * - mailbox: one request per stream; a sender's conversations deposit one after another.
 * - mailbox notice: the home node sends one at a time per device (and one more if mail came meanwhile).
 */
export const MAX_INBOUND_STREAMS: Readonly<Record<JiayiProtocol, number>> = Object.freeze({
  [PROTOCOL_MSG]: 32,
  [PROTOCOL_PREKEYS]: 8,
  [PROTOCOL_FILE]: 16,
  [PROTOCOL_FEED]: 8,
  [PROTOCOL_MAILBOX]: 8,
  [PROTOCOL_MAILBOX_NOTICE]: 2,
})
