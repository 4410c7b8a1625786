/**
 * The LAN page: the app served by a node's `jiayi start --web-lan` over HTTPS with a self-signed
 * certificate, opened on a phone, where it runs a full peer of its own. Two risks are particular
 * to it, and the page helps the user with both:
 *
 * - Trusting the certificate: the browser warns, and only the certificate's SHA-256 fingerprint,
 *   compared with what the node shows on a screen its owner trusts, tells that this is the node.
 *   The node shows it as a QR code of a "cert link" (`https://<LAN address>:<port>/#cert=<64 hex>`,
 *   apps/node/src/web/lan.ts): scanned, it opens this page, which shows the fingerprint it was told
 *   to expect beside the one the server states in /jiayi-lan.json.
 * - A bare IP address as the origin: the browser keeps this app's data (keys, history) for that
 *   origin, and another network can give the same address to another device, whose page would
 *   then be the same origin. So the page warns, and offers a passphrase lock by default.
 */

export interface LanInfo {
  readonly urls: readonly string[]
  readonly fingerprint: string
  readonly links: readonly string[]
}

let expected: string | undefined

/**
 * Takes `#cert=<hex>` from the address (before the router reads the fragment) and keeps the
 * fingerprint for this page's life.
 */
export function takeCertFragment(): void {
  const m = /^#cert=([0-9A-Fa-f]{64})$/.exec(location.hash)
  if (m === null) return
  expected = formatFingerprint(m[1]!)
  history.replaceState(null, '', `${location.pathname}${location.search}`)
}

/** The fingerprint the scanned cert link named, if the page was opened through one. */
export function expectedFingerprint(): string | undefined {
  return expected
}

/** Served by a node over HTTPS: the LAN page (a node's own UI is on http://127.0.0.1 or has a token). */
export function isLanPage(): boolean {
  return location.protocol === 'https:'
}

/** An origin that is an IP address rather than a name. */
export function isBareIpHost(hostname: string): boolean {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return true
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)
}

/** "AB:CD:…" from 64 hex digits (with or without colons). */
export function formatFingerprint(hex: string): string {
  return (
    hex
      .replace(/[^0-9A-Fa-f]/g, '')
      .toUpperCase()
      .match(/.{2}/g)
      ?.join(':') ?? ''
  )
}

/** What the node says about its LAN service, or undefined (not served with --web-lan). */
export async function fetchLanInfo(): Promise<LanInfo | undefined> {
  try {
    const response = await fetch('/jiayi-lan.json', { cache: 'no-store' })
    if (!response.ok) return undefined
    const info = (await response.json()) as Partial<LanInfo>
    if (typeof info.fingerprint !== 'string' || !Array.isArray(info.urls) || !Array.isArray(info.links))
      return undefined
    return info as LanInfo
  } catch {
    return undefined
  }
}
