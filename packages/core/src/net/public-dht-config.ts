/**
 * What configures the public network (public-dht.ts) and can be named without loading it: the
 * public DHT's protocol, libp2p's usual bootstrap peers, and the check of a bootstrap list. Kept
 * apart so that apps, the setting and the browser bundle do not pull in Kad-DHT itself.
 */
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'

/** The public Amino DHT's protocol (IPFS's). */
export const PUBLIC_DHT_PROTOCOL = '/ipfs/kad/1.0.0'

/** libp2p's usual public bootstrap peers (as in js-libp2p's and Kubo's defaults). */
export const PUBLIC_BOOTSTRAP: readonly string[] = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
  '/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ',
]

/** At most this many bootstrap addresses are kept (a typo'd config cannot make a dial storm). */
export const MAX_BOOTSTRAP = 16

export interface PublicDhtOptions {
  /** Bootstrap multiaddrs, each ending in `/p2p/<peer id>`; default PUBLIC_BOOTSTRAP. */
  readonly bootstrap?: readonly string[] | undefined
  /** Keep reservations on public relays (listen on `/p2p-circuit`); default true. */
  readonly autoRelay?: boolean | undefined
  /** Tests: the DHT protocol (default PUBLIC_DHT_PROTOCOL). */
  readonly protocol?: string | undefined
  /**
   * Tests: keep private and loopback addresses (a DHT on one machine). The public DHT drops
   * them: a peer with only those is never added to the routing table nor named in an answer.
   */
  readonly lan?: boolean | undefined
  /** Tests: answer DHT queries (a DHT server); default false, a client. */
  readonly server?: boolean | undefined
}

/** The bootstrap addresses that parse and name a peer, at most MAX_BOOTSTRAP. */
export function bootstrapAddrs(list: readonly string[] | undefined): Multiaddr[] {
  const out: Multiaddr[] = []
  for (const text of list ?? PUBLIC_BOOTSTRAP) {
    try {
      const ma = multiaddr(text)
      if (ma.getComponents().at(-1)?.name !== 'p2p') continue
      out.push(ma)
    } catch {
      // A bootstrap address that does not parse is left out; the CLI checks them first.
    }
    if (out.length === MAX_BOOTSTRAP) break
  }
  return out
}
