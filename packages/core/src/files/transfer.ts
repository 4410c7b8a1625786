/**
 * A transfer's state: what is stored per file (one record per direction and id), the pure state
 * machine that moves it, and the views apps get. The per-file key lives only in the record (in
 * the sealed store); views and message data never carry it.
 *
 *   incoming --(all chunks stored, SHA-256 equal, moved into place)--> complete
 *   incoming --(bad chunk, size or hash mismatch, sender gave up, cancel, too large)--> failed
 *   sending  --(receiver's Done with the file's SHA-256)--> complete
 *   sending  --(receiver refused, source changed or gone, cancel)--> failed
 *
 * complete and failed are final. While a transfer is not final, `note` says why it is not moving
 * (offline, interrupted, truncated, ...); the next attempt clears it.
 */
import { base64 } from 'multiformats/bases/base64'
import { bytesToHex, fromUtf8, utf8 } from '../bytes.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import { key } from '../store/keys.js'
import type { HoldReason } from './auto-download.js'
import type { RejectReason } from './frames.js'
import type { FileKind, FileOffer } from './offer.js'

export type Direction = 'in' | 'out'
export type TransferStatus = 'incoming' | 'sending' | 'complete' | 'failed'

/** Why a transfer failed (final). */
export type FailReason = Exclude<RejectReason, 'busy' | 'protocol'> | 'too-large' | 'protocol'

/** Why a transfer that is not final is not moving right now. */
export type TransferNote =
  | 'offline'
  | 'interrupted'
  | 'truncated'
  | 'busy'
  /** The sender is not an accepted contact yet. */
  | 'waiting-for-accept'
  /** The file waits for this user's accept (auto-download.ts: too large, over a quota, no space). */
  | 'needs-accept'

export interface TransferRecord {
  readonly v: 1
  readonly id: MessageId
  readonly direction: Direction
  readonly contactId: ContactId
  readonly kind: FileKind
  /** Incoming: sanitised. Outgoing: as offered. */
  readonly name: string
  readonly mime: string
  readonly size: number
  /**
   * Hex; '' until known. The offer names small files by it; a large file's comes with its last
   * chunk (the sender keeps it as it sends that chunk, the receiver as it stores it), and a
   * received file is complete only once what it stored hashes to it.
   */
  readonly sha256: string
  /** base64 of the per-file key. */
  readonly key: string
  readonly chunkSize: number
  readonly thumbnail?: {
    readonly mime: string
    readonly width: number
    readonly height: number
    readonly data: string
  }
  readonly voice?: { readonly durationMs: number; readonly waveform: readonly number[] }
  /** A Moments post's attachment: no chat message at either end. Absent: said in the chat. */
  readonly purpose?: 'post-attachment' | undefined
  /**
   * A file offered in a group (groups/group-files.ts): the group's id. `contactId` is then the
   * sender (ourselves for a file we sent), and the file id is the group message's id.
   */
  readonly groupId?: string | undefined
  /**
   * Incoming: the peer id of the sender's device that offered it, when it is not the one their
   * card names (another device on their list): it holds the bytes, so the file is fetched from it.
   */
  readonly device?: string | undefined
  readonly status: TransferStatus
  /** Incoming: bytes stored. Outgoing: bytes the receiver acknowledged as stored. */
  readonly bytes: number
  readonly reason?: FailReason | undefined
  readonly note?: TransferNote | undefined
  /** Incoming: why it waits for the user's accept (with note 'needs-accept'); absent once accepted. */
  readonly hold?: HoldReason | undefined
  /** Incoming: where the finished file is. Outgoing: the source's ref (to reopen after a restart). */
  readonly path?: string | undefined
  /** Outgoing: the source's version when it was offered. */
  readonly sourceVersion?: string | undefined
  readonly createdAt: number
  readonly updatedAt: number
}

export type TransferEvent =
  | { readonly type: 'progress'; readonly bytes: number }
  | { readonly type: 'note'; readonly note: TransferNote }
  | { readonly type: 'complete'; readonly path?: string | undefined }
  | { readonly type: 'fail'; readonly reason: FailReason }
  /** Incoming: it waits for the user (auto-download.ts). */
  | { readonly type: 'hold'; readonly hold: HoldReason }
  /** Incoming: the user accepted it; it downloads. */
  | { readonly type: 'release' }
  /** The file's SHA-256 (hex), once known; it never changes a digest already kept. */
  | { readonly type: 'digest'; readonly sha256: string }

