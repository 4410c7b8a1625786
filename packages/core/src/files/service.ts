/**
 * The file service: what apps call to send and list files. Offers travel over the messenger,
 * bytes over /jiayi/file/1 (transfer-runner.ts), state in the store (transfer-book.ts).
 *
 * Sending: store the outgoing record, then send the ratcheted offer (extension "file-offer",
 * shown in the conversation with the transfer's state). A small file (HASH_FIRST_MAX_BYTES), a
 * Moments picture (its post names it by its hash) and a forwarded file (checked against the hash
 * it had) are hashed first and the offer carries the SHA-256; any other file is hashed as its
 * chunks leave, and the digest comes with the last chunk.
 * Receiving: the offer's record commits atomically with the ratchet step that carried it, shows in
 * the conversation, and the receiver pulls the chunks. A file shows as complete only after every
 * chunk was authenticated and stored and the SHA-256 of the whole equals the sender's.
 *
 *   const files = new FileService({ store, storage: NodeFileStorage.forHome(home) })
 *   const messenger = await Messenger.open({ store, node, account, extensions: files.extensions })
 *   await files.start(messenger)
 */
import { base64 } from 'multiformats/bases/base64'
import { bytesToHex, fromUtf8, utf8 } from '../bytes.js'
import { GroupFiles } from '../groups/group-files.js'
import type { Logger } from '../messenger/core.js'
import type { Emitter } from '../messenger/events.js'
import { type ContactId, type MessageId, newMessageId } from '../messenger/ids.js'
import type { ExtensionContext, ExtensionHandler } from '../messenger/inbound.js'
import type { Messenger } from '../messenger/messenger.js'
import { peerMay } from '../messenger/trust.js'
import { key } from '../store/keys.js'
import type { Store } from '../store/store.js'
import {
  type AutoDownloadLimits,
  DEFAULT_AUTO_DOWNLOAD,
  type HoldReason,
  holdFor,
  validLimits,
} from './auto-download.js'
import { FileError } from './errors.js'
import { hashRange } from './hash-pass.js'
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_WINDOW_CHUNKS,
  FRAME_TIMEOUT_MS,
  HASH_FIRST_MAX_BYTES,
  isValidChunkSize,
} from './limits.js'
import { sanitizeFileName } from './names.js'
import {
  decodeOffer,
  draftOffer,
  encodeOffer,
  type FileKind,
  type FileOffer,
  type FilePurpose,
  type Thumbnail,
  type VoiceInfo,
} from './offer.js'
import type { FileSource, FileStorage } from './storage.js'
import {
  encodeTransferRecord,
  type FileEntry,
  fileEntry,
  isFinal,
  messageData,
  messageText,
  newTransferRecord,
  recordKey,
  type TransferView,
} from './transfer.js'
import { type FileServiceEvents, keyOf, TransferBook } from './transfer-book.js'
import { type FileRefusal, TransferRunner } from './transfer-runner.js'

export type { FileProgress, FileServiceEvents } from './transfer-book.js'
export type { FileRefusal } from './transfer-runner.js'

/** The messenger extension that carries offers. */
export const FILE_OFFER_EXTENSION = 'file-offer'

const NUDGE_DELAY_MS = 2_000
/** The user's auto-download setting, beside the transfer records (key('file') is theirs). */
const SETTINGS_KEY = key('file-settings')

export interface FileServiceInit {
  /** The store passed to Messenger.open (used until the messenger runs, then the messenger's). */
  readonly store: Store
  readonly storage: FileStorage
  /** Largest file sent or accepted; default 4 GiB. */
  readonly maxFileBytes?: number
  /** Chunk size of files we send; default 256 KiB. */
  readonly chunkBytes?: number
  /** Chunks in flight per stream before an Ack; default 8. */
  readonly windowChunks?: number
  /** Give up on a stream that brings no frame for this long; default 30 s. */
  readonly frameTimeoutMs?: number
  /**
   * Which offers download without asking (auto-download.ts); default DEFAULT_AUTO_DOWNLOAD. The
   * user's own setting (`setSettings`), once made, replaces `askAboveBytes`.
   */
  readonly autoDownload?: Partial<AutoDownloadLimits>
  readonly log?: Logger
}

/** What the user sets about receiving files. */
export interface FileSettings {
  /** Offers larger than this wait for the user's accept. */
  readonly askAboveBytes: number
}

