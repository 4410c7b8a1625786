/**
 * Files and pictures in a group (PROTOCOL.md "Files in a group"). A group file message is group
 * content like a text, sealed once with the sender's sender key: `{id, text: "", sentAt, file}`,
 * where `file` is the base64 of the file's offer (FileOffer, files/offer.ts: name, type, size,
 * SHA-256, the per-file key, chunk size, thumbnail or voice). Every member who reads it pulls
 * the bytes from the sender over /jiayi/file/1, as from a contact; the file id is the message id.
 *
 * Two rules differ from a 1:1 offer, both because many peers share one offer:
 * - the SHA-256 is always in the offer (the file is hashed once before it is offered), so no
 *   digest has to be agreed per stream and every member checks the same one;
 * - the trust boundary is the group: a member who is not our contact may open /jiayi/file/1
 *   (trust action `open-group-file-stream`) and is served only files offered in a group we are
 *   both in now. A removed member, a member of another group or a stranger is refused and counted.
 *
 * Our other devices show what we sent (messenger/sync.ts `group-sent`): each fetches the bytes
 * from the device that sent them, as a member would (a device of ours, on our list now, may),
 * under the same auto-download rules; its message stays ours, its status follows the download.
 *
 * The sender's record is `complete` as soon as the offer is sent: it keeps the file available
 * to every member (one upload per member: fine on a LAN) rather than following each download.
 * While the sender is away, a member who holds the file whole serves it to the others (the
 * SHA-256 every member knows decides; transfer-runner.ts drops what fails it and asks the
 * sender only).
 *
 * This module is both halves: the codec and views that the group service uses (it knows nothing
 * of transfers), and `GroupFiles`, which the file service runs for group targets.
 */
import { bytesToHex, fromBase64, toBase64 } from '../bytes.js'
import { FileError } from '../files/errors.js'
import { SHA256_BYTES } from '../files/limits.js'
import { sanitizeFileName } from '../files/names.js'
import { decodeOffer, draftOffer, encodeOffer, type FileOffer, type OfferChoices } from '../files/offer.js'
import type { FileSource } from '../files/storage.js'
import {
  encodeTransferRecord,
  type FileMessageData,
  messageData,
  messageText,
  newTransferRecord,
  recordKey,
  type TransferRecord,
  type TransferView,
} from '../files/transfer.js'
import { type ContactId, contactIdFor, type MessageId, newMessageId } from '../messenger/ids.js'
import type { Messenger } from '../messenger/messenger.js'
import type { Tx } from '../messenger/tx.js'
import type { ContactView } from '../messenger/views.js'
import type { GroupId } from './ops.js'

/** What the group service asks of whoever moves files (the file service, when it runs). */
export interface GroupFileHooks {
  /**
   * A member's file message was read (once per message): what to commit with it (the incoming
   * transfer), or nothing (already known, or ours).
   */
  incoming(m: {
    readonly groupId: GroupId
    readonly sender: ContactId
    readonly id: MessageId
    readonly offer: FileOffer
    /** The sender's device that offered it (on their list), when the message names one. */
    readonly device?: string | undefined
    /** Ours, sent from another device of ours (`device`) and mirrored here (messenger/sync.ts). */
    readonly own?: boolean | undefined
  }): Promise<((tx: Tx) => void) | undefined>
  /** The live state of the file of message `id` (status, bytes), if a transfer knows it. */
  data(id: MessageId): FileMessageData | undefined
}

/** The `file` field of group content: the offer's canonical bytes, base64. */
export function encodeGroupFile(offer: FileOffer): string {
  if (offer.sha256.length !== SHA256_BYTES)
    throw new FileError('BadInput', 'a file offered to a group carries its SHA-256')
  if (offer.purpose === 'post-attachment')
    throw new FileError('BadInput', 'a Moments attachment is not offered to a group')
  return toBase64(encodeOffer(offer))
}

/**
 * The offer in a group message's `file` field, checked as strictly as a 1:1 offer, plus the
 * group's rules (its SHA-256 present, no purpose); undefined when it breaks any.
 */
export function decodeGroupFile(file: unknown): FileOffer | undefined {
  if (typeof file !== 'string') return undefined
  try {
    const offer = decodeOffer(fromBase64(file))
    if (offer.sha256.length !== SHA256_BYTES || offer.purpose !== undefined) return undefined
    return offer
  } catch {
    return undefined
  }
}

