/**
 * Reservations on contacts' home nodes (DESIGN "Reach"): a Node peer that others cannot dial (no
 * public address) keeps a relay slot on up to MAX_CONTACT_RELAYS of its contacts' home nodes,
 * beside the one on its own home node (owner.ts), or instead of it when it has none. A contact's
 * home node gives a slot to its owner's contacts (net/home-relay.ts: the depositor list) and
 * connects only its owner's devices to them, so the address through it serves that contact
 * alone: it goes into address updates to that contact only, never into the card, identify or
 * updates to anyone else (the announce filter in net/reach-service.ts). Sent to everyone, it
 * would tell them who our contacts are and open nothing for them.
 *
 * Which home nodes: those of accepted contacts whose certificate is valid, not our own, at a TCP
 * address we may dial; the ones already held first, then the contacts heard from most recently.
 * A home node whose reservation keeps failing (refused, not reached) is set aside for a while
 * and the next contact's is tried.
 */
import { homeOf } from '../mailbox/contact-home.js'
import type { MessengerCore } from '../messenger/core.js'
import type { ContactRecord } from '../messenger/records.js'
import { peerMay } from '../messenger/trust.js'

/** Contacts' home nodes we hold a slot on at most: each is a connection kept open. */
export const MAX_CONTACT_RELAYS = 2
/** Failed attempts (their retries back off) after which the next contact's home node is tried. */
const FAILURES_BEFORE_NEXT = 3
/** How long a home node that kept failing is left out. */
const SET_ASIDE_MS = 30 * 60_000
/** How often the choice is looked at again (a reservation failing, NAT status known). */
const CHECK_MS = 60_000
/**
 * Changes (contact events, our addresses) are gathered for this long before the choice is made
 * again: each choice verifies the home certificate of every contact, and a burst of changes needs
 * one look, not one per change.
 */
const GATHER_MS = 200

export class ContactRelays {
  private readonly setAside = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private gathering: ReturnType<typeof setTimeout> | undefined
  private readonly off: (() => void)[] = []

  constructor(
    private readonly core: MessengerCore,
    /** Our own home node's peer id, if linked: its reservation is owner.ts's. */
    private readonly ownHome: () => string | undefined,
  ) {}

  start(): void {
    if (this.core.node.services.dialPolicy.environment !== 'node') return
    this.off.push(this.core.events.on('contact', () => this.changed()))
    const onUpdate = () => this.changed()
    this.core.node.addEventListener('self:peer:update', onUpdate)
    this.off.push(() => this.core.node.removeEventListener('self:peer:update', onUpdate))
    this.timer = setInterval(() => this.update(), CHECK_MS)
    this.update()
  }

  /** Stops choosing; the slots held end with the node (as our own home node's does). */
  stop(): void {
    clearInterval(this.timer)
    clearTimeout(this.gathering)
    this.gathering = undefined
    for (const off of this.off.splice(0)) off()
  }

  /** Our address through `contact`'s home node, while we hold a slot there. */
  addrFor(contact: Pick<ContactRecord, 'identityKey' | 'home'>): string | undefined {
    const home = homeOf(contact)
    if (home === undefined) return undefined
    return this.core.node.services.reach?.guestRelays().find((g) => g.peer === home.peerId)?.addr
  }

  /** Something the choice depends on changed: it is made again shortly (GATHER_MS). */
  private changed(): void {
    if (this.gathering !== undefined) return
    this.gathering = setTimeout(() => {
      this.gathering = undefined
      this.update()
    }, GATHER_MS)
  }

  /** Chooses the home nodes to hold a slot on now. */
  update(): void {
    const reach = this.core.node.services.reach
    if (reach === undefined || this.core.stopped) return
    const now = Date.now()
    const held = reach.guestRelays()
    for (const g of held)
      if (g.failures >= FAILURES_BEFORE_NEXT) this.setAside.set(g.peer, now + SET_ASIDE_MS)
    for (const [peer, until] of this.setAside) if (until <= now) this.setAside.delete(peer)
    // A peer others dial directly needs no relay.
    if (reach.status().nat === 'public') {
      reach.keepGuestReservations([])
      return
    }
    const candidates = this.candidates(now)
    const heldFirst = [
      ...candidates.filter((c) => held.some((g) => g.peer === c.peer)),
      ...candidates.filter((c) => !held.some((g) => g.peer === c.peer)),
    ]
    reach.keepGuestReservations(heldFirst.slice(0, MAX_CONTACT_RELAYS).map((c) => c.addr))
  }

  private candidates(now: number): { peer: string; addr: string }[] {
    const own = this.ownHome()
    const seen = new Set<string>()
    const out: { peer: string; addr: string }[] = []
    const contacts = this.core.contacts
      .all()
      .filter((c) => peerMay(c.state, 'get-address-updates'))
      .sort((a, b) => b.updatedAt - a.updatedAt)
    for (const c of contacts) {
      const home = homeOf(c, now)
      if (home === undefined || home.peerId === own || seen.has(home.peerId)) continue
      seen.add(home.peerId)
      if (this.setAside.has(home.peerId)) continue
      // Reserved over TCP, as on our own home node (a relay is dialled like any Node peer).
      const addr = this.core.contactAddrs(home.addrs).find((a) => /\/tcp\/\d+$/.test(a))
      if (addr !== undefined) out.push({ peer: home.peerId, addr: `${addr}/p2p/${home.peerId}` })
    }
    return out
  }
}