export interface SendFileOptions {
  /** Default: the source's name. */
  readonly name?: string
  /** Default: the source's, else guessed from the name. */
  readonly mime?: string
  /** Default: voice with `voice`, image for image/* types, else file. */
  readonly kind?: FileKind
  /** Images: a small preview (≤ 20 kB) shown before the transfer ends. */
  readonly thumbnail?: Thumbnail
  /** Voice messages: duration and waveform. */
  readonly voice?: VoiceInfo
  readonly chunkBytes?: number
  /** 'post-attachment': a Moments post's picture, shown by the post and never in the chat. */
  readonly purpose?: FilePurpose
  /**
   * The source's SHA-256, when the caller has just computed it: a file offered to many contacts
   * (a post's picture) is read and hashed once, not once per offer. A wrong one only fails the
   * receiver's check (HashMismatch).
   */
  readonly sha256?: Uint8Array
}

export interface FileServiceStats {
  readonly chunksSent: number
  readonly chunksReceived: number
  readonly refusedTotal: number
  readonly refused: Partial<Record<FileRefusal, number>>
}

export class FileService {
  /** Pass to `Messenger.open({ extensions })`, so that no offer can arrive before the service listens. */
  readonly extensions: Readonly<Record<string, ExtensionHandler>>
  private readonly initStore: Store
  private readonly storage: FileStorage
  private readonly maxFileBytes: number
  private readonly chunkBytes: number
  private readonly book: TransferBook
  private readonly runner: TransferRunner
  /** Files offered in a group (groups/group-files.ts). */
  private readonly groupFiles: GroupFiles
  private readonly nudged = new Set<MessageId>()
  private limits: AutoDownloadLimits
  private unsubscribe: (() => void) | undefined
  private messengerRef: Messenger | undefined
  private stopped = false

  constructor(init: FileServiceInit) {
    this.initStore = init.store
    this.storage = init.storage
    this.maxFileBytes = init.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
    this.chunkBytes = init.chunkBytes ?? DEFAULT_CHUNK_BYTES
    const windowChunks = init.windowChunks ?? DEFAULT_WINDOW_CHUNKS
    if (!Number.isSafeInteger(this.maxFileBytes) || this.maxFileBytes < 0)
      throw new FileError('BadInput', 'maxFileBytes must be a non-negative integer')
    if (!isValidChunkSize(this.chunkBytes))
      throw new FileError('BadInput', 'chunkBytes must be a power of two, 16..256 KiB')
    if (!Number.isInteger(windowChunks) || windowChunks < 1 || windowChunks > 14)
      throw new FileError('BadInput', 'windowChunks must be 1..14')
    this.limits = { ...DEFAULT_AUTO_DOWNLOAD, ...init.autoDownload }
    if (!validLimits(this.limits))
      throw new FileError('BadInput', 'auto-download limits must be whole, non-negative numbers')
    this.book = new TransferBook(
      () => this.store,
      (k) => this.runner.isActive(k),
      init.log,
    )
    this.groupFiles = new GroupFiles({
      messenger: () => this.messenger,
      maxFileBytes: this.maxFileBytes,
      chunkBytes: this.chunkBytes,
      find: (id) => this.book.find(id),
      create: (r) => this.book.create(r),
      remove: (r) => this.book.remove(r),
      added: (r) => this.book.added(r),
      view: (r) => this.book.view(r),
      adoptSource: (id, source) => this.runner.adoptSource(id, source),
      forgetSource: (id) => this.runner.forgetSource(id),
      schedulePull: (id) => this.runner.schedulePull(id, 0),
      hash: (source) => this.hashSource(source),
      holdFor: (size, from) => this.holdFor(size, from),
    })
    this.runner = new TransferRunner(this.book, this.storage, {
      windowChunks,
      timeoutMs: init.frameTimeoutMs ?? FRAME_TIMEOUT_MS,
      log: init.log,
      holdFor: (r) => this.holdFor(r.size, r.contactId),
      groups: this.groupFiles,
    })
    this.extensions = { [FILE_OFFER_EXTENSION]: { receive: (ctx) => this.receiveOffer(ctx) } }
  }

  /** Creates the service and starts it on a messenger that is already open. */
  static async start(init: FileServiceInit & { readonly messenger: Messenger }): Promise<FileService> {
    const service = new FileService(init)
    await service.start(init.messenger)
    return service
  }

  get events(): Emitter<FileServiceEvents> {
    return this.book.events
  }

