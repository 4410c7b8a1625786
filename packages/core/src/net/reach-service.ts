/**
 * The `reach` service, on Node and browser peers: keeps a relay reservation on this peer's home
 * node (so our addresses include a circuit through it, which cards and address updates carry)
 * and says what the ready line and status report (`nat`, `relays`, `mapped`). Node peers add DCUtR and
 * AutoNAT beside it (reach-services.ts); a browser, which cannot be dialled at all, needs the
 * reservation most.
 */
import type { IdentifyResult, Libp2pEvents, Listener, PeerId, TypedEventTarget } from '@libp2p/interface'
import { isPrivate } from '@libp2p/utils'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { NetError } from './errors.js'

export type NatStatus = 'public' | 'private' | 'unknown'

export interface ReachStatus {
  /** 'public': another peer reached an address we listen on; 'private': peers see us at an
   *  address we do not listen on (a NAT); 'unknown': neither is known yet. */
  readonly nat: NatStatus
  /** The relays we hold a reservation on (peer ids), e.g. our home node. */
  readonly relays: readonly string[]
  /** Public addresses a router forwards to us (UPnP, upnp.ts), e.g. `/ip4/203.0.113.7/tcp/4101`. */
  readonly mapped: readonly string[]
}

export interface Reach {
  /**
   * Keeps a reservation on the relay at `relayAddr` (`/…/p2p/<relay id>`): made now, and again
   * whenever it is lost (the relay restarted, our address changed). Replaces a previous relay.
   */
  keepReservation(relayAddr: string | undefined): void
  /** Lists our own public listen addresses now (done on each new listener too). */
  confirmListenAddrs(): void
  status(): ReachStatus
}

/** Parts of libp2p's internal components this needs (typed here, as announced-addrs.ts does). */
export interface ReachComponents {
  peerId: PeerId
  events: TypedEventTarget<Libp2pEvents>
  transportManager: {
    listen(addrs: Multiaddr[]): Promise<void>
    getListeners(): Listener[]
    getAddrs(): Multiaddr[]
  }
  addressManager: {
    getAddresses(): Multiaddr[]
    getAddressesWithMetadata(): Array<{ multiaddr: Multiaddr; verified: boolean; type: string }>
    confirmObservedAddr(addr: Multiaddr, options?: { type?: 'transport' | 'observed' }): void
  }
}

export interface ReachInit {
  /** How often a lost reservation is tried again while it cannot be made; default 15 s. */
  readonly retryMs?: number
}

const DEFAULT_RETRY_MS = 15_000

