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
  /** The relays we hold a reservation on (peer ids): our home node, contacts' home nodes. */
  readonly relays: readonly string[]
  /** Public addresses a router forwards to us (UPnP, upnp.ts), e.g. `/ip4/203.0.113.7/tcp/4101`. */
  readonly mapped: readonly string[]
}

/** A reservation on a contact's home node, as kept now. */
export interface GuestRelay {
  /** The relay's peer id. */
  readonly peer: string
  /** Our address through it (`<relay addr>/p2p/<relay id>/p2p-circuit`), once reserved. */
  readonly addr: string | undefined
  /** Attempts that failed since the last success (refused, not reached). */
  readonly failures: number
}

export interface Reach {
  /**
   * Keeps a reservation on the relay at `relayAddr` (`/…/p2p/<relay id>`): made now, and again
   * whenever it is lost (the relay restarted, our address changed). Replaces a previous relay.
   */
  keepReservation(relayAddr: string | undefined): void
  /**
   * Keeps reservations on these relays too (contacts' home nodes, `/…/p2p/<relay id>` each),
   * replacing the previous set. Addresses through them are not announced (identify, the card):
   * each is for the contact whose home node it is, and goes only into address updates to them.
   */
  keepGuestReservations(relayAddrs: readonly string[]): void
  guestRelays(): GuestRelay[]
  /** Lists our own public listen addresses now (done on each new listener too). */
  confirmListenAddrs(): void
  /** Of `addrs`, those libp2p may announce (none through a guest relay): the announce filter. */
  announceable(addrs: Multiaddr[]): Multiaddr[]
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
/** A guest relay that keeps failing is tried at most this rarely (the retry doubles up to it). */
const MAX_GUEST_RETRY_MS = 30 * 60_000
/** A reservation attempt (dial and RESERVE, each bounded by libp2p) given up after this long. */
const LISTEN_TIMEOUT_MS = 20_000

/** One relay we keep a reservation on. */
class Held {
  listener: Listener | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  reserving = false
  failures = 0
  constructor(
    readonly addr: Multiaddr,
    readonly peer: string,
    readonly guest: boolean,
  ) {}

  /** Reserved now: the listener has our address through the relay. */
  reserved(): boolean {
    return (this.listener?.getAddrs().length ?? 0) > 0
  }

  circuitAddr(): string | undefined {
    return this.listener?.getAddrs()[0]?.toString()
  }
}

export class ReachService implements Reach {
  private own: Held | undefined
  private readonly guests = new Map<string, Held>()
  private stopped = false
  private behindNat = false
  /** Reservation attempts run one after another (listenOn). */
  private turn: Promise<void> = Promise.resolve()
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
    for (const held of this.held()) clearTimeout(held.timer)
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.components.events.removeEventListener('transport:listening', this.onListening)
  }

  keepReservation(relayAddr: string | undefined): void {
    const next = relayAddr === undefined ? undefined : parseRelay(relayAddr)
    if (next !== undefined && this.own?.addr.equals(next.addr) === true) return
    const old = this.own
    this.own = next === undefined ? undefined : new Held(next.addr, next.peer, false)
    // Our own home node is no guest of ours as well.
    const guest = next === undefined ? undefined : this.guests.get(next.peer)
    if (guest !== undefined) this.guests.delete(guest.peer)
    void this.drop([old, guest])
    if (this.own !== undefined) this.schedule(this.own, 0)
  }

  keepGuestReservations(relayAddrs: readonly string[]): void {
    const wanted = new Map<string, Multiaddr>()
    for (const a of relayAddrs) {
      let r: { addr: Multiaddr; peer: string }
      try {
        r = parseRelay(a)
      } catch {
        continue // a contact's certificate named an address we cannot use: that relay is left out
      }
      if (r.peer !== this.own?.peer && r.peer !== this.components.peerId.toString())
        wanted.set(r.peer, r.addr)
    }
    const gone: Held[] = []
    for (const [peer, held] of this.guests) {
      const addr = wanted.get(peer)
      if (addr?.equals(held.addr)) continue
      this.guests.delete(peer)
      gone.push(held)
    }
    for (const [peer, addr] of wanted) {
      if (this.guests.has(peer)) continue
      const held = new Held(addr, peer, true)
      this.guests.set(peer, held)
      this.schedule(held, 0)
    }
    void this.drop(gone)
  }

  guestRelays(): GuestRelay[] {
    return [...this.guests.values()].map((h) => ({
      peer: h.peer,
      addr: h.circuitAddr(),
      failures: h.failures,
    }))
  }

