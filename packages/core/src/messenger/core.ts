/**
 * The state every part of the messenger shares, and the few operations they all build on:
 * committing a Tx atomically, encrypting into the outbox, and recording contacts and messages.
 * Inbound, delivery, receipts and address handling are separate modules over this core; the
 * Messenger class is the facade apps use.
 */

import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { bytesToHex, toBase64, utf8 } from '../bytes.js'
import { type ContactCard, createCard } from '../card/card.js'
import { CardError } from '../card/errors.js'
import { ownDeviceListKey } from '../devices/own-list.js'
import type { GroupId } from '../groups/ops.js'
import type { GroupMessageView } from '../groups/service.js'
import { devicePeerId, devicePublicKey } from '../identity/device.js'
import { type DeviceList, verifyDeviceList } from '../identity/device-list.js'
import { type PublicIdentity, publicIdentity } from '../identity/identity.js'
import { homeOf } from '../mailbox/contact-home.js'
import type { HomeNodeView } from '../mailbox/owner.js'
import { connectionRoute } from '../net/connection-info.js'
import type { JiayiNode } from '../net/network-stack.js'
import type { NatStatus } from '../net/reach-service.js'
import { forgetSearch } from '../search/message-search.js'
import type { WriteBehindStore, WriteOptions } from '../store/write-behind.js'
import type { Account } from './account.js'
import { selectCardAddrs } from './card-addrs.js'
import type { ContactBook } from './contact-book.js'
import { type Conversations, seqBytes } from './conversations.js'
import { Counters, type RefusalReason } from './counters.js'
import { Emitter, KeyedQueue } from './events.js'
import { type ContactId, contactIdFor, type MessageId, newMessageId } from './ids.js'
import { Keys } from './keys.js'
import { laneContact, laneDevice, lanesOf } from './lanes.js'
import { encodeOutboxRecord } from './outbox-record.js'
import { encodePayload, type PayloadBody } from './payload.js'
import type { PreKeyStore } from './prekey-store.js'
import { forgetPictures } from './profile-picture.js'
import { ReachProblems, reachProblemOf } from './reach.js'
import { type ContactRecord, encodeRecord, type MessageRecord, type OutboxRecord } from './records.js'
import { decodeSessionSet, encodeSessionSet, encryptWith, type SessionSet } from './session-set.js'
import { isRunStatus, withRun } from './status-runs.js'
import type { TrustState } from './trust.js'
import type { Tx } from './tx.js'
import { type ContactReach, type ContactView, contactView, type MessageView, messageView } from './views.js'

export interface Logger {
  debug(message: string, fields?: Record<string, string | number | boolean>): void
  info(message: string, fields?: Record<string, string | number | boolean>): void
  warn(message: string, fields?: Record<string, string | number | boolean>): void
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {} }

export interface MessengerEvents extends Record<string, unknown> {
  message: { readonly contactId: ContactId; readonly message: MessageView; readonly change: 'new' | 'update' }
  contact: {
    readonly id: ContactId
    readonly contact?: ContactView
    readonly change: 'new' | 'update' | 'removed'
  }
  typing: { readonly contactId: ContactId; readonly active: boolean }
  /** The conversation was read: every incoming message in it so far now reads as read. */
  read: { readonly contactId: ContactId }
  /**
   * The disk refused a write for want of room ('full': writes wait in memory, nothing they
   * carry is acknowledged), or has room again ('ok'). Once per change.
   */
  storage: { readonly state: 'full' | 'ok' }
  /**
   * A group changed (groups/service.ts): its state, or we are no longer in it; or 'refused': the
   * admin we asked to join turned our request down (`refused` says why: a GroupError code).
   */
  group: {
    readonly groupId: GroupId
    readonly change: 'update' | 'removed' | 'refused'
    readonly refused?: string
  }
  /** A group message was stored (ours, or one read from another member). */
  'group-message': { readonly groupId: GroupId; readonly message: GroupMessageView }
  /** A secure session was replaced by a new one (session-reset.ts): who started it, what went again. */
  session: {
    readonly contactId: ContactId
    readonly change: 'reset'
    readonly by: 'us' | 'them'
    readonly resent: number
  }
  /** This device was removed from its account by another of its devices: its store is wiped. */
  device: { readonly change: 'removed' }
  /**
   * Our own device list changed (a device linked or removed, here or on another device of ours):
   * the peer ids of our devices now. What a removed device had open with us ends (the feed's sync).
   */
  'own-devices': { readonly devices: readonly string[] }
  /**
   * How others reach this peer changed (nat, relays or mapped; at most once a second): the same
   * shape as Messenger.reach().
   */
  reach: {
    readonly nat: NatStatus
    readonly relays: readonly string[]
    readonly mapped: readonly string[]
    readonly homeNode: HomeNodeView | null
  }
}

