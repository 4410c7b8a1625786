/**
 * The home node's side of /jiayi/mailbox/1. A home node is keyless: it keeps its owner's
 * certificate and depositor list (both signed by the owner's identity, certificate.ts) and the
 * envelopes contacts (and the owner's own devices, for each other) deposit, which are Double
 * Ratchet ciphertext with encrypted headers: it learns who deposited (the Noise-authenticated
 * peer id), for which of the owner's devices, how many bytes, and when; nothing else.
 *
 * Each envelope is sealed for one device of the owner (messenger/lanes.ts), so each device has a
 * box of its own: a depositor names the device (`deposit_for`), and a device fetches and
 * acknowledges only what is in its own box (another device could not open it anyway). A deposit
 * that names no device (an older peer) goes to the first device the certificate names. Quotas
 * stay per depositor, over all the boxes it filled; the owner's devices the certificate names
 * share one depositor's quota.
 *
 * One request per stream, one response. Every refusal is answered with its status, counted by
 * code (stats) and logged; the stream and the node go on.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { bytesToHex, equalBytes } from '../bytes.js'
import { framedHandler } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import type { JiayiNode } from '../net/network-stack.js'
import { MAX_FRAME_BYTES, MAX_INBOUND_STREAMS, PROTOCOL_MAILBOX, PROTOCOL_MSG } from '../net/protocols.js'
import { key } from '../store/keys.js'
import type { BatchOp, Store } from '../store/store.js'
import {
  type DepositorList,
  type HomeCert,
  verifyDepositorList,
  verifyHomeCertificate,
} from './certificate.js'
import { MailboxError, type MailboxErrorCode } from './errors.js'
import {
  HomeCertificate,
  MailboxRequest,
  MailboxResponse,
  MailItem,
  SignedDepositors,
} from './mailbox-wire.pb.js'
import { MailboxNotifier } from './notice.js'

const DAY_MS = 24 * 3600 * 1000
/**
 * How long a deposit waits for its owner: long enough for a holiday without the laptop (Briar's
 * Mailbox and Signal's server keep undelivered messages about as long), short enough that a
 * mailbox whose owner is gone for good empties itself.
 */
export const MAILBOX_TTL_MS = 30 * DAY_MS
/**
 * Each contact's share of the mailbox: ~1,000 full-size (64 KiB) envelopes or tens of thousands
 * of texts, so a chatty friend never fills it in a month, while one hostile or broken contact
 * cannot take more than this of the host's disk. The owner's devices together have one share.
 */
export const MAILBOX_BYTES_PER_DEPOSITOR = 64 * 1024 * 1024
/**
 * What one stored item costs beyond its body (key, sender, times, LevelDB's own overhead): a
 * flood of empty envelopes fills the quota too.
 */
export const ITEM_OVERHEAD_BYTES = 128
/** Envelopes in one deposit, and items in one fetch answer. */
export const MAX_BATCH_ITEMS = 256
/** Envelope bytes in one fetch answer: a frame stays under MAX_FRAME_BYTES with its fields. */
const MAX_FETCH_BYTES = 1024 * 1024 - 64 * 1024

export interface MailboxLimits {
  readonly ttlMs: number
  readonly bytesPerDepositor: number
}

export interface MailboxServerInit {
  readonly node: JiayiNode
  /** The home node's store (its keys live in families `home` and `mailbox`). */
  readonly store: Store
  readonly limits?: Partial<MailboxLimits>
  /** ms since the Unix epoch (tests move time on). */
  readonly now?: () => number
  readonly log?: (message: string, fields: Record<string, string | number>) => void
}

export interface MailboxStats {
  /** The owner's identity key (hex) once certified, else null. */
  readonly owner: string | null
  readonly depositors: number
  readonly items: number
  /** Items waiting per owner device (peer id). */
  readonly boxes: Record<string, number>
  readonly bytes: number
  readonly refused: Record<string, number>
  /** Notices sent to the owner's connected devices (/jiayi/mailbox-notice/1). */
  readonly notices: number
}

