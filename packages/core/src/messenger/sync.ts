/**
 * Own devices in step (Sesame's sync messages): what this device sends to a contact or a group is
 * mirrored to our other devices (core.ts ownDevices, from our device list) through the lanes of
 * our own identity (lanes.ts), and appears there as sent, in the right conversation; so are our
 * changes to contacts, the group ops we make, how far we read a group, our group reactions, and
 * our new device list. Messages contacts send need no mirroring: they encrypt to each of our
 * devices. Nor do Moments: our devices sync feeds with each other directly (@jiayi/feed).
 * A group message of ours is sealed with the sender key of the device that sent it, which our
 * other devices never hold (each device has its own, and refuses one under our own id: a member
 * cannot read its own words back from the group), so the mirror carries what was said instead.
 *
 * `Extension { kind = "sync", body = JSON }`, taken only from a device on our own list (inbound
 * refuses it from anyone else, and refuses anything else from our devices):
 *   {"kind":"sent","contact":cid,"id":32 hex,"sentAt":ms,"text":…,"replyTo"?:32 hex}
 *   {"kind":"read","contact":cid,"id":32 hex}     the conversation is read up to that message
 *   {"kind":"reaction","contact":cid,"id":…,"emoji":…}   our reaction ("" removes it)
 *   {"kind":"edit","contact":cid,"id":…,"text":…}        our message edited
 *   {"kind":"delete","contact":cid,"id":…}               our message deleted for everyone
 *   {"kind":"contact","contact":cid,"card":link payload,"state":"pending-out"|"accepted",
 *    "remark"?:…,"labels":[…]}   a contact added or accepted, or its remark (备注) or labels changed
 *                                (sync-contacts.ts: the receiver checks the card, never lowers a state)
 *   {"kind":"contact-removed","contact":cid}             a contact removed or a request rejected
 *   {"kind":"group","group":32 hex,"op":base64}   a group op we made (groups/ops.ts; a new group, or
 *                                one we were added to: each op of its log, one a message), taken
 *                                as a member's op would be
 *   {"kind":"group-sent","group":32 hex,"id":32 hex,"sentAt":ms,"text":…,"mentions":[cid…],
 *    "replyTo"?:32 hex,"file"?:base64 offer}   our group message (a file's offer: group-files.ts);
 *                                shown once (by id) as ours, in that group, and carried to nobody
 *                                (members get it from the device that sent it)
 *   {"kind":"group-read","group":32 hex,"id":32 hex}   we read the group up to that message
 *   {"kind":"group-reaction","group":32 hex,"id":32 hex,"emoji":…,"sentAt":ms}   our reaction to
 *                                a group message ("" removes it), standing as if sent here
 *   {"kind":"device-list","list":base64}   our new signed device list (a device linked or removed):
 *                                taken only if our identity signed it, it is newer, and names us
 * Mirroring is queued after the message itself (our own lanes have a queue of their own), so a
 * crash in between may leave one message unmirrored; the message itself is never lost. For a
 * device of ours that is away, the lane goes to its box on our home node (mailbox/deposit.ts).
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../bytes.js'
import { type GroupId, isGroupId, MAX_OP_BYTES } from '../groups/ops.js'
import { type DeviceList, isNewerDeviceList, listsDevice, verifyDeviceList } from '../identity/device-list.js'
import type { MessengerCore } from './core.js'
import { type ContactId, isContactId, isMessageId, type MessageId } from './ids.js'
import type { CoreExtensionContext, CoreExtensionHandler } from './inbound.js'
import { openLane } from './lane-opener.js'
import { laneOf } from './lanes.js'
import { MAX_EMOJI_BYTES, MAX_TEXT_BYTES } from './payload.js'
import type { MessageRecord } from './records.js'
import {
  applyContactRemoved,
  applyContactSync,
  type ContactRemovedSync,
  type ContactSync,
  contactSyncOf,
  parseContactSync,
} from './sync-contacts.js'
import { Tx } from './tx.js'

export const SYNC_EXTENSION = 'sync'

interface SentSync {
  readonly kind: 'sent'
  readonly contact: ContactId
  readonly id: MessageId
  readonly sentAt: number
  readonly text: string
  readonly replyTo?: MessageId | undefined
}

/** A change to a message of the conversation, or how far it is read. */
export type ChangeSync =
  | { readonly kind: 'read'; readonly contact: ContactId; readonly id: MessageId }
  | { readonly kind: 'reaction'; readonly contact: ContactId; readonly id: MessageId; readonly emoji: string }
  | { readonly kind: 'edit'; readonly contact: ContactId; readonly id: MessageId; readonly text: string }
  | { readonly kind: 'delete'; readonly contact: ContactId; readonly id: MessageId }

