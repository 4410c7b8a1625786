/**
 * Finding a contact's current addresses by peer id through the public DHT (public-dht.ts), when
 * this peer joined it (`jiayi start --public-dht`) and a delivery to them failed with no
 * connection open: their stored addresses went stale (a new network, new ports), and no mutual
 * contact (contact-finder.ts) or LAN announcement said where they are now.
 *
 * Only contacts (accepted, or asked by us) are looked up, at most once per LOOKUP_INTERVAL_MS
 * each and one lookup at a time per contact. What the DHT answers is a claim by strangers: the
 * addresses go through the dial policy (core.rememberAddrs) like a card's, and Noise checks the peer id at the other end, so a lie costs one failed dial.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { MessengerCore } from './core.js'
import type { ContactId } from './ids.js'

/** How often one contact is looked up at most. */
export const LOOKUP_INTERVAL_MS = 30_000
/** A lookup gives up after this long (the DHT walks many peers when the target is not there). */
const LOOKUP_TIMEOUT_MS = 30_000

export class DhtFinder {
  private readonly looked = new Map<string, number>()
  private readonly running = new Set<string>()
  /** Lookups that found new addresses (for stats and tests). */
  found = 0

  constructor(
    private readonly core: MessengerCore,
    /** Delivery to the contact should be tried again now (new addresses known). */
    private readonly retry: (cid: ContactId) => void,
  ) {}

  deliveryFailed(cid: ContactId): void {
    const core = this.core
    const dht = core.node.services.dht
    const c = core.contacts.get(cid)
    if (dht === undefined || c === undefined || core.stopped) return
    if (c.state !== 'accepted' && c.state !== 'pending-out') return
    if (this.running.has(c.peerId) || core.isOnline(c.peerId)) return
    const last = this.looked.get(c.peerId)
    if (last !== undefined && Date.now() - last < LOOKUP_INTERVAL_MS) return
    this.looked.set(c.peerId, Date.now())
    this.running.add(c.peerId)
    void this.lookup(cid, c.peerId, c.addrs)
      .catch((error: unknown) =>
        core.log.debug('the DHT did not find a contact', {
          contact: cid,
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
      .finally(() => this.running.delete(c.peerId))
  }

  private async lookup(cid: ContactId, peerId: string, known: readonly string[]): Promise<void> {
    const core = this.core
    const dht = core.node.services.dht
    if (dht === undefined) return
    const signal = AbortSignal.timeout(LOOKUP_TIMEOUT_MS)
    const target = peerIdFromString(peerId)
    let fresh: string[] = []
    // The network, not the local peer store: the stored addresses are the stale ones. The first
    // answer with an address we may dial and did not know wins; a liar's garbage does not stop
    // the walk.
    for await (const event of dht.findPeer(target, { signal, useCache: false })) {
      if (event.name !== 'FINAL_PEER' || !event.peer.id.equals(target)) continue
      // Relayed addresses stay (a peer behind NAT has only those); the dial policy drops the rest.
      fresh = core
        .contactAddrs(event.peer.multiaddrs.map((a) => a.toString()))
        .filter((a) => !known.includes(a))
      if (fresh.length > 0) break
    }
    if (core.stopped || fresh.length === 0) return
    await core.rememberAddrs(peerId, fresh)
    this.found++
    core.log.debug('the DHT told where a contact is', { contact: cid, addrs: fresh.length })
    this.retry(cid)
  }
}