  /**
   * Loads the transfers, serves /jiayi/file/1 and resumes what was interrupted. Registers the
   * offer extension too, for apps that did not pass `extensions` to Messenger.open.
   */
  async start(messenger: Messenger): Promise<void> {
    if (this.messengerRef !== undefined)
      throw new FileError('BadInput', 'the file service is already started')
    this.messengerRef = messenger
    this.book.messenger = messenger
    messenger.registerExtension(FILE_OFFER_EXTENSION, this.extensions[FILE_OFFER_EXTENSION]!)
    await this.book.load()
    // From now on a group's file message makes a transfer, and shows its state.
    messenger.groups.files = this.groupFiles
    await this.loadSettings()
    // Once the receiver has our offer (it acked it), it should be pulling. If it is not (it
    // refused the offer, or it was not listening), a push soon after tells us either way.
    this.unsubscribe = messenger.events.on('message', ({ message: m }) => {
      if (m.direction !== 'out' || m.extension?.kind !== FILE_OFFER_EXTENSION || m.status !== 'sent') return
      if (this.book.get(keyOf('out', m.id))?.status === 'sending' && !this.nudged.has(m.id)) {
        this.nudged.add(m.id)
        this.runner.schedulePush(m.id, NUDGE_DELAY_MS)
      }
    })
    await this.runner.start(messenger)
  }

  /** Stops every transfer (they resume at the next start) and unregisters the protocol. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.unsubscribe?.()
    if (this.messengerRef?.groups.files === this.groupFiles) this.messengerRef.groups.files = undefined
    await this.runner.stop()
  }

  /** The messenger's store once it runs (it may buffer writes; all of ours go through it too). */
  private get store(): Store {
    return this.messengerRef?.store ?? this.initStore
  }

  private get messenger(): Messenger {
    if (this.messengerRef === undefined || this.stopped)
      throw new FileError('Stopped', 'the file service is not running')
    return this.messengerRef
  }

  // ------------------------------------------------------------------ sending

  /**
   * Offers `source` to a contact and serves it until the receiver has it. Resolves once the offer
   * is queued: only a file of at most HASH_FIRST_MAX_BYTES is read (hashed) before. `contactRef`
   * may name a group as `Messenger.send`'s does (a name that is a contact's and a group's is
   * AmbiguousContact): the file is hashed, offered in one group message, and served to every
   * member who asks (groups/group-files.ts); the answer then has `groupId` and `sender`.
   */
  async sendFile(
    contactRef: string,
    source: FileSource,
    options: SendFileOptions = {},
  ): Promise<TransferView> {
    return this.offer(contactRef, source, options)
  }

  /**
   * Sends a file this peer already has (one it sent, or one it received completely) to a
   * contact: read again from where it lies and offered afresh, with a new key (as a chat file or a
   * post's attachment, like the original unless `as` says). Refuses with
   * FileError SourceGone when the bytes are not kept, SourceChanged when they are not the same.
   */
  async forward(
    id: string,
    contactRef: string,
    as: { readonly purpose?: FilePurpose } = {},
  ): Promise<TransferView> {
    const r = this.book.find(id)
    if (r === undefined) throw new FileError('BadInput', 'no transfer with that id')
    const path = r.direction === 'out' || r.status === 'complete' ? r.path : undefined
    if (path === undefined) throw new FileError('SourceGone', 'this peer does not keep that file')
    const source = await this.storage.openSource(path)
    const thumbnail = r.thumbnail && { ...r.thumbnail, data: base64.baseDecode(r.thumbnail.data) }
    const voice = r.voice && { ...r.voice, waveform: Uint8Array.from(r.voice.waveform) }
    const options: SendFileOptions = {
      name: r.name,
      mime: r.mime,
      kind: r.kind,
      thumbnail,
      voice,
      purpose: as.purpose ?? r.purpose ?? 'chat',
    }
    try {
      // A file still on its way out may not have its digest yet: then there is nothing to check.
      return await this.offer(contactRef, source, options, r.sha256 === '' ? undefined : r.sha256)
    } catch (error) {
      // Opened here, so closed here: a refused forward keeps no file handle.
      await source.close().catch(() => undefined)
      throw error
    }
  }