export class ReachService implements Reach {
  private relay: { addr: Multiaddr; peer: string } | undefined
  private listeners: Listener[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private reserving = false
  private stopped = false
  private behindNat = false
  private readonly retryMs: number

  constructor(
    private readonly components: ReachComponents,
    init: ReachInit,
  ) {
    this.retryMs = init.retryMs ?? DEFAULT_RETRY_MS
  }

  readonly [Symbol.toStringTag] = 'jiayi/reach'

  start(): void {
    this.stopped = false
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    this.components.events.addEventListener('transport:listening', this.onListening)
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.components.events.removeEventListener('transport:listening', this.onListening)
  }

  keepReservation(relayAddr: string | undefined): void {
    const addr = relayAddr === undefined ? undefined : multiaddr(relayAddr.replace(/\/p2p-circuit$/, ''))
    const peer = addr?.getComponents().findLast((c) => c.name === 'p2p')?.value
    if (addr !== undefined && peer === undefined)
      throw new NetError('BadOptions', 'a relay address must end with the relay’s /p2p/<peer id>')
    if (this.relay?.addr.equals(addr as Multiaddr) === true) return
    this.relay = addr === undefined || peer === undefined ? undefined : { addr, peer }
    void this.dropListeners()
    this.schedule(0)
  }

  confirmListenAddrs(): void {
    for (const a of this.components.transportManager.getAddrs())
      if (isPublicIp(a) && !a.toString().includes('/p2p-circuit'))
        this.components.addressManager.confirmObservedAddr(a, { type: 'transport' })
  }

  status(): ReachStatus {
    const addrs = this.components.addressManager.getAddresses().map((a) => a.toString())
    const relays = new Set<string>()
    for (const a of addrs) {
      const m = a.match(/\/p2p\/([^/]+)\/p2p-circuit/)
      if (m?.[1] !== undefined) relays.add(m[1])
    }
    const publicDirect = this.components.addressManager
      .getAddresses()
      .some((a) => !a.toString().includes('/p2p-circuit') && isPublicIp(a))
    const nat: NatStatus = publicDirect ? 'public' : this.behindNat ? 'private' : 'unknown'
    const mapped = this.components.addressManager
      .getAddressesWithMetadata()
      .filter((a) => a.type === 'ip-mapping' && a.verified)
      .map((a) => a.multiaddr.toString())
    return { nat, relays: [...relays], mapped: [...new Set(mapped)] }
  }

  /** Reserved on the relay now: our addresses include a circuit through it. */
  private reserved(): boolean {
    const relay = this.relay
    if (relay === undefined) return true
    return this.components.transportManager
      .getAddrs()
      .some((a) => a.toString().includes(`/p2p/${relay.peer}/p2p-circuit`))
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.relay === undefined) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.reserve()
    }, delayMs)
  }

  private async reserve(): Promise<void> {
    if (this.reserving || this.stopped || this.reserved()) return
    const relay = this.relay
    if (relay === undefined) return
    this.reserving = true
    try {
      // A circuit listener whose reservation is gone stays in libp2p's list with no address:
      // closed before a new one is made, so retries do not pile up listeners.
      await this.dropListeners()
      const tm = this.components.transportManager
      const before = new Set(tm.getListeners())
      await tm.listen([relay.addr.encapsulate('/p2p-circuit')]).catch(() => undefined)
      this.listeners = tm.getListeners().filter((l) => !before.has(l))
    } finally {
      this.reserving = false
    }
    if (!this.reserved()) this.schedule(this.retryMs)
  }

  private async dropListeners(): Promise<void> {
    const old = this.listeners
    this.listeners = []
    await Promise.all(old.map((l) => l.close().catch(() => undefined)))
  }

  /**
   * libp2p lists a public listen address only once AutoNAT has had four peers dial it back, so a
   * peer on a public IP (a VPS, an office PC, a home node) would otherwise hand out a card with
   * no address at all. It is listed at once; AutoNAT withdraws it if dial-backs fail.
   */
  private readonly onListening = (): void => {
    this.confirmListenAddrs()
  }

  private readonly onDisconnect = (e: CustomEvent<PeerId>): void => {
    // The connection to the relay carried the reservation: make a new one as soon as it can be.
    if (this.relay !== undefined && e.detail.toString() === this.relay.peer) this.schedule(1_000)
  }

  private readonly onIdentify = (e: CustomEvent<IdentifyResult>): void => {
    const observed = e.detail.observedAddr
    if (observed === undefined || !isPublicIp(observed) || e.detail.connection.limits != null) return
    // A peer that sees us at a public IP we do not listen on is looking through a NAT.
    const ip = observed.getComponents()[0]?.value
    const ours = this.components.transportManager.getAddrs().some((a) => a.getComponents()[0]?.value === ip)
    if (!ours) this.behindNat = true
  }
}

/**
 * Whether `addr` starts with a public IP. Addresses that start with no IP at all (a Unix socket,
 * a browser's `/webrtc/p2p/…/p2p-circuit`, a DNS name) are not: libp2p's isPrivate throws on
 * some and calls others public.
 */
function isPublicIp(addr: Multiaddr): boolean {
  const first = addr.getComponents()[0]?.name
  if (first !== 'ip4' && first !== 'ip6') return false
  try {
    return !isPrivate(addr)
  } catch {
    return false
  }
}

/** The reservation keeper alone: what a browser peer adds (transports-browser.ts). */
export function reachService(init: ReachInit = {}) {
  return (components: ReachComponents) => new ReachService(components, init)
}