/**
 * How a group message with a file shows: the text a 1:1 file message has ("🖼 photo.jpg
 * (48 kB)") and the same extension (`file-offer`, FileMessageData), its state from the transfer
 * when the file service knows it (else as offered).
 */
export function groupFileView(
  s: { readonly id: string; readonly file: string },
  direction: 'in' | 'out',
  hooks: GroupFileHooks | undefined,
): { text: string; extension: { kind: 'file-offer'; data: FileMessageData } } | undefined {
  const offer = decodeGroupFile(s.file)
  if (offer === undefined) return undefined
  const name = direction === 'in' ? sanitizeFileName(offer.name) : offer.name
  const shown = newTransferRecord({
    id: s.id as MessageId,
    direction,
    contactId: '' as ContactId,
    offer,
    name,
    status: direction === 'in' ? 'incoming' : 'complete',
  })
  const data = hooks?.data(s.id as MessageId) ?? messageData(shown)
  return { text: messageText(shown), extension: { kind: 'file-offer', data } }
}

// ------------------------------------------------------------------ the file service's half

/** What GroupFiles needs of the file service that runs it. */
export interface GroupFilesDeps {
  messenger(): Messenger
  readonly maxFileBytes: number
  readonly chunkBytes: number
  /** Records (transfer-book.ts). */
  find(id: string): TransferRecord | undefined
  create(r: TransferRecord): Promise<void>
  remove(r: TransferRecord): Promise<void>
  added(r: TransferRecord): void
  view(r: TransferRecord): TransferView
  /** The source is the runner's from now on (kept open while the service runs). */
  adoptSource(id: MessageId, source: FileSource): void
  forgetSource(id: MessageId): void
  schedulePull(id: MessageId): void
  hash(source: FileSource): Promise<Uint8Array>
  holdFor(size: number, from: ContactId): Promise<TransferRecord['hold']>
}

export type GroupFileOptions = OfferChoices

/** A file sent to a group: the sender's transfer, and the group message that carried it. */
export type GroupTransferView = TransferView & {
  readonly groupId: GroupId
  readonly sender: { readonly id: ContactId; readonly name: string }
}

export class GroupFiles implements GroupFileHooks {
  constructor(private readonly deps: GroupFilesDeps) {}

  private get me(): ContactId {
    return contactIdFor(this.deps.messenger().account.identity.signing.publicKey)
  }

  /**
   * Offers `source` to every member of a group: hashed first, then one group message. Resolves
   * once the message is in every member's outbox; members pull the bytes from us.
   */
  async send(
    groupRef: string,
    source: FileSource,
    options: GroupFileOptions,
    expectedSha256?: string,
  ): Promise<GroupTransferView> {
    const messenger = this.deps.messenger()
    const group = messenger.groups.get(groupRef)
    const draft = draftOffer(source, options, this.deps)
    encodeGroupFile(draft) // every rule checked before any hashing
    // Every member checks the same digest, so it is in the offer: the file is read once first.
    const offer = { ...draft, sha256: options.sha256 ?? (await this.deps.hash(source)) }
    if (expectedSha256 !== undefined && bytesToHex(offer.sha256) !== expectedSha256)
      throw new FileError('SourceChanged', 'the file changed since it was sent or received')
    const file = encodeGroupFile(offer)
    const id = newMessageId()
    const record: TransferRecord = {
      ...newTransferRecord({
        id,
        direction: 'out',
        contactId: this.me,
        offer,
        name: draft.name,
        status: 'complete',
        path: source.ref,
        sourceVersion: source.version,
      }),
      bytes: draft.size,
      groupId: group.id,
    }
    // Stored before the message leaves: a member may pull as soon as it reads it.
    await this.deps.create(record)
    this.deps.adoptSource(id, source)
    let sent: { readonly sender: { readonly id: ContactId; readonly name: string } }
    try {
      sent = await messenger.groups.send(group.id, '', { file, id })
    } catch (error) {
      this.deps.forgetSource(id)
      await this.deps.remove(record)
      throw error
    }
    this.deps.added(record)
    return { ...this.deps.view(record), groupId: group.id, sender: sent.sender }
  }