  private async offer(
    contactRef: string,
    source: FileSource,
    options: SendFileOptions,
    expectedSha256?: string,
  ): Promise<TransferView> {
    const messenger = this.messenger
    if (messenger.groups.find(contactRef) !== undefined) {
      // Throws when the name is a contact's too: the user says which with an id.
      const to = messenger.conversationOf(contactRef)
      if (to.kind === 'group') {
        if (options.purpose === 'post-attachment')
          throw new FileError('BadInput', 'a Moments attachment is not offered to a group')
        return this.groupFiles.send(to.id, source, options, expectedSha256)
      }
    }
    const contact = messenger.contact(contactRef)
    const size = source.size
    const draft: FileOffer = {
      ...draftOffer(source, options, { maxFileBytes: this.maxFileBytes, chunkBytes: this.chunkBytes }),
      ...(options.purpose === 'post-attachment' ? { purpose: 'post-attachment' as const } : {}),
    }
    encodeOffer(draft) // every rule checked before any hashing
    // A hash the caller already has (a post's picture offered to many) is used as it is; a small
    // file, a post attachment, or a resend is hashed first; a large file is hashed as it leaves.
    const hashFirst =
      size <= HASH_FIRST_MAX_BYTES || draft.purpose === 'post-attachment' || expectedSha256 !== undefined
    const sha256 = options.sha256 ?? (hashFirst ? await this.hashSource(source) : new Uint8Array(0))
    const offer = { ...draft, sha256 }
    if (expectedSha256 !== undefined && bytesToHex(offer.sha256) !== expectedSha256)
      throw new FileError('SourceChanged', 'the file changed since it was sent or received')
    const body = encodeOffer(offer)
    const id = newMessageId()
    const record = newTransferRecord({
      id,
      direction: 'out',
      contactId: contact.id,
      offer,
      name: draft.name,
      status: 'sending',
      path: source.ref,
      sourceVersion: source.version,
    })
    // Stored before the offer leaves: a pull may come as soon as the receiver has it.
    await this.book.create(record)
    this.runner.adoptSource(id, source)
    try {
      // A post's attachment is shown by the post: no message in the conversation.
      await messenger.sendExtension(
        contact.id,
        FILE_OFFER_EXTENSION,
        body,
        record.purpose === 'post-attachment'
          ? { id }
          : { id, record: { text: messageText(record), data: messageData(record) } },
      )
    } catch (error) {
      this.runner.forgetSource(id)
      await this.book.remove(record)
      throw error
    }
    this.book.added(record)
    return this.book.view(record)
  }

  private async hashSource(source: FileSource): Promise<Uint8Array> {
    const hasher = this.storage.createHasher()
    await hashRange((offset, length) => source.read(offset, length), source.size, hasher)
    return hasher.digest()
  }

  // ------------------------------------------------------------------ receiving

  private async receiveOffer(ctx: ExtensionContext): Promise<void> {
    let offer: FileOffer
    try {
      offer = decodeOffer(ctx.body)
    } catch (error) {
      if (!FileError.is(error)) throw error
      this.runner.refuse('bad-offer')
      return
    }
    const id = ctx.payload.id
    // At-least-once delivery: a repeated offer changes nothing (its message shows once too).
    if ((await this.store.get(recordKey('in', id))) !== undefined) return
    const tooLarge = offer.size > this.maxFileBytes
    const accepted = peerMay(ctx.contact.state, 'take-file-offer')
    // From a contact: downloads now, or waits for the user (too large, over a quota, no space).
    const hold = !tooLarge && accepted ? await this.holdFor(offer.size, ctx.contact.id) : undefined
    const made = newTransferRecord({
      id,
      direction: 'in',
      contactId: ctx.contact.id,
      offer,
      name: sanitizeFileName(offer.name),
      status: tooLarge ? 'failed' : 'incoming',
      reason: tooLarge ? 'too-large' : undefined,
      note: tooLarge ? undefined : !accepted ? 'waiting-for-accept' : hold ? 'needs-accept' : undefined,
      hold,
    })
    // Offered from another device of theirs: that device holds the bytes (transfer-runner.ts).
    const record = ctx.device === ctx.contact.peerId ? made : { ...made, device: ctx.device }
    ctx.put(recordKey('in', id), encodeTransferRecord(record))
    // A post's attachment is shown by the post: no chat message, nothing unread.
    if (record.purpose !== 'post-attachment') await ctx.showMessage(messageText(record), messageData(record))
    ctx.after(() => {
      this.book.added(record)
      if (record.status === 'incoming' && accepted && hold === undefined) this.runner.schedulePull(id, 0)
      // The sender learns at once rather than at its next push.
      if (tooLarge && accepted) void this.runner.tellGaveUp('in', id, 'refused')
    })
  }

  /** Whether an offer of `size` bytes from `contactId` waits for the user (auto-download.ts). */
  private async holdFor(size: number, contactId: ContactId): Promise<HoldReason | undefined> {
    let free: number | undefined
    try {
      free = await this.storage.freeBytes?.()
    } catch {
      free = undefined // a platform that cannot tell does not stop downloads
    }
    return holdFor({ size, contactId }, this.book.all(), this.limits, free)
  }