const CERT_KEY = key('home', 'certificate')
const LIST_KEY = key('home', 'depositors')
/** A device's box: its items in the order they came (ids grow). */
const boxPrefix = (device: string) => key('mailbox', device)
const itemKey = (device: string, id: number) => key('mailbox', device, id)
const ITEM_PREFIX = key('mailbox')

export class MailboxServer {
  private owner: HomeCert | undefined
  private depositors: DepositorList | undefined
  private readonly usage = new Map<string, number>()
  private nextId = 1
  private items = 0
  /** Items per recipient device. */
  private readonly boxes = new Map<string, number>()
  private readonly refused = new Map<string, number>()
  private readonly limits: MailboxLimits
  private readonly now: () => number
  /** One request changes the store at a time: quotas and ids stay exact. */
  private chain: Promise<unknown> = Promise.resolve()
  /** Tells the owner's connected devices when mail comes (notice.ts). */
  private readonly notifier: MailboxNotifier

  private constructor(private readonly init: MailboxServerInit) {
    this.limits = { ttlMs: MAILBOX_TTL_MS, bytesPerDepositor: MAILBOX_BYTES_PER_DEPOSITOR, ...init.limits }
    this.now = init.now ?? Date.now
    this.notifier = new MailboxNotifier(init.node, (device) => this.boxes.get(device) ?? 0)
  }

  /** Loads what the store holds and starts serving /jiayi/mailbox/1. */
  static async open(init: MailboxServerInit): Promise<MailboxServer> {
    const server = new MailboxServer(init)
    await server.load()
    await init.node.handle(
      PROTOCOL_MAILBOX,
      framedHandler(PROTOCOL_MAILBOX, (framed, connection) => server.serve(framed, connection), {
        onRefused: () => server.count('BadRequest'),
      }),
      { maxInboundStreams: MAX_INBOUND_STREAMS[PROTOCOL_MAILBOX] },
    )
    return server
  }

  async stop(): Promise<void> {
    await this.init.node.unhandle(PROTOCOL_MAILBOX).catch(() => undefined)
    await this.chain.catch(() => undefined)
  }

  /** The certificate this home node serves under, if any. */
  certificate(): HomeCert | undefined {
    return this.owner
  }

  /**
   * Whether `peer` is one of the devices its owner's certificate names, the certificate still
   * valid: what else the home node does for its owner (the feed seeder) asks this too.
   */
  isOwnerDevice(peer: string): boolean {
    const owner = this.owner
    return owner !== undefined && owner.notAfter * 1000 > this.now() && owner.devices.includes(peer)
  }

  /** Whether `peer` is on the owner's newest depositor list (their contacts), under a valid certificate. */
  isOwnersContact(peer: string): boolean {
    const owner = this.owner
    return (
      owner !== undefined && owner.notAfter * 1000 > this.now() && this.depositors?.peers.has(peer) === true
    )
  }

  stats(): MailboxStats {
    let bytes = 0
    for (const b of this.usage.values()) bytes += b
    return {
      owner: this.owner === undefined ? null : bytesToHex(this.owner.ownerKey),
      depositors: this.depositors?.peers.size ?? 0,
      items: this.items,
      boxes: Object.fromEntries(this.boxes),
      bytes,
      refused: Object.fromEntries(this.refused),
      notices: this.notifier.count(),
    }
  }

  private async load(): Promise<void> {
    const store = this.init.store
    const cert = await store.get(CERT_KEY)
    if (cert !== undefined) this.owner = verifyHomeCertificate(cert)
    const list = await store.get(LIST_KEY)
    if (list !== undefined && this.owner !== undefined)
      this.depositors = verifyDepositorList(list, this.owner.ownerKey)
    // Items kept before boxes per device name no recipient: they move to the first device's box.
    const moved: BatchOp[] = []
    for await (const [k, v] of store.iterate({ prefix: ITEM_PREFIX })) {
      let item = MailItem.decode(v)
      this.nextId = Math.max(this.nextId, Number(item.id) + 1)
      if (item.recipient === '') {
        moved.push({ type: 'del', key: k })
        const first = this.owner?.devices[0]
        if (first === undefined) continue
        item = { ...item, recipient: first }
        moved.push({ type: 'put', key: itemKey(first, Number(item.id)), value: MailItem.encode(item) })
      }
      this.charge(item.sender, cost(item))
      this.boxes.set(item.recipient, (this.boxes.get(item.recipient) ?? 0) + 1)
      this.items++
    }
    if (moved.length > 0) await store.batch(moved)
  }