export interface EncryptOptions {
  readonly id?: MessageId
  readonly sentAt?: number
  /** The user-visible message this envelope carries (its status follows the acks). */
  readonly messageId?: MessageId
  readonly ephemeral?: boolean
  /**
   * The payload's number, when not the next one: a message sent again after a session reset
   * carries 0, a number the receiver has seen, so it looks the message id up before showing it.
   */
  readonly payloadSeq?: number
}

export class MessengerCore {
  readonly events = new Emitter<MessengerEvents>()
  /** One task at a time per conversation: every ratchet step happens inside it. */
  readonly queue = new KeyedQueue()
  readonly counters = new Counters()
  readonly peerId: PeerId
  private readonly sessions = new Map<ContactId, SessionSet>()
  /** First loads of `sessions` in flight (sessionSet). */
  private readonly sessionLoads = new Map<ContactId, Promise<SessionSet>>()
  /** Counts removals from `sessions`: a load that saw one in between does not cache. */
  private sessionChanges = 0
  /** Devices of identities we blocked (removed contacts, rejected requests). */
  readonly blockedPeers = new Set<string>()
  private cardCache: { addrs: string; bytes: Uint8Array } | undefined
  /** Our home node certificate (mailbox/owner.ts), carried by our card and address updates. */
  homeCertificate: Uint8Array | undefined
  /** Called after a commit for every conversation that got new outbox entries. */
  onOutbox: (cid: ContactId) => void = () => {}
  /**
   * Called when a contact we asked accepted us (their accept, or their crossing request): our
   * other devices are told (sync.ts), since the accept may not reach them (they may not know
   * the contact yet when it comes).
   */
  onContactAccepted: (cid: ContactId) => void = () => {}
  /** Called when a known contact's ratchet message opens with none of our sessions (session-reset.ts). */
  onDecryptFailed: (cid: ContactId) => void = () => {}
  /** Called when an attempt to deliver to a contact failed (contact-finder.ts). */
  onDeliveryFailed: (cid: ContactId) => void = () => {}
  /** An envelope for a message that lives outside the conversations (a group's) was acknowledged. */
  onOtherAck: (cid: ContactId, messageId: MessageId) => void = () => {}
  /**
   * The card a group we are in carries for `cid`, if we share one (groups/service.ts): lets a
   * member we never added start a session for group traffic. Set by the groups service.
   */
  groupMemberCard: (cid: ContactId) => (ContactCard & { readonly bytes: Uint8Array }) | undefined = () =>
    undefined
  /**
   * The joiner's card, when the first payload of a stranger's session is a join request with an
   * invite this peer made for a group it holds (groups/joins.ts). Set by the groups service.
   */
  groupJoinerCard: (plaintext: Uint8Array) => (ContactCard & { readonly bytes: Uint8Array }) | undefined =
    () => undefined
  /** Why contacts could not be reached lately (reach.ts); shown in their views as `lastError`. */
  readonly reach = new ReachProblems((cid) => {
    const c = this.contacts.get(cid)
    if (c !== undefined) this.events.emit('contact', { id: cid, contact: this.view(c), change: 'update' })
  })
  stopped = false
  /** Our own identity's contact id: the conversation whose lanes are our other devices. */
  readonly selfId: ContactId
  private selfCache: ContactRecord | undefined