export function isFinal(status: TransferStatus): boolean {
  return status === 'complete' || status === 'failed'
}

/** The state machine: final states absorb every event; the others move as the header says. */
export function applyTransferEvent(r: TransferRecord, e: TransferEvent, now = Date.now()): TransferRecord {
  if (isFinal(r.status)) return r
  switch (e.type) {
    case 'progress':
      return { ...r, bytes: Math.max(0, Math.min(e.bytes, r.size)), note: undefined, updatedAt: now }
    case 'note':
      return r.note === e.note ? r : { ...r, note: e.note, updatedAt: now }
    case 'complete':
      return {
        ...r,
        status: 'complete',
        bytes: r.size,
        note: undefined,
        path: r.direction === 'in' ? e.path : r.path,
        updatedAt: now,
      }
    case 'fail':
      return { ...r, status: 'failed', reason: e.reason, note: undefined, hold: undefined, updatedAt: now }
    case 'hold':
      return { ...r, note: 'needs-accept', hold: e.hold, updatedAt: now }
    case 'release':
      return r.hold === undefined && r.note !== 'needs-accept'
        ? r
        : { ...r, note: undefined, hold: undefined, updatedAt: now }
    case 'digest':
      return r.sha256 !== '' ? r : { ...r, sha256: e.sha256, updatedAt: now }
  }
}

export function newTransferRecord(init: {
  id: MessageId
  direction: Direction
  contactId: ContactId
  offer: FileOffer
  name: string
  status: TransferStatus
  reason?: FailReason
  note?: TransferNote
  hold?: HoldReason
  path?: string | undefined
  sourceVersion?: string | undefined
  now?: number
}): TransferRecord {
  const { offer } = init
  const now = init.now ?? Date.now()
  return {
    v: 1,
    id: init.id,
    direction: init.direction,
    contactId: init.contactId,
    kind: offer.kind,
    name: init.name,
    mime: offer.mime,
    size: offer.size,
    sha256: bytesToHex(offer.sha256),
    key: base64.baseEncode(offer.key),
    chunkSize: offer.chunkSize,
    thumbnail: offer.thumbnail && { ...offer.thumbnail, data: base64.baseEncode(offer.thumbnail.data) },
    voice: offer.voice && { durationMs: offer.voice.durationMs, waveform: [...offer.voice.waveform] },
    ...(offer.purpose === 'post-attachment' ? { purpose: 'post-attachment' as const } : {}),
    status: init.status,
    bytes: 0,
    reason: init.reason,
    note: init.note,
    hold: init.hold,
    path: init.path,
    sourceVersion: init.sourceVersion,
    createdAt: now,
    updatedAt: now,
  }
}

export function recordKey(direction: Direction, id: MessageId): Uint8Array {
  return key('file', direction, id)
}

export const RECORD_PREFIX = key('file')

export function encodeTransferRecord(r: TransferRecord): Uint8Array {
  return utf8(JSON.stringify(r))
}

export function decodeTransferRecord(bytes: Uint8Array): TransferRecord {
  return JSON.parse(fromUtf8(bytes)) as TransferRecord
}

export function recordKeyBytes(r: TransferRecord): Uint8Array {
  return base64.baseDecode(r.key)
}

// ------------------------------------------------------------------ views

