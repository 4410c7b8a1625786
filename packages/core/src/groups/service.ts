/**
 * Groups over the messenger (DESIGN.md "Groups"): each group's op log, this member's sender keys
 * and the group's messages, kept in the messenger's sealed store; group traffic travels as the
 * messenger extension `group` inside pairwise sessions, so it is durable in the outbox, retried,
 * and authenticated per member.
 *
 * - A change (op) goes to every member; a member who was away gets it at the next sync.
 * - A message is one sender-key ciphertext, the same bytes for every member, handed to each
 *   member's outbox. Members keep what they read (bounded, carry.ts) and carry it on: when two
 *   members connect they sync (heads + high-water marks) and each sends what the other lacks,
 *   so a member who was away gets everything from whoever is online.
 * - A member we never added gets a `member` record (trust.ts): group traffic only.
 */
import type { PeerId } from '@libp2p/interface'
import { bytesToHex, fromUtf8, hexToBytes, toBase64, utf8 } from '../bytes.js'
import { decodeCardBytes } from '../card/card.js'
import { decodeCardPayload } from '../card/link.js'
import { decodeSenderKeyMessage } from '../crypto/sender-keys/wire.js'
import { initiateSession } from '../crypto/session.js'
import type { FileMessageData } from '../files/transfer.js'
import type { MessengerCore } from '../messenger/core.js'
import { MessengerError } from '../messenger/errors.js'
import { type ContactId, contactIdFor, isMessageId, type MessageId, newMessageId } from '../messenger/ids.js'
import type { CoreExtensionContext, CoreExtensionHandler } from '../messenger/inbound.js'
import { newContactRecord } from '../messenger/inbound.js'
import { laneDevice } from '../messenger/lanes.js'
import { decodePayload } from '../messenger/payload.js'
import type { GroupMirror } from '../messenger/sync.js'
import { Tx } from '../messenger/tx.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import type { CarriedMessage, HighWaterMarks } from './carry.js'
import { GroupChannel, type KeyHandout } from './channel.js'
import { GroupError } from './errors.js'
import { decodeGroupFile, type GroupFileHooks, groupFileView } from './group-files.js'
import {
  decodeMessage,
  encodeGroupStructure,
  encodeMessage,
  GroupKeys,
  type HeldGroup,
  loadGroups,
  type StoredMessage,
  stageGroupState,
  structureMark,
} from './group-store.js'
import { GroupTraffic } from './group-wire.pb.js'
import {
  checkInviteFresh,
  DEFAULT_INVITE_TTL_MS,
  decodeInviteBytes,
  decodeInviteLink,
  inviteLink,
  inviteQrText,
  makeInvite,
} from './invite.js'
import { type CheckedJoin, checkJoin, joinRequestIn, MAX_JOIN_REQUESTS } from './joins.js'
import { GroupLog } from './log.js'
import { MemberDevices } from './member-devices.js'
import { MAX_MENTIONS, mentionsIn } from './mentions.js'
import { MessageIndex } from './message-index.js'
import {
  checkGroupName,
  type GroupCard,
  type GroupId,
  type GroupOp,
  type GroupOpDraft,
  MAX_CARDS_PER_OP,
} from './ops.js'
import { GroupReactions, type GroupReactionsView, REACTION_KIND } from './reactions.js'
import { GroupReceipts } from './receipts.js'
import type { GroupChange, GroupRole, GroupState } from './state.js'

export const GROUP_EXTENSION = 'group'
/** Messages per traffic payload: a sync answer of many is several payloads (64 KiB frames). */
const MESSAGES_PER_PAYLOAD = 16
const OPS_PER_PAYLOAD = 2
/** Message bytes per traffic payload, below the 64 KiB envelope with room for its framing. */
const PAYLOAD_BYTES = 40 * 1024
const MAX_GROUP_TEXT_BYTES = 16 * 1024
/** Logs of groups someone sends us before the ops that add us: a stranger cannot grow this. */
const MAX_PENDING_LOGS = 16
/** Acks of a group message are told at most this often (a 500-member group acks 499 times). */
const DELIVERY_EVENT_MS = 300
/** Groups up to this size hand every member's key out at once (settleKeys). */
export const EAGER_KEYS_UP_TO = 64
/** Quiet time after received ops before our keys are settled (settleSoon). */
const SETTLE_AFTER_OPS_MS = 300
/** Members per group asked for news after a start. */
const REACH_OUT_MEMBERS = 4

function logFrom(create: Uint8Array): GroupLog | undefined {
  try {
    return GroupLog.fromCreate(create)
  } catch {
    return undefined
  }
}

export interface GroupMemberView {
  readonly id: ContactId
  readonly name: string
  readonly role: GroupRole
}

export interface GroupView {
  readonly id: GroupId
  readonly name: string
  readonly members: readonly GroupMemberView[]
  readonly admins: readonly ContactId[]
  readonly owner: ContactId
  readonly unread: number
  /** Unread messages that @mention us (also counted in `unread`). */
  readonly mentions: number
  readonly joinApproval: boolean
  readonly adminsOnly: boolean
  /** Join requests waiting for an admin (held by the admin whose invite they used). */
  readonly requests: readonly { readonly id: ContactId; readonly name: string }[]
}

export interface InviteView {
  readonly link: string
  readonly qr: string
  /** ISO 8601. */
  readonly expiresAt: string
  /** Names the invite for `revokeInvite`. */
  readonly id: string
}

export interface JoinResult {
  readonly group: GroupView
  /** joined: we are a member; pending: the request waits for an admin (or for the admin's peer). */
  readonly state: 'joined' | 'pending'
}

/** A group message, shaped as a 1:1 message (MessageView) plus the group and its sender. */
export interface GroupMessageView {
  readonly id: MessageId
  readonly groupId: GroupId
  /** The sender (as in a 1:1 message's `contactId`: whose words these are). */
  readonly contactId: ContactId
  readonly sender: { readonly id: ContactId; readonly name: string }
  readonly direction: 'in' | 'out'
  readonly text: string
  /** ISO 8601, the sender's clock. */
  readonly sentAt: string
  readonly status: 'sent' | 'received'
  readonly edited: false
  readonly deleted: false
  /** Members it @mentions, and whether we are one of them. */
  readonly mentions: readonly ContactId[]
  readonly mentionsMe: boolean
  readonly replyTo?: MessageId | undefined
  /** Ours: members whose peers have it, of how many it went to ("delivered to 37 of 40"). */
  readonly delivery?: { readonly deliveredTo: readonly ContactId[]; readonly of: number } | undefined
  /** Ours: the members `delivery` counts, by name (the list behind "delivered to 37 of 40"). */
  readonly deliveredTo?: readonly { readonly id: ContactId; readonly name: string }[] | undefined
  /** Ours, in a group of at most READ_RECEIPTS_UP_TO members: who read it (receipts.ts). */
  readonly readBy?: readonly { readonly id: ContactId; readonly name: string }[] | undefined
  /** Members' reactions (reactions.ts): `mine` and `theirs` as in a 1:1 view, and who chose what. */
  readonly reactions?: GroupReactionsView | undefined
  /**
   * A line about the group itself (someone joined, left, was removed, the name changed): `text`
   * says it in English, `data` says it for an app to put in its own words.
   */
  readonly extension?:
    | { readonly kind: 'group-change'; readonly data: GroupChangeData }
    /** A file or picture (group-files.ts): the same data as a 1:1 file message's. */
    | { readonly kind: 'file-offer'; readonly data: FileMessageData }
    | undefined
}

export interface GroupChangeData {
  readonly change: GroupChange['kind']
  readonly by: { readonly id: ContactId; readonly name: string }
  readonly members: readonly { readonly id: ContactId; readonly name: string }[]
  readonly name?: string | undefined
}

/** What a traffic payload may hold (GroupTraffic, with plain byte arrays). */
interface TrafficOut {
  readonly groupId: Uint8Array
  readonly ops?: readonly Uint8Array[]
  readonly distribution?: Uint8Array
  readonly messages?: readonly { readonly sender: Uint8Array; readonly message: Uint8Array }[]
  readonly sync?: boolean
  readonly invite?: Uint8Array
  readonly card?: Uint8Array
  readonly refused?: string
  readonly read?: readonly Uint8Array[]
  readonly deviceLists?: readonly Uint8Array[]
  readonly heads?: readonly Uint8Array[]
  readonly marks?: readonly {
    readonly sender: Uint8Array
    readonly keyId: number
    readonly iteration: bigint
  }[]
}

