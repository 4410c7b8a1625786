/**
 * Receiving on /jiayi/msg/1: from envelope to stored message. Strangers may only send a
 * PreKeyMessage whose payload is a contact request carrying a card of that very identity and
 * device (rate-limited); everything else from them is refused and counted. Each accepted envelope
 * commits as one Tx (new ratchet state + what it carried) before it is acknowledged.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { bytesToHex, equalBytes, toBase64, utf8 } from '../bytes.js'
import { type ContactCard, cardDevices, decodeCardBytes } from '../card/card.js'
import { CardError } from '../card/errors.js'
import { encodeCardPayload } from '../card/link.js'
import { CryptoError } from '../crypto/errors.js'
import { acceptSession, type DecodedPreKeyMessage, decodePreKeyMessage } from '../crypto/session.js'
import { checkedHome } from '../mailbox/contact-home.js'
import { type ConnectionRoute, connectionRoute } from '../net/connection-info.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import { applyDeviceList } from './contact-devices.js'
import type { MessengerCore } from './core.js'
import { isStoredIdentity, recordIdentityChange } from './identity-change.js'
import { type ContactId, contactIdFor } from './ids.js'
import { Keys } from './keys.js'
import { isFirstLane, laneOf } from './lanes.js'
import type { AckStatus, IncomingEnvelope } from './msg-protocol.js'
import { BadPayloadError, type DecodedPayload, decodePayload, type PayloadBody } from './payload.js'
import { addressKey, RateLimiter, STRANGER_REQUEST_LIMITS } from './rate-limit.js'
import type { ReceiptBatcher } from './receipts.js'
import type { ContactRecord, ContactState, MessageRecord, MessageStatus } from './records.js'
import { advanceStatus, contactDevices } from './records.js'
import { decryptMessage, findSession, promote, type SessionSet } from './session-set.js'
import { SYNC_EXTENSION } from './sync.js'
import { PENDING_IN_LIMITS, type PeerAction, type PendingLimits, peerMay } from './trust.js'
import { Tx } from './tx.js'

/**
 * How long an incoming message's write may wait for the next ones (WriteBehindStore's deferred
 * writes). At 1,000 msg/s each message otherwise cost the receiver its own LevelDB batch and its
 * own sealed session state. It is shown (the event) at once either way.
 */
export const INBOUND_DEFER_MS = 5

/**
 * Extensions (files, feed keys) carry their own payload kinds through the same sessions. What an
 * extension writes goes into the transaction of the ratchet step that decrypted its payload, so
 * both are durable together; it gets that transaction's writes and effects, not the transaction.
 */
export interface ExtensionContext {
  readonly contact: ContactRecord
  /**
   * The peer id of the contact's device that sent it (one on their list): what it offers, it
   * holds (a file is fetched from it).
   */
  readonly device: string
  readonly payload: DecodedPayload
  readonly body: Uint8Array
  /** Writes `value` under `key` with the payload's ratchet step (never change either afterwards). */
  put(key: Uint8Array, value: Uint8Array): void
  del(key: Uint8Array): void
  /** Runs `effect` once the writes are on disk (an event, a cache update, a download started). */
  after(effect: () => void): void
  /**
   * Shows the payload in the conversation as an incoming message (id and time from the payload;
   * once only, like a text) whose extension data is `data`.
   */
  showMessage(text: string, data: unknown): Promise<void>
}

export interface ExtensionHandler {
  /**
   * What a sender must be allowed to do (trust.ts) for its payloads to reach `receive`; default
   * 'message' (shown in the conversation, and held while a request waits).
   */
  readonly requires?: PeerAction
  /** Called inside the conversation's queue. */
  receive(ctx: ExtensionContext): Promise<void>
}

/** The messenger's own extensions also get the transaction: they answer in it, update contacts. */
export interface CoreExtensionContext extends ExtensionContext {
  readonly tx: Tx
  /** The lane (lanes.ts) the payload came through: the sessions of the device that sent it. */
  readonly lane: ContactId
}

