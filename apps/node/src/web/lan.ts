/**
 * What a phone on the LAN needs to open this node's web app (`--web-lan`) and to trust it. The
 * certificate is self-signed, so the phone's browser warns, and the only way to know the page
 * comes from this node is to compare the certificate's SHA-256 fingerprint with the one this
 * node shows on a screen its owner trusts (the terminal of `jiayi start`, the node's own web UI).
 * Both show it as text and as a QR code of a "cert link": the LAN address with the fingerprint in
 * the fragment, `https://192.168.1.20:8443/#cert=<64 upper-case hex digits>`. Scanned, it opens
 * the app, and the page shows the fingerprint it was told to expect beside the one the server
 * states (apps/web/src/lib/lan.ts reads the fragment; the fragment never reaches the server).
 */

export interface LanInfo {
  /** What phones open (no token: each runs its own peer in the page). */
  readonly urls: readonly string[]
  /** SHA-256 of the certificate, colon-separated upper-case hex (what browsers show). */
  readonly fingerprint: string
  /** `urls` as cert links. */
  readonly links: readonly string[]
}

export function lanInfo(urls: readonly string[], fingerprint: string): LanInfo {
  return { urls, fingerprint, links: urls.map((u) => certLink(u, fingerprint)) }
}

/** `url` with the fingerprint (64 hex digits, no colons) in its fragment. */
export function certLink(url: string, fingerprint: string): string {
  return `${url.replace(/#.*$/, '')}#cert=${fingerprint.replace(/:/g, '').toUpperCase()}`
}