export class Groups {
  private readonly loaded = new Map<GroupId, HeldGroup>()
  private readonly reactions: GroupReactions
  private readonly index: MessageIndex
  /** Read receipts and delivery lists (public: a test lowers `receipts.upTo`). */
  readonly receipts: GroupReceipts
  /** Set by the file service while it runs: group file messages make transfers (group-files.ts). */
  files: GroupFileHooks | undefined

  /** Members' device lists (member-devices.ts). */
  private readonly devices: MemberDevices

  constructor(
    private readonly core: MessengerCore,
    /** Takes a newer device list as a member's (Messenger.applyDeviceList's work). */
    applyDeviceList: (cid: ContactId, bytes: Uint8Array) => Promise<boolean>,
  ) {
    const index = new MessageIndex(core.store)
    this.index = index
    const me = this.me
    this.devices = new MemberDevices({ core, me, apply: applyDeviceList })
    this.reactions = new GroupReactions({
      core,
      me,
      index,
      broadcast: (g, plaintext) => this.broadcast(g, plaintext),
      show: (g, m) =>
        core.events.emit('group-message', { groupId: g.log.id, message: this.messageView(g, m) }),
    })
    this.reactions.groupOf = (gid) => this.loaded.get(gid)
    this.receipts = new GroupReceipts({
      core,
      me,
      sendRead: (g, to, ids) => this.sendTraffic(to, { groupId: hexToBytes(g.log.id), read: ids }, g),
      updateOwn: (id, change, missing) => this.updateOwn(id, change, missing),
    })
  }

  readonly extension: CoreExtensionHandler = {
    requires: 'group',
    receive: (ctx) => this.receive(ctx),
  }

  /** Loads every group and lets members we share a group with start sessions. */
  async start(): Promise<void> {
    const core = this.core
    for await (const g of loadGroups(core.store, this.me)) this.loaded.set(g.log.id, g)
    for (const g of this.loaded.values()) await this.reactions.load(g)
    core.groupMemberCard = (cid) => this.cardOf(cid)
    core.groupJoinerCard = (plaintext) => this.joinerCard(plaintext)
    core.onOtherAck = (cid, id) => this.delivered(cid, id)
  }

  private get me(): ContactId {
    return contactIdFor(this.core.account.identity.signing.publicKey)
  }

  /** The card of `cid` in any group we are both in. */
  private cardOf(cid: ContactId): GroupCard | undefined {
    for (const g of this.loaded.values()) {
      const state = g.log.state()
      if (state.members.has(this.me)) {
        const m = state.members.get(cid)
        if (m !== undefined) return m.card
      }
    }
    return undefined
  }

  // ---------------------------------------------------------------- reading

  list(): GroupView[] {
    return [...this.loaded.values()]
      .filter((g) => g.log.state().members.has(this.me))
      .map((g) => this.view(g))
  }

  get(ref: string): GroupView {
    return this.view(this.resolve(ref))
  }

  /** A group by id, id prefix (≥ 4 hex digits) or name; NotFound or an ambiguity says which. */
  private resolve(ref: string): HeldGroup {
    const query = ref.trim()
    const all = [...this.loaded.values()].filter((g) => g.log.state().members.has(this.me))
    const exact = all.find((g) => g.log.id === query)
    if (exact !== undefined) return exact
    const lower = query.toLowerCase()
    const rules: ((g: HeldGroup) => boolean)[] = [
      (g) => g.log.state().name.toLowerCase() === lower,
      (g) => /^[0-9a-f]{4,32}$/.test(lower) && g.log.id.startsWith(lower),
    ]
    for (const rule of rules) {
      const matches = all.filter(rule)
      if (matches.length === 1) return matches[0]!
      if (matches.length > 1) {
        throw new GroupError(
          'NotFound',
          `${matches.length} groups match "${query}"; use an id: ${matches.map((g) => g.log.id).join(', ')}`,
        )
      }
    }
    throw new GroupError('NotFound', `no group matches "${query}"`)
  }

  /** The group `ref` names, if it names one (for commands that take a contact or a group). */
  find(ref: string): GroupView | undefined {
    try {
      return this.view(this.resolve(ref))
    } catch (error) {
      if (GroupError.is(error, 'NotFound') && !error.message.includes('groups match')) return undefined
      throw error
    }
  }

  private view(g: HeldGroup): GroupView {
    const state = g.log.state()
    const members = [...state.members.values()].map((m) => ({
      id: m.id,
      name: this.nameOf(m.id, m.card.name),
      role: m.role,
    }))
    return {
      id: state.id,
      name: state.name,
      members,
      admins: members.filter((m) => m.role !== 'member').map((m) => m.id),
      owner: state.owner,
      unread: g.unread,
      mentions: g.mentioned,
      joinApproval: state.joinApproval,
      adminsOnly: state.adminsOnly,
      requests: [...g.requests].map(([id, r]) => ({ id, name: cardName(r.card) })),
    }
  }

  /** Every name we know a member by (for @mentions): their card's, and our remark and name for a contact. */
  private namesOf(id: ContactId, cardName: string): string[] {
    const c = this.core.contacts.get(id)
    return [cardName, ...(c === undefined ? [] : [c.name, ...(c.remark === undefined ? [] : [c.remark])])]
  }

  /** What we call a member: the remark or name of a contact, else the name on their card. */
  private nameOf(id: ContactId, cardName: string): string {
    const c = this.core.contacts.get(id)
    if (c !== undefined && c.state !== 'member') return c.remark ?? c.name
    return cardName
  }

  async messages(ref: string, options: { limit?: number; peek?: boolean } = {}): Promise<GroupMessageView[]> {
    const g = this.resolve(ref)
    const limit = Math.max(1, Math.min(options.limit ?? 50, 10_000))
    const out: GroupMessageView[] = []
    for await (const [, value] of this.core.store.iterate({
      prefix: GroupKeys.messages(g.log.id),
      reverse: true,
      limit,
    })) {
      out.push(this.messageView(g, decodeMessage(value)))
    }
    out.reverse()
    const newest = out.at(-1)
    // The group's own changes, as lines among the messages of this page (a full page starts at
    // its oldest message; a short one holds the whole history).
    const from = out.length === limit ? Date.parse(out[0]!.sentAt) : Number.NEGATIVE_INFINITY
    const lines = g.log
      .state()
      .changes.filter((c) => c.at >= from && c.kind !== 'revoke-invite')
      .map((c) => this.changeView(g, c))
    const page = [...out, ...lines].sort((a, b) => a.sentAt.localeCompare(b.sentAt))
    if (!options.peek && (g.unread > 0 || g.mentioned > 0)) {
      const read = g.unread
      g.unread = 0
      g.mentioned = 0
      await this.persist(g)
      this.changed(g)
      // Our other devices read as far (messenger/sync.ts); the authors hear it from here only.
      if (newest !== undefined) this.onOwnMirror({ kind: 'group-read', group: g.log.id, id: newest.id })
      await this.receipts.read(g, read)
    }
    return page
  }

  private messageView(g: HeldGroup, s: StoredMessage): GroupMessageView {
    const sender = s.sender as ContactId
    const member = g.log.state().members.get(sender)
    const name =
      sender === this.me ? this.core.account.name : this.nameOf(sender, member?.card.name ?? sender)
    const out = sender === this.me
    const who = (id: ContactId) => ({
      id,
      name: id === this.me ? this.core.account.name : this.nameOf(id, cardNameIn(g, id)),
    })
    return {
      id: s.id as MessageId,
      groupId: g.log.id,
      contactId: sender,
      sender: { id: sender, name },
      direction: out ? 'out' : 'in',
      text: s.text,
      sentAt: new Date(s.sentAt).toISOString(),
      status: out ? 'sent' : 'received',
      edited: false,
      deleted: false,
      mentions: (s.mentions ?? []) as ContactId[],
      mentionsMe: (s.mentions ?? []).includes(this.me),
      ...(s.replyTo === undefined ? {} : { replyTo: s.replyTo as MessageId }),
      ...(s.recipients === undefined
        ? {}
        : { delivery: { deliveredTo: (s.deliveredTo ?? []) as ContactId[], of: s.recipients } }),
      ...(s.recipients === undefined ? {} : this.receipts.lists(g, s, who)),
      ...this.reactions.viewOf(g.log.id, s.id, who),
      ...(s.file === undefined
        ? {}
        : groupFileView({ id: s.id, file: s.file }, out ? 'out' : 'in', this.files)),
    }
  }

