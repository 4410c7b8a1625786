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
import { selectCardAddrs } from './card-addrs.js'
import type { MessengerCore } from './core.js'
import { Keys } from './keys.js'
import { peerMay } from './trust.js'
import { Tx } from './tx.js'

const DEBOUNCE_MS = 1_000

export class AddressWatcher {
  private announced = ''
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly core: MessengerCore) {}

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
    const joined = `${addrs.join(' ')}${home === undefined ? '' : ` home:${toBase64(home)}`} devices:${list.version}`
    if (joined === this.announced || addrs.length === 0) return
    this.announced = joined
    const bytes = addrs.map((a) => multiaddr(a).bytes)
    for (const c of core.contacts.all()) {
      if (!peerMay(c.state, 'get-address-updates')) continue
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
    const addrs = selectCardAddrs(core.contactAddrs(listenAddrs.map((a) => a.toString())), MAX_CONTACT_ADDRS)
    if (addrs.length === 0 || addrs.join(' ') === contact.addrs.join(' ')) return
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