/** What apps see of a transfer (JSON-friendly; no key). */
export interface TransferView {
  readonly id: MessageId
  readonly direction: Direction
  readonly contactId: ContactId
  readonly kind: FileKind
  readonly name: string
  readonly mime: string
  readonly size: number
  /** Hex; '' until known (a large file's comes with its last chunk). */
  readonly sha256: string
  readonly status: TransferStatus
  readonly bytes: number
  readonly reason?: FailReason | undefined
  readonly note?: TransferNote | undefined
  /** Why it waits for the user's accept (note 'needs-accept'). */
  readonly hold?: HoldReason | undefined
  /** Incoming: the finished file. Outgoing: the source, when it has a path. */
  readonly path: string | null
  /** A stream is moving this file right now. */
  readonly active: boolean
  readonly thumbnail?: TransferRecord['thumbnail']
  readonly voice?: TransferRecord['voice']
  /** 'post-attachment' for a Moments picture; absent for a file said in the chat. */
  readonly purpose?: TransferRecord['purpose']
  /** The group it was offered in; absent for a 1:1 file. */
  readonly groupId?: string | undefined
  /** A file just sent to a group (`sendFile`'s answer): who sent it, as a group message says. */
  readonly sender?: { readonly id: ContactId; readonly name: string } | undefined
}

/** One line of `jiayi files`: a received file (the fields the CLI prints, exactly). */
export interface FileEntry {
  readonly id: MessageId
  readonly contact: ContactId
  readonly name: string
  readonly size: number
  readonly mime: string
  /** Hex; '' until known (a large file's comes with its last chunk). */
  readonly sha256: string
  /** Where the file is; null until it is complete. */
  readonly path: string | null
  /** Received ('incoming' until complete) or sent by us ('sending' until the contact has it). */
  readonly status: 'incoming' | 'sending' | 'complete' | 'failed'
  readonly direction: 'in' | 'out'
  /** When the file was offered (sent or received), ISO 8601. */
  readonly createdAt: string
  /** The group it was offered in (`contact` is then its sender, us for ours); absent for a 1:1 file. */
  readonly groupId?: string
}

/** The extension data of the conversation message that shows the file (`message.extension.data`). */
export interface FileMessageData {
  readonly v: 1
  readonly kind: FileKind
  readonly name: string
  readonly mime: string
  readonly size: number
  readonly sha256: string
  readonly status: TransferStatus
  readonly bytes: number
  readonly reason?: FailReason | undefined
  readonly note?: TransferNote | undefined
  readonly hold?: HoldReason | undefined
  readonly thumbnail?: TransferRecord['thumbnail']
  readonly voice?: TransferRecord['voice']
}

export function transferView(r: TransferRecord, active: boolean): TransferView {
  return {
    id: r.id,
    direction: r.direction,
    contactId: r.contactId,
    kind: r.kind,
    name: r.name,
    mime: r.mime,
    size: r.size,
    sha256: r.sha256,
    status: r.status,
    bytes: r.bytes,
    reason: r.reason,
    note: r.note,
    hold: r.hold,
    path: r.path ?? null,
    active,
    thumbnail: r.thumbnail,
    voice: r.voice,
    ...(r.purpose === undefined ? {} : { purpose: r.purpose }),
    ...(r.groupId === undefined ? {} : { groupId: r.groupId }),
  }
}

export function fileEntry(r: TransferRecord): FileEntry {
  return {
    id: r.id,
    contact: r.contactId,
    name: r.name,
    size: r.size,
    mime: r.mime,
    sha256: r.sha256,
    path: r.status === 'complete' ? (r.path ?? null) : null,
    status: r.status,
    direction: r.direction,
    createdAt: new Date(r.createdAt).toISOString(),
    ...(r.groupId === undefined ? {} : { groupId: r.groupId }),
  }
}

export function messageData(r: TransferRecord): FileMessageData {
  return {
    v: 1,
    kind: r.kind,
    name: r.name,
    mime: r.mime,
    size: r.size,
    sha256: r.sha256,
    status: r.status,
    bytes: r.bytes,
    reason: r.reason,
    note: r.note,
    hold: r.hold,
    thumbnail: r.thumbnail,
    voice: r.voice,
  }
}

/** The conversation text of a file message: "📎 report.pdf (1.2 MB)", "🎤 Voice message (0:07)". */
export function messageText(r: Pick<TransferRecord, 'kind' | 'name' | 'size' | 'voice'>): string {
  if (r.kind === 'voice') {
    const s = Math.round((r.voice?.durationMs ?? 0) / 1000)
    return `🎤 Voice message (${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')})`
  }
  return `${r.kind === 'image' ? '🖼' : '📎'} ${r.name} (${formatBytes(r.size)})`
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = n / 1000
  let i = 0
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000
    i++
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[i]}`
}