  constructor(
    readonly store: WriteBehindStore,
    readonly node: JiayiNode,
    /** Replaced (never mutated) when the name changes. */
    public account: Account,
    readonly prekeys: PreKeyStore,
    readonly contacts: ContactBook,
    readonly conversations: Conversations,
    readonly log: Logger,
    /** Our own device list (devices/own-list.ts); replaced (never mutated) when it changes. */
    private deviceList: DeviceList,
  ) {
    this.peerId = devicePeerId(account.deviceKey)
    if (!node.peerId.equals(this.peerId))
      throw new Error('the libp2p node does not run on the account device key')
    this.selfId = contactIdFor(account.identity.signing.publicKey)
    conversations.otherLanes = (cid) => {
      const contact = this.contactOrSelf(cid)
      return contact === undefined ? [] : lanesOf(contact).flatMap((l) => (l.lane === cid ? [] : [l.lane]))
    }
  }

  /**
   * Our own identity as a contact whose devices are ours (never stored, never listed): the lanes
   * to our other devices hang off it, and what they send is judged against it (sync.ts).
   */
  selfRecord(): ContactRecord {
    const devices = this.ownDevices.devices
    if (this.selfCache === undefined || this.selfCache.devices !== devices) {
      const identity = this.identity()
      this.selfCache = {
        id: this.selfId,
        name: this.account.name,
        identityKey: bytesToHex(identity.signingKey),
        agreementKey: bytesToHex(identity.agreementKey),
        peerId: this.peerId.toString(),
        addrs: [],
        state: 'accepted',
        verified: true,
        card: '',
        devices,
        addedAt: 0,
        updatedAt: 0,
      }
    }
    return this.selfCache
  }

  /** Whether `peerId` is another device of ours (on our own device list). */
  isOwnDevice(peerId: string): boolean {
    return peerId !== this.peerId.toString() && this.ownDevices.devices.includes(peerId)
  }

  /** A contact (or member) by id, or our own record for our own id. */
  contactOrSelf(cid: ContactId): ContactRecord | undefined {
    return cid === this.selfId ? this.selfRecord() : this.contacts.get(cid)
  }

  /** Whom a lane (lanes.ts) goes to now; undefined once the device left their list. */
  laneTarget(lane: ContactId): { readonly contact: ContactRecord; readonly device: string } | undefined {
    const contact = this.contactOrSelf(laneContact(lane))
    if (contact === undefined) return undefined
    const device = laneDevice(contact, lane)
    if (device === undefined || device === this.peerId.toString()) return undefined
    return { contact, device }
  }

  /** Every lane with something to deliver possibly: each device of everyone, and of ours. */
  allLanes(): ContactId[] {
    const lanes = this.contacts.everyone().flatMap((c) => lanesOf(c).map((l) => l.lane))
    for (const l of lanesOf(this.selfRecord(), this.peerId.toString())) lanes.push(l.lane)
    return lanes
  }

  /** Our newest own device list: which devices speak for this identity (identity/device-list.ts). */
  ownDeviceList(): DeviceList {
    return this.deviceList
  }

  /**
   * Our own devices' peer ids, from our list: the others get what this one sends mirrored
   * (sync.ts). A list that does not name this device (it was removed) leaves this one alone.
   */
  get ownDevices(): { readonly devices: readonly string[] } {
    if (this.ownDevicesOf?.list !== this.deviceList) {
      const self = this.peerId.toString()
      const devices = this.deviceList.devices.map((d) => d.peerId)
      this.ownDevicesOf = { list: this.deviceList, devices: devices.includes(self) ? devices : [self] }
    }
    return this.ownDevicesOf
  }
  private ownDevicesOf: { readonly list: DeviceList; readonly devices: readonly string[] } | undefined

  /** Takes the list the store holds as ours, whatever its version (a store written from outside). */
  replaceOwnDeviceList(list: DeviceList): void {
    this.deviceList = list
    this.cardCache = undefined
  }

