/**
 * UPnP port mapping (DESIGN "Reach"), on Node peers only: libp2p's own @libp2p/upnp-nat. It
 * finds the home router by SSDP (M-SEARCH to 239.255.255.250:1900 for an
 * InternetGatewayDevice:2), asks it for its public address (GetExternalIPAddress) and maps each
 * private TCP and WebSocket listen address to the same port on it (AddAnyPortMapping); libp2p
 * then lists `/ip4/<router's public IP>/tcp/<port>` among our addresses, so cards, identify and
 * DCUtR carry it. Stopping the node deletes the mappings (DeletePortMapping).
 *
 * Imported only from reach-services.ts (nodeNetwork): @achingbrain/nat-port-mapper needs
 * node:dgram and node:os, which the browser bundle must not contain.
 */
import { uPnPNAT } from '@libp2p/upnp-nat'
import { isLinkLocal, isLoopback, isPrivate } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface UpnpInit {
  /**
   * How often a router is looked for while none has answered, in ms; default 60 s. Each look
   * sends one M-SEARCH a second for 5 s: a LAN without a UPnP router sees five small packets a
   * minute, and a router switched on later is found within the minute.
   */
  readonly searchIntervalMs?: number
}

const DEFAULT_SEARCH_INTERVAL_MS = 60_000
const SEARCH_DURATION_MS = 5_000

/** What libp2p hands uPnPNAT; the gate below reads only the listen addresses. */
type UpnpComponents = Parameters<ReturnType<typeof uPnPNAT>>[0]

/**
 * The `upnp` service. A node that listens on no address a router could forward to (loopback
 * only, as tests and local tools do; or a public IP) gets an inert service: it never searches.
 */
export function upnpPortMapping(init: UpnpInit = {}) {
  const mapper = uPnPNAT({
    // The router's list of mappings is readable by anyone on the LAN: it names the app, not us.
    portMappingDescription: 'jiayi',
    // The router itself says it forwards the port to us: listed at once, as a forwarded port
    // given with --announce is. AutoNAT withdraws it if peers cannot dial it back.
    autoConfirmAddress: true,
    initialGatewaySearchInterval: init.searchIntervalMs ?? DEFAULT_SEARCH_INTERVAL_MS,
    initialGatewaySearchTimeout: SEARCH_DURATION_MS,
  })
  return (components: UpnpComponents): object =>
    mappable(components.addressManager.getListenAddrs()) ? mapper(components) : {}
}

/**
 * Whether any listen address could be forwarded by a home router: TCP (plain or WebSockets, what
 * libp2p maps) on a private or any-IPv4 address.
 */
export function mappable(listen: readonly Multiaddr[]): boolean {
  return listen.some((addr) => {
    const [ip, transport] = addr.getComponents()
    if (ip?.name !== 'ip4' || ip.value === undefined || transport?.name !== 'tcp') return false
    if (addr.toString().includes('/p2p-circuit')) return false
    return ip.value === '0.0.0.0' || (isPrivate(addr) && !isLoopback(addr) && !isLinkLocal(addr))
  })
}