  /** A change to the group as a line in its conversation. */
  private changeView(g: HeldGroup, c: GroupChange): GroupMessageView {
    const state = g.log.state()
    const who = (id: ContactId) => ({
      id,
      name: id === this.me ? this.core.account.name : this.nameOf(id, cardNameIn(g, id)),
    })
    const by = who(c.by)
    const members = c.members.map(who)
    return {
      id: c.op.slice(0, 32) as MessageId,
      groupId: state.id,
      contactId: c.by,
      sender: by,
      direction: c.by === this.me ? 'out' : 'in',
      text: changeText(
        c,
        by.name,
        members.map((m) => m.name),
      ),
      sentAt: new Date(c.at).toISOString(),
      status: c.by === this.me ? 'sent' : 'received',
      edited: false,
      deleted: false,
      mentions: [],
      mentionsMe: false,
      extension: {
        kind: 'group-change',
        data: { change: c.kind, by, members, ...(c.name === undefined ? {} : { name: c.name }) },
      },
    }
  }

  // ---------------------------------------------------------------- changing

  /** Starts a group with us as owner and `contacts` (accepted contacts) as members. */
  async create(name: string, contacts: readonly string[] = []): Promise<GroupView> {
    const core = this.core
    const cards = contacts.map((ref) => this.contactCard(ref))
    const log = GroupLog.start(core.account.identity, { name: checkGroupName(name), card: core.cardBytes() })
    for (let i = 0; i < cards.length; i += MAX_CARDS_PER_OP) {
      log.make(core.account.identity, { kind: 'add', cards: cards.slice(i, i + MAX_CARDS_PER_OP) })
    }
    const g: HeldGroup = {
      log,
      channel: new GroupChannel(log.id, this.me),
      unread: 0,
      mentioned: 0,
      nextSeq: 1,
      requests: new Map(),
    }
    this.loaded.set(log.id, g)
    await this.persist(g)
    await this.afterChange(g, log.ordered())
    this.changed(g)
    return this.view(g)
  }

  /** The card of an accepted contact, for adding them. */
  private contactCard(ref: string): Uint8Array {
    const contact = this.core.contacts.resolve(ref)
    if (contact.state !== 'accepted') {
      throw new MessengerError(
        'NotAccepted',
        `${contact.name} is not a contact yet; only contacts are added to a group`,
      )
    }
    return decodeCardPayload(contact.card)
  }

  async add(ref: string, contact: string): Promise<GroupView> {
    return this.change(ref, { kind: 'add', cards: [this.contactCard(contact)] })
  }

  async remove(ref: string, member: string): Promise<GroupView> {
    return this.change(ref, { kind: 'remove', target: this.memberKey(ref, member) })
  }

  async promote(ref: string, member: string): Promise<GroupView> {
    return this.change(ref, { kind: 'promote', target: this.memberKey(ref, member) })
  }

  async demote(ref: string, member: string): Promise<GroupView> {
    return this.change(ref, { kind: 'demote', target: this.memberKey(ref, member) })
  }

  async transfer(ref: string, member: string): Promise<GroupView> {
    return this.change(ref, { kind: 'transfer', target: this.memberKey(ref, member) })
  }

  async rename(ref: string, name: string): Promise<GroupView> {
    return this.change(ref, { kind: 'rename', name: checkGroupName(name) })
  }

  /** Join approval and admins-only posting (an admin). */
  async settings(ref: string, settings: { joinApproval: boolean; adminsOnly: boolean }): Promise<GroupView> {
    return this.change(ref, { kind: 'settings', ...settings })
  }

  async leave(ref: string): Promise<GroupView> {
    return this.change(ref, { kind: 'leave' })
  }

  /** A member by id, id prefix or name, as their identity key. */
  private memberKey(ref: string, member: string): Uint8Array {
    const state = this.resolve(ref).log.state()
    const q = member.trim().toLowerCase()
    const matches = [...state.members.values()].filter(
      (m) =>
        m.id === q ||
        (/^[0-9a-f]{4,16}$/.test(q) && m.id.startsWith(q)) ||
        m.card.name.toLowerCase() === q ||
        this.nameOf(m.id, m.card.name).toLowerCase() === q,
    )
    if (matches.length === 1) return matches[0]!.card.identity.signingKey
    if (matches.length > 1) {
      throw new GroupError(
        'NotFound',
        `${matches.length} members match "${member}"; use an id: ${matches.map((m) => m.id).join(', ')}`,
      )
    }
    throw new GroupError('NotFound', `no member of ${state.name} matches "${member}"`)
  }

  private async change(ref: string, draft: Exclude<GroupOpDraft, { kind: 'create' }>): Promise<GroupView> {
    const g = this.resolve(ref)
    const before = g.log.state()
    const op = g.log.make(this.core.account.identity, draft)
    await this.persist(g)
    await this.afterChange(g, [op], before)
    this.changed(g)
    return this.view(g)
  }

  /** Tells listeners (every open window) that a group changed here: ours, or read. */
  private changed(g: HeldGroup): void {
    const change = g.log.state().members.has(this.me) ? 'update' : 'removed'
    this.core.events.emit('group', { groupId: g.log.id, change })
  }

  /**
   * After we made `ops`: tells every member (a newcomer gets the whole log; one who was removed
   * or left hears of it too, and stops sending), drops our key if anyone it was given to is gone
   * (the next send hands out a new one), and stores where we stand.
   */
  private async afterChange(g: HeldGroup, ops: readonly GroupOp[], before?: GroupState): Promise<void> {
    const state = g.log.state()
    // Our other devices make the change too (a new group: its whole log), through sync messages
    // (messenger/sync.ts): group traffic to a member reaches each of their devices, but we send
    // none to ourselves.
    this.onOwnOps(
      g.log.id,
      (before === undefined ? g.log.ordered() : ops).map((o) => o.bytes),
    )
    const to = new Set<ContactId>([...state.members.keys(), ...(before?.members.keys() ?? [])])
    to.delete(this.me)
    const newcomers: ContactId[] = []
    for (const cid of to) {
      const newcomer = before === undefined || !before.members.has(cid)
      await this.sendOps(g, cid, newcomer ? g.log.ordered() : ops)
      if (newcomer && state.members.has(cid)) newcomers.push(cid)
    }
    await this.tellDevices(g, newcomers)
    await this.settleKeys(g, state)
  }

  /**
   * After a change: in a group of up to EAGER_KEYS_UP_TO members every member hands its key to
   * every other at once, so a member who is away later can read a burst carried by others even
   * when the burst's sender first spoke while it was away. In a bigger group keys are handed
   * out when a member first sends (n² sessions would cost too much), and such a burst waits for
   * its sender to be back.
   */
  private async settleKeys(g: HeldGroup, state: GroupState): Promise<void> {
    if (state.members.size <= EAGER_KEYS_UP_TO && state.members.has(this.me)) {
      await this.handOut(g, g.channel.keysFor(state))
    } else {
      g.channel.align(state)
      await this.persist(g)
    }
  }