  announceable(addrs: Multiaddr[]): Multiaddr[] {
    if (this.guests.size === 0) return addrs
    const hidden = [...this.guests.keys()].map((peer) => `/p2p/${peer}/p2p-circuit`)
    return addrs.filter((a) => {
      const text = a.toString()
      return !hidden.some((h) => text.includes(h))
    })
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
    for (const g of this.guests.values()) if (g.reserved()) relays.add(g.peer)
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

  private held(): Held[] {
    return [...(this.own === undefined ? [] : [this.own]), ...this.guests.values()]
  }

  private schedule(held: Held, delayMs: number): void {
    if (this.stopped) return
    clearTimeout(held.timer)
    held.timer = setTimeout(() => {
      held.timer = undefined
      void this.reserve(held)
    }, delayMs)
  }

  private async reserve(held: Held): Promise<void> {
    if (held.reserving || this.stopped || held.reserved() || !this.isKept(held)) return
    held.reserving = true
    try {
      await this.listenOn(held)
    } finally {
      held.reserving = false
    }
    if (!this.isKept(held)) return void this.drop([held])
    if (held.reserved()) {
      held.failures = 0
      return
    }
    held.failures++
    const delay = held.guest
      ? Math.min(this.retryMs * 2 ** (held.failures - 1), MAX_GUEST_RETRY_MS)
      : this.retryMs
    this.schedule(held, delay)
  }

  /**
   * Asks the relay for a slot, one relay at a time: libp2p's reservation store drops the jobs
   * queued behind one that succeeds without settling them (@libp2p/circuit-relay-v2 4,
   * `#checkReservationCount` clears its queue), so a second listen started meanwhile would never
   * end. A listen that does not end in LISTEN_TIMEOUT_MS counts as failed.
   */
  private listenOn(held: Held): Promise<void> {
    const run = this.turn.then(async () => {
      if (this.stopped || !this.isKept(held)) return
      const circuit = held.addr.encapsulate('/p2p-circuit')
      let listening: Promise<void>
      if (held.listener !== undefined) {
        // The listener of a lost or refused reservation listens again. It is not closed and
        // replaced: closing a circuit listener cancels every reservation libp2p holds
        // (@libp2p/circuit-relay-v2 4's listener.close), the other relays' too.
        listening = held.listener.listen(circuit)
      } else {
        const tm = this.components.transportManager
        const before = new Set(tm.getListeners())
        // libp2p adds the listener before its first await: taken at once.
        listening = tm.listen([circuit])
        held.listener = tm.getListeners().find((l) => !before.has(l))
      }
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        listening.catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, LISTEN_TIMEOUT_MS)
        }),
      ])
      clearTimeout(timer)
    })
    this.turn = run.catch(() => undefined)
    return run
  }

  private isKept(held: Held): boolean {
    return this.own === held || this.guests.get(held.peer) === held
  }

  /**
   * Closes the listeners of relays no longer kept. Closing one cancels libp2p's record of every
   * reservation, so the relays still kept reserve again on their own listeners.
   */
  private async drop(list: readonly (Held | undefined)[]): Promise<void> {
    const closing = list.filter((h): h is Held => h?.listener !== undefined)
    for (const h of list) if (h !== undefined) clearTimeout(h.timer)
    if (closing.length === 0) return
    await Promise.all(closing.map((h) => h.listener?.close().catch(() => undefined)))
    for (const h of closing) h.listener = undefined
    for (const kept of this.held()) {
      if (kept.listener === undefined) continue
      void this.relisten(kept)
    }
  }

  /** A kept relay whose reservation libp2p forgot (see drop) reserves again on its listener. */
  private async relisten(held: Held): Promise<void> {
    if (this.stopped || held.reserving) return
    held.reserving = true
    try {
      await this.listenOn(held)
    } finally {
      held.reserving = false
    }
    if (!held.reserved() && this.isKept(held)) this.schedule(held, this.retryMs)
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
    // The connection to a relay carried the reservation: make a new one as soon as it can be.
    const peer = e.detail.toString()
    for (const held of this.held()) if (held.peer === peer) this.schedule(held, 1_000)
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

/** `/…/p2p/<relay id>` (a trailing `/p2p-circuit` dropped): the relay's address and peer id. */
function parseRelay(relayAddr: string): { addr: Multiaddr; peer: string } {
  const addr = multiaddr(relayAddr.replace(/\/p2p-circuit$/, ''))
  const peer = addr.getComponents().findLast((c) => c.name === 'p2p')?.value
  if (peer === undefined)
    throw new NetError('BadOptions', 'a relay address must end with the relay’s /p2p/<peer id>')
  return { addr, peer }
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
