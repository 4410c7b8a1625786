// Browser smoke test for @jiayi/core's network layer: the browser node factory is bundled with
// Vite from the package's public index (which must pull in no Node builtin), loaded in Debian's
// Chromium, and dials a Node peer on 127.0.0.1 over WebSockets and WebRTC-Direct: ping, a framed
// echo, and a relay reservation for its /p2p-circuit/webrtc address.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createJiayiNode, framedHandler, type JiayiNode } from '@jiayi/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
// Node-only half of the network layer. Not in @jiayi/core's index on purpose (it would put TCP and
// mDNS in browser bundles); imported by path until core gets a Node subpath export.
import { nodeNetwork } from '../../packages/core/src/net/transports-node.js'
import { bundleForBrowser } from './bundle.js'
import { type Chromium, launchChromium } from './chromium.js'
import type { SmokeResult, SmokeTargets } from './fixtures/net-smoke-page.js'
import { type StaticServer, serveStatic } from './static-server.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const ECHO = '/jiayi-test/echo/1'

describe('browser bundle of @jiayi/core', () => {
  let outDir: string
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'jiayi-bundle-'))
  })
  after(() => rm(outDir, { recursive: true, force: true }))

  test('contains no Node builtins', async () => {
    const bundle = await bundleForBrowser(join(fixtures, 'net-smoke.html'), outDir)
    assert.deepEqual(bundle.nodeBuiltins, [])
  })

  test('the check catches Node-only code (TCP, mDNS)', async () => {
    const bundle = await bundleForBrowser(join(fixtures, 'node-only.html'), join(outDir, 'node-only'))
    assert.ok(
      bundle.nodeBuiltins.some((b) => b.startsWith('dgram <-')),
      `expected dgram among ${bundle.nodeBuiltins.join(', ')}`,
    )
  })
})

describe('browser node in Chromium dials a Node peer on 127.0.0.1', () => {
  let peer: JiayiNode
  let server: StaticServer
  let browser: Chromium
  let outDir: string

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'jiayi-smoke-'))
    const [bundle, node] = await Promise.all([
      bundleForBrowser(join(fixtures, 'net-smoke.html'), outDir),
      createJiayiNode({
        privateKey: await generateKeyPair('Ed25519'),
        network: nodeNetwork({ mdns: false }),
        listen: ['/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/udp/0/webrtc-direct'],
      }),
    ])
    assert.deepEqual(bundle.nodeBuiltins, [])
    peer = node
    await peer.handle(
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
        { maxFrameBytes: 1024 },
      ),
    )
    server = await serveStatic(outDir)
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await server?.close()
    await peer?.stop()
    await rm(outDir, { recursive: true, force: true })
  })

  test('over WebSockets and WebRTC-Direct: dial, ping, framed echo, relay reservation', async () => {
    const page = await browser.context.newPage()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
    })
    await page.goto(`${server.url}/net-smoke.html`)
    await page.waitForFunction(() => 'jiayiSmoke' in globalThis, undefined, { timeout: 10_000 })

    const addrs = peer.getMultiaddrs().map(String)
    const targets: SmokeTargets = {
      websockets: addrs.find((a) => a.includes('/ws/'))!,
      webrtcDirect: addrs.find((a) => a.includes('/webrtc-direct/'))!,
      echoProtocol: ECHO,
    }
    for (const a of [targets.websockets, targets.webrtcDirect]) assert.match(a, /^\/ip4\/127\.0\.0\.1\//)

    const result = await page.evaluate(
      (t) => (globalThis as unknown as { jiayiSmoke(t: SmokeTargets): Promise<SmokeResult> }).jiayiSmoke(t),
      targets,
    )
    assert.deepEqual(problems, [], 'no page errors')
    assert.deepEqual(
      result.legs.map((l) => [l.transport, l.route, l.echoed]),
      [
        ['websockets', 'lan', true],
        ['webrtc-direct', 'lan', true],
      ],
    )
    for (const leg of result.legs) {
      console.log(
        `# browser -> node over ${leg.transport}: dial ${leg.dialMs.toFixed(1)} ms, ping ${leg.pingMs} ms`,
      )
    }
    // The browser reserved a relay slot on the Node peer and advertises a WebRTC address via it.
    assert.ok(
      result.circuitAddrs.some((a) =>
        a.includes(`/p2p/${peer.peerId}/p2p-circuit/webrtc/p2p/${result.peerId}`),
      ),
      `circuit addresses: ${result.circuitAddrs.join(' ')}`,
    )
    await page.close()
  })
})
