/**
 * The in-page peer's network: a browser libp2p node (WebSockets, WebRTC-Direct and WebRTC
 * dialers, circuit-relay transport) that
 *   - reaches node peers directly at their card addresses (WebSockets / WebRTC-Direct);
 *   - keeps a connection to its relay nodes (the LAN node that served the page, given as
 *     `relays`) and to its contacts, so that they can deliver to it: a browser cannot be dialled
 *     except through a relay;
 *   - listens on `/p2p-circuit` + `/webrtc`: once connected to a relay-capable node peer it
 *     reserves a slot there and gains `<relay>/p2p/<relay id>/p2p-circuit/webrtc`, which goes on
 *     its card. Another browser dials that address: the relay carries the SDP/ICE signalling, then
 *     both browsers open a direct WebRTC connection (no STUN/TURN: host candidates, LAN only) and
 *     the relay is out of the data path.
 */
import {
  browserNetwork,
  type ConnectionInfo,
  createJiayiNode,
  describeConnection,
  type JiayiNode,
  type Logger,
  type Messenger,
} from '@jiayi/core'
import type { Connection, Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'

export interface PeerNetworkOptions {
  /**
   * Node peers (multiaddrs ending in /p2p/<peer id>) to stay connected to and use as relays,
   * e.g. the LAN node that served this page.
   */
  readonly relays?: readonly string[] | undefined
  /** ICE configuration for browser-to-browser WebRTC; default none (LAN only, nothing to third parties). */
  readonly rtcConfiguration?: RTCConfiguration | undefined
  /** How often to redial relays and contacts we are not connected to (default 20 s). */
  readonly keepAliveMs?: number | undefined
}

const DIAL_TIMEOUT_MS = 10_000

/** The peer id an address ends with (`/p2p/<id>`), if any. */
export function peerIdOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().findLast((c) => c.name === 'p2p')?.value
}

export async function createBrowserNode(
  deviceKey: Ed25519PrivateKey,
  options: PeerNetworkOptions,
): Promise<JiayiNode> {
  return createJiayiNode({
    privateKey: deviceKey,
    network: browserNetwork(options.rtcConfiguration ? { rtcConfiguration: options.rtcConfiguration } : {}),
  })
}

/** A circuit WebRTC address of ours: how other browsers (and nodes) reach this tab. */
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

export function connectionInfo(node: JiayiNode, peerId: string): ConnectionInfo | undefined {
  const c = bestConnection(node, peerId)
  return c && describeConnection(c)
}

/**
 * Keeps us connected to relays and contacts: at start, every `keepAliveMs`, and when a relay
 * connection drops. One sweep at a time; each dial is bounded.
 */
export class ConnectionKeeper {
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private readonly relays: { ma: Multiaddr; peer: string }[]
  private readonly onDisconnect = () => this.sweepSoon()

  constructor(
    private readonly node: JiayiNode,
    private readonly messenger: Messenger,
    private readonly log: Logger,
    private readonly options: PeerNetworkOptions,
  ) {
    this.relays = []
    for (const a of options.relays ?? []) {
      try {
        const ma = multiaddr(a)
        const peer = peerIdOf(ma)
        if (peer === undefined) throw new Error('no peer id')
        this.relays.push({ ma, peer })
      } catch {
        log.warn('ignoring a relay address that is not a multiaddr with a peer id')
      }
    }
  }

  start(): void {
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer = setInterval(() => this.sweepSoon(), this.options.keepAliveMs ?? 20_000)
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
          this.log.debug('relay dial failed', { error: error instanceof Error ? error.name : 'unknown' })
        }
      }),
    )
    // Then accepted contacts we are not connected to, so they learn we are online and deliver.
    for (const c of this.messenger.contactList()) {
      if (this.stopped) return
      if (c.state !== 'accepted' || bestConnection(this.node, c.peerId) !== undefined) continue
      try {
        await this.node.dial(peerIdFromString(c.peerId), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
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

/** Resolves once we have a circuit WebRTC address (a relay reservation), or rejects after `timeoutMs`. */
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
