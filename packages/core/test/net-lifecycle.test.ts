// Stopping a node releases everything: sockets, UDP ports, WebRTC peer connections and timers,
// so that a process that stops its node exits by itself.
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { describe, test } from 'node:test'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { NetError } from '../src/net/errors.js'
import { framedHandler, openFramed } from '../src/net/framed-handler.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { startChildPeer } from './net-child.js'
import { addrFor, LOOPBACK_LISTEN, type LoopbackTransport, startTestNode, stopAll } from './net-helpers.js'

const SOCKETS = new Set(['TCPServerWrap', 'TCPSocketWrap', 'UDPWrap'])
const sockets = () => process.getActiveResourcesInfo().filter((r) => SOCKETS.has(r))

describe('clean stop', () => {
  test('stopping two connected nodes closes every socket they opened', async () => {
    const baseline = sockets().length
    const [a, b] = await Promise.all([startTestNode(), startTestNode()])
    await b.handle(
      PROTOCOL_MSG,
      framedHandler(PROTOCOL_MSG, async (framed) => {
        // Hold the stream open until the node stops under it.
        await framed.read().catch(() => null)
      }),
    )
    for (const t of Object.keys(LOOPBACK_LISTEN) as LoopbackTransport[]) {
      await a.dial(addrFor(b, t), { force: true })
      const framed = await openFramed(a, addrFor(b, t), PROTOCOL_MSG)
      await framed.write(new Uint8Array(0)).catch(() => undefined)
    }
    assert.ok(sockets().length > baseline)
    await stopAll(a, b)
    // Closing is asynchronous at the libuv level; give it a few ticks.
    const deadline = Date.now() + 3000
    while (sockets().length > baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(sockets().length, baseline, `left open: ${sockets().join(', ')}`)
  })

  test('stopping a node leaves no timer behind that keeps the process alive', async () => {
    const [a, b] = await Promise.all([startTestNode(), startTestNode()])
    for (const t of Object.keys(LOOPBACK_LISTEN) as LoopbackTransport[])
      await a.dial(addrFor(b, t), { force: true })
    // The timers set while the nodes stop, with where they were set. A cleared one is marked
    // `_destroyed` at once (its destroy hook comes later); an unref'd one holds nothing.
    interface Timer {
      hasRef(): boolean
      _destroyed?: boolean
    }
    const armed: Array<{ timer: Timer; where: string }> = []
    const hook = createHook({
      init(_id, type, _trigger, resource) {
        if (type !== 'Timeout') return
        const frames = (new Error().stack ?? '').split('\n').slice(1)
        const where = frames.filter((f) => !f.includes('node:') && !f.includes('net-lifecycle'))
        armed.push({ timer: resource as Timer, where: where.slice(0, 3).join(' <').trim() })
      },
    }).enable()
    try {
      await stopAll(a, b)
    } finally {
      hook.disable()
    }
    // libp2p arms two one-second debounces while stopping; node-factory.ts clears them.
    const holding = armed.filter(({ timer }) => timer._destroyed !== true && timer.hasRef())
    assert.deepEqual(
      holding.map((h) => h.where),
      [],
      'timers set during stop() that still keep the process alive',
    )
  })

  test('a stopped node refuses to dial', async () => {
    const a = await startTestNode()
    await a.stop()
    await assert.rejects(a.dial(multiaddr('/ip4/127.0.0.1/tcp/9')))
  })

  test('a peer process with open connections exits by itself after stop()', async () => {
    const child = startChildPeer([])
    const local = await startTestNode()
    try {
      const ready = await child.waitFor((e) => e.event === 'ready')
      const id = peerIdFromString(ready.peerId!)
      for (const addr of ready.addrs!) {
        const ma = multiaddr(addr)
        await local.dial(ma, { force: true, signal: AbortSignal.timeout(10_000) })
        assert.ok((await local.services.ping.ping(ma)) >= 0)
      }
      assert.equal(local.getConnections(id).length, 3)
      const stopped = Date.now()
      child.stop()
      await child.waitFor((e) => e.event === 'stopped')
      assert.equal(await child.exited(5000), 0)
      console.log(`# child stopped and exited in ${Date.now() - stopped} ms`)
    } finally {
      child.kill()
      await stopAll(local)
    }
  })

  test('createJiayiNode refuses a non-Ed25519 device key', async () => {
    const { generateKeyPair } = await import('@libp2p/crypto/keys')
    const { createJiayiNode } = await import('../src/net/node-factory.js')
    const { nodeNetwork } = await import('../src/net/transports-node.js')
    await assert.rejects(
      createJiayiNode({
        // A caller that bypasses the type (e.g. a key decoded from storage) still gets a typed error.
        privateKey: (await generateKeyPair('secp256k1')) as unknown as Ed25519PrivateKey,
        network: nodeNetwork({ mdns: false }),
      }),
      (err) => NetError.is(err, 'BadOptions'),
    )
  })
})
