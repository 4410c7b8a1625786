/**
 * Addresses this node is reachable at that no libp2p listener of its own reports: the web app's
 * HTTPS server (`jiayi start --web-lan`) takes WebSocket upgrades on its own port and hands them
 * to the node's WebSocket listener, so `/ip4/<LAN IP>/tcp/<web port>/tls/ws` reaches this node
 * over TLS with the page's certificate. A phone's page on that HTTPS origin may open wss:// to it
 * (plain ws:// is mixed content there), and it is the relay address browsers reserve a slot on.
 *
 * Such an address must be in what the node announces (identify, and the relay's reservation
 * answers, from which a browser builds its `/p2p-circuit` addresses), so it goes into libp2p's
 * address manager as a confirmed address. The port is known only once the web server listens,
 * after the node started: hence a service, not `addresses.appendAnnounce`.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'

/** The part of libp2p's address manager this needs (an internal component, typed here). */
interface AddressManagerPart {
  confirmObservedAddr(addr: Multiaddr, options?: { type?: 'observed' }): void
  removeObservedAddr(addr: Multiaddr): void
}

export interface AnnouncedAddrs {
  /** Announces `addrs` (without /p2p/) beside the listeners' own addresses. */
  add(addrs: readonly string[]): void
  /** Stops announcing `addrs`. */
  remove(addrs: readonly string[]): void
  /** What `add` announced and `remove` did not take back. */
  list(): string[]
}

class AnnouncedAddrsService implements AnnouncedAddrs {
  private readonly current = new Set<string>()

  constructor(private readonly addressManager: AddressManagerPart) {}

  add(addrs: readonly string[]): void {
    for (const a of addrs) {
      const ma = multiaddr(a)
      this.current.add(ma.toString())
      // A confirmed observed address is listed as verified, and the change is announced
      // (self:peer:update, identify push) at once.
      this.addressManager.confirmObservedAddr(ma, { type: 'observed' })
    }
  }

  remove(addrs: readonly string[]): void {
    for (const a of addrs) {
      const ma = multiaddr(a)
      if (!this.current.delete(ma.toString())) continue
      this.addressManager.removeObservedAddr(ma)
    }
  }

  list(): string[] {
    return [...this.current]
  }
}

export function announcedAddrs(): (components: { addressManager: AddressManagerPart }) => AnnouncedAddrs {
  return (components) => new AnnouncedAddrsService(components.addressManager)
}
