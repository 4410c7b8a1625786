/**
 * When a Node peer looks for a UPnP router (src/net/upnp.ts): only when it listens on an
 * address a home router could forward to. A peer on loopback (every test, the one-shot CLI
 * commands) gets an inert service and never sends an M-SEARCH. The mapping itself, against a
 * router in a network namespace, is apps/node/test/upnp-netns.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { mappable } from '../src/net/upnp.js'
import { startTestNode } from './net-helpers.js'

describe('UPnP: which peers look for a router', () => {
  const m = (...addrs: string[]) => addrs.map((a) => multiaddr(a))

  it('a TCP listen address on a private or unspecified IPv4 address, and nothing else', () => {
    assert.equal(mappable(m('/ip4/0.0.0.0/tcp/0')), true)
    assert.equal(mappable(m('/ip4/192.168.1.20/tcp/4001')), true)
    assert.equal(mappable(m('/ip4/10.1.2.3/tcp/0/ws')), true)
    assert.equal(mappable(m('/ip4/127.0.0.1/tcp/0', '/ip4/0.0.0.0/tcp/0/ws')), true)
    // Loopback, link-local, a public IP (nothing to forward), UDP (libp2p maps only TCP here),
    // a relay, IPv6, no listener at all.
    assert.equal(mappable(m('/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws')), false)
    assert.equal(mappable(m('/ip4/169.254.7.7/tcp/4001')), false)
    assert.equal(mappable(m('/ip4/88.0.0.1/tcp/4001')), false)
    assert.equal(mappable(m('/ip4/0.0.0.0/udp/0/webrtc-direct')), false)
    assert.equal(mappable(m('/p2p-circuit')), false)
    assert.equal(mappable(m('/ip6/::/tcp/0')), false)
    assert.equal(mappable([]), false)
  })

  it('a node on loopback has the service, inert; --no-upnp leaves it out', async () => {
    const on = await startTestNode()
    const off = await startTestNode({ network: { reach: { upnp: false } } })
    try {
      const service = on.services.upnp as { portMappingClient?: unknown } | undefined
      assert.ok(service !== undefined)
      assert.equal(service.portMappingClient, undefined)
      assert.equal(off.services.upnp, undefined)
    } finally {
      await Promise.all([on.stop(), off.stop()])
    }
  })
})