  private count(code: MailboxErrorCode): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
  }

  private async serve(framed: FramedStream, connection: Connection): Promise<void> {
    const bytes = await framed.read()
    if (bytes === null) return
    let response: Partial<MailboxResponse>
    try {
      const request = decodeRequest(bytes)
      const task = this.chain.then(() => this.answer(request, connection.remotePeer))
      this.chain = task.catch(() => undefined)
      response = await task
    } catch (error) {
      const code: MailboxErrorCode = MailboxError.is(error) ? error.code : 'BadRequest'
      if (!MailboxError.is(error)) this.init.log?.('mailbox request failed', { error: String(error) })
      this.count(code)
      this.init.log?.('mailbox refused', { code, peer: connection.remotePeer.toString() })
      response = { status: STATUS_OF[code] ?? MailboxResponse.Status.BAD_REQUEST }
    }
    await framed.write(MailboxResponse.encode(response))
    await framed.close()
  }

  private async answer(request: MailboxRequest, from: PeerId): Promise<Partial<MailboxResponse>> {
    const peer = from.toString()
    if (request.certify !== undefined) return this.certify(HomeCertificate.encode(request.certify), peer)
    if (request.depositors !== undefined) return this.setDepositors(request, peer)
    if (request.deposit.length > 0) return this.deposit(request, peer)
    if (request.fetch !== undefined) return this.fetch(request.fetch, peer)
    return this.ack(request.ack, peer)
  }

  private async certify(encoded: Uint8Array, peer: string): Promise<Partial<MailboxResponse>> {
    // Re-encoded from the decoded request: the signature covers the grant's bytes, kept as they came.
    const cert = verifyHomeCertificate(encoded)
    if (cert.homePeerId !== this.init.node.peerId.toString())
      throw new MailboxError('BadCertificate', 'the certificate names another home node')
    if (this.owner !== undefined && !equalBytes(this.owner.ownerKey, cert.ownerKey))
      throw new MailboxError('BadCertificate', 'this home node serves another owner')
    if (!cert.devices.includes(peer))
      throw new MailboxError('NotOwner', 'the certificate does not name this device')
    if (cert.notAfter * 1000 <= this.now()) throw new MailboxError('Expired', 'the certificate has expired')
    if (this.owner !== undefined && isOlder(cert, this.owner))
      throw new MailboxError('BadCertificate', 'an older certificate than the one kept')
    // The boxes of devices the owner removed: nobody may fetch them any more.
    const ops: BatchOp[] = [{ type: 'put', key: CERT_KEY, value: cert.bytes }]
    const gone: MailItem[] = []
    for (const device of this.boxes.keys()) {
      if (cert.devices.includes(device)) continue
      for await (const [k, v] of this.init.store.iterate({ prefix: boxPrefix(device) })) {
        ops.push({ type: 'del', key: k })
        gone.push(MailItem.decode(v))
      }
    }
    await this.init.store.batch(ops)
    for (const item of gone) this.release(item)
    if (gone.length > 0) this.init.log?.('mailbox boxes of removed devices deleted', { items: gone.length })
    this.owner = cert
    return { status: MailboxResponse.Status.OK, perDevice: true }
  }

  private async setDepositors(request: MailboxRequest, peer: string): Promise<Partial<MailboxResponse>> {
    const owner = this.ownerDevice(peer)
    const bytes = SignedDepositors.encode(request.depositors!)
    const list = verifyDepositorList(bytes, owner.ownerKey)
    if (list.homePeerId !== this.init.node.peerId.toString())
      throw new MailboxError('BadCertificate', 'the list names another home node')
    // An older list arriving late changes nothing.
    if (this.depositors !== undefined && list.version <= this.depositors.version)
      return { status: MailboxResponse.Status.OK }
    await this.init.store.put(LIST_KEY, list.bytes)
    this.depositors = list
    return { status: MailboxResponse.Status.OK }
  }

  private async deposit(request: MailboxRequest, peer: string): Promise<Partial<MailboxResponse>> {
    const owner = this.owner
    if (owner === undefined) throw new MailboxError('NotAllowed', 'this home node serves nobody yet')
    if (owner.notAfter * 1000 <= this.now())
      throw new MailboxError('Expired', "the owner's certificate has expired")
    // The owner's devices leave what they mirror to each other (sync) for a device that is away;
    // a device the newest certificate no longer names is nobody's, like a stranger.
    const ownDevice = owner.devices.includes(peer)
    if (!ownDevice && this.depositors?.peers.has(peer) !== true)
      throw new MailboxError('NotAllowed', 'not one of the owner’s contacts or devices')
    // A deposit naming no device is an older peer's: it sealed it for the device on our owner's
    // card, most likely the one that certified us first (the first named).
    const recipient = request.depositFor ?? owner.devices[0]!
    if (!owner.devices.includes(recipient))
      throw new MailboxError('NotAllowed', 'the certificate names no such device of the owner')
    if (recipient === peer) throw new MailboxError('NotAllowed', 'a device does not leave mail for itself')
    const envelopes = request.deposit
    if (envelopes.length > MAX_BATCH_ITEMS) throw new MailboxError('BadRequest', 'too many envelopes')
    for (const e of envelopes)
      if (
        (e.type !== 1 && e.type !== 2) ||
        e.body.length === 0 ||
        e.body.length > MAX_FRAME_BYTES[PROTOCOL_MSG]
      )
        throw new MailboxError('BadRequest', 'an envelope is out of bounds')
    await this.sweep()
    const storedAt = this.now()
    const items = envelopes.map((envelope) => ({
      id: 0n,
      sender: peer,
      storedAt: BigInt(storedAt),
      envelope,
      recipient,
    }))
    const total = items.reduce((n, i) => n + cost(i), 0)
    // The owner's devices share one depositor's share: together they are one person.
    const sharers = ownDevice ? owner.devices : [peer]
    const used = sharers.reduce((n, d) => n + (this.usage.get(d) ?? 0), 0)
    if (used + total > this.limits.bytesPerDepositor)
      throw new MailboxError('OverQuota', 'this depositor’s share of the mailbox is full')
    const ops: BatchOp[] = items.map((item) => {
      const id = this.nextId++
      return {
        type: 'put',
        key: itemKey(recipient, id),
        value: MailItem.encode({ ...item, id: BigInt(id) }),
      }
    })
    await this.init.store.batch(ops)
    this.charge(peer, total)
    this.items += items.length
    this.boxes.set(recipient, (this.boxes.get(recipient) ?? 0) + items.length)
    // Kept on disk first: the device told now finds the items when it fetches. Only the device
    // whose box they are in is told: the others have nothing new to fetch.
    this.notifier.notify([recipient])
    return { status: MailboxResponse.Status.OK, accepted: items.length }
  }

  private async fetch(limit: number, peer: string): Promise<Partial<MailboxResponse>> {
    this.ownerDevice(peer)
    await this.sweep()
    const items: MailItem[] = []
    let bytes = 0
    const max = Math.max(1, Math.min(limit, MAX_BATCH_ITEMS))
    for await (const [, v] of this.init.store.iterate({ prefix: boxPrefix(peer) })) {
      const item = MailItem.decode(v)
      if (items.length > 0 && bytes + item.envelope!.body.length > MAX_FETCH_BYTES) break
      items.push(item)
      bytes += item.envelope!.body.length
      if (items.length >= max) break
    }
    return { status: MailboxResponse.Status.OK, items }
  }

  private async ack(ids: readonly bigint[], peer: string): Promise<Partial<MailboxResponse>> {
    this.ownerDevice(peer)
    if (ids.length === 0 || ids.length > MAX_BATCH_ITEMS)
      throw new MailboxError('BadRequest', 'not one request')
    const ops: BatchOp[] = []
    const freed: MailItem[] = []
    for (const id of ids) {
      if (id > BigInt(Number.MAX_SAFE_INTEGER)) continue
      // Only in the device's own box: another device's items are not found, so not deleted.
      const k = itemKey(peer, Number(id))
      const v = await this.init.store.get(k)
      if (v === undefined) continue // acknowledged before (a retry)
      freed.push(MailItem.decode(v))
      ops.push({ type: 'del', key: k })
    }
    await this.init.store.batch(ops)
    for (const item of freed) this.release(item)
    return { status: MailboxResponse.Status.OK }
  }

  /** Deletes what waited longer than the time-to-live (each box is in the order it came). */
  private async sweep(): Promise<void> {
    const before = this.now() - this.limits.ttlMs
    const ops: BatchOp[] = []
    const gone: MailItem[] = []
    for (const device of this.boxes.keys())
      for await (const [k, v] of this.init.store.iterate({ prefix: boxPrefix(device) })) {
        const item = MailItem.decode(v)
        if (Number(item.storedAt) > before) break
        ops.push({ type: 'del', key: k })
        gone.push(item)
      }
    if (ops.length === 0) return
    await this.init.store.batch(ops)
    for (const item of gone) this.release(item)
    this.refused.set('Expired', (this.refused.get('Expired') ?? 0) + gone.length)
    this.init.log?.('mailbox items expired', { count: gone.length })
  }

  private ownerDevice(peer: string): HomeCert {
    const owner = this.owner
    if (owner === undefined || !owner.devices.includes(peer))
      throw new MailboxError('NotOwner', 'only the owner’s devices may do this')
    return owner
  }

  private charge(sender: string, bytes: number): void {
    this.usage.set(sender, (this.usage.get(sender) ?? 0) + bytes)
  }

  private release(item: MailItem): void {
    const left = (this.usage.get(item.sender) ?? 0) - cost(item)
    if (left <= 0) this.usage.delete(item.sender)
    else this.usage.set(item.sender, left)
    const inBox = (this.boxes.get(item.recipient) ?? 0) - 1
    if (inBox <= 0) this.boxes.delete(item.recipient)
    else this.boxes.set(item.recipient, inBox)
    this.items--
  }
}

