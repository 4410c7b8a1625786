// The Node peer's circuit-relay-v2 server, as browsers use it for WebRTC signalling, exercised
// with Node peers on 127.0.0.1: a relayed connection is reported as such, protocols must opt in
// to run over it, and the relay's small data limit cuts off anything bigger than signalling.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Multiaddr } from '@multiformats/multiaddr'
import { describeConnection } from '../src/net/connection-info.js'
import { NetError } from '../src/net/errors.js'
import { framedHandler, openFramed } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { LAN_RELAY_LIMITS } from '../src/net/relay-limits.js'
import { addrFor, LOOPBACK_LISTEN, startTestNode, stopAll } from './net-helpers.js'

const ECHO = '/jiayi-test/echo/1'
const FRAME = 16 * 1024

describe('LAN relay (circuit-relay-v2 server on a Node peer)', () => {
  let relay: JiayiNode
  let listener: JiayiNode
  let dialer: JiayiNode
  let circuitAddr: Multiaddr

  before(async () => {
    relay = await startTestNode()
    // A peer that cannot be dialled directly (like a browser): reachable only through the relay,
    // which it reaches on 127.0.0.1 without listening there (so it says it may dial loopback).
    listener = await startTestNode({ listen: ['/p2p-circuit'], relayServer: false, alsoDial: ['loopback'] })
    dialer = await startTestNode({ listen: [LOOPBACK_LISTEN.tcp], relayServer: false })
    await listener.handle(
      ECHO,
      framedHandler(
        ECHO,
        async (framed) => {
          for (
            let f = await framed.read({ timeoutMs: 5000 });
            f !== null;
            f = await framed.read({ timeoutMs: 5000 })
          ) {
            await framed.write(f)
          }
          await framed.close()
        },
        { maxFrameBytes: FRAME },
      ),
      { runOnLimitedConnection: true },
    )
    await listener.dial(addrFor(relay, 'tcp'))
    circuitAddr = await circuitAddressOf(listener)
  })
  after(() => stopAll(dialer, listener, relay))

  test('the duration limit is enforced in milliseconds', async () => {
    const shortRelay = await startTestNode({
      listen: [LOOPBACK_LISTEN.tcp],
      relayServer: { connectionDurationMs: 300 },
    })
    const hidden = await startTestNode({
      listen: ['/p2p-circuit'],
      relayServer: false,
      alsoDial: ['loopback'],
    })
    try {
      await hidden.dial(addrFor(shortRelay, 'tcp'))
      const addr = await circuitAddressOf(hidden)
      const connection = await dialer.dial(addr, { signal: AbortSignal.timeout(10_000) })
      const opened = Date.now()
      while (connection.status === 'open' && Date.now() - opened < 5000)
        await new Promise((r) => setTimeout(r, 20))
      const lived = Date.now() - opened
      assert.notEqual(connection.status, 'open')
      assert.ok(lived < 3000, `closed after ${lived} ms`)
    } finally {
      await stopAll(hidden, shortRelay)
    }
  })

  test('the reservation is held by the relay', () => {
    assert.ok(relay.services.relay?.reservations.has(listener.peerId))
  })

  test('a relayed connection is reported as relayed and limited', async () => {
    const connection = await dialer.dial(circuitAddr, { signal: AbortSignal.timeout(10_000) })
    const info = describeConnection(connection)
    assert.equal(info.route, 'relayed')
    assert.equal(info.transport, 'circuit-relay')
    assert.equal(info.limited, true)
    // Remaining bytes: the limit minus what identify has already used.
    const bytes = connection.limits?.bytes ?? 0n
    assert.ok(bytes > 0n && bytes <= BigInt(LAN_RELAY_LIMITS.connectionDataBytes), String(bytes))
    // js-libp2p's relay server sends and enforces the duration in milliseconds while the spec
    // (and the client) say seconds, so the client believes 60,000 "seconds". A canary: if this
    // fails, libp2p was fixed and relay-limits.ts should be revisited.
    assert.ok((connection.limits?.seconds ?? 0) > LAN_RELAY_LIMITS.connectionDurationMs / 100)
  })

  test('protocols do not run over a relay unless they opt in', async () => {
    await assert.rejects(openFramed(dialer, circuitAddr, ECHO, { maxFrameBytes: FRAME }))
  })

  test('small exchanges work; the data limit stops bulk transfer', async () => {
    const small = await openFramed(dialer, circuitAddr, ECHO, {
      maxFrameBytes: FRAME,
      runOnLimitedConnection: true,
    })
    await small.write(Uint8Array.of(1, 2, 3))
    assert.deepEqual(await small.read({ timeoutMs: 5000 }), Uint8Array.of(1, 2, 3))
    await small.close()

    // 5 x 16 KiB echoed both ways is well past the 64 KiB per-connection limit.
    const bulk = await openFramed(dialer, circuitAddr, ECHO, {
      maxFrameBytes: FRAME,
      runOnLimitedConnection: true,
    })
    const transfer = async () => {
      for (let i = 0; i < 5; i++) {
        await bulk.write(new Uint8Array(FRAME), { timeoutMs: 5000 })
        await bulk.read({ timeoutMs: 5000 })
      }
    }
    await assert.rejects(transfer(), (err) => NetError.is(err))
  })
})

/** Waits for `node` to hold a relay reservation and returns its circuit address. */
async function circuitAddressOf(node: JiayiNode): Promise<Multiaddr> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const found = node.getMultiaddrs().find((ma) => ma.toString().includes('/p2p-circuit/p2p/'))
    if (found !== undefined) return found
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error('no relay reservation')
}