export interface CoreExtensionHandler {
  readonly requires?: PeerAction
  receive(ctx: CoreExtensionContext): Promise<void>
}

/** An extension from outside the messenger sees the transaction's writes, not the transaction. */
export function outsideExtension(handler: ExtensionHandler): CoreExtensionHandler {
  return {
    ...(handler.requires === undefined ? {} : { requires: handler.requires }),
    receive: ({ contact, device, payload, body, put, del, after, showMessage }) =>
      handler.receive({ contact, device, payload, body, put, del, after, showMessage }),
  }
}

type CardWithBytes = ContactCard & { readonly bytes: Uint8Array }

/** A refusal (or retry) now, or acceptance once `durable` resolves. */
type Verdict = Exclude<AckStatus, 'ok'> | { readonly durable: Promise<void> }

export class Inbound {
  readonly extensions = new Map<string, CoreExtensionHandler>()
  /** Strangers' contact requests (their prekey fetches have buckets of their own: messenger.ts). */
  readonly requests = new RateLimiter(STRANGER_REQUEST_LIMITS)

  constructor(
    private readonly core: MessengerCore,
    private readonly receipts: Pick<ReceiptBatcher, 'queue'>,
    private readonly limits: PendingLimits = PENDING_IN_LIMITS,
  ) {}

  /**
   * The verdict becomes the ack, sent only once what the envelope changed is durable. Processing
   * is ordered per conversation (the queue) but does not wait for the disk, so a burst of
   * envelopes shares group commits. Nothing thrown here escapes to the protocol handler.
   */
  async onEnvelope(
    from: PeerId,
    envelope: IncomingEnvelope,
    connection?: Connection,
    /** How it came when not over a connection from `from` ('mailbox': fetched from our home node). */
    via?: ConnectionRoute,
  ): Promise<AckStatus> {
    try {
      const route = via ?? (connection === undefined ? undefined : connectionRoute(connection))
      const verdict = await this.process(from, envelope, route, addressKey(connection?.remoteAddr))
      if (typeof verdict === 'string') return verdict
      await verdict.durable
      return 'ok'
    } catch (error) {
      return this.failed(error, from)
    }
  }

  private failed(error: unknown, from: PeerId): AckStatus {
    const core = this.core
    if (CryptoError.is(error, 'BadMessage')) return core.refuse(PROTOCOL_MSG, 'bad-envelope', from)
    if (CryptoError.is(error)) return core.refuse(PROTOCOL_MSG, 'decrypt-failed', from)
    // Our own failure (storage): do not acknowledge; the sender will try again.
    core.log.warn('could not process an envelope', { error: error instanceof Error ? error.name : 'unknown' })
    return 'retry'
  }

