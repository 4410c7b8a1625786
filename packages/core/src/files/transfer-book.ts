/**
 * The transfers a peer knows, in memory and in the store: one record per direction and file id.
 * Every change goes through the state machine (transfer.ts), is persisted, shown in the file's
 * conversation message, and announced as an event. Progress moves in memory at once and is
 * persisted at most once a second.
 */
import type { Logger } from '../messenger/core.js'
import { Emitter, KeyedQueue } from '../messenger/events.js'
import type { MessageId } from '../messenger/ids.js'
import type { Messenger } from '../messenger/messenger.js'
import type { Store } from '../store/store.js'
import {
  applyTransferEvent,
  type Direction,
  decodeTransferRecord,
  encodeTransferRecord,
  messageData,
  RECORD_PREFIX,
  recordKey,
  type TransferEvent,
  type TransferRecord,
  type TransferView,
  transferView,
} from './transfer.js'

const PERSIST_EVERY_MS = 1_000

export interface FileProgress {
  readonly id: MessageId
  readonly direction: Direction
  /** Incoming: stored. Outgoing: acknowledged by the receiver. */
  readonly bytes: number
  readonly size: number
  /** Average over the current attempt. */
  readonly bytesPerSecond: number
}

export interface FileServiceEvents extends Record<string, unknown> {
  transfer: { readonly transfer: TransferView; readonly change: 'new' | 'update' }
  progress: FileProgress
  /** An attempt starts at `fromChunk` (0 = from the beginning). */
  resume: { readonly id: MessageId; readonly direction: Direction; readonly fromChunk: number }
  /** The sender put chunk `index` on the wire (tests count resends with it). */
  sent: { readonly id: MessageId; readonly index: number }
}

export type RecordKey = `${Direction}:${MessageId}`
export const keyOf = (direction: Direction, id: MessageId): RecordKey => `${direction}:${id}`

/** Where the current attempt of a transfer started, for its speed. */
export interface AttemptClock {
  readonly startedAt: number
  readonly startBytes: number
}

export class TransferBook {
  readonly events = new Emitter<FileServiceEvents>()
  private readonly records = new Map<RecordKey, TransferRecord>()
  private readonly lastPersist = new Map<RecordKey, number>()
  private readonly writes = new KeyedQueue()
  /** Set once the messenger runs: changes then show in the conversation too. */
  messenger: Messenger | undefined

  /**
   * `store` is read at each use: before the messenger runs it is the store the app passed; after,
   * the messenger's own (which may buffer writes), so that record updates and the offer's record
   * committed with its ratchet step land in one order.
   */
  constructor(
    private readonly storeOf: () => Store,
    private readonly isActive: (k: RecordKey) => boolean,
    private readonly log?: Logger,
  ) {}

  private get store(): Store {
    return this.storeOf()
  }

  async load(): Promise<void> {
    for await (const [, value] of this.store.iterate({ prefix: RECORD_PREFIX })) {
      const r = decodeTransferRecord(value)
      this.records.set(keyOf(r.direction, r.id), r)
    }
  }

  get(k: RecordKey): TransferRecord | undefined {
    return this.records.get(k)
  }

  /** By id alone: incoming first (a peer never sends itself a file, so ids do not collide). */
  find(id: string): TransferRecord | undefined {
    return this.records.get(keyOf('in', id as MessageId)) ?? this.records.get(keyOf('out', id as MessageId))
  }

  all(): TransferRecord[] {
    return [...this.records.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }

  /** A record its creator already persisted (an offer's record commits with its ratchet step). */
  added(r: TransferRecord): void {
    this.records.set(keyOf(r.direction, r.id), r)
    this.events.emit('transfer', { transfer: this.view(r), change: 'new' })
  }

  /** Stores a new outgoing record before its offer leaves. */
  async create(r: TransferRecord): Promise<void> {
    await this.store.put(recordKey(r.direction, r.id), encodeTransferRecord(r))
    this.records.set(keyOf(r.direction, r.id), r)
  }

  async remove(r: TransferRecord): Promise<void> {
    this.records.delete(keyOf(r.direction, r.id))
    await this.store.del(recordKey(r.direction, r.id)).catch(() => undefined)
  }

  /** Applies one event; persists and announces it if it changed anything. Returns the new state. */
  async change(k: RecordKey, event: TransferEvent): Promise<TransferRecord | undefined> {
    const before = this.records.get(k)
    if (before === undefined) return undefined
    const after = applyTransferEvent(before, event)
    if (after === before) return after
    this.records.set(k, after)
    this.events.emit('transfer', { transfer: this.view(after), change: 'update' })
    await this.persist(k)
    return after
  }

  progress(k: RecordKey, bytes: number, attempt: AttemptClock | undefined, force = false): void {
    const before = this.records.get(k)
    if (before === undefined) return
    const after = applyTransferEvent(before, { type: 'progress', bytes })
    this.records.set(k, after)
    const now = Date.now()
    const elapsed = attempt === undefined ? 0 : (now - attempt.startedAt) / 1000
    const moved = attempt === undefined ? 0 : Math.max(0, after.bytes - attempt.startBytes)
    this.events.emit('progress', {
      id: after.id,
      direction: after.direction,
      bytes: after.bytes,
      size: after.size,
      bytesPerSecond: elapsed > 0 ? moved / elapsed : 0,
    })
    if (force || now - (this.lastPersist.get(k) ?? 0) >= PERSIST_EVERY_MS) {
      this.lastPersist.set(k, now)
      void this.persist(k).catch(() => undefined)
    }
  }

  view(r: TransferRecord): TransferView {
    return transferView(r, this.isActive(keyOf(r.direction, r.id)))
  }

  /** Writes the latest state to the store and to the file's conversation message. */
  private persist(k: RecordKey): Promise<void> {
    return this.writes.run(k, async () => {
      const r = this.records.get(k)
      if (r === undefined) return
      try {
        await this.store.put(recordKey(r.direction, r.id), encodeTransferRecord(r))
      } catch (error) {
        this.log?.warn('could not store a transfer', {
          error: error instanceof Error ? error.name : 'unknown',
        })
        return
      }
      // No message shows a post's attachment; a group's file message reads its state live.
      if (r.purpose === 'post-attachment' || r.groupId !== undefined) return
      try {
        await this.messenger?.updateExtension(r.contactId, r.id, messageData(r))
      } catch {
        // The conversation (or the contact) was deleted; the transfer record still counts.
      }
    })
  }
}