  /**
   * The user accepts a file that waits for them (note 'needs-accept'): it downloads now, whatever
   * the size and quotas. Refused (FileError NoSpace) when the storage says it cannot hold the rest.
   */
  async accept(id: string): Promise<TransferView> {
    const r = this.book.find(id)
    if (r === undefined || r.direction !== 'in')
      throw new FileError('BadInput', 'no incoming file with that id')
    if (r.status !== 'incoming' || r.hold === undefined)
      throw new FileError('BadInput', 'that file is not waiting to be accepted')
    const free = await this.storage.freeBytes?.().catch(() => undefined)
    if (free !== undefined && free < r.size - r.bytes)
      throw new FileError('NoSpace', 'there is not enough free space for that file')
    const after = (await this.book.change(keyOf('in', r.id), { type: 'release' })) ?? r
    this.runner.schedulePull(r.id, 0)
    return this.book.view(after)
  }

  /** The user's settings about receiving files. */
  settings(): FileSettings {
    return { askAboveBytes: this.limits.askAboveBytes }
  }

  /** Changes (and keeps) the user's settings; applies to offers that arrive from now on. */
  async setSettings(settings: FileSettings): Promise<FileSettings> {
    const askAboveBytes = settings.askAboveBytes
    if (!Number.isSafeInteger(askAboveBytes) || askAboveBytes < 0)
      throw new FileError('BadInput', 'the size to ask above must be a whole number of bytes')
    await this.store.put(SETTINGS_KEY, utf8(JSON.stringify({ v: 1, askAboveBytes })))
    this.limits = { ...this.limits, askAboveBytes }
    return this.settings()
  }

  private async loadSettings(): Promise<void> {
    const bytes = await this.store.get(SETTINGS_KEY)
    if (bytes === undefined) return
    try {
      const stored = JSON.parse(fromUtf8(bytes)) as { askAboveBytes?: unknown }
      const n = stored.askAboveBytes
      if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)
        this.limits = { ...this.limits, askAboveBytes: n }
    } catch {
      // An unreadable setting: the defaults apply until the user sets it again.
    }
  }

  // ------------------------------------------------------------------ reading and control

  /** Every file received or sent, oldest first: exactly the fields `jiayi files` prints. */
  files(): FileEntry[] {
    return this.book.all().map(fileEntry)
  }

  /** Every transfer, both directions, oldest first. */
  transfers(): TransferView[] {
    return this.book.all().map((r) => this.book.view(r))
  }

  transfer(id: string): TransferView | undefined {
    const r = this.book.find(id)
    return r && this.book.view(r)
  }

  /**
   * Resolves when the transfer is complete or failed. An id not known yet (an offer still on its
   * way) is waited for too: pass a signal to give up.
   */
  waitFor(id: string, options: { signal?: AbortSignal } = {}): Promise<TransferView> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const t = this.transfer(id)
        if (t === undefined || !isFinal(t.status)) return false
        resolve(t)
        return true
      }
      if (check()) return
      const onAbort = () => {
        off()
        reject(options.signal?.reason ?? new FileError('Stopped', 'aborted'))
      }
      const off = this.events.on('transfer', (e) => {
        if (e.transfer.id === id && check()) {
          off()
          options.signal?.removeEventListener('abort', onAbort)
        }
      })
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /**
   * Gives a transfer up (either direction). The other side is told at once when connected (it
   * stops too), else it learns at its next attempt.
   */
  async cancel(id: string): Promise<TransferView> {
    const r = this.book.find(id)
    if (r === undefined) throw new FileError('BadInput', 'no transfer with that id')
    const k = keyOf(r.direction, r.id)
    this.runner.interrupt(k, 'cancelled')
    const after = (await this.book.change(k, { type: 'fail', reason: 'cancelled' })) ?? r
    if (r.direction === 'in' && after.status === 'failed') await this.runner.discard(r.id)
    if (!isFinal(r.status) && after.reason === 'cancelled') void this.runner.tellGaveUp(r.direction, r.id)
    return this.book.view(after)
  }

  stats(): FileServiceStats {
    let refusedTotal = 0
    const refused: Partial<Record<FileRefusal, number>> = {}
    for (const [reason, n] of this.runner.refusals) {
      refused[reason] = n
      refusedTotal += n
    }
    return {
      chunksSent: this.runner.chunksSent,
      chunksReceived: this.runner.chunksReceived,
      refusedTotal,
      refused,
    }
  }
}