  /** Returns a refusal, or the promise that the accepted envelope's effects are durable. */
  private async process(
    from: PeerId,
    envelope: IncomingEnvelope,
    route: ConnectionRoute | undefined,
    address: string | undefined,
  ): Promise<Verdict> {
    const core = this.core
    if (core.stopped) return 'retry'
    if (envelope.type === 'message') {
      // Any device on the contact's list (ContactBook indexes them all), or one of our own.
      const contact =
        core.contacts.byPeerId(from.toString()) ??
        (core.isOwnDevice(from.toString()) ? core.selfRecord() : undefined)
      if (contact === undefined) return core.refuse(PROTOCOL_MSG, 'not-a-contact', from)
      const lane = laneOf(contact, from.toString())
      return await core.queue.run(contact.id, () =>
        this.receiveMessage(contact.id, lane, envelope.body, from, route),
      )
    }
    const decoded = decodePreKeyMessage(envelope.body)
    // A contact's device may only start sessions under the identity stored for that contact.
    const device = core.contacts.byPeerId(from.toString())
    if (device !== undefined && !isStoredIdentity(device, decoded.initiator)) {
      return await core.queue.run(device.id, async () => {
        await recordIdentityChange(core, device.id)
        return core.refuse(PROTOCOL_MSG, 'identity-changed', from)
      })
    }
    const cid = contactIdFor(decoded.initiator.signingKey)
    // Everything below runs in the conversation's queue, entered synchronously here, so a
    // stranger's request is handled before the messages that follow it on the stream.
    return await core.queue.run(cid, async () => {
      const known = core.contactOrSelf(cid)
      // Only a device on the person's current list speaks for them: a device they removed (or
      // one of ours we removed) is refused, whatever identity it still holds.
      if (known !== undefined && !contactDevices(known).includes(from.toString()))
        return core.refuse(PROTOCOL_MSG, 'not-a-contact', from)
      if (cid === core.selfId && !core.isOwnDevice(from.toString()))
        return core.refuse(PROTOCOL_MSG, 'not-a-contact', from)
      if (known === undefined) {
        if (core.blockedPeers.has(from.toString()) || (await core.store.get(Keys.blocked(cid))) !== undefined)
          return core.refuse(PROTOCOL_MSG, 'blocked', from)
        if (!this.requests.tryTake(from.toString(), address)) {
          core.refuse(PROTOCOL_MSG, 'rate-limited', from)
          return 'retry'
        }
      }
      const lane = laneOf(known ?? this.memberLaneOwner(cid, from), from.toString())
      return this.receivePreKey(cid, lane, decoded, from, route)
    })
  }

  /**
   * Whose lanes a first session from someone we hold no record of opens: a group member's, named
   * by their card in the group (any device its list names may be the first to speak); anyone
   * else's first lane.
   */
  private memberLaneOwner(cid: ContactId, from: PeerId): Pick<ContactRecord, 'id' | 'peerId'> {
    const card = this.core.groupMemberCard(cid)
    return { id: cid, peerId: card?.peerId ?? from.toString() }
  }

  private async receiveMessage(
    cid: ContactId,
    lane: ContactId,
    body: Uint8Array,
    from: PeerId,
    route: ConnectionRoute | undefined,
  ): Promise<Verdict> {
    const set = await this.core.sessionSet(lane)
    let decrypted: { set: SessionSet; plaintext: Uint8Array }
    try {
      decrypted = decryptMessage(set, body)
    } catch (error) {
      if (CryptoError.is(error, 'Duplicate')) return this.duplicate()
      const reason = CryptoError.is(error, 'BadMessage') ? 'bad-envelope' : 'decrypt-failed'
      // Their ratchet and ours no longer agree (one side lost state): a new session heals it.
      if (reason === 'decrypt-failed' && isFirstLane(lane)) this.core.onDecryptFailed(cid)
      return this.core.refuse(PROTOCOL_MSG, reason, from)
    }
    const tx = new Tx()
    tx.route = route
    tx.sessions.set(lane, decrypted.set)
    await this.applyPayload(tx, this.core.contactOrSelf(cid)!, lane, decrypted.plaintext, from)
    // Only the ack waits for this write, and acks wait for company anyway (ACK_COALESCE_MS): so
    // the write may wait a little for the next envelopes too. A crash before it lands only makes
    // the sender send again.
    return { durable: this.core.commit(tx, { defer: INBOUND_DEFER_MS }) }
  }

  /** A duplicate is acknowledged once the first copy's effects are durable (they may be pending). */
  private duplicate(): Verdict {
    return { durable: this.core.store.flushed() }
  }

