/**
 * Where a link preview may be fetched from. The poster's peer fetches the pages its owner links
 * (link-preview.ts), and a link is text anyone can write: without a rule, "http://192.168.1.1/"
 * or a page that redirects to "http://127.0.0.1:8080/admin" would make the peer read its own
 * machine or LAN and post what it found, title and picture, to every contact. So every URL, the
 * first and each redirect, must be http or https on port 80 or 443 with no user name or password,
 * and its host must be, or resolve only to, public addresses (core's ipScope: no loopback,
 * private, link-local, unique-local, carrier-grade NAT or special-purpose range, IPv4-mapped
 * forms included). The host check here covers literal addresses and local names; the fetcher
 * checks each address a name resolves to, and connects to exactly that address.
 */
import { defineError, ipScope, isPublicIp } from '@jiayi/core'

export const PreviewError = defineError('PreviewError', [
  /** Not http: or https:. */
  'BadScheme',
  /** A port other than 80 and 443. */
  'BadPort',
  /** A user name or password in the URL. */
  'Credentials',
  /** The host is, or resolves to, an address that is not public. */
  'PrivateAddress',
  /** The host name resolves to no address. */
  'NoAddress',
  /** More redirects than MAX_PREVIEW_REDIRECTS. */
  'TooManyRedirects',
  /** Not a URL at all. */
  'BadUrl',
] as const)
export type PreviewError = InstanceType<typeof PreviewError>

/** Redirects followed for one preview fetch (pages and images). */
export const MAX_PREVIEW_REDIRECTS = 5

// Names that mean this machine or the LAN without asking DNS (RFC 6761, mDNS, home routers).
const LOCAL_NAMES = /(^|\.)(localhost|local|localdomain|home\.arpa|internal|lan|intranet)$/i

/** The URL as a preview may fetch it; throws PreviewError when it may not. */
export function checkPreviewUrl(url: string): URL {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new PreviewError('BadUrl', 'not a URL')
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new PreviewError('BadScheme', 'only http and https links get a preview')
  if (u.port !== '' && u.port !== '80' && u.port !== '443')
    throw new PreviewError('BadPort', 'only ports 80 and 443 get a preview')
  if (u.username !== '' || u.password !== '')
    throw new PreviewError('Credentials', 'a link with a user name or password gets no preview')
  const host = u.hostname.replace(/\.$/, '')
  if (ipScope(host) !== undefined) {
    if (!isPublicIp(host)) throw new PreviewError('PrivateAddress', 'the link points to a private address')
  } else if (LOCAL_NAMES.test(host) || !host.includes('.')) {
    // A dotless name is looked up in the local search domains: a LAN machine, not a web site.
    throw new PreviewError('PrivateAddress', 'the link names a local host')
  }
  return u
}

/** The port a checked URL is fetched on. */
export function previewPort(u: URL): number {
  return u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port)
}

/** Every address a host name resolved to must be public (one private address is enough to refuse). */
export function checkResolved(addresses: readonly string[]): string {
  const first = addresses[0]
  if (first === undefined) throw new PreviewError('NoAddress', 'the host name has no address')
  if (!addresses.every(isPublicIp))
    throw new PreviewError('PrivateAddress', 'the host name resolves to a private address')
  return first
}