  /**
   * Stores a newer own list (linking, unlinking): the card is made again, and contacts hear of
   * it with the next address update (addresses.ts). Older or equal versions are ignored.
   */
  async setOwnDeviceList(bytes: Uint8Array, options: { mirrored?: boolean } = {}): Promise<DeviceList> {
    const list = verifyDeviceList(bytes, this.account.identity.signing.publicKey)
    if (list.version <= this.deviceList.version) return this.deviceList
    await this.store.put(ownDeviceListKey(), list.bytes)
    this.deviceList = list
    this.cardCache = undefined
    this.onDeviceList(list, options.mirrored === true)
    return list
  }

  /**
   * Called after our own device list changed (the address watcher announces it); `mirrored`: it
   * came from another device of ours (sync.ts), which has told our other devices itself.
   */
  onDeviceList: (list: DeviceList, mirrored: boolean) => void = () => {}

  /** Called after a contact's (or member's) newer list named a device we did not know. */
  onDevicesAdded: (cid: ContactId) => void = () => {}

  identity(): PublicIdentity {
    return publicIdentity(this.account.identity)
  }

  cardAddrs(): string[] {
    return selectCardAddrs(this.node.getMultiaddrs().map((a) => a.toString()))
  }

  /** Our card with the addresses we listen on now (re-signed only when they or the name change). */
  cardBytes(): Uint8Array {
    const addrs = this.cardAddrs()
    // The signed prekey rotates (prekey-store.ts): a new one makes a new card.
    const home = this.homeCertificate
    const key = `${this.account.name}\n${addrs.join(' ')}\n${this.prekeys.signedPreKey.id}\n${home === undefined ? '' : toBase64(home)}\n${this.deviceList.version}`
    if (this.cardCache?.addrs !== key) {
      const input = {
        name: this.account.name,
        deviceKey: devicePublicKey(this.account.deviceKey),
        signedPreKey: {
          id: this.prekeys.signedPreKey.id,
          publicKey: this.prekeys.signedPreKey.keyPair.publicKey,
        },
        addrs,
        home,
      }
      // A person with one device needs no list in the card (contactDevices falls back to the
      // card's device). With more, the list goes in unless it would push the card past
      // MAX_CARD_BYTES (long names, many addresses): then it reaches contacts by address update.
      let bytes = createCard(this.account.identity, input)
      if (this.deviceList.devices.length > 1) {
        try {
          bytes = createCard(this.account.identity, { ...input, deviceList: this.deviceList.bytes })
        } catch (error) {
          if (!CardError.is(error, 'TooLarge')) throw error
        }
      }
      this.cardCache = { addrs: key, bytes }
    }
    return this.cardCache.bytes
  }

  view(c: ContactRecord): ContactView {
    const reach = this.reachOf(c)
    return contactView(c, reach !== 'mailbox' && reach !== 'offline', this.reach.get(c.id) ?? null, reach)
  }

  /** How `c` is reached now (ContactView.reach): the best open connection, else their mailbox. */
  private reachOf(c: ContactRecord): ContactReach {
    let connections: ReturnType<JiayiNode['getConnections']> = []
    try {
      connections = this.node.getConnections(peerIdFromString(c.peerId))
    } catch {
      connections = []
    }
    if (connections.length > 0) {
      const routes = connections.map((connection) => connectionRoute(connection))
      return routes.includes('lan') ? 'lan' : routes.includes('direct') ? 'direct' : 'relayed'
    }
    return this.homeUsable(c) ? 'mailbox' : 'offline'
  }

  /** Whether `c`'s home node certificate holds now; its check is kept per record (a signature). */
  private homeUsable(c: ContactRecord): boolean {
    if (c.home === undefined) return false
    let until = this.homeUntil.get(c)
    if (until === undefined) {
      const home = homeOf(c)
      until = home === undefined ? 0 : home.cert.notAfter * 1000
      this.homeUntil.set(c, until)
    }
    return until > Date.now()
  }

  private readonly homeUntil = new WeakMap<ContactRecord, number>()

  /**
   * An attempt to deliver to `cid` failed with `error`. With no connection to them the dial is
   * what failed: why is recorded for their view (reach.ts). A failure on an open connection (a
   * stream reset, a slow ack) says nothing about reaching them.
   */
  deliveryFailed(cid: ContactId, error: unknown): void {
    const c = this.contacts.get(cid)
    if (c === undefined || this.stopped || this.isOnline(c.peerId)) return
    this.reach.failed(cid, reachProblemOf(error, c.name, this.node.services.dialPolicy.environment))
    this.onDeliveryFailed(cid)
  }