  private async receivePreKey(
    cid: ContactId,
    lane: ContactId,
    decoded: DecodedPreKeyMessage,
    from: PeerId,
    route: ConnectionRoute | undefined,
  ): Promise<Verdict> {
    const core = this.core
    const known = core.contactOrSelf(cid)
    const set = known === undefined ? [] : await core.sessionSet(lane)
    const tx = new Tx()
    tx.route = route
    let plaintext: Uint8Array
    if (findSession(set, decoded) !== undefined) {
      // A retransmission of a session's first messages: continue that session.
      try {
        const out = decryptMessage(set, decoded.message)
        tx.sessions.set(lane, out.set)
        plaintext = out.plaintext
      } catch (error) {
        if (CryptoError.is(error, 'Duplicate')) return this.duplicate()
        throw error
      }
    } else {
      const keys = await core.prekeys.lookup(decoded.init)
      if (keys === undefined) {
        // Gone (a one-time prekey drained, a signed prekey rotated out): the sender starts anew.
        core.refuse(PROTOCOL_MSG, 'unknown-prekey', from)
        // Over /jiayi/msg/1 the sender hears STALE and starts again itself. From our mailbox the
        // sender hears nothing and the item is gone once acknowledged: a new session of ours
        // tells it, and it sends again what it left there (session-reset.ts).
        if (route === 'mailbox' && known !== undefined) core.onDecryptFailed(cid)
        return 'stale'
      }
      const out = acceptSession(core.account.identity, decoded, keys)
      tx.sessions.set(lane, promote(set, out.session))
      tx.ops.push(...core.prekeys.consumeOps(decoded.init))
      plaintext = out.plaintext
    }
    if (known !== undefined) {
      await this.applyPayload(tx, known, lane, plaintext, from)
      return { durable: core.commit(tx) }
    }
    // Someone we share a group with, on the device and identity the group's card names: a
    // member record (no contact), and what they sent is judged by what a member may send.
    // Or someone asking to join a group by an invite of ours: group traffic only, like a member.
    const member = core.groupMemberCard(cid) ?? core.groupJoinerCard(plaintext)
    if (
      member !== undefined &&
      cardDevices(member).includes(from.toString()) &&
      isCardIdentity(member, decoded)
    ) {
      const record = newContactRecord(
        cid,
        { ...member, addrs: core.contactAddrs(member.addrs) },
        member.bytes,
        'member',
      )
      core.putContact(tx, record, 'new')
      await this.applyPayload(tx, record, cid, plaintext, from)
      return { durable: core.commit(tx) }
    }
    const card = requestCard(plaintext, decoded, from)
    if (card === undefined) return core.refuse(PROTOCOL_MSG, 'bad-request', from)
    const admitted = { ...card, addrs: core.contactAddrs(card.addrs) }
    core.putContact(tx, newContactRecord(cid, admitted, card.bytes, 'pending-in'), 'new')
    tx.after(() => this.dropOldestRequests())
    const durable = core.commit(tx)
    await core.rememberAddrs(card.peerId, admitted.addrs)
    core.log.info('contact request received', { contact: cid })
    return { durable }
  }

  /**
   * Past `limits.requests` waiting requests, the oldest go (not blocked: they may ask
   * again), so that strangers with many identities cannot fill the contact list and the disk.
   */
  private dropOldestRequests(): void {
    const core = this.core
    const pending = core.contacts.all().filter((c) => c.state === 'pending-in')
    for (const oldest of pending.slice(0, Math.max(0, pending.length - this.limits.requests))) {
      void core.queue
        .run(oldest.id, async () => {
          const current = core.contacts.get(oldest.id)
          if (current?.state !== 'pending-in') return
          const tx = new Tx()
          await core.forgetContact(tx, current, { block: false })
          tx.after(() => core.refuse(PROTOCOL_MSG, 'over-quota'))
          await core.commit(tx)
        })
        .catch(() => undefined)
    }
  }

