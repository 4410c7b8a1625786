/**
 * Keeping addresses current both ways. Ours: when our listen addresses change (or differ from what
 * we last told contacts, e.g. after a restart on new ports) every accepted contact gets an
 * address update. Theirs: identify tells us where a contact listens now, and we keep that for the
 * next start; mDNS and connections trigger delivery at once.
 */
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { fromUtf8, toBase64, utf8 } from '../bytes.js'
import { MAX_CONTACT_ADDRS } from '../net/dial-policy.js'
import { selectCardAddrs, stripPeer } from './card-addrs.js'
import type { MessengerCore } from './core.js'
import { Keys } from './keys.js'
import type { ContactRecord } from './records.js'
import { peerMay } from './trust.js'
import { Tx } from './tx.js'

const DEBOUNCE_MS = 1_000

export interface AddressWatcherInit {
  /** Our address through `contact`'s home node (reach/contact-relays.ts): for them only. */
  readonly relayAddrFor?: (contact: ContactRecord) => string | undefined
  /** Our own home node's peer id, if linked. */
  readonly ownHome?: () => string | undefined
}

export class AddressWatcher {
  private announced = ''
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly core: MessengerCore,
    private readonly init: AddressWatcherInit = {},
  ) {}

  async start(): Promise<void> {
    const stored = await this.core.store.get(Keys.announcedAddrs())
    this.announced = stored === undefined ? '' : fromUtf8(stored)
    this.schedule(0)
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Our addresses may have changed (libp2p's self:peer:update). */
  schedule(delayMs = DEBOUNCE_MS): void {
    if (this.timer !== undefined || this.core.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.announce().catch((error) =>
        this.core.log.warn('could not announce addresses', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
    }, delayMs)
  }

  private async announce(): Promise<void> {
    const core = this.core
    const addrs = core.cardAddrs()
    const home = core.homeCertificate
    // A new home node certificate is news too: contacts learn where our mailbox is. So is a new
    // device list (a device linked or removed): contacts learn which devices speak for us.
    const list = core.ownDeviceList()
    // So is a relay slot on a contact's home node, gained or lost (for that contact only).
    const guests = (core.node.services.reach?.guestRelays() ?? [])
      .map((g) => g.addr)
      .filter((a) => a !== undefined)
      .sort()
    const joined = `${addrs.join(' ')}${home === undefined ? '' : ` home:${toBase64(home)}`} devices:${list.version}${guests.length === 0 ? '' : ` guests:${guests.join(',')}`}`
    if (joined === this.announced || (addrs.length === 0 && guests.length === 0)) return
    this.announced = joined
    for (const c of core.contacts.all()) {
      if (!peerMay(c.state, 'get-address-updates')) continue
      const through = this.init.relayAddrFor?.(c)
      const theirs = through === undefined ? addrs : [...addrs, stripPeer(through)]
      // Nothing to say yet (no listener, no slot): an empty list would wipe what they know.
      if (theirs.length === 0) continue
      const bytes = theirs.map((a) => multiaddr(a).bytes)
      await core.queue.run(c.id, async () => {
        const tx = new Tx()
        await core.encryptToOutbox(tx, c.id, {
          kind: 'address-update',
          addrs: bytes,
          home,
          deviceList: list.bytes,
        })
        await core.commit(tx)
      })
    }
    await core.store.put(Keys.announcedAddrs(), utf8(joined))
  }

  /** Identify ran with a contact: remember where it listens if that changed. */
  identified(peerId: PeerId, listenAddrs: readonly { toString(): string }[]): void {
    const core = this.core
    const contact = core.contacts.byPeerId(peerId.toString())
    if (contact === undefined) return
    // What a peer claims in identify is filtered like its card (core.contactAddrs).
    const claimed = selectCardAddrs(
      core.contactAddrs(listenAddrs.map((a) => a.toString())),
      MAX_CONTACT_ADDRS,
    )
    // A circuit through our own home node came in their address update to us alone; identify
    // never carries it (reach/contact-relays.ts), so it is kept until an update drops it.
    const home = this.init.ownHome?.()
    const kept =
      home === undefined || claimed.length === 0
        ? []
        : contact.addrs.filter((a) => a.includes(`/p2p/${home}/p2p-circuit`) && !claimed.includes(a))
    const addrs = [...claimed.slice(0, MAX_CONTACT_ADDRS - kept.length), ...kept]
    if (claimed.length === 0 || addrs.join(' ') === contact.addrs.join(' ')) return
    void core.queue
      .run(contact.id, async () => {
        const current = core.contacts.get(contact.id)
        if (current === undefined) return
        const tx = new Tx()
        core.putContact(tx, { ...current, addrs, updatedAt: Date.now() }, 'update')
        await core.commit(tx)
      })
      .catch(() => undefined)
  }
}