  isOnline(peerId: string): boolean {
    try {
      return this.node.getConnections(peerIdFromString(peerId)).length > 0
    } catch {
      return false
    }
  }

  /**
   * The contact's sessions as last committed. The first load from the store is shared by every
   * caller meanwhile, and never replaces a set a commit put in the cache while it read: a reader
   * outside the conversation's queue (a contact view, the upgrader) that loaded an older set
   * would otherwise hand the next encryption a ratchet that had moved on, and a message key
   * would be used twice.
   */
  async sessionSet(cid: ContactId): Promise<SessionSet> {
    const cached = this.sessions.get(cid)
    if (cached !== undefined) return cached
    let loading = this.sessionLoads.get(cid)
    if (loading === undefined) {
      const changesBefore = this.sessionChanges
      loading = this.store
        .get(Keys.sessions(cid))
        .then((bytes) => {
          const newer = this.sessions.get(cid)
          if (newer !== undefined) return newer
          const set = bytes === undefined ? [] : decodeSessionSet(bytes)
          // A contact removed (or sessions dropped) while this read: the read may be stale.
          if (this.sessionChanges === changesBefore) this.sessions.set(cid, set)
          return set
        })
        .finally(() => this.sessionLoads.delete(cid))
      this.sessionLoads.set(cid, loading)
    }
    return await loading
  }

  /**
   * Encrypts `body` into a new outbox entry for each of the contact's devices (lanes.ts), each
   * with that device's current session, within `tx`. A device we hold no session with yet (one
   * they linked lately; or, on a device of ours linked lately, any) gets the plaintext, sealed by
   * the store, until its delivery starts one (lane-opener.ts).
   */
  async encryptToOutbox(
    tx: Tx,
    cid: ContactId,
    body: PayloadBody,
    options: EncryptOptions = {},
  ): Promise<void> {
    const contact = tx.contacts.get(cid) ?? this.contactOrSelf(cid)
    const lanes =
      contact === undefined ? [{ lane: cid, device: '' }] : lanesOf(contact, this.peerId.toString())
    if (lanes.length === 0) return
    const seq = await this.conversations.nextOutboxSeq(cid)
    const plaintext = encodePayload(
      options.id ?? newMessageId(),
      options.sentAt ?? Date.now(),
      options.payloadSeq ?? seq,
      body,
    )
    let first = false
    for (const { lane } of lanes) {
      const set = tx.sessions.get(lane) ?? (await this.sessionSet(lane))
      first ||= lane === cid
      if (set.length === 0) {
        // Typing and the like mean nothing later: not kept for a device we cannot encrypt to yet.
        if (options.ephemeral) continue
        this.putOutbox(tx, lane, {
          seq,
          type: 'prekey',
          envelope: new Uint8Array(0),
          messageId: options.messageId,
          createdAt: Date.now(),
          payload: plaintext,
        })
        continue
      }
      const { set: next, envelope } = encryptWith(set, plaintext, this.account.identity)
      tx.sessions.set(lane, next)
      this.putOutbox(tx, lane, {
        seq,
        type: envelope.type,
        envelope: envelope.bytes,
        messageId: options.messageId,
        ephemeral: options.ephemeral,
        createdAt: Date.now(),
        // Kept while the session is unanswered, in case it must start again (session-restart.ts).
        ...(envelope.type === 'prekey' ? { payload: plaintext } : {}),
      })
    }
    // The number is recorded by the first lane's outbox key; without one, by the counters.
    if (!first) await this.conversations.writeMeta(tx, cid)
  }

