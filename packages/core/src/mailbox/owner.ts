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
  verifyHomeCertificate,
} from './certificate.js'
import { ackMail, certifyHomeNode, fetchMail, sendDepositors } from './client.js'
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
    const certificate = createHomeCertificate(core.account.identity, {
      homePeerId: ref.peerId,
      devices: [core.peerId.toString()],
      addrs: ref.addrs,
      notAfter: Math.floor(Date.now() / 1000) + DEFAULT_HOME_VALIDITY_S,
    })
    await certifyHomeNode(core.node, ref, certificate, this.call())
    const record: HomeRecord = { peerId: ref.peerId, addrs: ref.addrs, certificate: toBase64(certificate) }
    await core.store.put(Keys.homeNode(), encodeRecord(record))
    this.record = record
    core.homeCertificate = certificate
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
      await this.renewIfDue()
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
   * A certificate near its end is renewed when we reach the home node (so at each start and
   * reconnection): the same home node, devices and addresses, valid a year from now. Contacts get
   * it with the next address update. Without this the home node would stop serving us after a year.
   */
  private async renewIfDue(): Promise<void> {
    const record = this.record
    const ref = this.ref()
    if (record === undefined || ref === undefined) return
    const held = verifyHomeCertificate(fromBase64(record.certificate))
    const now = Math.floor(Date.now() / 1000)
    if (held.notAfter - now > RENEW_HOME_BEFORE_S) return
    const certificate = createHomeCertificate(this.core.account.identity, {
      homePeerId: held.homePeerId,
      devices: held.devices,
      addrs: held.addrs,
      notAfter: now + DEFAULT_HOME_VALIDITY_S,
      // The home node keeps only a certificate issued no earlier than the one it holds.
      issuedAt: Math.max(now, held.issuedAt),
    })
    await certifyHomeNode(this.core.node, ref, certificate, this.call())
    const next: HomeRecord = { ...record, certificate: toBase64(certificate) }
    await this.core.store.put(Keys.homeNode(), encodeRecord(next))
    this.record = next
    this.core.homeCertificate = certificate
    this.announce()
    this.core.log.info('home node certificate renewed', { notAfter: now + DEFAULT_HOME_VALIDITY_S })
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
