/**
 * ip-scope.ts against a table written out by hand from the IANA special-purpose registries
 * (RFC 6890 and its updates), IPv4 and IPv6, including IPv6 forms that carry an IPv4 address.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type IpScope, ipScope, isPublicIp } from '../src/net/ip-scope.js'

const TABLE: [string, IpScope | undefined][] = [
  // IPv4
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link-local'],
  ['169.254.169.254', 'link-local'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.1', 'public'],
  ['172.15.255.255', 'public'],
  ['192.168.1.20', 'private'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.1', 'public'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['255.255.255.255', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.10', 'reserved'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.5', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['8.8.8.8', 'public'],
  ['93.184.216.34', 'public'],
  // IPv6
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'private'],
  ['fc00::1', 'ula'],
  ['fd12:3456::1', 'ula'],
  ['ff02::1', 'multicast'],
  ['2001:db8::1', 'reserved'],
  ['2001::1', 'reserved'],
  ['100::1', 'reserved'],
  ['2606:4700:4700::1111', 'public'],
  ['2a00:1450:4001:80b::200e', 'public'],
  // IPv6 carrying IPv4: the embedded address decides
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['::ffff:8.8.8.8', 'public'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b::808:808', 'public'],
  ['2002:7f00:1::1', 'loopback'],
  ['2002:c0a8:0101::1', 'private'],
  ['::127.0.0.1', 'reserved'],
  // not IP addresses
  ['localhost', undefined],
  ['example.com', undefined],
  ['127.1', undefined],
  ['0x7f000001', undefined],
  ['2130706433', undefined],
  ['', undefined],
]

describe('ipScope', () => {
  it('classifies every row of the table', () => {
    for (const [ip, scope] of TABLE) assert.equal(ipScope(ip), scope, ip)
  })

  it('calls only plainly public addresses public', () => {
    for (const [ip, scope] of TABLE) assert.equal(isPublicIp(ip), scope === 'public', ip)
  })
})