  /** Applies one decrypted payload from a known contact to `tx`. Bad payloads are counted and dropped. */
  private async applyPayload(
    tx: Tx,
    contact: ContactRecord,
    lane: ContactId,
    plaintext: Uint8Array,
    from: PeerId,
  ): Promise<void> {
    const core = this.core
    let payload: DecodedPayload
    try {
      payload = decodePayload(plaintext)
    } catch (error) {
      if (!(error instanceof BadPayloadError)) throw error
      core.refuse(PROTOCOL_MSG, 'bad-payload', from)
      return
    }
    const body = payload.body
    const cid = contact.id
    // Our own other devices send only what keeps us in step (sync.ts), nothing a contact sends.
    const ownSync = body.kind === 'extension' && body.extension === SYNC_EXTENSION
    if (!peerMay(contact.state, this.actionOf(body)) || (cid === core.selfId) !== ownSync) {
      // Decrypted (the ratchet moves on and the envelope is acknowledged) and dropped.
      core.refuse(PROTOCOL_MSG, 'not-allowed', from)
      return
    }
    switch (body.kind) {
      case 'text':
        await this.showIncoming(tx, contact, payload, { text: body.text, replyTo: body.replyTo })
        return
      case 'receipt': {
        const status: MessageStatus = body.receipt
        for (const id of body.ids) {
          const m = await core.conversations.message(cid, id)
          if (m === undefined || m.direction !== 'out') continue
          const next = advanceStatus(m.status, status)
          if (next !== m.status) await core.putStatus(tx, { ...m, status: next })
        }
        return
      }
      case 'typing':
        tx.after(() => core.events.emit('typing', { contactId: cid, active: body.active }))
        return
      case 'reaction':
      case 'edit':
      case 'delete': {
        const m = await core.conversations.message(cid, body.target)
        if (m === undefined || m.deleted) return
        if (body.kind === 'reaction') {
          core.putMessage(
            tx,
            { ...m, reactions: { ...m.reactions, theirs: body.emoji || undefined } },
            'update',
          )
        } else if (m.direction === 'in') {
          // Only the author may edit or delete a message.
          const next =
            body.kind === 'edit'
              ? { ...m, text: body.text, editedAt: Date.now() }
              : { ...m, text: '', deleted: true }
          core.putMessage(tx, next, 'update')
        }
        return
      }
      case 'request':
      case 'accept': {
        const card = cardOfContact(body.card, contact)
        if (card === undefined) {
          // Another device on their list answered (its card names that device, not the one we
          // keep): it speaks for them, so their accept (or crossing request) accepts them.
          if (!isFirstLane(lane) && contact.state === 'pending-out' && isTheirCard(body.card, contact)) {
            core.putContact(tx, { ...contact, state: 'accepted', updatedAt: Date.now() }, 'update')
            tx.after(() => core.onContactAccepted(cid))
          }
          return
        }
        // Only a contact we asked becomes accepted by what they send: their accept, or their own
        // request when QR codes were swapped. A request waiting for us stays waiting.
        // A group member we never added who asks is asking like a stranger.
        const state: ContactState =
          contact.state === 'pending-in' || contact.state === 'member' ? 'pending-in' : 'accepted'
        updateContactFromCard(core, tx, contact, card, state)
        if (contact.state === 'pending-out' && state === 'accepted')
          tx.after(() => core.onContactAccepted(cid))
        // A request means they wait for our answer. When we have already said yes (we added them
        // too, or they re-added us), answer now: our own request may never reach them (it can be
        // refused, e.g. when its one-time prekey is gone), and this reply travels on the session
        // they just started, which works.
        if (body.kind === 'request' && state === 'accepted')
          await core.encryptToOutbox(tx, cid, { kind: 'accept', card: core.cardBytes() })
        return
      }
      case 'address-update': {
        const addrs = core.contactAddrs(
          body.addrs.flatMap((a) => {
            try {
              return [multiaddr(a).toString()]
            } catch {
              return []
            }
          }),
        )
        // Their home node comes only with a certificate their own identity made (homeOf checks).
        // Another device of theirs (lanes.ts) says where it is: that device's addresses, kept for
        // dialling it; the contact's own addresses stay those of the device their card names.
        if (!isFirstLane(lane)) {
          tx.after(() => void core.rememberAddrs(from.toString(), addrs))
          return
        }
        const home =
          body.home !== undefined && checkedHome(body.home, contact) ? toBase64(body.home) : contact.home
        // Their device list (a device linked or removed): only a newer one signed by their identity.
        const listed = applyDeviceList(contact, body.deviceList, () =>
          core.refuse(PROTOCOL_MSG, 'bad-device-list', from),
        )
        core.putContact(tx, { ...listed, addrs, home, updatedAt: Date.now() }, 'update')
        tx.after(() => void core.rememberAddrs(contact.peerId, addrs))
        const known = contactDevices(contact)
        if (contactDevices(listed).some((d) => !known.includes(d))) tx.after(() => core.onDevicesAdded(cid))
        return
      }
      case 'extension': {
        await this.extensions.get(body.extension)?.receive({
          tx,
          lane,
          contact,
          device: from.toString(),
          payload,
          body: body.body,
          put: (key, value) => tx.put(key, value),
          del: (key) => tx.del(key),
          after: (effect) => tx.after(effect),
          showMessage: (text, data) =>
            this.showIncoming(tx, contact, payload, { text, extension: { kind: body.extension, data } }),
        })
        return
      }
    }
  }