interface GroupSync {
  readonly kind: 'group'
  readonly group: GroupId
  readonly op: Uint8Array
}

interface DeviceListSync {
  readonly kind: 'device-list'
  readonly list: Uint8Array
}

/** What another device of ours did in a group that our group messages do not bring here. */
export type GroupMirror =
  | {
      readonly kind: 'group-sent'
      readonly group: GroupId
      readonly id: MessageId
      readonly sentAt: number
      readonly text: string
      readonly mentions: readonly ContactId[]
      readonly replyTo?: MessageId | undefined
      readonly file?: string | undefined
    }
  | { readonly kind: 'group-read'; readonly group: GroupId; readonly id: MessageId }
  | {
      readonly kind: 'group-reaction'
      readonly group: GroupId
      readonly id: MessageId
      readonly emoji: string
      readonly sentAt: number
    }

type Sync =
  | SentSync
  | ChangeSync
  | ContactSync
  | ContactRemovedSync
  | GroupSync
  | GroupMirror
  | DeviceListSync

/** A sync body, or how to make it when its turn in our own queue comes (undefined: nothing to send). */
type SyncSource = Sync | (() => Sync | undefined)

export class OwnSync {
  /** Lanes whose first session is being started (met). */
  private readonly opening = new Set<ContactId>()

  constructor(private readonly core: MessengerCore) {}

  /** Called after a contact was removed here because another device of ours did (outbox reset). */
  onContactRemoved: (cid: ContactId) => void = () => {}

  readonly extension: CoreExtensionHandler = {
    requires: 'message',
    receive: (ctx) => this.received(ctx),
  }

