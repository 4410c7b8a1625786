/**
 * The owner's device side of its home node: linking (certify it with our identity), telling it
 * who may deposit (our contacts, in a list our identity signs), and fetching what they left while
 * we were away. Fetched envelopes go through the same inbound path as envelopes that come
 * directly (`receive`), so ordering, duplicates and receipts behave exactly as they do there;
 * an item is acknowledged (deleted on the home node) only once it is processed for good.
 *
 * It fetches at start, whenever a connection to the home node opens, and whenever the home node
 * says mail came while we stay connected (notice.ts), and keeps the depositor list in step with
 * the contacts (debounced).
 *
 * The certificate names all our devices, from our signed device list: each fetches its own box
 * (server.ts). When the list changes (a device linked or removed) the certificate is issued again
 * at once, and at every connection while the home node holds one from an older list: a linked
 * device can then fetch its mail, a removed one no longer can. The home node record is handed to
 * a new device with the rest (devices/handover.ts), so it finds the mailbox too.
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { fromBase64, toBase64 } from '../bytes.js'
import type { MessengerCore } from '../messenger/core.js'
import { Keys } from '../messenger/keys.js'
import type { AckStatus, IncomingEnvelope } from '../messenger/msg-protocol.js'
import { decodeRecord, encodeRecord } from '../messenger/records.js'
import { peerMay } from '../messenger/trust.js'
import type { ConnectionRoute } from '../net/connection-info.js'
import { PROTOCOL_MAILBOX_NOTICE } from '../net/protocols.js'
import {
  createDepositorList,
  createHomeCertificate,
  DEFAULT_HOME_VALIDITY_S,
  type HomeCert,
  MAX_HOME_DEVICES,
  verifyHomeCertificate,
} from './certificate.js'
import { ackMail, certifyHomeNode, fetchMail, sendDepositors } from './client.js'
import { MailboxError } from './errors.js'
import { decodeHomeLink, type HomeNodeRef } from './link.js'
import { handleMailboxNotices } from './notice.js'

/** Contacts changing in a burst (an import, a group) make one new depositor list. */
const DEPOSITORS_DEBOUNCE_MS = 500
/** Items per fetch request; a drain repeats until the mailbox is empty. */
const FETCH_BATCH = 256
/** A home node certificate with less than this left is renewed when we reach the home node. */
export const RENEW_HOME_BEFORE_S = 30 * 24 * 3600

export interface HomeNodeView {
  readonly peerId: string
  readonly addrs: readonly string[]
}

interface HomeRecord {
  readonly peerId: string
  readonly addrs: readonly string[]
  /** The certificate we gave it, base64. */
  readonly certificate: string
  /**
   * False when the home node said it keeps no box per device (an older build): then it is given
   * one device only, since it would hand any device everything. Absent in older records: true.
   */
  readonly perDevice?: boolean
}

export type ReceiveEnvelope = (
  from: PeerId,
  envelope: IncomingEnvelope,
  connection: undefined,
  via: ConnectionRoute,
) => Promise<AckStatus>