  /** What receiving `body` asks of the trust table (an extension names its own action). */
  private actionOf(body: PayloadBody): PeerAction {
    switch (body.kind) {
      case 'text':
      case 'reaction':
      case 'edit':
      case 'delete':
        return 'message'
      case 'extension':
        return this.extensions.get(body.extension)?.requires ?? 'message'
      default:
        return body.kind
    }
  }

  /** Stores an incoming message exactly once (by payload id) and queues its delivery receipt. */
  private async showIncoming(
    tx: Tx,
    contact: ContactRecord,
    payload: DecodedPayload,
    content: Pick<MessageRecord, 'text' | 'replyTo' | 'extension'>,
  ): Promise<void> {
    const core = this.core
    const cid = contact.id
    if (await core.conversations.mayBeKnown(cid, payload.seq, payload.id)) return // exactly once
    if (contact.state === 'pending-in' && !(await this.mayHold(cid, content))) {
      core.refuse(PROTOCOL_MSG, 'over-quota')
      return
    }
    await core.conversations.sawIncoming(cid, payload.seq)
    await core.conversations.writeMeta(tx, cid)
    const seq = await core.conversations.nextMessageSeq(cid)
    const record: MessageRecord = {
      id: payload.id,
      contactId: cid,
      seq,
      direction: 'in',
      sentAt: payload.sentAt,
      at: Date.now(),
      status: 'received',
      ...content,
      ...(tx.route === undefined ? {} : { route: tx.route }),
    }
    core.putMessage(tx, record, 'new')
    await core.conversations.addUnread(tx, cid)
    // A pending request's messages are acknowledged (delivered) only once it is accepted.
    if (peerMay(contact.state, 'get-receipts'))
      tx.after(() => this.receipts.queue(cid, 'delivered', [{ id: payload.id, seq }]))
  }

  /** Whether a pending request may keep one more message here (its limits). */
  private async mayHold(
    cid: ContactId,
    content: Pick<MessageRecord, 'text' | 'extension'>,
  ): Promise<boolean> {
    let messages = 1
    let bytes = heldBytes(content)
    // A pending request holds at most a few messages: counting them again is cheap.
    for await (const m of this.core.conversations.all(cid)) {
      if (m.direction !== 'in') continue
      messages++
      bytes += heldBytes(m)
    }
    return messages <= this.limits.messages && bytes <= this.limits.bytes
  }
}

function heldBytes(m: Pick<MessageRecord, 'text' | 'extension'>): number {
  return (
    utf8(m.text).length +
    (m.extension === undefined ? 0 : utf8(JSON.stringify(m.extension.data ?? null)).length)
  )
}