  /**
   * We met another device of ours: with no session to it yet, one starts now (its prekeys come
   * from the device itself, so only while it is here), with nothing sent. What we mirror to it
   * later is then sealed at once, and waits in its box on our home node while it is away
   * (mailbox/deposit.ts); unsealed it could only wait here until both are on again.
   */
  met(device: string): void {
    const core = this.core
    if (core.stopped || !core.isOwnDevice(device)) return
    const lane = laneOf(core.selfRecord(), device)
    if (this.opening.has(lane)) return
    this.opening.add(lane)
    void (async () => {
      if ((await core.sessionSet(lane)).length === 0) await openLane(core, lane)
    })()
      .catch((error) =>
        core.log.debug('no session with our other device yet', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
      .finally(() => this.opening.delete(lane))
  }

  /** Mirrors `m`, a text we just queued for a contact, to our other devices (not awaited). */
  sent(m: MessageRecord): void {
    if (m.direction !== 'out') return
    this.mirror({
      kind: 'sent',
      contact: m.contactId,
      id: m.id,
      sentAt: m.sentAt,
      text: m.text,
      ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
    })
  }

  /** Mirrors a read marker or a change to a message (not awaited). */
  changed(change: ChangeSync): void {
    this.mirror(change)
  }

  /**
   * Mirrors the contact as it is when the mirror is sent (added, accepted, remark or labels
   * changed): a later change in between goes with it. A request waiting here or a group member
   * is nothing to mirror.
   */
  contact(cid: ContactId): void {
    this.mirror(() => contactSyncOf(this.core.contacts.get(cid)))
  }

  /** Mirrors a contact removed or a request rejected. */
  contactRemoved(cid: ContactId): void {
    this.mirror({ kind: 'contact-removed', contact: cid })
  }

  /** Takes a group op our other device made (groups/service.ts). */
  onGroupOp: (gid: GroupId, op: Uint8Array) => Promise<void> = async () => {}

  /** Mirrors ops we made in a group, one per message (an op may be near a message's size). */
  groupOps(gid: GroupId, ops: readonly Uint8Array[]): void {
    for (const op of ops) this.mirror({ kind: 'group', group: gid, op })
  }

  /** Takes our group message, read marker or reaction from another device (groups/service.ts). */
  /** `device`: the device of ours that sent it (a file it mirrors is fetched from there). */
  onGroupMirror: (sync: GroupMirror, device: string) => Promise<void> = async () => {}

  /** Mirrors our group message, how far we read a group, or our reaction in one (not awaited). */
  group(sync: GroupMirror): void {
    this.mirror(sync)
  }

  /** Mirrors our new device list to the devices it names (a removed device is told by the linker). */
  deviceList(list: DeviceList): void {
    this.mirror({ kind: 'device-list', list: list.bytes })
  }

  private mirror(source: SyncSource): void {
    const core = this.core
    if (core.ownDevices.devices.length < 2) return
    void core.queue
      .run(core.selfId, async () => {
        if (core.stopped) return
        const body = typeof source === 'function' ? source() : source
        if (body === undefined) return
        const tx = new Tx()
        await core.encryptToOutbox(tx, core.selfId, {
          kind: 'extension',
          extension: SYNC_EXTENSION,
          body: utf8(JSON.stringify(wireOf(body))),
        })
        await core.commit(tx)
      })
      .catch((error) =>
        core.log.warn('could not mirror a message to our other devices', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
  }

  /** Runs in our own identity's queue; the message is written in its conversation's. */
  private async received(ctx: CoreExtensionContext): Promise<void> {
    const core = this.core
    const sync = parseSync(ctx.body)
    if (sync === undefined) {
      core.refuse('/jiayi/msg/1', 'bad-payload')
      return
    }
    if (sync.kind === 'device-list') return this.ownList(sync.list)
    if (sync.kind === 'group') {
      // After this envelope is durable and outside our own queue: the group answers members.
      ctx.after(() => void this.onGroupOp(sync.group, sync.op))
      return
    }
    if (sync.kind === 'group-sent' || sync.kind === 'group-read' || sync.kind === 'group-reaction') {
      // As a group op: after this envelope is durable, outside our own queue.
      ctx.after(() => void this.onGroupMirror(sync, ctx.device))
      return
    }
    if (sync.kind === 'contact') {
      if (!(await applyContactSync(core, sync))) core.refuse('/jiayi/msg/1', 'bad-payload')
      return
    }
    if (sync.kind === 'contact-removed') {
      if (await applyContactRemoved(core, sync.contact)) this.onContactRemoved(sync.contact)
      return
    }
    const contact = core.contacts.get(sync.contact)
    if (contact === undefined) return // a contact this device does not have (yet)
    // Nothing waits for our own queue inside a conversation's, so this cannot deadlock.
    await core.queue.run(contact.id, async () => {
      const known = await core.conversations.message(contact.id, sync.id)
      if (sync.kind !== 'sent') {
        if (known !== undefined) await this.apply(sync, known)
        return
      }
      if (known !== undefined) return // once
      const tx = new Tx()
      const record: MessageRecord = {
        id: sync.id,
        contactId: contact.id,
        seq: await core.conversations.nextMessageSeq(contact.id),
        direction: 'out',
        text: sync.text,
        replyTo: sync.replyTo,
        sentAt: sync.sentAt,
        at: Date.now(),
        status: 'sent',
      }
      core.putMessage(tx, record, 'new')
      await core.commit(tx)
    })
  }

  /**
   * Takes our new device list from another device of ours: signed by our identity, newer than the
   * one held, and naming this device (a device removed is told so by the linker, and wipes).
   */
  private async ownList(bytes: Uint8Array): Promise<void> {
    const core = this.core
    let list: DeviceList
    try {
      list = verifyDeviceList(bytes, core.account.identity.signing.publicKey)
    } catch {
      core.refuse('/jiayi/msg/1', 'bad-device-list')
      return
    }
    if (!isNewerDeviceList(list, core.ownDeviceList()) || !listsDevice(list, core.peerId.toString())) return
    await core.setOwnDeviceList(list.bytes, { mirrored: true })
  }

  /** Applies a change to `m` here, as the device it was made on did (inside the queue). */
  private async apply(sync: ChangeSync, m: MessageRecord): Promise<void> {
    const core = this.core
    const tx = new Tx()
    const cid = m.contactId
    if (sync.kind === 'read') {
      if ((await core.conversations.readAll(tx, cid, m.seq)) === undefined) return
      tx.after(() => core.events.emit('read', { contactId: cid }))
    } else if (m.deleted) {
      return
    } else if (sync.kind === 'reaction') {
      core.putMessage(tx, { ...m, reactions: { ...m.reactions, mine: sync.emoji || undefined } }, 'update')
    } else if (m.direction !== 'out') {
      return // only our own messages are edited or deleted
    } else if (sync.kind === 'edit') {
      core.putMessage(tx, { ...m, text: sync.text, editedAt: Date.now() }, 'update')
    } else {
      core.putMessage(tx, { ...m, text: '', deleted: true }, 'update')
    }
    await core.commit(tx)
  }
}

function parseSync(bytes: Uint8Array): Sync | undefined {
  let value: unknown
  try {
    value = JSON.parse(fromUtf8(bytes))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (v.kind === 'contact' || v.kind === 'contact-removed') return parseContactSync(v)
  if (v.kind === 'group') {
    if (typeof v.group !== 'string' || !isGroupId(v.group)) return undefined
    if (typeof v.op !== 'string' || v.op.length > (MAX_OP_BYTES * 4) / 3 + 4) return undefined
    try {
      return { kind: 'group', group: v.group, op: fromBase64(v.op) }
    } catch {
      return undefined
    }
  }
  if (v.kind === 'group-sent' || v.kind === 'group-read' || v.kind === 'group-reaction')
    return parseGroupMirror(v)
  if (v.kind === 'device-list') {
    if (typeof v.list !== 'string' || v.list.length > 65_536) return undefined
    try {
      return { kind: 'device-list', list: fromBase64(v.list) }
    } catch {
      return undefined
    }
  }
  if (typeof v.contact !== 'string' || !isContactId(v.contact)) return undefined
  if (typeof v.id !== 'string' || !isMessageId(v.id)) return undefined
  const target = { contact: v.contact, id: v.id }
  switch (v.kind) {
    case 'read':
    case 'delete':
      return { kind: v.kind, ...target }
    case 'reaction':
      return typeof v.emoji === 'string' && utf8(v.emoji).length <= MAX_EMOJI_BYTES
        ? { kind: 'reaction', ...target, emoji: v.emoji }
        : undefined
    case 'edit':
      return isText(v.text) ? { kind: 'edit', ...target, text: v.text } : undefined
    case 'sent':
      break
    default:
      return undefined
  }
  if (typeof v.sentAt !== 'number' || !Number.isSafeInteger(v.sentAt) || v.sentAt < 0) return undefined
  if (!isText(v.text)) return undefined
  if (v.replyTo !== undefined && (typeof v.replyTo !== 'string' || !isMessageId(v.replyTo))) return undefined
  return {
    kind: 'sent',
    contact: v.contact,
    id: v.id,
    sentAt: v.sentAt,
    text: v.text,
    ...(v.replyTo === undefined ? {} : { replyTo: v.replyTo as MessageId }),
  }
}

/** Only the shape: the group service checks what it says against the group (sizes, members, offer). */
function parseGroupMirror(v: Record<string, unknown>): GroupMirror | undefined {
  if (typeof v.group !== 'string' || !isGroupId(v.group)) return undefined
  if (typeof v.id !== 'string' || !isMessageId(v.id)) return undefined
  const target = { group: v.group, id: v.id }
  if (v.kind === 'group-read') return { kind: 'group-read', ...target }
  if (typeof v.sentAt !== 'number' || !Number.isSafeInteger(v.sentAt) || v.sentAt < 0) return undefined
  if (v.kind === 'group-reaction') {
    return typeof v.emoji === 'string' && utf8(v.emoji).length <= MAX_EMOJI_BYTES
      ? { kind: 'group-reaction', ...target, emoji: v.emoji, sentAt: v.sentAt }
      : undefined
  }
  if (typeof v.text !== 'string' || utf8(v.text).length > MAX_TEXT_BYTES) return undefined
  if (!Array.isArray(v.mentions) || !v.mentions.every((m) => typeof m === 'string' && isContactId(m)))
    return undefined
  if (v.replyTo !== undefined && (typeof v.replyTo !== 'string' || !isMessageId(v.replyTo))) return undefined
  if (v.file !== undefined && typeof v.file !== 'string') return undefined
  if (v.text === '' && v.file === undefined) return undefined
  return {
    kind: 'group-sent',
    ...target,
    sentAt: v.sentAt,
    text: v.text,
    mentions: v.mentions as ContactId[],
    ...(v.replyTo === undefined ? {} : { replyTo: v.replyTo as MessageId }),
    ...(v.file === undefined ? {} : { file: v.file as string }),
  }
}

/** Binary fields as base64 in the JSON body. */
function wireOf(body: Sync): unknown {
  if (body.kind === 'device-list') return { ...body, list: toBase64(body.list) }
  if (body.kind === 'group') return { ...body, op: toBase64(body.op) }
  return body
}

function isText(text: unknown): text is string {
  return typeof text === 'string' && text !== '' && utf8(text).length <= MAX_TEXT_BYTES
}
