/**
 * The messenger facade: what apps call (the CLI through the control socket, the web app in-page or
 * over a WebSocket). Contacts, sending and reading live here; receiving, delivery, receipts and
 * addresses are modules over the shared MessengerCore.
 *
 * Every change to a conversation runs inside that conversation's queue and commits as one Tx:
 * a ratchet step is never persisted without the message it produced or consumed, or vice versa.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { bytesToHex, fromUtf8, utf8 } from '../bytes.js'
import { decodeCardBytes } from '../card/card.js'
import { cardLink, cardQrText } from '../card/link.js'
import { wipeStore } from '../devices/join.js'
import { DeviceLinker, type DeviceView, type LinkOffer, type LinkStatus } from '../devices/linker.js'
import { ensureOwnDeviceList, loadOwnDeviceList } from '../devices/own-list.js'
import type { GroupId } from '../groups/ops.js'
import { GROUP_EXTENSION, Groups } from '../groups/service.js'
import type { DeviceList } from '../identity/device-list.js'
import { type BroadcastResult, broadcastEach } from '../labels/broadcast.js'
import { ContactLabels, type LabelAudience, type LabelView } from '../labels/labels.js'
import { homeOf } from '../mailbox/contact-home.js'
import { HomeNodeOwner, type HomeNodeView } from '../mailbox/owner.js'
import { framedHandler, type RefusedStream } from '../net/framed-handler.js'
import type { JiayiNode } from '../net/network-stack.js'
import { MAX_INBOUND_STREAMS, PROTOCOL_MSG, PROTOCOL_PREKEYS } from '../net/protocols.js'
import { watchReachChanges } from '../net/reach-changes.js'
import type { ReachStatus } from '../net/reach-service.js'
import type { NatStatus } from '../net/reach-services.js'
import { ContactRelays } from '../reach/contact-relays.js'
import { MessageSearch } from '../search/message-search.js'
import type { SearchResult, SearchSource } from '../search/results.js'
import { StoreError } from '../store/errors.js'
import type { Store } from '../store/store.js'
import { WriteBehindStore } from '../store/write-behind.js'
import { type Account, accountRecord, checkName } from './account.js'
import { AddressWatcher } from './addresses.js'
import { ContactBook } from './contact-book.js'
import { withDeviceList } from './contact-devices.js'
import { ContactFinder } from './contact-finder.js'
import { ContactOps } from './contact-ops.js'
import { Conversations } from './conversations.js'
import {
  type EncryptOptions,
  type Logger,
  MessengerCore,
  type MessengerEvents,
  silentLogger,
} from './core.js'
import type { RefusalReason } from './counters.js'
import { createOutboxPump } from './delivery.js'
import { DhtFinder } from './dht-finder.js'
import { MessengerError } from './errors.js'
import type { Emitter } from './events.js'
import { type ContactId, isMessageId, type MessageId, newMessageId } from './ids.js'
import { type ExtensionContext, type ExtensionHandler, Inbound, outsideExtension } from './inbound.js'
import { Keys } from './keys.js'
import { LanPresence } from './lan-presence.js'
import { laneOf, lanesOf } from './lanes.js'
import { serveMsgStream } from './msg-protocol.js'
import type { OutboxPump } from './outbox.js'
import { MAX_EMOJI_BYTES, MAX_TEXT_BYTES, type PayloadBody } from './payload.js'
import { isCardProof, servePrekeyStream } from './prekey-protocol.js'
import { PreKeyStore } from './prekey-store.js'
import { PROFILE_PICTURE_EXTENSION, type ProfilePicture, ProfilePictures } from './profile-picture.js'
import { addressKey, KNOWN_FETCH_LIMITS, RateLimiter, STRANGER_FETCH_LIMITS } from './rate-limit.js'
import { ReceiptBatcher } from './receipts.js'
import type { ContactRecord, MessageRecord } from './records.js'
import { SESSION_RESET_EXTENSION, SessionResets } from './session-reset.js'
import { SessionUpgrader } from './session-upgrade.js'
import { OwnSync, SYNC_EXTENSION } from './sync.js'
import { PENDING_IN_LIMITS, type PeerAction, type PendingLimits, peerMay, type TrustState } from './trust.js'
import { Tx } from './tx.js'
import { type CardView, type ContactView, type MessageView, type MeView, messageView } from './views.js'

export type { ExtensionContext, ExtensionHandler, Logger, MessengerEvents }

export interface MessengerInit {
  readonly store: Store
  /** A started libp2p node whose private key is `account.deviceKey`. */
  readonly node: JiayiNode
  readonly account: Account
  readonly log?: Logger
  /**
   * Extension handlers (files, feed keys) in place before the first envelope can arrive; handlers
   * registered after `open()` may miss payloads delivered while it ran.
   */
  readonly extensions?: Readonly<Record<string, ExtensionHandler>>
  /** What pending requests may keep here; default PENDING_IN_LIMITS. */
  readonly pendingLimits?: Partial<PendingLimits>
  /** The clock prekey rotation runs by (ms since the epoch); default Date.now. Tests move it. */
  readonly now?: () => number
  /**
   * The store lost its latest writes (a damaged log, a repair): start a new session with every
   * accepted contact before anything is sent to them (session-reset.ts).
   */
  readonly resetSessions?: boolean
  /**
   * This device's name on our device list, when the list is first made for an account that
   * predates it (default "Device"; the node daemon passes the hostname, the in-page peer
   * "Browser").
   */
  readonly deviceName?: string
  /** How long a device link works (default 5 minutes: devices/link.ts LINK_TTL_MS). Tests shorten it. */
  readonly linkTtlMs?: number
}

/** How often the peer checks whether its prekeys are due for rotation. */
const ROTATION_CHECK_MS = 60 * 60_000

export interface MessengerStats {
  readonly contacts: number
  readonly refusedTotal: number
  readonly refused: Record<string, Record<string, number>>
}