  private putOutbox(tx: Tx, lane: ContactId, entry: OutboxRecord): void {
    // A ratchet message is ciphertext already: the store seals only the record's fields in front
    // of it. A PreKey message shows our public keys, so the store seals all of that one.
    const record = encodeOutboxRecord(entry)
    tx.put(
      Keys.outbox(lane, entry.seq),
      record,
      entry.type === 'message' ? { endToEndFrom: record.length - entry.envelope.length } : {},
    )
    tx.outbox.push({ cid: lane, entry })
    // No counters record here: while the entry is in the outbox its key records the number, and
    // whatever deletes it writes the counters (Conversations.writeMeta).
    tx.kicks.add(lane)
  }

  putContact(tx: Tx, record: ContactRecord, change: 'new' | 'update'): void {
    tx.contacts.set(record.id, record)
    tx.put(Keys.contact(record.id), encodeRecord(record))
    // A group member we did not add is no contact: nothing listening for contacts hears of it.
    if (record.state === 'member') return
    tx.after(() => this.events.emit('contact', { id: record.id, contact: this.view(record), change }))
  }

  /**
   * A 'status' change (an ack, a receipt: an update that only moves the status) is encoded only
   * if it reaches the disk: a sent message's 'sent' (written with its ack, deferred) is usually
   * replaced by 'delivered' before that. Other updates are encoded at once, since they may carry
   * data a caller still holds (extension data) and a lazy value must not change before the flush.
   */
  putMessage(tx: Tx, record: MessageRecord, change: 'new' | 'update' | 'status'): void {
    const value = change === 'status' ? () => encodeRecord(record) : encodeRecord(record)
    tx.put(Keys.msg(record.contactId, record.seq), value)
    if (change === 'new') tx.put(Keys.msgId(record.contactId, record.id), seqBytes(record.seq))
    tx.after(() => {
      this.conversations.remember(record)
      this.events.emit('message', {
        contactId: record.contactId,
        message: messageView(record),
        change: change === 'new' ? 'new' : 'update',
      })
    })
  }

  /**
   * An outgoing message moves on (an ack: 'sent' and its route; a receipt: 'delivered', 'read'):
   * the change goes into the conversation's status runs (status-runs.ts), written with its
   * counters, not into the message's record. `record` is the message as it is now to be seen.
   * Anything else (a failure, an incoming message) is written into the record as before, and so
   * are the messages of runs too short to keep.
   */
  async putStatus(tx: Tx, record: MessageRecord): Promise<void> {
    const cid = record.contactId
    if (record.direction !== 'out' || !isRunStatus(record.status)) {
      this.putMessage(tx, record, 'status')
      return
    }
    const runs = await this.conversations.runs(cid)
    runs.set(record.seq, record.status, record.route)
    let written = false
    for (const run of runs.takeSmallest()) {
      for (let seq = run.from; seq <= run.to; seq++) {
        const stored = seq === record.seq ? record : await this.conversations.storedAt(cid, seq)
        if (stored !== undefined) this.putMessage(tx, withRun(stored, run), 'status')
        written ||= seq === record.seq
      }
    }
    await this.conversations.writeMeta(tx, cid)
    if (written) return // putMessage told everyone
    tx.after(() => {
      this.conversations.refresh(record)
      this.events.emit('message', { contactId: cid, message: messageView(record), change: 'update' })
    })
  }

  /**
   * Hands `tx` to the store as one atomic write and applies it to memory at once (caches,
   * effects, outbox kicks); returns the promise that it is durable. Callers inside a conversation's
   * queue need not wait for it (the next task reads the same state through the store's overlay);
   * whatever tells the outside world (an ack, an API reply) must. `defer` holds the write back
   * for company (WriteBehindStore): only for changes whose loss in a crash merely repeats work.
   */
  commit(tx: Tx, options: WriteOptions = {}): Promise<void> {
    this.notePostQuantum(tx)
    // Encoded when the batch goes to disk: of many commits in a row only the last is written.
    for (const [cid, set] of tx.sessions)
      tx.ops.push({ type: 'put', key: Keys.sessions(cid), value: () => encodeSessionSet(set) })
    // Every key and value of a Tx is encoded for it alone (tx.ts), so the store need not copy them.
    const durable =
      tx.ops.length > 0 ? this.store.write(tx.ops, { ...options, owned: true }) : Promise.resolve()
    for (const [cid, set] of tx.sessions) this.sessions.set(cid, set)
    for (const [, record] of tx.contacts) this.contacts.set(record)
    for (const cid of tx.removedContacts) {
      this.contacts.delete(cid)
      this.sessions.delete(cid)
      this.sessionChanges++
      this.conversations.forget(cid)
    }
    for (const { cid, entry } of tx.outbox) this.conversations.outboxTail.add(cid, entry, durable)
    for (const effect of tx.effects) effect()
    for (const cid of tx.kicks) this.onOutbox(cid)
    return durable
  }

