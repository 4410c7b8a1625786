/**
 * Where an IP address points: this machine, this link, a private network, or the internet. The
 * dial policy (dial-policy.ts) uses it to keep addresses that a card or a peer names from making
 * us connect into our own machine or LAN, and the link-preview fetcher to refuse anything that is
 * not plainly public. IPv6 addresses that embed an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, the
 * NAT64 prefix `64:ff9b::/96`, 6to4 `2002::/16`) take the scope of the embedded address, so
 * `::ffff:127.0.0.1` is loopback, as the kernel treats it.
 */
import { parseIP } from '@chainsafe/is-ip/parse'

export type IpScope =
  /** 0.0.0.0/8, `::`: "this host"; connecting to it reaches loopback on Linux. */
  | 'unspecified'
  /** 127.0.0.0/8, `::1`. */
  | 'loopback'
  /** 169.254.0.0/16, fe80::/10. */
  | 'link-local'
  /** 10/8, 172.16/12, 192.168/16, and the deprecated site-local fec0::/10. */
  | 'private'
  /** fc00::/7, IPv6 unique local addresses. */
  | 'ula'
  /** 100.64.0.0/10, carrier-grade NAT (shared address space). */
  | 'cgnat'
  /** 224.0.0.0/4, 255.255.255.255, ff00::/8. */
  | 'multicast'
  /** Documentation, benchmarking, IETF protocol, future-use and discard ranges: never a real peer. */
  | 'reserved'
  | 'public'

/** The scope of `ip` (text form, IPv4 or IPv6, an IPv6 zone allowed); undefined if it is not one. */
export function ipScope(ip: string): IpScope | undefined {
  if (typeof ip !== 'string') return undefined
  // URL hosts write IPv6 in brackets.
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip
  const bytes = parseIP(bare)
  if (bytes === undefined) return undefined
  return bytes.length === 4 ? ipv4Scope(bytes) : ipv6Scope(bytes)
}

/** Public: neither this machine, nor a local network, nor a special-purpose range. */
export function isPublicIp(ip: string): boolean {
  return ipScope(ip) === 'public'
}

function ipv4Scope(b: Uint8Array): IpScope {
  const [a = 0, c = 0, d = 0, e = 0] = b
  if (a === 0) return 'unspecified'
  if (a === 127) return 'loopback'
  if (a === 169 && c === 254) return 'link-local'
  if (a === 10 || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168)) return 'private'
  if (a === 100 && c >= 64 && c <= 127) return 'cgnat'
  if (a >= 224 && a <= 239) return 'multicast'
  if (a === 255 && c === 255 && d === 255 && e === 255) return 'multicast'
  if (
    a >= 240 || // future use
    (a === 192 && c === 0 && d === 0) || // IETF protocol assignments
    (a === 192 && c === 0 && d === 2) || // TEST-NET-1
    (a === 198 && c === 51 && d === 100) || // TEST-NET-2
    (a === 203 && c === 0 && d === 113) || // TEST-NET-3
    (a === 198 && (c === 18 || c === 19)) || // benchmarking
    (a === 192 && c === 88 && d === 99) // deprecated 6to4 relay anycast
  )
    return 'reserved'
  return 'public'
}

function ipv6Scope(b: Uint8Array): IpScope {
  const word = (i: number) => ((b[i * 2] ?? 0) << 8) | (b[i * 2 + 1] ?? 0)
  const zeroUpTo = (n: number) => b.subarray(0, n).every((x) => x === 0)
  if (zeroUpTo(16)) return 'unspecified'
  if (zeroUpTo(15) && b[15] === 1) return 'loopback'
  // ::ffff:a.b.c.d (IPv4-mapped): the kernel connects to the IPv4 address.
  if (zeroUpTo(10) && word(5) === 0xffff) return ipv4Scope(b.subarray(12))
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix): a translator connects to the IPv4 address.
  if (word(0) === 0x64 && word(1) === 0xff9b && b.subarray(4, 12).every((x) => x === 0))
    return ipv4Scope(b.subarray(12))
  // 2002:AABB:CCDD::/48 (6to4): the IPv4 address is in bits 16..48.
  if (word(0) === 0x2002) return ipv4Scope(b.subarray(2, 6))
  // ::a.b.c.d (deprecated IPv4-compatible) and the rest of ::/96.
  if (zeroUpTo(12)) return 'reserved'
  const first = word(0)
  if ((first & 0xffc0) === 0xfe80) return 'link-local'
  if ((first & 0xffc0) === 0xfec0) return 'private'
  if ((first & 0xfe00) === 0xfc00) return 'ula'
  if ((first & 0xff00) === 0xff00) return 'multicast'
  if (first === 0x2001 && word(1) === 0x0db8) return 'reserved' // documentation
  if (first === 0x2001 && word(1) < 0x0200) return 'reserved' // IETF protocol assignments, Teredo
  if (first === 0x0100 && word(1) === 0 && word(2) === 0 && word(3) === 0) return 'reserved' // discard
  if ((first & 0xe000) !== 0x2000) return 'reserved' // outside global unicast 2000::/3
  return 'public'
}