/** A message of a history brought in by `importHistory`. */
export interface HistoryEntry {
  readonly direction: 'in' | 'out'
  readonly text: string
  /** ms since the epoch. */
  readonly sentAt: number
  /** Incoming only: already read (default: unread). */
  readonly read?: boolean
}

export class Messenger {
  private readonly outbox: OutboxPump
  private readonly receipts: ReceiptBatcher
  private readonly inbound: Inbound
  private readonly addresses: AddressWatcher
  private readonly contacts: ContactOps
  private readonly presence: LanPresence
  private readonly upgrader: SessionUpgrader
  private rotation: ReturnType<typeof setInterval> | undefined
  private readonly unsubscribe: (() => void)[] = []
  private readonly resets: SessionResets
  private readonly pictures: ProfilePictures
  /** Group chats (groups/service.ts). */
  readonly groups: Groups
  private readonly finder: MessageSearch
  private readonly contactLabels: ContactLabels
  /** Our home node and the mailbox on it (mailbox/owner.ts). */
  private readonly home: HomeNodeOwner
  /** Relay slots on contacts' home nodes (reach/contact-relays.ts). */
  private readonly contactRelays: ContactRelays
  /** Linking and unlinking our devices (devices/linker.ts). */
  private readonly linker: DeviceLinker
  private readonly listeners: [string, (e: Event) => void][] = []
  /** Mirrors what we send to our other devices (sync.ts). */
  private readonly sync: OwnSync
  /** Prekey fetches, by whether the peer is a stranger (rate-limit.ts). */
  private readonly fetches = {
    strangers: new RateLimiter(STRANGER_FETCH_LIMITS),
    known: new RateLimiter(KNOWN_FETCH_LIMITS),
  }