/** A stranger's request counts only if it carries a card of the same identity and device. */
function requestCard(
  plaintext: Uint8Array,
  decoded: DecodedPreKeyMessage,
  from: PeerId,
): CardWithBytes | undefined {
  try {
    const payload = decodePayload(plaintext)
    if (payload.body.kind !== 'request') return undefined
    const card = decodeCardBytes(payload.body.card)
    const sameIdentity =
      equalBytes(card.identity.signingKey, decoded.initiator.signingKey) &&
      equalBytes(card.identity.agreementKey, decoded.initiator.agreementKey)
    if (!sameIdentity || card.peerId !== from.toString()) return undefined
    return { ...card, bytes: payload.body.card }
  } catch {
    return undefined
  }
}

function cardOfContact(bytes: Uint8Array, contact: ContactRecord): CardWithBytes | undefined {
  try {
    const card = decodeCardBytes(bytes)
    if (bytesToHex(card.identity.signingKey) !== contact.identityKey || card.peerId !== contact.peerId)
      return undefined
    return { ...card, bytes }
  } catch (error) {
    if (CardError.is(error)) return undefined
    throw error
  }
}

/** Whether `bytes` is a card of the contact's identity naming one of the devices on their list. */
function isTheirCard(bytes: Uint8Array, contact: ContactRecord): boolean {
  try {
    const card = decodeCardBytes(bytes)
    return (
      bytesToHex(card.identity.signingKey) === contact.identityKey &&
      contactDevices(contact).includes(card.peerId)
    )
  } catch {
    return false
  }
}

/** A contact first met through `card` (whose signed bytes are `cardBytes`). */
export function newContactRecord(
  cid: ContactId,
  card: ContactCard,
  cardBytes: Uint8Array,
  state: ContactState,
): ContactRecord {
  const now = Date.now()
  return {
    id: cid,
    name: card.name,
    identityKey: bytesToHex(card.identity.signingKey),
    agreementKey: bytesToHex(card.identity.agreementKey),
    peerId: card.peerId,
    addrs: card.addrs,
    state,
    verified: false,
    card: encodeCardPayload(cardBytes),
    ...(card.home === undefined ? {} : { home: toBase64(card.home.bytes) }),
    // decodeCardBytes verified it under this identity, naming this device.
    ...(card.deviceList === undefined
      ? {}
      : {
          deviceList: toBase64(card.deviceList.bytes),
          devices: card.deviceList.devices.map((d) => d.peerId),
        }),
    addedAt: now,
    updatedAt: now,
  }
}

/** Refreshes a contact from a newer card of theirs (name, addresses). */
export function updateContactFromCard(
  core: MessengerCore,
  tx: Tx,
  contact: ContactRecord,
  card: ContactCard & { readonly bytes?: Uint8Array },
  state: ContactState,
): void {
  const addrs = core.contactAddrs(card.addrs)
  // The card's list verified under the card's identity, which is this contact's (callers check).
  const listed = applyDeviceList(contact, card.deviceList?.bytes, () => undefined)
  core.putContact(
    tx,
    {
      ...listed,
      name: card.name,
      addrs: addrs.length > 0 ? addrs : contact.addrs,
      card: card.bytes ? encodeCardPayload(card.bytes) : contact.card,
      home: card.home === undefined ? contact.home : toBase64(card.home.bytes),
      state,
      updatedAt: Date.now(),
    },
    'update',
  )
  tx.after(() => void core.rememberAddrs(card.peerId, addrs))
}

/** Whether the session was started under the identity keys `card` names. */
function isCardIdentity(card: ContactCard, decoded: DecodedPreKeyMessage): boolean {
  return (
    equalBytes(card.identity.signingKey, decoded.initiator.signingKey) &&
    equalBytes(card.identity.agreementKey, decoded.initiator.agreementKey)
  )
}