export class HomeNodeOwner {
  private record: HomeRecord | undefined
  private draining: Promise<number> | undefined
  private again = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly off: (() => void)[] = []
  private stopped = false
  /** Ends the requests in flight when the peer stops. */
  private readonly controller = new AbortController()
  /** The depositor list last given to the home node (peer ids, sorted), to skip repeats. */
  private lastDepositors: string | undefined
  /** Lists are numbered by the clock, and always above the last one (two in one millisecond). */
  private lastVersion = 0
  /** Certificates are issued one at a time (a list change and a reconnection may meet). */
  private issuing: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly core: MessengerCore,
    private readonly receive: ReceiveEnvelope,
    /** Our card and address updates changed: tell contacts (addresses.ts). */
    private readonly announce: () => void,
  ) {}

  async start(): Promise<void> {
    const bytes = await this.core.store.get(Keys.homeNode())
    if (bytes !== undefined) {
      this.record = decodeRecord<HomeRecord>(bytes)
      this.core.homeCertificate = fromBase64(this.record.certificate)
    }
    this.off.push(this.core.events.on('contact', () => this.scheduleDepositors()))
    const onConnect = (e: Event) => {
      const peer = (e as CustomEvent<PeerId>).detail
      if (this.record !== undefined && peer.toString() === this.record.peerId) void this.connected()
    }
    this.core.node.addEventListener('peer:connect', onConnect)
    this.off.push(() => this.core.node.removeEventListener('peer:connect', onConnect))
    const unhandle = await handleMailboxNotices(
      this.core.node,
      () => this.record?.peerId,
      (items) => {
        this.core.log.debug('mail came', { items })
        void this.drain().catch(() => undefined)
      },
      (code, peer) =>
        this.core.refuse(
          PROTOCOL_MAILBOX_NOTICE,
          code === 'NotAllowed' ? 'not-allowed' : 'bad-request',
          peer,
        ),
    )
    this.off.push(() => void unhandle())
    this.reserve()
    if (this.record !== undefined) void this.connected()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.controller.abort()
    clearTimeout(this.timer)
    for (const off of this.off) off()
    await this.draining?.catch(() => undefined)
  }

  view(): HomeNodeView | null {
    return this.record === undefined ? null : { peerId: this.record.peerId, addrs: this.record.addrs }
  }

  /**
   * Links the home node a `jiayi:home/…` link names: certifies it (it then serves us only), gives
   * it our contacts, and tells our contacts where our mailbox is. Throws MailboxError.
   */
  async add(link: string): Promise<HomeNodeView> {
    const ref = decodeHomeLink(link)
    const core = this.core
    const issued = await this.issue(ref, { devices: [], notAfter: 0, issuedAt: 0 }, true)
    const record: HomeRecord = {
      peerId: ref.peerId,
      addrs: ref.addrs,
      certificate: toBase64(issued.certificate),
      perDevice: issued.perDevice,
    }
    await core.store.put(Keys.homeNode(), encodeRecord(record))
    this.record = record
    core.homeCertificate = issued.certificate
    this.lastDepositors = undefined
    await this.sendDepositors()
    this.reserve()
    if (core.node.services.reach === undefined) await this.reconnect(ref.peerId)
    this.announce()
    void this.drain().catch(() => undefined)
    return { peerId: ref.peerId, addrs: ref.addrs }
  }

  /**
   * Fetches everything waiting in our mailbox, processes it in the order it was deposited, and
   * acknowledges what was processed. One drain at a time; a call during one runs another after.
   * Resolves to the number of items processed.
   */
  drain(): Promise<number> {
    if (this.draining !== undefined) {
      this.again = true
      return this.draining
    }
    this.draining = (async () => {
      let total = 0
      do {
        this.again = false
        total += await this.drainOnce()
      } while (this.again && !this.stopped)
      return total
    })().finally(() => {
      this.draining = undefined
    })
    return this.draining
  }

  private async drainOnce(): Promise<number> {
    const ref = this.ref()
    if (ref === undefined) return 0
    let total = 0
    for (;;) {
      if (this.stopped || this.core.stopped) return total
      const items = await fetchMail(this.core.node, ref, FETCH_BATCH, this.call())
      if (items.length === 0) return total
      // Handed over all at once, in order, as /jiayi/msg/1 does with a stream's envelopes: each
      // starts its conversation's work at once (which keeps the order) and the disk writes of a
      // batch are grouped, instead of one write awaited per item.
      const verdicts = await Promise.all(
        items.map((item) => {
          let from: PeerId
          try {
            from = peerIdFromString(item.sender)
          } catch {
            return Promise.resolve<AckStatus>('ok') // the home node's own mistake: nothing to process
          }
          return this.receive(from, { type: item.type, body: item.body }, undefined, 'mailbox')
        }),
      )
      // 'retry': our own failure (storage); that item and those after it stay for the next drain
      // (those after it that were processed come again as duplicates, which the ratchet refuses).
      const kept = verdicts.indexOf('retry')
      const done = (kept === -1 ? items : items.slice(0, kept)).map((item) => item.id)
      const retry = kept !== -1
      await ackMail(this.core.node, ref, done, this.call())
      total += done.length
      // A short answer may be cut by size, not the end: only an empty one says the end.
      if (retry) return total
    }
  }

  private async connected(): Promise<void> {
    try {
      // A home node that restarted or lost its disk gets the list again.
      this.lastDepositors = undefined
      // A certificate the home node will not take (it holds one from a newer list) stops nothing
      // else: our box is still ours to fetch while the one it holds names us.
      await this.renewIfDue().catch((error) =>
        this.core.log.info('home node certificate not issued again', {
          error: error instanceof Error ? (MailboxError.is(error) ? error.code : error.name) : 'unknown',
        }),
      )
      await this.sendDepositors()
      const n = await this.drain()
      if (n > 0) this.core.log.info('fetched from the mailbox', { items: n })
    } catch (error) {
      this.core.log.debug('home node not reachable now', {
        error: error instanceof Error ? error.name : 'unknown',
      })
    }
  }

  /**
   * Our device list changed (a device linked or removed): the home node gets a certificate naming
   * the devices on it now. Not reachable now: the next connection does it (renewIfDue).
   */
  devicesChanged(): void {
    if (this.record === undefined || this.stopped) return
    void this.renewIfDue().catch((error) =>
      this.core.log.debug('home node not re-certified now', {
        error: error instanceof Error ? error.name : 'unknown',
      }),
    )
  }

  /**
   * The certificate is issued again when we reach the home node (so at each start and
   * reconnection) if it is near its end, or names other devices than our device list does now (or
   * comes from an older list): the same home node and addresses, valid a year from now. Contacts
   * get it with the next address update. Without this the home node would stop serving us after a
   * year, and a device linked since could not fetch its mail.
   */
  private renewIfDue(): Promise<void> {
    const task = this.issuing.then(() => this.renewNow())
    this.issuing = task.catch(() => undefined)
    return task
  }

  private async renewNow(): Promise<void> {
    const record = this.record
    const ref = this.ref()
    if (record === undefined || ref === undefined || this.stopped) return
    const held = verifyHomeCertificate(fromBase64(record.certificate))
    const list = this.core.ownDeviceList()
    // A device removed from our list speaks for us no more: it leaves the certificate to the others.
    if (!list.devices.some((d) => d.peerId === this.core.peerId.toString())) return
    const now = Math.floor(Date.now() / 1000)
    const wanted = this.devicesFor(held)
    const same = wanted.length === held.devices.length && wanted.every((d, i) => d === held.devices[i])
    const older = held.deviceListVersion < list.version
    // A home node that kept no boxes is asked again each time: it may have been updated since.
    const oneOnly = record.perDevice === false && wanted.length > 1
    if (held.notAfter - now > RENEW_HOME_BEFORE_S && same && !older && !oneOnly) return
    const issued = await this.issue(ref, held, record.perDevice !== false)
    const next: HomeRecord = {
      ...record,
      certificate: toBase64(issued.certificate),
      perDevice: issued.perDevice,
    }
    await this.core.store.put(Keys.homeNode(), encodeRecord(next))
    this.record = next
    this.core.homeCertificate = issued.certificate
    this.announce()
    this.core.log.info('home node certificate issued again', {
      devices: verifyHomeCertificate(issued.certificate).devices.length,
      deviceListVersion: list.version,
    })
  }

  /**
   * Makes a certificate for the home node `ref` from our device list now and gives it to the
   * home node. A home node that keeps no box per device gets one naming only the first device.
   */
  private async issue(
    ref: HomeNodeRef,
    held: Pick<HomeCert, 'devices' | 'notAfter' | 'issuedAt'>,
    perDevice: boolean,
  ): Promise<{ certificate: Uint8Array; perDevice: boolean }> {
    const now = Math.floor(Date.now() / 1000)
    const make = (devices: readonly string[]) =>
      createHomeCertificate(this.core.account.identity, {
        homePeerId: ref.peerId,
        devices,
        addrs: ref.addrs,
        notAfter: now + DEFAULT_HOME_VALIDITY_S,
        // The home node keeps only a certificate issued no earlier than the one it holds.
        issuedAt: Math.max(now, held.issuedAt),
        deviceListVersion: this.core.ownDeviceList().version,
      })
    const all = this.devicesFor(held)
    const first = make(perDevice ? all : all.slice(0, 1))
    const answer = await certifyHomeNode(this.core.node, ref, first, this.call())
    if (all.length === 1 || answer.perDevice === perDevice) return { certificate: first, ...answer }
    let certificate: Uint8Array
    if (answer.perDevice) {
      certificate = make(all)
    } else {
      this.core.log.warn('the home node keeps no box per device (an older build): it serves one device')
      certificate = make(all.slice(0, 1))
    }
    await certifyHomeNode(this.core.node, ref, certificate, this.call())
    return { certificate, perDevice: answer.perDevice }
  }

  /**
   * The devices a certificate names: those on our list now. The first named keeps its place
   * while it stays on the list (the home node gives it deposits that name no device, from older
   * peers, who wrote to the device on the card they have); a first certificate names this device
   * first. (A home node without boxes per device is given the first one only: issue.)
   */
  private devicesFor(held: Pick<HomeCert, 'devices'>): string[] {
    const self = this.core.peerId.toString()
    const listed = this.core.ownDeviceList().devices.map((d) => d.peerId)
    const order = [...held.devices, self, ...listed]
    const devices = [...new Set(order)].filter((d) => listed.includes(d) || d === self)
    return devices.slice(0, MAX_HOME_DEVICES)
  }

  /**
   * Holds a relay reservation on the home node (reach-services.ts): our addresses then include
   * `<home>/p2p/<home id>/p2p-circuit`, which our card and address updates carry.
   */
  private reserve(): void {
    const record = this.record
    const reach = this.core.node.services.reach
    if (record === undefined || reach === undefined) return
    const addr = record.addrs.find((a) => /\/tcp\/\d+$/.test(a))
    try {
      reach.keepReservation(addr === undefined ? undefined : `${addr}/p2p/${record.peerId}`)
    } catch (error) {
      this.core.log.warn('no relay reservation on the home node', {
        error: error instanceof Error ? error.name : 'unknown',
      })
    }
  }

  /**
   * A browser holds relay slots through libp2p's own relay discovery, which asked the home node
   * for one when the page connected, before this link, and was refused (home-relay.ts serves its
   * owner's devices and contacts only). A new connection asks again, now as the owner's device.
   */
  private async reconnect(homePeerId: string): Promise<void> {
    const peer = peerIdFromString(homePeerId)
    await this.core.node.hangUp(peer).catch(() => undefined)
    await this.core.node.dial(peer, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
  }

  private scheduleDepositors(): void {
    if (this.record === undefined || this.timer !== undefined || this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.sendDepositors().catch(() => undefined)
    }, DEPOSITORS_DEBOUNCE_MS)
  }

  /** Our contacts who may leave mail, signed: a removed contact is refused from now on. */
  private async sendDepositors(): Promise<void> {
    const ref = this.ref()
    if (ref === undefined) return
    const peers = this.core.contacts
      .all()
      .filter((c) => peerMay(c.state, 'deposit-mail'))
      .map((c) => c.peerId)
      .sort()
    // Contact events come for every change (an address, a name): only a new set makes a new list.
    const joined = peers.join(' ')
    if (joined === this.lastDepositors) return
    await sendDepositors(
      this.core.node,
      ref,
      createDepositorList(this.core.account.identity, ref.peerId, peers, this.nextVersion()),
      this.call(),
    )
    this.lastDepositors = joined
  }

  private nextVersion(): number {
    this.lastVersion = Math.max(Date.now(), this.lastVersion + 1)
    return this.lastVersion
  }

  private call(): { signal: AbortSignal } {
    return { signal: this.controller.signal }
  }

  private ref(): HomeNodeRef | undefined {
    return this.record === undefined ? undefined : { peerId: this.record.peerId, addrs: this.record.addrs }
  }
}