  async incoming(m: {
    readonly groupId: GroupId
    readonly sender: ContactId
    readonly id: MessageId
    readonly offer: FileOffer
    readonly device?: string | undefined
    readonly own?: boolean | undefined
  }): Promise<((tx: Tx) => void) | undefined> {
    // Carried twice, or our own carried back: one transfer per file. Ours mirrored from another
    // device of ours is fetched from that device (its message stays ours, its status follows).
    if (this.deps.find(m.id) !== undefined) return undefined
    if (m.sender === this.me && (m.own !== true || m.device === undefined)) return undefined
    const tooLarge = m.offer.size > this.deps.maxFileBytes
    // The auto-download rules apply as for a contact's file, the sender's quota per sender.
    const hold = tooLarge ? undefined : await this.deps.holdFor(m.offer.size, m.sender)
    const record: TransferRecord = {
      ...newTransferRecord({
        id: m.id,
        direction: 'in',
        contactId: m.sender,
        offer: m.offer,
        name: sanitizeFileName(m.offer.name),
        status: tooLarge ? 'failed' : 'incoming',
        ...(tooLarge ? { reason: 'too-large' as const } : {}),
        ...(hold === undefined ? {} : { note: 'needs-accept' as const, hold }),
      }),
      groupId: m.groupId,
      // Fetched from the device that offered it (transfer-runner.ts atDevice).
      ...(m.device === undefined ? {} : { device: m.device }),
    }
    return (tx) => {
      tx.put(recordKey('in', m.id), encodeTransferRecord(record))
      tx.after(() => {
        this.deps.added(record)
        if (record.status === 'incoming' && hold === undefined) this.deps.schedulePull(m.id)
      })
    }
  }

  data(id: MessageId): FileMessageData | undefined {
    const r = this.deps.find(id)
    return r?.groupId === undefined ? undefined : messageData(r)
  }

  // ---------------------------------------------------------------- who may fetch

  /**
   * Whether the peer `peerId` may fetch the group file `r` from us: we are both members of its
   * group now. Members who left or were removed, and anyone else, may not.
   */
  mayFetch(r: TransferRecord, peerId: string): boolean {
    if (r.groupId === undefined) return false
    const messenger = this.deps.messenger()
    // Another device of ours (on our list now) shows our group messages, so it holds our files too.
    if (messenger.isOwnDevice(peerId)) {
      const ours = messenger.groups.find(r.groupId)
      return ours !== undefined && ours.id === r.groupId && ours.members.some((m) => m.id === this.me)
    }
    const asker = contactByPeer(messenger, peerId)
    if (asker === undefined) return false
    const group = messenger.groups.find(r.groupId)
    return group !== undefined && group.id === r.groupId && group.members.some((m) => m.id === asker.id)
  }

  /** Who else may hold the group file `r` (members who read it): asked while its sender is away. */
  holdersOf(r: TransferRecord): ContactView[] {
    return holdersIn(this.deps.messenger(), r, this.me)
  }

  /** Where to fetch the group file `r` from: its sender (a contact or a member record). */
  senderOf(r: TransferRecord): ContactView | undefined {
    // Ours, mirrored from another device of ours: fetched from that device (record.device).
    if (r.contactId === this.me) return this.deps.messenger().selfContact()
    try {
      const c = this.deps.messenger().contact(r.contactId)
      return c.id === r.contactId ? c : undefined
    } catch {
      return undefined
    }
  }
}

/** The members of `r`'s group now other than us and its sender, as far as we have their record. */
export function holdersIn(messenger: Messenger, r: TransferRecord, me: ContactId): ContactView[] {
  if (r.groupId === undefined) return []
  const group = messenger.groups.find(r.groupId)
  if (group === undefined || group.id !== r.groupId) return []
  return group.members.flatMap((m) => {
    if (m.id === me || m.id === r.contactId) return []
    try {
      const c = messenger.contact(m.id)
      return c.id === m.id ? [c] : []
    } catch {
      return []
    }
  })
}

/** The member whose device `peerId` is (any device on their list). */
function contactByPeer(messenger: Messenger, peerId: string): ContactView | undefined {
  try {
    const c = messenger.contact(peerId)
    return c.devices.includes(peerId) ? c : undefined
  } catch {
    return undefined
  }
}
