/**
 * The LAN rendezvous over multicast DNS (lan-rendezvous.ts): Node only, like @libp2p/mdns, whose
 * socket handling it shares (multicast-dns, port 5353, group 224.0.0.251).
 *
 *   query:    TXT questions `<label>.<tag>`, one per contact we are not connected to (batched)
 *   response: TXT answers `<label>.<tag>`, data = the sealed answer split into ≤ 255-byte strings
 *
 * Nothing else goes on the wire: no peer id, no host name, no PTR/SRV/A records. A label is made
 * by the messenger from a pair's shared key and the epoch; a peer answers only labels by which
 * one of its contacts looks for it. Found addresses become a libp2p peer discovery, as mDNS ones
 * do, so everything that reacts to discoveries (the outbox, the feed) works unchanged.
 */
import {
  type ComponentLogger,
  type Logger,
  type PeerDiscovery,
  type PeerDiscoveryEvents,
  peerDiscoverySymbol,
  type Startable,
  serviceCapabilities,
  TypedEventEmitter,
} from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { isPrivate } from '@libp2p/utils'
import { CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { LanRendezvous, RendezvousEntry } from './lan-rendezvous.js'

export interface LanBeaconInit {
  /** DNS-SD style suffix of every label; default `_jiayi._udp.local`. Tests use their own. */
  serviceTag?: string
  /** UDP port; default 5353. */
  port?: number
  /** Milliseconds between queries; default 10 s. */
  intervalMs?: number
}

const DEFAULT_TAG = '_jiayi._udp.local'
const MULTICAST_IP = '224.0.0.251'
/** Questions per query packet: a packet stays well under a 1,500-byte MTU. */
const QUESTIONS_PER_PACKET = 24
/** A TXT string holds at most 255 bytes. */
const TXT_STRING_BYTES = 255
/** Addresses in one answer, as on a card. */
const MAX_ADDRS = 8
const MAX_ANSWER_BYTES = 4096

/** The little of multicast-dns this file uses (its types would bring Node's into core). */
interface Mdns {
  on(event: 'query' | 'response', listener: (packet: MdnsPacket) => void): void
  on(event: 'error' | 'warning', listener: (error: Error) => void): void
  query(packet: { questions: { name: string; type: 'TXT' }[] }): void
  respond(packet: { answers: MdnsAnswer[] }): void
  destroy(callback?: () => void): void
}
interface MdnsAnswer {
  name: string
  type: string
  ttl?: number
  data?: unknown
}
interface MdnsPacket {
  questions?: { name: string; type: string }[]
  answers?: MdnsAnswer[]
  additionals?: MdnsAnswer[]
}

interface LanBeaconComponents {
  addressManager: { getAddresses(): Multiaddr[] }
  logger: ComponentLogger
}

export function lanBeacon(init: LanBeaconInit = {}): (components: LanBeaconComponents) => LanBeacon {
  return (components) => new LanBeacon(components, init)
}

export class LanBeacon
  extends TypedEventEmitter<PeerDiscoveryEvents>
  implements PeerDiscovery, LanRendezvous, Startable
{
  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = '@jiayi/lan-beacon'
  readonly [serviceCapabilities] = ['@libp2p/peer-discovery']
  private readonly log: Logger
  private readonly tag: string
  private mdns: Mdns | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private entries: readonly RendezvousEntry[] = []
  /** Labels we ask for -> entry; labels we answer -> entry. */
  private readonly asking = new Map<string, RendezvousEntry>()
  private readonly answering = new Map<string, RendezvousEntry>()

  constructor(
    private readonly components: LanBeaconComponents,
    private readonly init: LanBeaconInit,
  ) {
    super()
    this.log = components.logger.forComponent('jiayi:lan-beacon')
    this.tag = init.serviceTag ?? DEFAULT_TAG
  }

  async start(): Promise<void> {
    if (this.mdns !== undefined) return
    // A computed specifier keeps multicast-dns (and its Node types) out of core's type-check.
    const specifier = 'multicast-dns'
    const { default: multicastDns } = (await import(specifier)) as {
      default: (options: { port?: number; ip?: string }) => Mdns
    }
    const mdns = multicastDns({ port: this.init.port ?? 5353, ip: MULTICAST_IP })
    mdns.on('query', (packet) => this.onQuery(packet))
    mdns.on('response', (packet) => this.onResponse(packet))
    mdns.on('error', (error) => this.log.error('mdns error - %e', error))
    mdns.on('warning', (error) => this.log('mdns warning - %e', error))
    this.mdns = mdns
    this.timer = setInterval(() => this.ask(), this.init.intervalMs ?? 10_000)
    this.ask()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    const mdns = this.mdns
    this.mdns = undefined
    if (mdns !== undefined) await new Promise<void>((resolve) => mdns.destroy(resolve))
  }

  setEntries(entries: readonly RendezvousEntry[]): void {
    const before = new Set(this.asking.keys())
    this.entries = entries
    this.asking.clear()
    this.answering.clear()
    for (const e of entries) {
      this.asking.set(e.ask, e)
      for (const label of e.answerTo) this.answering.set(label, e)
    }
    // New names (a new contact, a new epoch) are asked for at once; the same ones wait their turn.
    if ([...this.asking.keys()].some((label) => !before.has(label))) this.ask()
  }

  /** Asks for every wanted entry's label. */
  private ask(): void {
    const mdns = this.mdns
    if (mdns === undefined) return
    const labels = this.entries.filter((e) => e.wanted()).map((e) => e.ask)
    for (let i = 0; i < labels.length; i += QUESTIONS_PER_PACKET) {
      const questions = labels
        .slice(i, i + QUESTIONS_PER_PACKET)
        .map((label) => ({ name: `${label}.${this.tag}`, type: 'TXT' as const }))
      mdns.query({ questions })
    }
  }

  private onQuery(packet: MdnsPacket): void {
    const mdns = this.mdns
    if (mdns === undefined) return
    const answers: MdnsAnswer[] = []
    let addrs: Uint8Array[] | undefined
    for (const q of packet.questions ?? []) {
      if (q.type !== 'TXT') continue
      const label = this.labelOf(q.name)
      const entry = label === undefined ? undefined : this.answering.get(label)
      if (entry === undefined || label === undefined) continue
      addrs ??= this.lanAddrs()
      if (addrs.length === 0) return
      answers.push({ name: q.name, type: 'TXT', ttl: 120, data: split(entry.answer(label, addrs)) })
    }
    if (answers.length > 0) mdns.respond({ answers })
  }

  private onResponse(packet: MdnsPacket): void {
    for (const a of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
      if (a.type !== 'TXT') continue
      const label = this.labelOf(a.name)
      const entry = label === undefined ? undefined : this.asking.get(label)
      if (entry === undefined || label === undefined) continue
      const payload = joined(a.data)
      if (payload === undefined) continue
      const found = entry.open(label, payload)
      if (found === undefined) continue
      const multiaddrs = found.flatMap((bytes) => {
        try {
          return [multiaddr(bytes)]
        } catch {
          return []
        }
      })
      if (multiaddrs.length === 0) continue
      this.dispatchEvent(
        new CustomEvent('peer', { detail: { id: peerIdFromString(entry.peerId), multiaddrs } }),
      )
    }
  }

  private labelOf(name: unknown): string | undefined {
    if (typeof name !== 'string' || !name.endsWith(`.${this.tag}`)) return undefined
    const label = name.slice(0, -(this.tag.length + 1))
    return /^[0-9a-f]{1,63}$/.test(label) ? label : undefined
  }

  /** Our private and loopback listen addresses, as mDNS announces them, without the peer id. */
  private lanAddrs(): Uint8Array[] {
    return this.components.addressManager
      .getAddresses()
      .filter((a) => isPrivate(a))
      .map((a) => a.decapsulateCode(CODE_P2P).bytes)
      .slice(0, MAX_ADDRS)
  }
}

/** dns-packet wants Node Buffers (this file only runs on Node; core is typed without Node's types). */
const NodeBuffer = (globalThis as unknown as { Buffer: { from(bytes: Uint8Array): Uint8Array } }).Buffer

function split(payload: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < payload.length; i += TXT_STRING_BYTES)
    out.push(NodeBuffer.from(payload.subarray(i, i + TXT_STRING_BYTES)))
  return out
}

/** A TXT record's strings joined back; undefined for anything that is not a few byte strings. */
function joined(data: unknown): Uint8Array | undefined {
  const parts = Array.isArray(data) ? data : [data]
  let length = 0
  for (const p of parts) {
    if (!(p instanceof Uint8Array)) return undefined
    length += p.length
  }
  if (length === 0 || length > MAX_ANSWER_BYTES) return undefined
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts as Uint8Array[]) {
    out.set(p, at)
    at += p.length
  }
  return out
}