const STATUS_OF: Partial<Record<MailboxErrorCode, MailboxResponse.Status>> = {
  NotAllowed: MailboxResponse.Status.NOT_ALLOWED,
  NotOwner: MailboxResponse.Status.NOT_OWNER,
  OverQuota: MailboxResponse.Status.OVER_QUOTA,
  Expired: MailboxResponse.Status.EXPIRED,
  BadCertificate: MailboxResponse.Status.BAD_CERTIFICATE,
  BadRequest: MailboxResponse.Status.BAD_REQUEST,
}

/**
 * Whether `cert` is older than `held`: made from an older device list, or from the same one and
 * issued earlier. A newer device list wins whatever the clocks say (devices' clocks differ).
 */
function isOlder(cert: HomeCert, held: HomeCert): boolean {
  if (cert.deviceListVersion !== held.deviceListVersion)
    return cert.deviceListVersion < held.deviceListVersion
  return cert.issuedAt < held.issuedAt
}

function cost(item: Pick<MailItem, 'envelope'>): number {
  return (item.envelope?.body.length ?? 0) + ITEM_OVERHEAD_BYTES
}

/** Exactly one of the request's parts; anything else is BadRequest. */
function decodeRequest(bytes: Uint8Array): MailboxRequest {
  let request: MailboxRequest
  try {
    request = MailboxRequest.decode(bytes)
  } catch (cause) {
    throw new MailboxError('BadRequest', 'not a mailbox request', { cause })
  }
  const parts =
    (request.certify !== undefined ? 1 : 0) +
    (request.depositors !== undefined ? 1 : 0) +
    (request.deposit.length > 0 ? 1 : 0) +
    (request.fetch !== undefined ? 1 : 0) +
    (request.ack.length > 0 ? 1 : 0)
  if (parts !== 1) throw new MailboxError('BadRequest', 'a request must ask exactly one thing')
  return request
}