  /**
   * Settles our keys once a burst of ops has stopped coming in. A newcomer gets a big group's log
   * a few ops per payload, and the state after the first payloads is small (20, then 60
   * members): settled at once, it would take the eager path and hand our key to each of them, so
   * a group of 70 or 500 would pay the n² sessions EAGER_KEYS_UP_TO is there to avoid.
   */
  private settleSoon(g: HeldGroup): void {
    const gid = g.log.id
    clearTimeout(this.settleTimers.get(gid))
    const timer = setTimeout(() => {
      this.settleTimers.delete(gid)
      if (this.core.stopped || this.loaded.get(gid) !== g) return
      void this.settleKeys(g, g.log.state()).catch((error) =>
        this.core.log.warn('could not hand out a group key', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
    }, SETTLE_AFTER_OPS_MS)
    this.settleTimers.set(gid, timer)
  }

  private readonly settleTimers = new Map<GroupId, ReturnType<typeof setTimeout>>()

  private async handOut(g: HeldGroup, handouts: readonly KeyHandout[]): Promise<void> {
    await this.persist(g)
    for (const h of handouts)
      await this.sendTraffic(h.to, { groupId: hexToBytes(g.log.id), distribution: h.distribution })
  }

  /**
   * A member's list named a device we did not know. What that device sent us until now was
   * refused (its sender key too, so its messages would wait for a key that is never sent again):
   * a sync to the member, which reaches every device on the list, has it hand its key over again
   * and sends what we lack.
   */
  async devicesAdded(cid: ContactId): Promise<void> {
    for (const g of this.loaded.values()) {
      const state = g.log.state()
      if (!state.members.has(this.me) || !state.members.has(cid) || cid === this.me) continue
      // Kept in the outbox (not ephemeral): the new device's lane has no session yet, and its
      // entries wait for one to open.
      await this.sendTraffic(cid, this.syncRequest(g), g)
    }
  }

  /** Our device list to `cids`, members of `g`, when it says more than our card (member-devices.ts). */
  private async tellDevices(g: HeldGroup, cids: readonly ContactId[]): Promise<void> {
    const list = this.devices.ownNews()
    if (list === undefined) return
    for (const cid of cids)
      await this.sendTraffic(cid, { groupId: hexToBytes(g.log.id), deviceLists: [list] }, g)
  }

  /**
   * Our device list changed (a device linked or removed): every member of our groups hears of it,
   * once per person, so their next message reaches the new device and the removed one is refused.
   * Contacts hear of it by address update too; this reaches members who are not contacts.
   */
  async announceDevices(): Promise<void> {
    const list = this.devices.ownNews()
    if (list === undefined) return
    const told = new Set<ContactId>([this.me])
    for (const g of this.loaded.values()) {
      const state = g.log.state()
      if (!state.members.has(this.me)) continue
      for (const cid of state.members.keys()) {
        if (told.has(cid)) continue
        told.add(cid)
        await this.sendTraffic(cid, { groupId: hexToBytes(g.log.id), deviceLists: [list] }, g)
      }
    }
  }

  private async sendOps(g: HeldGroup, cid: ContactId, ops: readonly GroupOp[]): Promise<void> {
    for (let i = 0; i < ops.length; i += OPS_PER_PAYLOAD) {
      await this.sendTraffic(
        cid,
        { groupId: hexToBytes(g.log.id), ops: ops.slice(i, i + OPS_PER_PAYLOAD).map((o) => o.bytes) },
        g,
      )
    }
  }

  // ---------------------------------------------------------------- invites

  /** A signed invite to the group (we must be an admin), valid for `expiresInMs`. */
  async invite(ref: string, expiresInMs = DEFAULT_INVITE_TTL_MS): Promise<InviteView> {
    const g = this.resolve(ref)
    const state = g.log.state()
    const role = state.members.get(this.me)?.role
    if (role === undefined || role === 'member')
      throw new GroupError('NotAllowed', 'only admins make invites')
    const invite = makeInvite(this.core.account.identity, {
      groupId: g.log.id,
      groupName: state.name,
      adminCard: this.core.cardBytes(),
      expiresAt: Date.now() + expiresInMs,
      joinApproval: state.joinApproval,
    })
    return {
      link: inviteLink(invite),
      qr: inviteQrText(invite),
      expiresAt: new Date(invite.expiresAt).toISOString(),
      id: invite.id,
    }
  }

  /** Revokes an invite (by its link or id): joins asked with it are refused from now on. */
  async revokeInvite(ref: string, invite: string): Promise<GroupView> {
    const id = /^[0-9a-f]{32}$/.test(invite.trim()) ? invite.trim() : decodeInviteLink(invite).id
    return this.change(ref, { kind: 'revoke-invite', inviteId: id })
  }

  /**
   * Asks to join by an invite link. Sends the request to the admin who made it; when the group
   * does not ask for approval, waits up to `waitMs` for the admin's peer to add us.
   */
  async join(link: string, waitMs = 15_000): Promise<JoinResult> {
    const invite = decodeInviteLink(link)
    checkInviteFresh(invite)
    const held = this.loaded.get(invite.groupId)
    if (held?.log.state().members.has(this.me)) return { group: this.view(held), state: 'joined' }
    // With approval on, a refusal (expired, revoked) still comes at once: wait a moment for it.
    const joined = this.whenJoined(invite.groupId, invite.joinApproval ? Math.min(waitMs, 3_000) : waitMs)
    await this.sendTraffic(
      invite.adminId,
      { groupId: hexToBytes(invite.groupId), invite: invite.bytes, card: this.core.cardBytes() },
      undefined,
      {},
      invite.admin,
    )
    const g = await joined
    if (g !== undefined) return { group: this.view(g), state: 'joined' }
    // Still waiting for an admin: their later "no" ends the wait (an event, below in handle).
    if (this.awaiting.size >= MAX_JOIN_REQUESTS) this.awaiting.delete(this.awaiting.keys().next().value!)
    this.awaiting.set(invite.groupId, invite.adminId)
    return {
      group: {
        id: invite.groupId,
        name: invite.groupName,
        members: [],
        admins: [invite.adminId],
        owner: invite.adminId,
        unread: 0,
        mentions: 0,
        joinApproval: invite.joinApproval,
        adminsOnly: false,
        requests: [],
      },
      state: 'pending',
    }
  }

  /** Resolves with the group once we are in it, undefined after `ms`; rejects on a refusal. */
  private whenJoined(gid: GroupId, ms: number): Promise<HeldGroup | undefined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(undefined), ms)
      const done = (g: HeldGroup | undefined, error?: unknown) => {
        clearTimeout(timer)
        off()
        this.joining.delete(gid)
        if (error === undefined) resolve(g)
        else reject(error)
      }
      const off = this.core.events.on('group', (e) => {
        const g = this.loaded.get(gid)
        if (e.groupId === gid && g?.log.state().members.has(this.me)) done(g)
      })
      this.joining.set(gid, (code) => done(undefined, new GroupError(code, refusalText(code))))
    })
  }

  /** Joins under way: how to tell the waiting `join` that the admin refused. */
  private readonly joining = new Map<GroupId, (code: GroupError['code']) => void>()
  /** Joins left pending (not persisted): the admin whose refusal we would believe, by group. */
  private readonly awaiting = new Map<GroupId, ContactId>()

  /** Lets a waiting join request in (an admin; join approval on). */
  async approve(ref: string, who: string): Promise<GroupView> {
    const g = this.resolve(ref)
    const [id, request] = this.requestOf(g, who)
    const view = await this.change(ref, { kind: 'add', cards: [request.card] })
    g.requests.delete(id)
    await this.persist(g)
    return { ...view, requests: view.requests.filter((r) => r.id !== id) }
  }

  /**
   * Turns a waiting join request down (an admin, as for approve): the request goes, and the
   * joiner's peer is told (`refused: 'Refused'`), which ends its wait with a clear "no".
   */
  async refuse(ref: string, who: string): Promise<GroupView> {
    const g = this.resolve(ref)
    const role = g.log.state().members.get(this.me)?.role
    if (role === undefined || role === 'member')
      throw new GroupError('NotAllowed', 'only admins answer join requests')
    const [id] = this.requestOf(g, who)
    g.requests.delete(id)
    await this.persist(g)
    this.changed(g)
    await this.sendTraffic(id, { groupId: hexToBytes(g.log.id), refused: 'Refused' })
    return this.view(g)
  }

  /** The one join request `who` (an id, id prefix or name) names. */
  private requestOf(g: HeldGroup, who: string): [ContactId, { card: Uint8Array; at: number }] {
    const q = who.trim().toLowerCase()
    const matches = [...g.requests].filter(
      ([id, r]) =>
        id === q || (/^[0-9a-f]{4,16}$/.test(q) && id.startsWith(q)) || cardName(r.card).toLowerCase() === q,
    )
    if (matches.length !== 1) {
      throw new GroupError(
        'NotFound',
        matches.length === 0
          ? `no join request matches "${who}"`
          : `${matches.length} join requests match "${who}"; use an id`,
      )
    }
    return matches[0]!
  }

  /** The card of a stranger whose first payload asks to join by an invite of ours. */
  private joinerCard(plaintext: Uint8Array): GroupCard | undefined {
    let payload: ReturnType<typeof decodePayload>
    try {
      payload = decodePayload(plaintext)
    } catch {
      return undefined
    }
    const body = payload.body
    if (body.kind !== 'extension' || body.extension !== GROUP_EXTENSION) return undefined
    const request = joinRequestIn(body.body)
    if (request === undefined) return undefined
    try {
      // Admitted on a real invite of ours; expiry and revocation are answered once in (receiveJoin).
      const invite = decodeInviteBytes(request.invite)
      if (invite.adminId !== this.me || !this.loaded.has(invite.groupId)) return undefined
      return { ...decodeCardBytes(request.card), bytes: request.card }
    } catch {
      return undefined
    }
  }

  /** A join request reached us: add the joiner, hold the request for approval, or say no. */
  private async receiveJoin(from: ContactId, t: GroupTraffic): Promise<void> {
    const gid = bytesToHex(t.groupId) as GroupId
    let checked: CheckedJoin
    try {
      checked = checkJoin(t.invite, t.card, this.me, (id) => this.loaded.get(id))
      if (contactIdFor(checked.card.identity.signingKey) !== from)
        throw new GroupError('BadField', 'not their own card')
    } catch (error) {
      this.core.refuse(PROTOCOL_MSG, 'not-allowed')
      const code = GroupError.is(error) ? error.code : 'NotAllowed'
      await this.sendTraffic(from, { groupId: t.groupId, refused: code })
      return
    }
    const g = this.loaded.get(gid)!
    const state = g.log.state()
    if (state.members.has(from)) return
    if (state.joinApproval) {
      if (g.requests.size >= MAX_JOIN_REQUESTS) g.requests.delete(g.requests.keys().next().value!)
      g.requests.set(from, { card: checked.card.bytes, at: Date.now() })
      await this.persist(g)
      this.core.events.emit('group', { groupId: gid, change: 'update' })
      return
    }
    const before = state
    const op = g.log.make(this.core.account.identity, { kind: 'add', cards: [checked.card.bytes] })
    await this.persist(g)
    await this.afterChange(g, [op], before)
    this.core.events.emit('group', { groupId: gid, change: 'update' })
  }

  // ---------------------------------------------------------------- sending

  /** `file` and `id`: a file message (group-files.ts), whose id its transfer already has. */
  async send(
    ref: string,
    text: string,
    options: { replyTo?: string; file?: string; id?: MessageId } = {},
  ): Promise<GroupMessageView> {
    const g = this.resolve(ref)
    const state = g.log.state()
    const me = state.members.get(this.me)
    if (me === undefined) throw new GroupError('NotAllowed', 'you are not a member of this group')
    if (state.adminsOnly && me.role === 'member')
      throw new GroupError('NotAllowed', 'only admins post in this group')
    const textless = options.file !== undefined && text === ''
    if (
      typeof text !== 'string' ||
      (text.trim() === '' && !textless) ||
      utf8(text).length > MAX_GROUP_TEXT_BYTES
    ) {
      throw new MessengerError('BadInput', `a message is 1 to ${MAX_GROUP_TEXT_BYTES} bytes of text`)
    }
    if (options.replyTo !== undefined && !isMessageId(options.replyTo)) {
      throw new MessengerError('BadInput', 'replyTo is a message id (32 hex digits)')
    }
    const id = options.id ?? newMessageId()
    const sentAt = Date.now()
    const mentions = mentionsIn(text, state, this.me, (mid, cardName) => this.namesOf(mid, cardName))
    const file = options.file === undefined ? {} : { file: options.file }
    const content = {
      id,
      text,
      sentAt,
      mentions,
      ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
      ...file,
      // A file is fetched from the device that holds it: this one (one of ours, on our list).
      ...(options.file === undefined ? {} : { device: this.core.peerId.toString() }),
    }
    const { message, handouts } = g.channel.encrypt(state, utf8(JSON.stringify(content)))
    const stored: StoredMessage = {
      id,
      sender: this.me,
      text,
      sentAt,
      mentions,
      ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
      ...file,
      bytes: toBase64(message.bytes),
      keyId: message.keyId,
      iteration: message.iteration,
      at: message.at,
    }
    const recipients = [...state.members.keys()].filter((cid) => cid !== this.me)
    const ours: StoredMessage = { ...stored, recipients: recipients.length, deliveredTo: [] }
    await this.storeMessage(g, ours, false)
    this.onOwnMirror({
      kind: 'group-sent',
      group: g.log.id,
      id,
      sentAt,
      text,
      mentions,
      ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo as MessageId }),
      ...file,
    })
    await this.handOut(g, handouts)
    const wire = { sender: hexToBytes(this.me), message: message.bytes }
    for (const cid of recipients) {
      await this.sendTraffic(cid, { groupId: hexToBytes(g.log.id), messages: [wire] }, g, { messageId: id })
    }
    return this.messageView(g, ours)
  }

  /** Our reaction to message `messageId` of the group; an empty emoji takes it back. */
  async react(ref: string, messageId: string, emoji: string): Promise<GroupMessageView> {
    const g = this.resolve(ref)
    if (!g.log.state().members.has(this.me))
      throw new GroupError('NotAllowed', 'you are not a member of this group')
    const sentAt = Date.now()
    const target = await this.reactions.react(g, messageId, emoji, sentAt)
    this.onOwnMirror({ kind: 'group-reaction', group: g.log.id, id: target.id as MessageId, emoji, sentAt })
    return this.messageView(g, target)
  }

  // ---------------------------------------------------------------- our other devices

  /** Called with what we said, read or reacted in a group (our other devices get it: messenger/sync.ts). */
  onOwnMirror: (sync: GroupMirror) => void = () => {}

  /**
   * What another device of ours said, read or reacted in a group (sync.ts, so from a device on
   * our list), one at a time: a message is stored once by its id, whichever way it came first.
   */
  receiveOwnMirror(sync: GroupMirror, device: string): Promise<void> {
    this.ownMirrors = this.ownMirrors
      .then(() => this.ownMirror(sync, device))
      .catch((error) => this.counted(error))
    return this.ownMirrors
  }

  private ownMirrors: Promise<void> = Promise.resolve()

  private async ownMirror(sync: GroupMirror, device: string): Promise<void> {
    const g = this.loaded.get(sync.group)
    // A group this device has left, or not heard of: nothing to show it in.
    if (g === undefined || !g.log.state().members.has(this.me)) return
    if (sync.kind === 'group-read') return this.ownRead(g, sync.id)
    if (sync.kind === 'group-reaction') {
      await this.reactions.mirrored(g, sync.id, sync.emoji, sync.sentAt)
      return
    }
    const offer = sync.file === undefined ? undefined : decodeGroupFile(sync.file)
    if (utf8(sync.text).length > MAX_GROUP_TEXT_BYTES || (sync.file !== undefined && offer === undefined))
      return void this.core.refuse(PROTOCOL_MSG, 'bad-payload')
    if ((await this.core.store.get(GroupKeys.sent(sync.id))) !== undefined) return // once
    const members = g.log.state().members
    // Its bytes are on the device that sent it: this device fetches them from there like a
    // member's file (group-files.ts), and the transfer commits with the message.
    const stage =
      offer === undefined
        ? undefined
        : await this.files?.incoming({
            groupId: g.log.id,
            sender: this.me,
            id: sync.id,
            offer,
            device,
            own: true,
          })
    await this.storeMessage(
      g,
      {
        id: sync.id,
        sender: this.me,
        text: sync.text,
        sentAt: sync.sentAt,
        mentions: sync.mentions.filter((m) => members.has(m)).slice(0, MAX_MENTIONS),
        ...(sync.replyTo === undefined ? {} : { replyTo: sync.replyTo }),
        ...(sync.file === undefined ? {} : { file: sync.file }),
        // No sender-key message: members get it from the device that sent it (nothing to carry).
        bytes: '',
        keyId: -1,
        iteration: -1,
        at: Date.now(),
      },
      false,
      stage,
    )
  }

  /** Another device of ours read `g` up to message `id`: what came after it stays unread here. */
  private async ownRead(g: HeldGroup, id: MessageId): Promise<void> {
    if (g.unread === 0 && g.mentioned === 0) return
    let unread = 0
    let mentioned = 0
    let found = false
    for await (const [, value] of this.core.store.iterate({
      prefix: GroupKeys.messages(g.log.id),
      reverse: true,
    })) {
      const m = decodeMessage(value)
      if (m.id === id) {
        found = true
        break
      }
      if (m.sender === this.me) continue
      if (++unread > g.unread) return // read there before it came here: nothing to lower
      if ((m.mentions ?? []).includes(this.me)) mentioned++
    }
    if (!found) return
    g.unread = Math.min(g.unread, unread)
    g.mentioned = Math.min(g.mentioned, mentioned)
    await this.persist(g)
    this.changed(g)
  }

  /** One sender-key message for every member that is no chat line (a reaction): sealed once, pushed to each. */
  private async broadcast(g: HeldGroup, plaintext: Uint8Array): Promise<CarriedMessage> {
    const state = g.log.state()
    const { message, handouts } = g.channel.encrypt(state, plaintext)
    await this.handOut(g, handouts)
    const wire = { sender: hexToBytes(this.me), message: message.bytes }
    for (const cid of state.members.keys()) {
      if (cid !== this.me) await this.sendTraffic(cid, { groupId: hexToBytes(g.log.id), messages: [wire] }, g)
    }
    return message
  }

  /**
   * A member's peer acknowledged our message `id`: it has it ("delivered to 37 of 40"). Acks
   * come one per member; they are applied one at a time.
   */
  private delivered(cid: ContactId, id: MessageId): void {
    this.updateOwn(id, (m) =>
      m.deliveredTo?.includes(cid) ? undefined : { ...m, deliveredTo: [...(m.deliveredTo ?? []), cid] },
    )
  }

  /**
   * Changes our own message `id` (`change` gives the new record, or undefined for none), one
   * change at a time: delivery acks and read receipts both rewrite its record.
   */
  private updateOwn(
    id: string,
    change: (m: StoredMessage, g: HeldGroup) => StoredMessage | undefined,
    missing: () => void = () => {},
  ): void {
    this.deliveries = this.deliveries
      .then(async () => {
        const where = await this.core.store.get(GroupKeys.sent(id))
        if (where === undefined) return missing()
        const [gid, seqText] = fromUtf8(where).split(' ') as [GroupId, string]
        const g = this.loaded.get(gid)
        const key = GroupKeys.message(gid, Number(seqText))
        const bytes = await this.core.store.get(key)
        if (g === undefined || bytes === undefined) return missing()
        const next = change(decodeMessage(bytes), g)
        if (next === undefined) return
        await this.core.store.put(key, encodeMessage(next))
        this.deliveryShown(g, next)
      })
      .catch((error) =>
        this.core.log.warn('could not count a delivery', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
  }

  private deliveries: Promise<void> = Promise.resolve()
  /** Messages whose delivery count moved, said once a burst of acks is over (one per member). */
  private readonly deliveryChanged = new Map<string, { g: HeldGroup; m: StoredMessage }>()
  private deliveryTimer: ReturnType<typeof setTimeout> | undefined

  /** Stops telling of deliveries; waits for the counts being written. */
  async stop(): Promise<void> {
    clearTimeout(this.deliveryTimer)
    for (const timer of this.settleTimers.values()) clearTimeout(timer)
    this.settleTimers.clear()
    this.deliveryTimer = undefined
    await this.deliveries
  }

  private deliveryShown(g: HeldGroup, m: StoredMessage): void {
    this.deliveryChanged.set(m.id, { g, m })
    this.deliveryTimer ??= setTimeout(() => {
      this.deliveryTimer = undefined
      const changed = [...this.deliveryChanged.values()]
      this.deliveryChanged.clear()
      if (this.core.stopped) return
      for (const { g, m } of changed) {
        this.core.events.emit('group-message', { groupId: g.log.id, message: this.messageView(g, m) })
      }
    }, DELIVERY_EVENT_MS)
  }

  private async storeMessage(
    g: HeldGroup,
    s: StoredMessage,
    incoming: boolean,
    /** What commits with the message (a file's transfer). */
    stage?: (tx: Tx) => void,
  ): Promise<void> {
    const tx = new Tx()
    stage?.(tx)
    const seq = g.nextSeq++
    if (incoming) g.unread++
    if (incoming && (s.mentions ?? []).includes(this.me)) g.mentioned++
    tx.put(GroupKeys.message(g.log.id, seq), encodeMessage(s))
    if (!incoming) tx.put(GroupKeys.sent(s.id), utf8(`${g.log.id} ${seq}`))
    tx.after(() =>
      this.core.events.emit('group-message', { groupId: g.log.id, message: this.messageView(g, s) }),
    )
    await this.commitGroup(tx, g)
  }

  private async persist(g: HeldGroup): Promise<void> {
    await this.commitGroup(new Tx(), g)
  }

  /**
   * Commits `tx` with what changed of `g`: the counters and sender-key records always, the op
   * log and join requests only when they changed (structureMark), since they name every card.
   */
  private async commitGroup(tx: Tx, g: HeldGroup): Promise<void> {
    const mark = structureMark(g)
    const structureChanged = this.structureWritten.get(g) !== mark
    if (structureChanged) tx.put(GroupKeys.group(g.log.id), encodeGroupStructure(g))
    const changes = stageGroupState(tx, g)
    try {
      await this.core.commit(tx)
    } catch (error) {
      g.channel.markChanged(changes)
      if (structureChanged) this.structureWritten.delete(g)
      throw error
    }
    if (structureChanged) this.structureWritten.set(g, mark)
  }

  /** The structure mark each group was last written with (loaded groups: none, so written again). */
  private readonly structureWritten = new WeakMap<HeldGroup, string>()

  /**
   * Puts group traffic in `cid`'s outbox. A member we have no session with gets one, started
   * from the card the group carries (its signed prekey: no network round trip, so an offline
   * member costs nothing now and gets it when back).
   */
  private async sendTraffic(
    cid: ContactId,
    traffic: TrafficOut,
    g?: HeldGroup,
    options: { ephemeral?: boolean; messageId?: MessageId } = {},
    /** The card to start a session from when `cid` is in no group of ours yet (an invite's admin). */
    cardForNew?: GroupCard,
  ): Promise<void> {
    const core = this.core
    if (core.stopped) return
    await core.queue.run(cid, async () => {
      const tx = new Tx()
      if (core.contacts.get(cid) === undefined) {
        const card = g?.log.state().members.get(cid)?.card ?? this.cardOf(cid) ?? cardForNew
        if (card === undefined) return
        const record = newContactRecord(
          cid,
          { ...card, addrs: core.contactAddrs(card.addrs) },
          card.bytes,
          'member',
        )
        core.putContact(tx, record, 'new')
        tx.sessions.set(cid, [
          initiateSession(core.account.identity, {
            identity: card.identity,
            signedPreKey: card.signedPreKey,
          }),
        ])
        await core.rememberAddrs(card.peerId, record.addrs)
      }
      // The codec's types want ArrayBuffer-backed arrays; every array here is one.
      const body = GroupTraffic.encode(traffic as unknown as GroupTraffic)
      await core.encryptToOutbox(
        tx,
        cid,
        { kind: 'extension', extension: GROUP_EXTENSION, body },
        {
          ...(options.ephemeral === true ? { ephemeral: true } : {}),
          ...(options.messageId === undefined ? {} : { messageId: options.messageId }),
        },
      )
      await core.commit(tx)
    })
  }

  // ---------------------------------------------------------------- receiving

  /** When a member connects: sync every group we share (each side sends what the other lacks). */
  async peerConnected(peer: PeerId): Promise<void> {
    const contact = this.core.contacts.byPeerId(peer.toString())
    if (contact === undefined) return
    for (const g of this.loaded.values()) {
      const state = g.log.state()
      if (!state.members.has(this.me) || !state.members.has(contact.id)) continue
      await this.sendTraffic(contact.id, this.syncRequest(g), g, { ephemeral: true })
    }
  }

  /**
   * After a start: asks a few members of each group for what we missed while away (one try
   * each; members who connect later sync then). Contacts first: they are the likeliest nearby.
   */
  async reachOut(): Promise<void> {
    for (const g of this.loaded.values()) {
      const state = g.log.state()
      if (!state.members.has(this.me)) continue
      const others = [...state.members.keys()].filter((id) => id !== this.me)
      const isContact = (id: ContactId) => {
        const c = this.core.contacts.get(id)
        return c !== undefined && c.state !== 'member'
      }
      const ordered = [...others.filter(isContact), ...others.filter((id) => !isContact(id))]
      for (const cid of ordered.slice(0, REACH_OUT_MEMBERS)) {
        await this.sendTraffic(cid, this.syncRequest(g), g, { ephemeral: true })
      }
    }
  }

  private syncRequest(g: HeldGroup): TrafficOut {
    const list = this.devices.ownNews()
    return {
      groupId: hexToBytes(g.log.id),
      ...(list === undefined ? {} : { deviceLists: [list] }),
      sync: true,
      heads: g.log.heads().map((h) => hexToBytes(h)),
      marks: Object.entries(g.channel.marks()).flatMap(([sender, byKey]) =>
        Object.entries(byKey).map(([keyId, iteration]) => ({
          sender: hexToBytes(sender),
          keyId: Number(keyId),
          iteration: BigInt(iteration),
        })),
      ),
    }
  }

  private async receive(ctx: CoreExtensionContext): Promise<void> {
    const { contact, body } = ctx
    const refuse = () => void this.core.refuse(PROTOCOL_MSG, 'bad-payload')
    let traffic: GroupTraffic
    try {
      traffic = GroupTraffic.decode(body)
    } catch {
      return refuse()
    }
    if (traffic.groupId.length !== 16) return refuse()
    const gid = bytesToHex(traffic.groupId) as GroupId
    const from = contact.id
    // Inbound took the envelope from a device on their list; a list that changed since (a device
    // removed) has the last word.
    if (laneDevice(contact, ctx.lane) === undefined)
      return void this.core.refuse(PROTOCOL_MSG, 'not-a-contact')
    // Handled after this envelope is durable, outside the sender's queue (we answer them).
    const device = ctx.device
    ctx.after(() => void this.handle(gid, from, traffic, device).catch((error) => this.counted(error)))
  }

  private counted(error: unknown): void {
    if (GroupError.is(error) || (error instanceof Error && error.name === 'CryptoError')) {
      this.core.refuse(PROTOCOL_MSG, 'not-allowed')
      return
    }
    this.core.log.warn('group traffic failed', { error: error instanceof Error ? error.name : 'unknown' })
  }

  /** `device`: the sender's device whose session carried `t`. */
  private async handle(gid: GroupId, from: ContactId, t: GroupTraffic, device: string): Promise<void> {
    if (t.invite.length > 0) return this.receiveJoin(from, t)
    if (t.refused !== '') {
      // Only the admin we asked answers our join; anyone else's "no" means nothing.
      const refused = this.joining.get(gid)
      const code = GroupError.codes.find((c) => c === t.refused)
      if (refused !== undefined && code !== undefined && this.core.contacts.get(from) !== undefined)
        refused(code)
      else if (code !== undefined && this.awaiting.get(gid) === from) {
        // A join left pending: the admin we asked said no later on.
        this.awaiting.delete(gid)
        if (!this.loaded.get(gid)?.log.state().members.has(this.me))
          this.core.events.emit('group', { groupId: gid, change: 'refused', refused: code })
      }
      return
    }
    if (t.ops.length > 0) await this.receiveOps(gid, from, t.ops)
    const g = this.loaded.get(gid)
    if (g === undefined) return
    const state = g.log.state()
    // Only a member speaks for a group (the ops above may just have made them one).
    if (!state.members.has(from) || !state.members.has(this.me)) {
      if (
        t.distribution.length > 0 ||
        t.messages.length > 0 ||
        t.sync ||
        t.read.length > 0 ||
        t.deviceLists.length > 0
      )
        throw new GroupError('NotAllowed', 'not a member')
      return
    }
    if (t.distribution.length > 0) {
      for (const r of g.channel.receiveKey(state, from, t.distribution, device))
        if (r.kind === 'read') await this.keepRead(g, r.message, r.plaintext)
      await this.persist(g)
    }
    for (const m of t.messages) {
      if (m.sender.length !== 8) continue
      if (!this.fromListedDevice(g, bytesToHex(m.sender) as ContactId, m.message)) {
        this.core.refuse(PROTOCOL_MSG, 'not-a-device')
        continue
      }
      const outcome = g.channel.receive(state, { sender: bytesToHex(m.sender), bytes: m.message })
      if (outcome.kind === 'read') await this.keepRead(g, outcome.message, outcome.plaintext)
    }
    if (t.messages.length > 0) await this.persist(g)
    if (t.read.length > 0) this.receipts.receive(g, from, t.read)
    if (t.deviceLists.length > 0) await this.devices.receive(g, t.deviceLists)
    if (t.sync) await this.answerSync(g, from, t)
  }

  private async receiveOps(gid: GroupId, from: ContactId, ops: readonly Uint8Array[]): Promise<void> {
    let g = this.loaded.get(gid)
    const wasMember = g?.log.state().members.has(this.me) === true
    const added: GroupOp[] = []
    if (g === undefined) {
      // A group we are not in yet: only its whole log (from the create op) can tell us we were
      // added. It is held (bounded) until the ops that add us have come, and kept only then.
      let pending = this.pendingLogs.get(gid)
      let rest = ops
      if (pending === undefined) {
        const log = logFrom(ops[0]!)
        if (log === undefined || log.id !== gid) return
        pending = {
          log,
          channel: new GroupChannel(gid, this.me),
          unread: 0,
          mentioned: 0,
          nextSeq: 1,
          requests: new Map(),
        }
        rest = ops.slice(1)
      }
      for (const op of rest) pending.log.add(op)
      const state = pending.log.state()
      if (!state.members.has(this.me) || !state.members.has(from)) {
        if (this.pendingLogs.size >= MAX_PENDING_LOGS)
          this.pendingLogs.delete(this.pendingLogs.keys().next().value!)
        this.pendingLogs.set(gid, pending)
        return
      }
      this.pendingLogs.delete(gid)
      g = pending
      this.loaded.set(gid, g)
      added.push(...g.log.ordered())
    } else {
      // Only a member passes a group's ops on: anyone else could grow the log with ops that
      // change nothing. (Whoever removes someone is a member, so the removed hear of it.)
      if (!g.log.state().members.has(from))
        throw new GroupError('NotAllowed', 'ops from someone who is not a member')
      const before = new Set(g.log.ordered().map((o) => o.id))
      for (const bytes of ops) {
        try {
          g.log.add(bytes)
        } catch (error) {
          // A bad op is counted; the good ones beside it still count.
          if (!GroupError.is(error)) throw error
          this.core.refuse(PROTOCOL_MSG, 'not-allowed')
        }
      }
      added.push(...g.log.ordered().filter((o) => !before.has(o.id)))
    }
    const ineffective = added.filter((o) => g.log.state().ineffective.has(o.id))
    for (const _ of ineffective) this.core.refuse(PROTOCOL_MSG, 'not-allowed')
    if (added.length === 0) return
    const state = g.log.state()
    // We were added (an invite we used, a member who added us): our other devices may not hear
    // of it from whoever added us (a stranger to them refuses to start a session with them), so
    // they get the log from us, as for a group we made.
    if (!wasMember && from !== this.me && state.members.has(this.me))
      this.onOwnOps(
        gid,
        g.log.ordered().map((o) => o.bytes),
      )
    // Keys of members who left are dropped at once; handing ours out waits for the rest of a
    // burst of ops (settleSoon).
    g.channel.align(state)
    await this.persist(g)
    this.settleSoon(g)
    // Those just added learn our devices from us (their card of us may be older than our list);
    // when we are the one added, every member does.
    const joined = added.includes(g.log.ordered()[0]!)
      ? [...state.members.keys()]
      : added.flatMap((o) =>
          o.kind === 'add' ? o.cards.map((c) => contactIdFor(c.identity.signingKey)) : [],
        )
    await this.tellDevices(
      g,
      joined.filter((cid) => cid !== this.me && state.members.has(cid)),
    )
    this.core.events.emit('group', {
      groupId: gid,
      change: state.members.has(this.me) ? 'update' : 'removed',
    })
  }

  /** Called with the ops we made (our other devices get them: messenger/sync.ts). */
  onOwnOps: (gid: GroupId, ops: readonly Uint8Array[]) => void = () => {}

  /**
   * An op another device of ours made (sync.ts), taken as if a member passed it on: a group we
   * created there starts here with its create op, a rename or a leave there happens here.
   */
  async receiveOwnOp(gid: GroupId, op: Uint8Array): Promise<void> {
    await this.receiveOps(gid, this.me, [op]).catch((error) => this.counted(error))
  }

  /** Logs of groups we may be joining, waiting for the ops that add us. */
  private readonly pendingLogs = new Map<GroupId, HeldGroup>()

  private async keepRead(g: HeldGroup, message: CarriedMessage, plaintext: Uint8Array): Promise<void> {
    let content: {
      id?: unknown
      text?: unknown
      sentAt?: unknown
      mentions?: unknown
      replyTo?: unknown
      file?: unknown
      device?: unknown
    }
    try {
      content = JSON.parse(fromUtf8(plaintext)) as typeof content
    } catch {
      return void this.core.refuse(PROTOCOL_MSG, 'bad-payload')
    }
    if ((content as { kind?: unknown } | null)?.kind === REACTION_KIND)
      return this.reactions.receive(g, message, content as Record<string, unknown>)
    if (
      typeof content.id !== 'string' ||
      !isMessageId(content.id) ||
      typeof content.text !== 'string' ||
      utf8(content.text).length > MAX_GROUP_TEXT_BYTES ||
      typeof content.sentAt !== 'number' ||
      !Number.isSafeInteger(content.sentAt)
    ) {
      return void this.core.refuse(PROTOCOL_MSG, 'bad-payload')
    }
    const members = g.log.state().members
    const mentions = Array.isArray(content.mentions)
      ? content.mentions
          .filter((m): m is string => typeof m === 'string' && members.has(m as ContactId))
          .slice(0, MAX_MENTIONS)
      : []
    const replyTo =
      typeof content.replyTo === 'string' && isMessageId(content.replyTo) ? content.replyTo : undefined
    // A file (group-files.ts): its offer is checked as strictly as a 1:1 one, and its transfer
    // commits with the message.
    const offer = content.file === undefined ? undefined : decodeGroupFile(content.file)
    if (content.file !== undefined && offer === undefined)
      return void this.core.refuse(PROTOCOL_MSG, 'bad-payload')
    if (content.device !== undefined && typeof content.device !== 'string')
      return void this.core.refuse(PROTOCOL_MSG, 'bad-payload')
    // The device it names serves the file: it must be one on the sender's list now, or nothing
    // of the message is taken (a device they removed offers nothing in their name).
    const device = content.device
    if (device !== undefined && !this.devices.devicesOf(g, message.sender as ContactId).includes(device))
      return void this.core.refuse(PROTOCOL_MSG, 'not-a-device')
    const stage =
      offer === undefined
        ? undefined
        : await this.files?.incoming({
            groupId: g.log.id,
            sender: message.sender as ContactId,
            id: content.id as MessageId,
            offer,
            ...(device === undefined ? {} : { device }),
          })
    await this.storeMessage(
      g,
      {
        id: content.id,
        sender: message.sender,
        text: content.text,
        sentAt: content.sentAt,
        bytes: toBase64(message.bytes),
        keyId: message.keyId,
        iteration: message.iteration,
        at: message.at,
        mentions,
        ...(replyTo === undefined ? {} : { replyTo }),
        ...(offer === undefined ? {} : { file: content.file as string }),
      },
      true,
      stage,
    )
  }

  /**
   * Whether a group message (pushed or carried) is under a key that a device still on its
   * sender's list handed out: a device they removed keeps its chain, and what it seals is
   * refused even when a member who had not heard of the removal carries it on. A key whose
   * device is not known (handed before devices were kept) is judged by the sender's membership
   * alone, as before; a malformed message is left to the channel to refuse.
   */
  private fromListedDevice(g: HeldGroup, sender: ContactId, bytes: Uint8Array): boolean {
    let keyId: number
    try {
      keyId = decodeSenderKeyMessage(bytes).keyId
    } catch {
      return true
    }
    const device = g.channel.keyDevice(sender, keyId)
    return device === undefined || this.devices.devicesOf(g, sender).includes(device)
  }

  /** Sends `from` the ops and messages its sync shows it lacks, and our key if it lacks that. */
  private async answerSync(g: HeldGroup, from: ContactId, t: GroupTraffic): Promise<void> {
    const gid = hexToBytes(g.log.id)
    const ops = g.log.missingFrom(
      t.heads.filter((h) => h.length === 32).map((h) => bytesToHex(h) as GroupOp['id']),
    )
    await this.sendOps(g, from, ops)
    const marks: Record<string, Record<number, number>> = {}
    for (const m of t.marks) {
      const sender = bytesToHex(m.sender)
      const bySender = marks[sender] ?? {}
      marks[sender] = bySender
      bySender[m.keyId] = Number(m.iteration)
    }
    const own = g.channel.ownKeyId
    if (own !== undefined && marks[this.me]?.[own] === undefined) {
      const h = g.channel.handoutFor(from)
      if (h !== undefined) await this.sendTraffic(from, { groupId: gid, distribution: h.distribution }, g)
    }
    const missing = g.channel.missingFor(marks as HighWaterMarks)
    // Batches within a 64 KiB envelope: a file message (its offer, a thumbnail) is up to ~33 KB.
    let batch: { sender: Uint8Array; message: Uint8Array }[] = []
    let bytes = 0
    for (const m of missing) {
      if (
        batch.length === MESSAGES_PER_PAYLOAD ||
        (batch.length > 0 && bytes + m.bytes.length > PAYLOAD_BYTES)
      ) {
        await this.sendTraffic(from, { groupId: gid, messages: batch }, g)
        batch = []
        bytes = 0
      }
      batch.push({ sender: hexToBytes(m.sender), message: m.bytes })
      bytes += m.bytes.length
    }
    if (batch.length > 0) await this.sendTraffic(from, { groupId: gid, messages: batch }, g)
  }
}

function cardName(bytes: Uint8Array): string {
  try {
    return decodeCardBytes(bytes).name
  } catch {
    return '?'
  }
}

function refusalText(code: GroupError['code']): string {
  switch (code) {
    case 'Expired':
      return 'this group invite has expired; ask for a new one'
    case 'Revoked':
      return 'this group invite was revoked; ask for a new one'
    case 'Refused':
      return 'an admin of the group turned down your request to join'
    default:
      return 'the admin who made this invite can no longer let you in; ask for a new one'
  }
}

function cardNameIn(g: HeldGroup, id: ContactId): string {
  return g.log.state().members.get(id)?.card.name ?? id
}

/** A change in English (apps say it in their own words from `data`). */
function changeText(c: GroupChange, by: string, members: readonly string[]): string {
  const them = members.join(', ')
  switch (c.kind) {
    case 'create':
      return `${by} created the group "${c.name ?? ''}"`
    case 'add':
      return `${by} added ${them}`
    case 'remove':
      return `${by} removed ${them}`
    case 'leave':
      return `${by} left the group`
    case 'rename':
      return `${by} renamed the group "${c.name ?? ''}"`
    case 'promote':
      return `${by} made ${them} an admin`
    case 'demote':
      return `${by} made ${them} no longer an admin`
    case 'transfer':
      return `${by} made ${them} the owner`
    case 'settings':
      return `${by} changed the group's settings`
    case 'revoke-invite':
      return `${by} revoked an invite`
  }
}