  /** Keeps each contact's `postQuantum` equal to that of the session we send on (views show it). */
  private notePostQuantum(tx: Tx): void {
    for (const [cid, set] of tx.sessions) {
      const contact = tx.contacts.get(cid) ?? this.contacts.get(cid)
      const postQuantum = set[0]?.postQuantum === true
      if (contact !== undefined && (contact.postQuantum === true) !== postQuantum)
        this.putContact(tx, { ...contact, postQuantum }, 'update')
    }
  }

  /** Where `peerId` stands with us (trust.ts): every protocol handler asks this. */
  trustOf(peerId: string): TrustState {
    const contact = this.contacts.byPeerId(peerId)
    if (contact !== undefined) return contact.state
    return this.blockedPeers.has(peerId) ? 'blocked' : 'stranger'
  }

  /**
   * Deletes everything about a contact within `tx` (messages, outbox, sessions, counters, the
   * record); with `block`, new requests from that identity are refused from now on.
   */
  async forgetContact(tx: Tx, contact: ContactRecord, options: { block: boolean }): Promise<void> {
    const prefixes = [
      Keys.msgPrefix(contact.id),
      Keys.msgIdPrefix(contact.id),
      Keys.outboxPrefix(contact.id),
      Keys.unreadPrefix(contact.id),
    ]
    // Their other devices' lanes (lanes.ts) go too.
    for (const { lane } of lanesOf(contact)) {
      if (lane === contact.id) continue
      prefixes.push(Keys.outboxPrefix(lane))
      tx.del(Keys.sessions(lane))
      tx.removedContacts.add(lane)
    }
    for (const prefix of prefixes) for await (const [k] of this.store.iterate({ prefix })) tx.del(k)
    tx.del(Keys.sessions(contact.id))
    tx.del(Keys.convMeta(contact.id))
    forgetPictures(tx, contact.id)
    await forgetSearch(this, contact.id, (k) => tx.del(k))
    tx.del(Keys.contact(contact.id))
    if (options.block) {
      // The peer id is kept so that the device, too, is refused before it names its identity.
      tx.put(Keys.blocked(contact.id), utf8(contact.peerId))
      tx.after(() => this.blockedPeers.add(contact.peerId))
    }
    tx.removedContacts.add(contact.id)
    tx.after(() => {
      this.reach.forget(contact.id)
      this.events.emit('contact', { id: contact.id, change: 'removed' })
    })
  }

  refuse(protocol: string, reason: RefusalReason, peer?: PeerId): 'rejected' {
    this.counters.refuse(protocol, reason)
    this.log.debug('refused', { protocol, reason, peer: peer?.toString() ?? '' })
    return 'rejected'
  }

  /**
   * Of the addresses a card, an address update or identify names, those this peer may dial
   * (net/dial-policy.ts: no /unix, no loopback or link-local unless we listen there), at most 8.
   * Every address that reaches a contact record or the peer store passes here first.
   */
  contactAddrs(addrs: readonly string[]): string[] {
    return this.node.services.dialPolicy.dialable(addrs)
  }

  /** Lets libp2p dial `peerId` at `addrs` (kept in its peer store beside identify/mDNS finds). */
  async rememberAddrs(peerId: string, addrs: readonly string[]): Promise<void> {
    const dialable = this.contactAddrs(addrs)
    if (dialable.length === 0) return
    try {
      await this.node.peerStore.merge(peerIdFromString(peerId), {
        multiaddrs: dialable.map((a) => multiaddr(a)),
      })
    } catch {
      // A malformed address from a card or an update is skipped; the others still work.
    }
  }
}
