/**
 * The public libp2p network, opt-in (DESIGN.md "Reach", layer 3): Kademlia peer routing, so a
 * contact's current addresses can be found by peer id when the stored ones went stale, and
 * AutoRelay through public relays, so a peer behind NAT with no home node still has an address
 * others can dial. Both are libp2p's own: @libp2p/kad-dht, and the circuit-relay transport that
 * every Node peer already has, told to listen on `/p2p-circuit` (it then finds relays among the
 * peers it meets and through the DHT, and keeps reservations on them).
 *
 * - Client mode by default: this peer asks the DHT and never answers strangers' DHT queries (the
 *   kad protocol is not even registered), so joining costs no one's traffic but its own.
 * - The bootstrap list (`PUBLIC_BOOTSTRAP`, or the user's) is dialled by `dhtBootstrap` below,
 *   by address: `/dnsaddr/` entries resolve inside libp2p's dialer, and what they resolve to
 *   passes the dial policy like any address. (libp2p's @libp2p/bootstrap puts them in the peer
 *   store, where the dial policy drops DNS names on Node, so it would dial nothing.)
 * - Quiet without internet: one attempt per bootstrap address, then a pause that doubles up to
 *   BOOTSTRAP_MAX_PAUSE_MS; failures are debug lines. The DHT's own queries wait while its
 *   routing table is empty (kad-dht's default), so nothing spins.
 * - Tests build a DHT on 127.0.0.1: `lan` keeps private and loopback addresses (in the routing
 *   table and in answers), `server` makes a peer answer queries, and `protocol` keeps the test's
 *   DHT apart from others.
 */

import type { ComponentLogger, Logger, Startable } from '@libp2p/interface'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2pOptions } from 'libp2p'
import type { JiayiServices } from './network-stack.js'
import { bootstrapAddrs, PUBLIC_DHT_PROTOCOL, type PublicDhtOptions } from './public-dht-config.js'

export { PUBLIC_BOOTSTRAP, PUBLIC_DHT_PROTOCOL, type PublicDhtOptions } from './public-dht-config.js'

/** First pause after a round in which no bootstrap peer answered; it doubles each round. */
export const BOOTSTRAP_FIRST_PAUSE_MS = 30_000
export const BOOTSTRAP_MAX_PAUSE_MS = 30 * 60_000
const BOOTSTRAP_DIAL_TIMEOUT_MS = 10_000

/** What createJiayiNode adds for the public network: two services and the relay listen address. */
export interface PublicDhtParts {
  readonly services: Partial<Libp2pOptions<JiayiServices>['services']>
  readonly listen: readonly string[]
}

export function publicDht(options: PublicDhtOptions = {}): PublicDhtParts {
  const lan = options.lan === true
  return {
    services: {
      dht: kadDHT({
        protocol: options.protocol ?? PUBLIC_DHT_PROTOCOL,
        clientMode: options.server !== true,
        peerInfoMapper: lan ? passthroughMapper : removePrivateAddressesMapper,
        // The DHT's own log lines (and its metrics names) stay under libp2p's debug logger.
        logPrefix: 'libp2p:jiayi-dht',
      }),
      dhtBootstrap: (components) => new DhtBootstrap(components, bootstrapAddrs(options.bootstrap)),
    },
    listen: options.autoRelay === false ? [] : ['/p2p-circuit'],
  }
}

export interface BootstrapComponents {
  readonly logger: ComponentLogger
  readonly connectionManager: {
    openConnection(addr: Multiaddr, options?: { signal?: AbortSignal }): Promise<unknown>
    getConnections(): readonly unknown[]
  }
}

/**
 * Dials the bootstrap peers once the node has started, and again (all of them) after a pause
 * that doubles while none answers and this peer has no connection at all; a round that reaches
 * one resets the pause. Not a peer-discovery module: the DHT adds the peers it meets itself.
 */
export class DhtBootstrap implements Startable {
  private readonly log: Logger
  private timer: ReturnType<typeof setTimeout> | undefined
  private pause = BOOTSTRAP_FIRST_PAUSE_MS
  private running = false
  private controller = new AbortController()
  /** Rounds run since the start (for tests and stats). */
  rounds = 0

  constructor(
    private readonly components: BootstrapComponents,
    readonly addrs: readonly Multiaddr[],
  ) {
    this.log = components.logger.forComponent('jiayi:dht-bootstrap')
  }

  readonly [Symbol.toStringTag] = 'jiayi:dht-bootstrap'

  start(): void {
    this.running = true
    this.controller = new AbortController()
  }

  afterStart(): void {
    if (this.addrs.length > 0) this.schedule(0)
  }

  stop(): void {
    this.running = false
    this.controller.abort()
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(ms: number): void {
    if (!this.running) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.round()
    }, ms)
    // A pause between rounds never keeps the process alive.
    this.timer.unref?.()
  }

  private async round(): Promise<void> {
    this.rounds++
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(BOOTSTRAP_DIAL_TIMEOUT_MS)])
    const results = await Promise.allSettled(
      this.addrs.map((addr) => this.components.connectionManager.openConnection(addr, { signal })),
    )
    if (!this.running) return
    const reached = results.filter((r) => r.status === 'fulfilled').length
    this.log('bootstrap round %d: %d of %d answered', this.rounds, reached, this.addrs.length)
    if (reached > 0) {
      this.pause = BOOTSTRAP_FIRST_PAUSE_MS
      // Connected: look again later only if every connection is gone by then.
      this.scheduleCheck()
      return
    }
    const wait = this.pause
    this.pause = Math.min(this.pause * 2, BOOTSTRAP_MAX_PAUSE_MS)
    this.schedule(wait)
  }

  private scheduleCheck(): void {
    if (!this.running) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.components.connectionManager.getConnections().length === 0) void this.round()
      else this.scheduleCheck()
    }, BOOTSTRAP_MAX_PAUSE_MS)
    this.timer.unref?.()
  }
}