  private constructor(
    private readonly core: MessengerCore,
    pendingLimits: PendingLimits,
    private readonly now: () => number,
    linkTtlMs: number | undefined,
  ) {
    this.outbox = createOutboxPump(core)
    core.onOutbox = (cid) => this.outbox.kick(cid)
    this.receipts = new ReceiptBatcher(core)
    this.inbound = new Inbound(core, this.receipts, pendingLimits)
    // Our own home node's reservation is the home owner's (mailbox/owner.ts); contacts' home
    // nodes' are these, and the address through one goes to that contact only.
    this.contactRelays = new ContactRelays(core, () => this.home?.view()?.peerId)
    this.addresses = new AddressWatcher(core, {
      relayAddrFor: (c) => this.contactRelays.addrFor(c),
      ownHome: () => this.home?.view()?.peerId,
    })
    // A new own list (linking, unlinking): contacts hear of it, and what we send from now on is
    // mirrored to the devices it names.
    // Our other devices hear of it too (sync.ts), unless it came from one of them.
    this.sync = new OwnSync(core)
    this.sync.onContactRemoved = (cid) => this.outbox.reset(cid)
    core.onContactAccepted = (cid) => this.sync.contact(cid)
    this.inbound.extensions.set(SYNC_EXTENSION, this.sync.extension)
    // A device of someone we share a group with that we did not know: what it sent before was
    // refused, its sender key too; the groups ask it again.
    core.onDevicesAdded = (id) =>
      void this.groups.devicesAdded(id).catch((error) =>
        core.log.warn('could not ask a member for group news', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
    core.onDeviceList = (list, mirrored) => {
      this.addresses.schedule(0)
      this.kickAllLanes()
      this.home.devicesChanged()
      if (!mirrored) this.sync.deviceList(list)
      core.events.emit('own-devices', { devices: core.ownDevices.devices })
      // Group members who are not contacts hear of it through the groups.
      void this.groups.announceDevices().catch((error) =>
        core.log.warn('could not tell group members of our devices', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
    }
    this.linker = new DeviceLinker(core, linkTtlMs === undefined ? {} : { ttlMs: linkTtlMs })
    this.linker.onRemoved = () => void this.removedHere()
    this.contacts = new ContactOps(core, this.receipts, this.outbox, this.sync)
    this.presence = new LanPresence(core, now)
    this.upgrader = new SessionUpgrader(core)
    this.resets = new SessionResets(core)
    core.onDecryptFailed = (cid) => this.resets.decryptFailed(cid)
    this.inbound.extensions.set(SESSION_RESET_EXTENSION, this.resets.extension)
    const finder = new ContactFinder(core, (cid) => this.outbox.kick(cid, true))
    const dhtFinder = new DhtFinder(core, (cid) => this.outbox.kick(cid, true))
    core.onDeliveryFailed = (cid) => {
      finder.deliveryFailed(cid)
      dhtFinder.deliveryFailed(cid)
    }
    for (const [kind, handler] of Object.entries(finder.extensions))
      this.inbound.extensions.set(kind, handler)
    this.pictures = new ProfilePictures(core)
    this.finder = new MessageSearch(core)
    this.contactLabels = new ContactLabels(core, (cid) => this.sync.contact(cid))
    this.inbound.extensions.set(PROFILE_PICTURE_EXTENSION, this.pictures.extension)
    this.groups = new Groups(core, (id, bytes) => this.takeDeviceList(id, bytes))
    this.inbound.extensions.set(GROUP_EXTENSION, this.groups.extension)
    this.groups.onOwnOps = (gid, ops) => this.sync.groupOps(gid, ops)
    this.sync.onGroupOp = (gid, op) => this.groups.receiveOwnOp(gid, op)
    this.groups.onOwnMirror = (sync) => this.sync.group(sync)
    this.sync.onGroupMirror = (sync, device) => this.groups.receiveOwnMirror(sync, device)
    this.home = new HomeNodeOwner(
      core,
      (from, envelope, connection, via) => this.inbound.onEnvelope(from, envelope, connection, via),
      () => this.addresses.schedule(0),
    )
  }

  static async open(init: MessengerInit): Promise<Messenger> {
    // Group commit: a burst of messages shares disk writes (see WriteBehindStore).
    const store = init.store instanceof WriteBehindStore ? init.store : new WriteBehindStore(init.store)
    const now = init.now ?? Date.now
    const prekeys = await PreKeyStore.open(store, init.account.identity, now())
    const contacts = await ContactBook.load(store)
    const deviceList = await ensureOwnDeviceList(store, init.account, init.deviceName ?? 'Device')
    const core = new MessengerCore(
      store,
      init.node,
      init.account,
      prekeys,
      contacts,
      new Conversations(store),
      init.log ?? silentLogger,
      deviceList,
    )
    for await (const [, value] of store.iterate({ prefix: Keys.blockedPrefix() })) {
      // Blocks written before the peer id was kept hold '1': their identity is still refused.
      const peerId = fromUtf8(value)
      if (peerId.length > 1) core.blockedPeers.add(peerId)
    }
    // A full disk is waited out (WriteBehindStore): said once when it fills, once when it clears.
    store.onSpace((state) => {
      if (state === 'full')
        core.log.warn('the disk is full: changes wait in memory and nothing is acknowledged')
      else core.log.info('the disk has room again: the changes that waited are written')
      core.events.emit('storage', { state })
    })
    const messenger = new Messenger(
      core,
      { ...PENDING_IN_LIMITS, ...init.pendingLimits },
      now,
      init.linkTtlMs,
    )
    for (const [kind, handler] of Object.entries(init.extensions ?? {}))
      messenger.registerExtension(kind, handler)
    await messenger.start(init.resetSessions === true)
    return messenger
  }

  get events(): Emitter<MessengerEvents> {
    return this.core.events
  }

  get node(): JiayiNode {
    return this.core.node
  }

  get store(): Store {
    return this.core.store
  }

  get account(): Account {
    return this.core.account
  }

  private async start(resetSessions: boolean): Promise<void> {
    const core = this.core
    // Receipts a stop or crash left unsent are queued before any message can come in: a receipt
    // for a new message moves the mark recovery reads from past the ones still owed.
    for (const c of core.contacts.all()) await this.receipts.recover(c.id)
    await this.groups.start()
    const onRefused = (r: RefusedStream) => core.refuse(r.protocol, refusalOf(r.code), r.remotePeer)
    const serveMsg = framedHandler(
      PROTOCOL_MSG,
      (framed, connection) =>
        serveMsgStream(framed, connection, (from, e, c) => this.inbound.onEnvelope(from, e, c)),
      { onRefused },
    )
    const servePrekeys = framedHandler(
      PROTOCOL_PREKEYS,
      (framed, connection) => servePrekeyStream(framed, (proof) => this.handOutPrekeys(connection, proof)),
      { onRefused },
    )
    // Both run on a relayed (limited) connection too: messages and prekeys are small, and may
    // cross a home node's relay while DCUtR tries for a direct connection (files and feed sync
    // wait for that: their handlers refuse limited connections).
    await core.node.handle(PROTOCOL_MSG, serveMsg, {
      maxInboundStreams: MAX_INBOUND_STREAMS[PROTOCOL_MSG],
      runOnLimitedConnection: true,
    })
    await core.node.handle(PROTOCOL_PREKEYS, servePrekeys, {
      maxInboundStreams: MAX_INBOUND_STREAMS[PROTOCOL_PREKEYS],
      runOnLimitedConnection: true,
    })
    this.listen('peer:connect', (e) => {
      const peer = (e as CustomEvent<PeerId>).detail
      // A connection, whoever opened it: they are reachable now.
      const contact = core.contacts.byPeerId(peer.toString())
      if (contact !== undefined) core.reach.reached(contact.id)
      this.linker.heard(peer.toString())
      this.peerSeen(peer)
      void this.groups.peerConnected(peer).catch(() => undefined)
    })
    this.listen('peer:discovery', (e) => this.peerSeen((e as CustomEvent<{ id: PeerId }>).detail.id))
    this.listen('peer:identify', (e) => {
      const detail = (e as CustomEvent<{ peerId: PeerId; listenAddrs: { toString(): string }[] }>).detail
      this.addresses.identified(detail.peerId, detail.listenAddrs)
    })
    this.listen('self:peer:update', () => this.addresses.schedule())
    // Our reach changes with our addresses (a router's mapping, a relay slot) and with what
    // peers see of us (identify): each nudges a fresh look.
    const reachChanges = watchReachChanges({
      read: () => this.reachStatus(),
      changed: () => core.events.emit('reach', this.reach()),
    })
    this.unsubscribe.push(() => reachChanges.stop())
    for (const type of ['self:peer:update', 'peer:identify', 'transport:listening', 'transport:close'])
      this.listen(type, () => reachChanges.nudge())
    // A relay slot gained or lost: one on a contact's home node changes what that contact is
    // told, and libp2p's own record of us (which never names it) does not change with it.
    this.listen('transport:listening', () => this.addresses.schedule())
    await this.addresses.start()
    this.presence.start()
    await this.rotatePrekeys()
    this.rotation = setInterval(() => void this.rotatePrekeys().catch(() => undefined), ROTATION_CHECK_MS)
    // A contact that becomes accepted while online gets its session upgraded then (connections
    // are the other occasion: peerSeen).
    this.unsubscribe.push(
      core.events.on('contact', (e) => {
        if (e.contact?.state === 'accepted' && e.contact.online) this.upgrader.consider(e.id)
        if (e.change === 'removed') this.pictures.forgotten(e.id)
        // A new contact, or one that has not got our current picture yet, gets it.
        if (e.contact?.state === 'accepted') void this.pictures.sendTo(e.id).catch(() => undefined)
      }),
    )
    void this.pictures.sendToAll().catch(() => undefined)
    this.finder.start()
    await this.resets.start(resetSessions)
    // Before the outbox starts: our card and address updates carry the home node's certificate.
    await this.home.start()
    this.contactRelays.start()
    await this.linker.start()
    this.kickAllLanes()
    void this.groups.reachOut().catch(() => undefined)
  }

  private listen(type: string, handler: (e: Event) => void): void {
    this.core.node.addEventListener(type as never, handler as never)
    this.listeners.push([type, handler])
  }

  /** Stops delivery and unregisters handlers. Does not stop the libp2p node or close the store. */
  async stop(): Promise<void> {
    const core = this.core
    if (core.stopped) return
    core.stopped = true
    this.outbox.stop()
    this.receipts.stop()
    this.addresses.stop()
    this.presence.stop()
    clearInterval(this.rotation)
    for (const off of this.unsubscribe) off()
    this.resets.stop()
    await this.linker.stop()
    await this.home.stop()
    this.contactRelays.stop()
    await this.finder.stop()
    await this.groups.stop()
    for (const [type, handler] of this.listeners)
      core.node.removeEventListener(type as never, handler as never)
    await core.node.unhandle(PROTOCOL_MSG).catch(() => undefined)
    await core.node.unhandle(PROTOCOL_PREKEYS).catch(() => undefined)
    // Whatever was committed reaches the disk before the caller closes the store (unless the
    // disk is full: then it may never, and the store's close makes the last try).
    if (!core.store.full) await core.store.flushed().catch(() => undefined)
  }

  private peerSeen(peer: PeerId): void {
    const core = this.core
    const id = peer.toString()
    if (core.isOwnDevice(id)) {
      this.outbox.kick(laneOf(core.selfRecord(), id), true)
      this.sync.met(id)
    }
    const contact = core.contacts.byPeerId(id)
    if (contact === undefined) return
    // The lane of the device that was seen: each device of theirs is delivered to on its own.
    this.outbox.kick(laneOf(contact, id), true)
    if (id === contact.peerId) this.upgrader.consider(contact.id)
  }

  /**
   * Takes `bytes` as the contact's device list when their identity signed it and it is newer
   * than the one held (contact-devices.ts); true when it changed. A device off the new list is
   * refused from now on and nothing more is encrypted to it (what waited for it is dropped); a
   * new one gets every payload from now on. Throws IdentityError for a list that does not verify.
   */
  async applyDeviceList(ref: string, bytes: Uint8Array): Promise<boolean> {
    this.assertRunning()
    return this.takeDeviceList(this.core.contacts.resolve(ref).id, bytes)
  }

  /** applyDeviceList for a contact or member record by id (also what group traffic brings). */
  private takeDeviceList(id: ContactId, bytes: Uint8Array): Promise<boolean> {
    const core = this.core
    return core.queue.run(id, async () => {
      const current = core.contacts.get(id)
      const next = current === undefined ? undefined : withDeviceList(current, bytes)
      if (current === undefined || next === undefined) return false
      const tx = new Tx()
      core.putContact(tx, next, 'update')
      // What waited for a device now off the list is not for it any more: dropped with the change.
      const kept = new Set(lanesOf(next).map((l) => l.lane))
      const dropped = lanesOf(current).filter((l) => !kept.has(l.lane) && l.lane !== id)
      for (const { lane } of dropped) {
        for await (const [k] of core.store.iterate({ prefix: Keys.outboxPrefix(lane) })) tx.del(k)
        tx.del(Keys.sessions(lane))
        tx.removedContacts.add(lane)
      }
      await core.commit(tx)
      for (const { lane } of dropped) this.outbox.reset(lane)
      for (const lane of kept) this.outbox.kick(lane)
      const before = new Set(lanesOf(current).map((l) => l.lane))
      if ([...kept].some((lane) => !before.has(lane))) core.onDevicesAdded(id)
      return true
    })
  }

  /**
   * Reads our own device list again from the store (for a list written there from outside this
   * messenger): what we send from now on is mirrored to the devices it names.
   */
  async reloadOwnDevices(): Promise<readonly string[]> {
    const core = this.core
    const list = await loadOwnDeviceList(core.store, core.account)
    if (list !== undefined) core.replaceOwnDeviceList(list)
    this.kickAllLanes()
    return core.ownDevices.devices
  }

  private kickAllLanes(): void {
    for (const lane of this.core.allLanes()) this.outbox.kick(lane)
  }

  /**
   * Runs the prekey rotation schedule now (prekey-store.ts): what is due is replaced, what is past
   * its grace is deleted. The peer runs it at start and every hour on its clock (MessengerInit.now).
   */
  async rotatePrekeys(): Promise<{ readonly signedPreKeyId: number; readonly kemPreKeyId: number }> {
    const prekeys = this.core.prekeys
    if (await prekeys.rotate(this.now()))
      this.core.log.info('prekeys rotated', { id: prekeys.signedPreKey.id })
    return { signedPreKeyId: prekeys.signedPreKey.id, kemPreKeyId: prekeys.kemPreKeyId }
  }

  /** Prekeys for whoever may fetch them, proves they hold our card, and is within its limits. */
  private async handOutPrekeys(connection: Connection, proof: Uint8Array) {
    const core = this.core
    const peer = connection.remotePeer
    const trust = core.trustOf(peer.toString())
    if (!peerMay(trust, 'fetch-prekeys')) {
      core.refuse(PROTOCOL_PREKEYS, 'not-allowed', peer)
      return undefined
    }
    // Checked before the rate limits: a peer id alone must not even learn that we are limiting it.
    if (!isCardProof(proof, core.identity(), core.peerId, peer)) {
      core.refuse(PROTOCOL_PREKEYS, 'no-card-proof', peer)
      return undefined
    }
    const limits = trust === 'stranger' ? this.fetches.strangers : this.fetches.known
    if (!limits.tryTake(peer.toString(), addressKey(connection.remoteAddr))) {
      core.refuse(PROTOCOL_PREKEYS, 'rate-limited', peer)
      return undefined
    }
    return core.prekeys.handOut()
  }

  /** Where a peer (by peer id) stands with us: what every protocol handler asks (trust.ts). */
  trustOf(peerId: string): TrustState {
    return this.core.trustOf(peerId)
  }

  /** Ourselves as a contact (our own device list): whom a file one of our devices sent is fetched from. */
  selfContact(): ContactView {
    return this.core.view(this.core.selfRecord())
  }

  /**
   * Whether `peerId` is another device of ours (on our own device list): it is us, so it keeps
   * our Moments in step with this one (@jiayi/feed syncs with it as with a contact).
   */
  isOwnDevice(peerId: string): boolean {
    return this.core.isOwnDevice(peerId)
  }

  /** Whether the peer may do `action` now (trust.ts). */
  peerMay(peerId: string, action: PeerAction): boolean {
    return peerMay(this.core.trustOf(peerId), action)
  }

  // ------------------------------------------------------------------ account and card

  whoami(): MeView {
    const core = this.core
    return {
      name: core.account.name,
      identityKey: bytesToHex(core.account.identity.signing.publicKey),
      peerId: core.peerId.toString(),
      devices: this.linker.devices(),
    }
  }

  // ------------------------------------------------------------------ our devices

  /** Our devices, as our newest device list names them (`jiayi devices`). */
  devices(): DeviceView[] {
    return this.linker.devices()
  }

  /** Our newest signed device list (identity/device-list.ts). */
  ownDeviceList(): DeviceList {
    return this.core.ownDeviceList()
  }

  /** A one-time link for a new device (`jiayi devices link`); an earlier one stops working. */
  linkDevice(ttlMs?: number): LinkOffer {
    this.assertRunning()
    return this.linker.create(ttlMs)
  }

  /** Where linking stands, once it changed past `after` (a long poll of at most `timeoutMs`). */
  linkStatus(after: number, timeoutMs?: number): Promise<LinkStatus & { readonly seq: number }> {
    return this.linker.wait(after, timeoutMs)
  }

  /** The code the new device shows: the handover starts; a wrong code ends the link (WrongCode). */
  confirmLink(code: string): Promise<LinkStatus & { readonly seq: number }> {
    this.assertRunning()
    return this.linker.confirm(code)
  }

  /** Removes one of our other devices (`jiayi devices remove ID`); it is told if it is online. */
  removeDevice(id: string): Promise<DeviceView[]> {
    this.assertRunning()
    return this.linker.remove(id)
  }

  /** Another of our devices removed this one: everything here is wiped, and apps are told. */
  private async removedHere(): Promise<void> {
    await this.stop()
    await wipeStore(this.core.store)
    await this.core.store.flushed().catch(() => undefined)
    this.core.events.emit('device', { change: 'removed' })
  }

  /**
   * Changes our display name: a new card, sent to every accepted contact (who update the name
   * they show), and the name the next card shows to people who add us.
   */
  async setName(name: string): Promise<MeView> {
    this.assertRunning()
    const core = this.core
    core.account = { ...core.account, name: checkName(name) }
    await core.store.put(Keys.account(), accountRecord(core.account))
    const card = core.cardBytes()
    for (const contact of core.contacts.all()) {
      if (contact.state !== 'accepted') continue
      await core.queue.run(contact.id, async () => {
        const tx = new Tx()
        await core.encryptToOutbox(tx, contact.id, { kind: 'accept', card })
        await core.commit(tx)
      })
    }
    return this.whoami()
  }

  /** Our card with the addresses we listen on now. */
  cardBytes(): Uint8Array {
    return this.core.cardBytes()
  }

  card(): CardView {
    const bytes = this.core.cardBytes()
    const card = decodeCardBytes(bytes)
    return {
      link: cardLink(bytes),
      qr: cardQrText(bytes),
      name: card.name,
      peerId: card.peerId,
      addrs: card.addrs,
    }
  }

  // ------------------------------------------------------------------ home node

  /** Our home node, once linked (`home-node add`), else null. */
  homeNode(): HomeNodeView | null {
    return this.home.view()
  }

  /**
   * How others reach this peer (the ready line's and `stats`' `reach`): what AutoNAT and identify
   * tell of our NAT, the relays we hold a reservation on (our home node), the public addresses
   * our router maps to us (UPnP), and the home node.
   */
  reach(): { nat: NatStatus; relays: string[]; mapped: string[]; homeNode: HomeNodeView | null } {
    const status = this.reachStatus()
    return {
      nat: status.nat,
      relays: [...status.relays],
      mapped: [...status.mapped],
      homeNode: this.homeNode(),
    }
  }

  private reachStatus(): ReachStatus {
    return this.core.node.services.reach?.status() ?? { nat: 'unknown', relays: [], mapped: [] }
  }

  /**
   * Links the home node a `jiayi:home/…` link names: it is certified with our identity and serves
   * us only; our contacts learn it from our card and an address update. Throws MailboxError.
   */
  addHomeNode(link: string): Promise<HomeNodeView> {
    return this.home.add(link)
  }

  /**
   * Where a contact's home node is (their card or address update named it, their identity
   * certified it, and it has not expired), if anywhere: their mailbox and their feed's seeder.
   */
  contactHome(ref: string): HomeNodeView | undefined {
    const home = homeOf(this.core.contacts.resolve(ref))
    return home === undefined ? undefined : { peerId: home.peerId, addrs: home.addrs }
  }

  /** Fetches and processes what waits in our mailbox now; resolves to how many items. */
  fetchMailbox(): Promise<number> {
    return this.home.drain()
  }

  stats(): MessengerStats {
    return { contacts: this.core.contacts.all().length, ...this.core.counters.snapshot() }
  }

  // ------------------------------------------------------------------ contacts

  contactList(): ContactView[] {
    return this.core.contacts.all().map((c) => this.core.view(c))
  }

  contact(ref: string): ContactView {
    return this.core.view(this.core.contacts.resolve(ref))
  }

  /**
   * Adds the person on a card (link or QR text) and sends them a contact request carrying our
   * own card. If they already asked us, this accepts them instead. Idempotent.
   */
  addContact(link: string): Promise<ContactView> {
    this.assertRunning()
    return this.contacts.add(link)
  }

  accept(ref: string): Promise<ContactView> {
    this.assertRunning()
    return this.contacts.accept(ref)
  }

  /** Declines a request or removes a contact: deletes everything about them and blocks new requests. */
  reject(ref: string): Promise<void> {
    this.assertRunning()
    return this.contacts.reject(ref)
  }

  verify(ref: string, mark = false): Promise<{ safetyNumber: string; verified: boolean }> {
    return this.contacts.verify(ref, mark)
  }

  /**
   * Messages, file names and contacts matching every word of `query` (Chinese by characters),
   * and what added sources find (Moments posts and comments): contacts first, then the newest
   * (search/message-search.ts).
   */
  search(query: string, options: { contact?: string; limit?: number } = {}): Promise<SearchResult[]> {
    const only = options.contact === undefined ? undefined : this.core.contacts.resolve(options.contact).id
    return this.finder.search(query, { limit: options.limit, contact: only })
  }

  /**
   * Adds what `source` finds (the Moments feed's posts and comments) to every search, ranked
   * with the messages; until the returned function is called.
   */
  addSearchSource(source: SearchSource): () => void {
    return this.finder.addSource(source)
  }

  /** Our profile picture, if we set one. */
  profilePicture(): Promise<ProfilePicture | undefined> {
    return this.pictures.mine()
  }

  /** Sets (or, with undefined, removes) our profile picture; every accepted contact gets it. */
  setProfilePicture(
    picture: { mime: string; data: Uint8Array } | undefined,
  ): Promise<ProfilePicture | undefined> {
    this.assertRunning()
    return this.pictures.set(picture)
  }

  /** A contact's profile picture, if they sent one. */
  contactPicture(ref: string): Promise<ProfilePicture | undefined> {
    return this.pictures.of(this.core.contacts.resolve(ref).id)
  }

  /** Sets (or, with '', clears) the user's private name for a contact (备注). */
  setRemark(ref: string, remark: string): Promise<ContactView> {
    this.assertRunning()
    return this.contacts.setRemark(ref, remark)
  }

  /** The scannable safety number (for a QR code the other person scans), as hex. */
  safetyNumberCode(ref: string): string {
    return this.contacts.safetyNumberCode(ref)
  }

  // ------------------------------------------------------------------ labels (labels/)

  /** Every label (标签) in use, each with its contacts; private to this device. */
  labels(): LabelView[] {
    return this.contactLabels.list()
  }

  /** Gives the label to each contact named (all are found first, or nothing changes). */
  addLabel(label: string, refs: readonly string[]): Promise<LabelView> {
    this.assertRunning()
    return this.contactLabels.add(label, refs)
  }

  removeLabel(label: string, refs: readonly string[]): Promise<LabelView> {
    this.assertRunning()
    return this.contactLabels.remove(label, refs)
  }

  /** Takes the label from everyone who has it. */
  deleteLabel(label: string): Promise<void> {
    this.assertRunning()
    return this.contactLabels.delete(label)
  }

  /** Who a broadcast to the label would reach (accepted contacts), and who it would skip. */
  labelAudience(label: string): LabelAudience {
    return this.contactLabels.audience(label)
  }

  /**
   * 群发: `text` to every accepted contact with the label, each as a separate 1:1 message of
   * `send` (queued in their outboxes when this returns); no one learns who else got it.
   */
  async broadcast(label: string, text: string): Promise<BroadcastResult> {
    this.assertRunning()
    checkText(text)
    return broadcastEach(this.labelAudience(label), async (cid) => (await this.send(cid, text)).id)
  }

  // ------------------------------------------------------------------ sending

  async send(ref: string, text: string, options: { replyTo?: string } = {}): Promise<MessageView> {
    this.assertRunning()
    checkText(text)
    const contact = this.sendable(ref)
    const replyTo = options.replyTo === undefined ? undefined : checkMessageId(options.replyTo)
    const queued = await this.core.queue.run(contact.id, async () => {
      const tx = new Tx()
      const id = newMessageId()
      const now = Date.now()
      const record: MessageRecord = {
        id,
        contactId: contact.id,
        seq: await this.core.conversations.nextMessageSeq(contact.id),
        direction: 'out',
        text,
        replyTo,
        sentAt: now,
        at: now,
        status: 'queued',
      }
      this.core.putMessage(tx, record, 'new')
      await this.core.encryptToOutbox(
        tx,
        contact.id,
        { kind: 'text', text, replyTo },
        { id, sentAt: now, messageId: id },
      )
      // Queued means on disk; the next send need not wait for this one's write, though.
      return { record, durable: this.core.commit(tx) }
    })
    await queued.durable
    this.sync.sent(queued.record)
    return messageView(queued.record)
  }

  /** Reacts to any message of the conversation; an empty emoji removes our reaction. */
  async react(ref: string, messageId: string, emoji: string): Promise<MessageView> {
    if (typeof emoji !== 'string' || utf8(emoji).length > MAX_EMOJI_BYTES) {
      throw new MessengerError('BadInput', 'a reaction is one emoji')
    }
    return this.changeMessage(
      ref,
      messageId,
      'any',
      (m) => ({ ...m, reactions: { ...m.reactions, mine: emoji || undefined } }),
      (target) => ({ kind: 'reaction', target, emoji }),
    )
  }

  async edit(ref: string, messageId: string, text: string): Promise<MessageView> {
    checkText(text)
    return this.changeMessage(
      ref,
      messageId,
      'out',
      (m) => ({ ...m, text, editedAt: Date.now() }),
      (target) => ({ kind: 'edit', target, text }),
    )
  }

  /** Delete for everyone: both copies lose the text and show "deleted". */
  async deleteMessage(ref: string, messageId: string): Promise<MessageView> {
    return this.changeMessage(
      ref,
      messageId,
      'out',
      (m) => ({ ...m, text: '', deleted: true }),
      (target) => ({ kind: 'delete', target }),
    )
  }

  private async changeMessage(
    ref: string,
    messageId: string,
    allowed: 'out' | 'any',
    change: (m: MessageRecord) => MessageRecord,
    body: (target: MessageId) => PayloadBody,
  ): Promise<MessageView> {
    this.assertRunning()
    const contact = this.sendable(ref)
    const id = checkMessageId(messageId)
    return this.core.queue.run(contact.id, async () => {
      const message = await this.core.conversations.message(contact.id, id)
      if (message === undefined || (allowed === 'out' && message.direction !== 'out')) {
        throw new MessengerError(
          'UnknownMessage',
          allowed === 'out' ? 'no message of yours with that id here' : 'no message with that id here',
        )
      }
      if (message.deleted) throw new MessengerError('BadInput', 'that message was deleted')
      const tx = new Tx()
      const updated = change(message)
      const payload = body(id)
      this.core.putMessage(tx, updated, 'update')
      await this.core.encryptToOutbox(tx, contact.id, payload)
      await this.core.commit(tx)
      // Our other devices make the same change (sync.ts).
      const target = { contact: contact.id, id }
      if (payload.kind === 'reaction')
        this.sync.changed({ kind: 'reaction', ...target, emoji: payload.emoji })
      else if (payload.kind === 'edit') this.sync.changed({ kind: 'edit', ...target, text: payload.text })
      else if (payload.kind === 'delete') this.sync.changed({ kind: 'delete', ...target })
      return messageView(updated)
    })
  }

  /** Typing indicators are best effort: sent only while connected, never retried. */
  async setTyping(ref: string, active: boolean): Promise<void> {
    this.assertRunning()
    const contact = this.sendable(ref)
    if (contact.state !== 'accepted' || !this.core.isOnline(contact.peerId)) return
    await this.core.queue.run(contact.id, async () => {
      const tx = new Tx()
      await this.core.encryptToOutbox(tx, contact.id, { kind: 'typing', active }, { ephemeral: true })
      await this.core.commit(tx)
    })
  }

  /**
   * Sends an extension payload (files, feed keys) through the contact's session and outbox. With
   * `record`, it also appears in the conversation as a message whose status follows delivery.
   */
  async sendExtension(
    ref: string,
    extension: string,
    body: Uint8Array,
    options: { record?: { text: string; data: unknown }; id?: MessageId } = {},
  ): Promise<MessageView | undefined> {
    this.assertRunning()
    const contact = this.sendable(ref)
    return this.core.queue.run(contact.id, async () => {
      const tx = new Tx()
      const id = options.id ?? newMessageId()
      const now = Date.now()
      let view: MessageView | undefined
      const encrypt: EncryptOptions = { id, sentAt: now }
      if (options.record !== undefined) {
        const record: MessageRecord = {
          id,
          contactId: contact.id,
          seq: await this.core.conversations.nextMessageSeq(contact.id),
          direction: 'out',
          text: options.record.text,
          sentAt: now,
          at: now,
          status: 'queued',
          extension: { kind: extension, data: options.record.data },
        }
        this.core.putMessage(tx, record, 'new')
        view = messageView(record)
      }
      await this.core.encryptToOutbox(
        tx,
        contact.id,
        { kind: 'extension', extension, body },
        options.record ? { ...encrypt, messageId: id } : encrypt,
      )
      await this.core.commit(tx)
      return view
    })
  }

  /** Replaces the extension data of a message (e.g. a file's transfer state); local only. */
  async updateExtension(ref: string, messageId: string, data: unknown): Promise<MessageView> {
    const contact = this.core.contacts.resolve(ref)
    const id = checkMessageId(messageId)
    return this.core.queue.run(contact.id, async () => {
      const message = await this.core.conversations.message(contact.id, id)
      if (message?.extension === undefined) throw new MessengerError('UnknownMessage', 'no such message here')
      const tx = new Tx()
      const updated = { ...message, extension: { kind: message.extension.kind, data } }
      this.core.putMessage(tx, updated, 'update')
      await this.core.commit(tx)
      return messageView(updated)
    })
  }

  /** A message of the conversation by id (no read marking). */
  async message(ref: string, messageId: string): Promise<MessageView | undefined> {
    const contact = this.core.contacts.resolve(ref)
    const m = await this.core.conversations.message(contact.id, checkMessageId(messageId))
    return m && messageView(m)
  }

  /**
   * What `ref` names: a contact or a group (`send` and `messages` take either). A name that
   * matches a contact and a group is AmbiguousContact, listing both.
   */
  conversationOf(
    ref: string,
  ): { kind: 'contact'; id: ContactId; name: string } | { kind: 'group'; id: GroupId; name: string } {
    let contact: ContactRecord | undefined
    let miss: unknown
    try {
      contact = this.core.contacts.resolve(ref)
    } catch (error) {
      if (!MessengerError.is(error, 'UnknownContact')) throw error
      miss = error
    }
    const group = this.groups.find(ref)
    if (contact !== undefined && group !== undefined) {
      throw new MessengerError(
        'AmbiguousContact',
        `"${ref}" names a contact (id ${contact.id}) and a group (id ${group.id}); use an id`,
      )
    }
    if (group !== undefined) return { kind: 'group', id: group.id, name: group.name }
    if (contact !== undefined)
      return { kind: 'contact', id: contact.id, name: contact.remark ?? contact.name }
    throw miss instanceof MessengerError
      ? new MessengerError('UnknownContact', `no contact or group matches "${ref}"`)
      : miss
  }

  /** Lets a payload kind of another package (files, feed keys) through the sessions. */
  registerExtension(kind: string, handler: ExtensionHandler): void {
    this.inbound.extensions.set(kind, outsideExtension(handler))
  }

  private sendable(ref: string): ContactRecord {
    const contact = this.core.contacts.resolve(ref)
    if (contact.state === 'pending-in') {
      throw new MessengerError('NotAccepted', `${contact.name} asked to add you; accept the request first`)
    }
    return contact
  }

  // ------------------------------------------------------------------ reading

  /**
   * The newest `limit` messages (older than message `before`, when given), oldest first; with
   * `after`, the oldest `limit` newer than that message (a page back towards the end). Viewing
   * marks incoming messages read unless `peek`: the page is read first, then the read marker
   * moves (one write), and the read receipts are gathered after that (markRead).
   */
  async messages(
    ref: string,
    options: { limit?: number; peek?: boolean; before?: string; after?: string } = {},
  ): Promise<MessageView[]> {
    const contact = this.core.contacts.resolve(ref)
    if (contact.state === 'pending-in') {
      throw new MessengerError(
        'NotAccepted',
        `${contact.name} asked to add you; accept to see their messages`,
      )
    }
    const limit = Math.max(1, Math.min(options.limit ?? 50, 10_000))
    const beforeSeq = options.before === undefined ? undefined : await this.seqOf(contact.id, options.before)
    const afterSeq = options.after === undefined ? undefined : await this.seqOf(contact.id, options.after)
    const list = await this.core.conversations.list(contact.id, limit, beforeSeq, afterSeq)
    // Up to the newest message shown: one that arrived meanwhile stays unread.
    const newest = beforeSeq === undefined && afterSeq === undefined ? list.at(-1)?.seq : undefined
    if (!options.peek) await this.markRead(contact.id, newest)
    return list.map((m) => {
      const view = messageView(m)
      return !options.peek && m.direction === 'in' && m.status === 'received'
        ? { ...view, status: 'read' as const }
        : view
    })
  }

  /** Where message `id` is in the conversation: a page cursor. */
  private async seqOf(cid: ContactId, id: string): Promise<number> {
    const m = await this.core.conversations.message(cid, checkMessageId(id))
    if (m === undefined) throw new MessengerError('UnknownMessage', 'no message with that id here')
    return m.seq
  }

  /** Incoming messages not read yet (a counter: no messages are read to count them). */
  async unreadCount(ref: string): Promise<number> {
    const contact = this.core.contacts.resolve(ref)
    return this.core.conversations.unread(contact.id)
  }

  /**
   * Marks every incoming message read: the conversation's read marker moves past its last
   * message in one write. The sender is told (read receipts) once their ids are gathered, after
   * this returns; `receipts` resolves when they are queued.
   */
  async markRead(ref: string, upTo?: number): Promise<{ receipts: Promise<void> }> {
    const core = this.core
    const contact = core.contacts.resolve(ref)
    const none = { receipts: Promise.resolve() }
    if (contact.state === 'pending-in') return none
    // Reading goes on while the disk is full; the read marks wait for the next look.
    if (core.store.full) return none
    const moved = await core.queue.run(contact.id, async () => {
      const tx = new Tx()
      const moved = await core.conversations.readAll(tx, contact.id, upTo)
      if (moved === undefined) return undefined
      tx.after(() => core.events.emit('read', { contactId: contact.id }))
      // Our other devices read as far (sync.ts): the newest message the marker passed.
      const newest = await core.conversations.storedAt(contact.id, moved.to)
      if (newest !== undefined)
        tx.after(() => this.sync.changed({ kind: 'read', contact: contact.id, id: newest.id }))
      // Not waited for, and held back for company: lost in a crash, the messages only show as
      // unread again. Whoever reads sees the marker at once; the receipts' write (which writes the
      // same counters record) or the next read of the store takes it to the disk.
      core.commit(tx, { defer: true }).catch((error: unknown) =>
        core.log.warn('could not record a read marker', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
      return moved
    })
    if (moved === undefined) return none
    return { receipts: this.receipts.read(contact.id, moved.from, moved.to) }
  }

  /**
   * Adds finished messages to the end of a conversation's history, locally: nothing is sent and
   * no receipt is owed for them (a history brought from elsewhere, a benchmark's store), unless
   * `readReceipts`: then reading the unread ones sends read receipts, as for messages received.
   * Incoming ones count as unread unless `read`. One atomic write per call; keep calls to some
   * thousands.
   */
  async importHistory(
    ref: string,
    entries: readonly HistoryEntry[],
    options: { readReceipts?: boolean } = {},
  ): Promise<void> {
    this.assertRunning()
    const core = this.core
    const contact = core.contacts.resolve(ref)
    await core.queue.run(contact.id, async () => {
      const tx = new Tx()
      let unread = 0
      for (const e of entries) {
        checkText(e.text)
        const record: MessageRecord = {
          id: newMessageId(),
          contactId: contact.id,
          seq: await core.conversations.nextMessageSeq(contact.id),
          direction: e.direction,
          text: e.text,
          sentAt: e.sentAt,
          at: e.sentAt,
          status: e.direction === 'out' ? 'delivered' : e.read === true ? 'read' : 'received',
        }
        core.putMessage(tx, record, 'new')
        if (record.status === 'received') unread++
      }
      // What is imported has no receipts to send: the marks move past it.
      await core.conversations.imported(tx, contact.id, unread, options.readReceipts === true)
      await core.commit(tx)
    })
  }

  // ------------------------------------------------------------------ housekeeping

  /** Resolves once every outbox is empty or waiting for a retry (tests, graceful shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.core.allLanes().map((lane) => this.outbox.whenIdle(lane)))
  }

  async outboxSize(ref: string): Promise<number> {
    return this.core.conversations.outboxSize(this.core.contacts.resolve(ref).id)
  }

  private assertRunning(): void {
    if (this.core.stopped) throw new MessengerError('Stopped', 'the messenger is shutting down')
    // Said at once rather than waited out: whoever asked can tell the user, and nothing changed.
    if (this.core.store.full)
      throw new StoreError(
        'Full',
        'the disk is full: free some space on it; the peer carries on by itself once there is room',
      )
  }
}

function checkText(text: string): void {
  if (typeof text !== 'string' || text.length === 0)
    throw new MessengerError('BadInput', 'a message needs some text')
  if (utf8(text).length > MAX_TEXT_BYTES)
    throw new MessengerError('BadInput', `a message is at most ${MAX_TEXT_BYTES} bytes`)
}

function checkMessageId(id: string): MessageId {
  if (typeof id !== 'string' || !isMessageId(id))
    throw new MessengerError('BadInput', 'a message id is 32 hex characters')
  return id
}

function refusalOf(code: string): RefusalReason {
  return code === 'FrameTooLarge' || code === 'MalformedFrame' || code === 'TruncatedFrame'
    ? 'malformed-frame'
    : 'stream-error'
}

export type { ContactId }
