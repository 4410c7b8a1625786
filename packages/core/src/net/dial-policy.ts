/**
 * Which addresses this peer may dial. Addresses come from other people (their card, their address
 * updates, what they claim in identify, mDNS answers), so without a rule a contact could make us
 * connect to a Unix socket on our own machine (a Docker or database socket), to a service on
 * loopback, or into the link we sit on. The rule (DESIGN.md "Network"):
 *
 * - never `/unix`, never an unspecified (`0.0.0.0`, `::`, which reach loopback on Linux) or
 *   multicast address, never an address of a transport Jiayi does not use;
 * - loopback or link-local only when this peer itself listens there: a peer bound to 127.0.0.1
 *   (tests, two peers on one machine) reaches its neighbours on 127.0.0.1. A wildcard bind
 *   (`0.0.0.0`) serves the LAN; it does not make loopback a place where contacts live;
 * - a DNS name only in the browser: in Node it could resolve to loopback after this check, and
 *   Jiayi's cards carry IP addresses only;
 * - at most MAX_CONTACT_ADDRS per contact.
 *
 * The same policy filters addresses where they enter (messenger: cards, updates, identify) and
 * guards every dial as libp2p's connection gater (`denyDialMultiaddr`), which also keeps refused
 * addresses out of the peer store (`filterMultiaddrForPeer`), whatever put them there.
 *
 * In the browser the page's own rules (mixed content, Private Network Access) govern what it may
 * reach, and a tab listens nowhere: there loopback, link-local and names are allowed (a node on
 * this machine serves the page from 127.0.0.1); only what a browser cannot dial anyway is refused.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import { type IpScope, ipScope } from './ip-scope.js'
import type { NetEnvironment } from './network-stack.js'

/** The card holds at most 8 addresses (card.ts MAX_ADDRS); a contact keeps no more. */
export const MAX_CONTACT_ADDRS = 8

/** The scopes a peer dials only when it listens there (or is told it may: `alsoDial`). */
export type LocalScope = 'loopback' | 'link-local'

/** Why an address is not dialled. */
export type AddressRefusal =
  | 'unix'
  | 'unspecified'
  | 'multicast'
  | 'loopback'
  | 'link-local'
  | 'dns'
  | 'unsupported'
  | 'malformed'

const DNS = new Set(['dns', 'dns4', 'dns6', 'dnsaddr'])

export class DialPolicy {
  private readonly ownScopes: ReadonlySet<IpScope>
  private readonly refusedCounts = new Map<AddressRefusal, number>()

  /**
   * @param environment where this peer runs
   * @param listen the addresses this peer was told to listen on (what it binds, before a
   *   wildcard is expanded): loopback or link-local among them lets it dial those scopes.
   * @param alsoDial scopes it may dial without listening there: a peer on this machine that
   *   only dials, or listens only through a relay that runs here.
   */
  constructor(
    readonly environment: NetEnvironment,
    listen: readonly string[],
    alsoDial: readonly LocalScope[] = [],
  ) {
    const scopes = new Set<IpScope>(alsoDial)
    for (const text of listen) {
      const host = firstHost(text)
      const scope = host === undefined ? undefined : ipScope(host)
      if (scope !== undefined) scopes.add(scope)
    }
    this.ownScopes = scopes
  }

  /** Why `addr` must not be dialled, or undefined when it may be. */
  refusal(addr: Multiaddr | string): AddressRefusal | undefined {
    let components: { name: string; value?: string | undefined }[]
    try {
      components = (typeof addr === 'string' ? multiaddr(addr) : addr).getComponents()
    } catch {
      return 'malformed'
    }
    // A zone only qualifies the IPv6 address after it.
    const first = components[0]?.name === 'ip6zone' ? components[1] : components[0]
    if (first === undefined) return 'malformed'
    if (first.name === 'unix') return 'unix'
    // A relay named by its peer id alone: dialling it goes through this check with its address.
    if (first.name === 'p2p' || first.name === 'p2p-circuit') return undefined
    if (DNS.has(first.name)) return this.environment === 'browser' ? undefined : 'dns'
    if (first.name !== 'ip4' && first.name !== 'ip6') return 'unsupported'
    const scope = ipScope(first.value ?? '')
    if (scope === undefined) return 'malformed'
    if (scope === 'unspecified' || scope === 'multicast') return scope
    if (this.environment === 'browser') return undefined
    if ((scope === 'loopback' || scope === 'link-local') && !this.ownScopes.has(scope)) return scope
    return undefined
  }

  mayDial(addr: Multiaddr | string): boolean {
    return this.refusal(addr) === undefined
  }

  /**
   * The addresses of `addrs` this peer may dial (text form, first occurrence kept, order kept),
   * at most `max`. Each one dropped is counted.
   */
  dialable(addrs: readonly string[], max = MAX_CONTACT_ADDRS): string[] {
    const out: string[] = []
    for (const a of new Set(addrs)) {
      const why = this.refusal(a)
      if (why !== undefined) this.count(why)
      else if (out.length < max) out.push(a)
    }
    return out
  }

  /** A refused dial or a dropped address, by reason (for stats and tests). */
  count(why: AddressRefusal): void {
    this.refusedCounts.set(why, (this.refusedCounts.get(why) ?? 0) + 1)
  }

  refused(): Partial<Record<AddressRefusal, number>> {
    return Object.fromEntries(this.refusedCounts)
  }
}

/** The host of an address's first hop (`/ip4/10.0.0.2/tcp/1` -> 10.0.0.2), if it is an IP. */
function firstHost(text: string): string | undefined {
  try {
    const components = multiaddr(text).getComponents()
    const first = components[0]?.name === 'ip6zone' ? components[1] : components[0]
    return first?.name === 'ip4' || first?.name === 'ip6' ? first.value : undefined
  } catch {
    return undefined
  }
}
