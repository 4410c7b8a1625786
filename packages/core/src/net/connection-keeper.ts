/**
 * Staying reachable when nobody can dial us: a browser tab (and any peer without a listener
 * others reach) keeps a connection to its relay nodes (the LAN node that served the page, say)
 * and to its contacts, so that they can deliver to it. Once connected to a relay-capable node it
 * reserves a slot there (listening on `/p2p-circuit` + `/webrtc`) and gains
 * `<relay>/p2p/<relay id>/p2p-circuit/webrtc`, which goes on its card; another browser dials that
 * address, the relay carries the WebRTC signalling, and the data then flows directly.
 *
 * Sweeps run at start, every `keepAliveMs`, and when a connection drops; one at a time, each dial
 * bounded. Peers we hold an open connection to are left alone.
 */
import type { Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { type ConnectionInfo, describeConnection } from './connection-info.js'
import type { JiayiNode } from './network-stack.js'

export interface ConnectionKeeperInit {
  /**
   * Node peers (multiaddrs ending in /p2p/<peer id>) to stay connected to and use as relays;
   * malformed ones are logged and left out.
   */
  readonly relays?: readonly string[] | undefined
  /** The peer ids to stay connected to after the relays (accepted contacts), read at each sweep. */
  readonly peers: () => Iterable<string>
  /** How often to redial what we are not connected to; default 20 s. */
  readonly keepAliveMs?: number | undefined
  /** Structurally the messenger's Logger (net knows nothing above it). */
  readonly log: {
    debug(message: string, fields?: Record<string, string>): void
    warn(message: string): void
  }
}

const DEFAULT_KEEP_ALIVE_MS = 20_000
const DIAL_TIMEOUT_MS = 10_000

/** The peer id an address ends with (`/p2p/<id>`), if any. */
export function peerIdOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().findLast((c) => c.name === 'p2p')?.value
}

/** A circuit WebRTC address of ours: how other browsers (and nodes) reach a tab. */
export function isReachableAddr(addr: string): boolean {
  return /\/p2p-circuit\/webrtc(\/p2p\/[^/]+)?$/.test(addr)
}

/** The open connection to prefer for a peer: unlimited before relayed-with-limits, then the oldest. */
export function bestConnection(node: JiayiNode, peerId: string): Connection | undefined {
  let id: ReturnType<typeof peerIdFromString>
  try {
    id = peerIdFromString(peerId)
  } catch {
    return undefined
  }
  const open = node.getConnections(id).filter((c) => c.status === 'open')
  return open.find((c) => c.limits == null) ?? open[0]
}

/** How `node` is connected to a peer right now (lan / direct / relayed, transport), if at all. */
export function connectionInfo(node: JiayiNode, peerId: string): ConnectionInfo | undefined {
  const c = bestConnection(node, peerId)
  return c && describeConnection(c)
}

export class ConnectionKeeper {
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private readonly relays: { ma: Multiaddr; peer: string }[] = []
  private readonly onDisconnect = () => this.sweepSoon()

  constructor(
    private readonly node: JiayiNode,
    private readonly init: ConnectionKeeperInit,
  ) {
    for (const a of init.relays ?? []) {
      try {
        const ma = multiaddr(a)
        const peer = peerIdOf(ma)
        if (peer === undefined) throw new Error('no peer id')
        this.relays.push({ ma, peer })
      } catch {
        init.log.warn('ignoring a relay address that is not a multiaddr with a peer id')
      }
    }
  }

  start(): void {
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer = setInterval(() => this.sweepSoon(), this.init.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS)
    this.sweepSoon()
  }

  /** The relays' peer ids. */
  relayPeers(): string[] {
    return this.relays.map((r) => r.peer)
  }

  /** Runs a sweep now (or waits for the one running). */
  sweep(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.#sweep().finally(() => {
        this.running = undefined
      })
    }
    return this.running
  }

  private sweepSoon(): void {
    if (this.stopped) return
    void this.sweep().catch(() => undefined)
  }

  async #sweep(): Promise<void> {
    // Relays first: they make us reachable.
    await Promise.all(
      this.relays.map(async ({ ma, peer }) => {
        if (this.stopped || bestConnection(this.node, peer) !== undefined) return
        try {
          await this.node.dial(ma, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
        } catch (error) {
          this.init.log.debug('relay dial failed', { error: error instanceof Error ? error.name : 'unknown' })
        }
      }),
    )
    // Then the peers we are not connected to, so they learn we are online and deliver.
    for (const peer of this.init.peers()) {
      if (this.stopped) return
      if (bestConnection(this.node, peer) !== undefined) continue
      try {
        await this.node.dial(peerIdFromString(peer), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      } catch {
        // Offline; the next sweep tries again.
      }
    }
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
  }
}

/** Resolves once `node` has a circuit WebRTC address (a relay reservation), or rejects after `timeoutMs`. */
export function waitUntilReachable(node: JiayiNode, timeoutMs = 15_000): Promise<string[]> {
  const current = () =>
    node
      .getMultiaddrs()
      .map(String)
      .filter((a) => isReachableAddr(a))
  return new Promise((resolve, reject) => {
    const now = current()
    if (now.length > 0) return resolve(now)
    const timer = setTimeout(() => {
      node.removeEventListener('self:peer:update', check)
      reject(new Error('no relay reservation yet'))
    }, timeoutMs)
    function check() {
      const addrs = current()
      if (addrs.length === 0) return
      clearTimeout(timer)
      node.removeEventListener('self:peer:update', check)
      resolve(addrs)
    }
    node.addEventListener('self:peer:update', check)
  })
}
