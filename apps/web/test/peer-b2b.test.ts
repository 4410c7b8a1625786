/**
 * Two in-browser peers chat through a LAN node that relays only their signalling. Everything runs
 * inside a network namespace the test creates (see peer-netns.ts): the relay node (`jiayi start`,
 * WebSockets on the namespace's address), the page server and Chromium. Both pages reserve a slot
 * on the relay, put `<relay>/p2p-circuit/webrtc` on their cards, add each other by links and chat;
 * the connection between them must be direct WebRTC (not relayed, no relay limits), and it must
 * keep working after the relay node is gone.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { tsChildArgs } from '../../../packages/core/test/helpers/ts-child.js'
import { CHROMIUM_ARGS } from '../../../test/browser/chromium.js'
import { BIN, cleanup, jiayiJson, ROOT, tempHome } from '../../node/test/helpers/cli.js'
import { buildTestPage, call, openTestPage, until } from './peer-helpers.js'
import { createNetns, firstLine, type Netns, netnsUnavailable } from './peer-netns.js'

describe('two in-browser peers through a LAN relay', { timeout: 90_000 }, () => {
  // Never skipped: without root (network namespaces) this fails and says why. CI runs as root.
  test('this machine can create a network namespace', () => {
    assert.equal(netnsUnavailable(), undefined)
  })

  let netns: Netns
  let relayNode: ChildProcess
  let relay: string
  let relayPeerId: string
  let context: BrowserContext
  let profileDir: string
  let removePage: () => Promise<void>
  let alice: Page
  let bob: Page
  const problems: string[] = []

  before(async () => {
    const home = await tempHome()
    const [built, , ns] = await Promise.all([
      buildTestPage(),
      jiayiJson(home, ['init', '--name', 'LAN relay']),
      createNetns(),
    ])
    netns = ns
    removePage = built.remove
    const env = { ...process.env }
    delete env.JIAYI_HOME
    delete env.JIAYI_PASSPHRASE
    relayNode = netns.spawn(
      process.execPath,
      [
        BIN,
        '--home',
        home,
        'start',
        '--json',
        '--listen',
        `/ip4/${netns.address}/tcp/0/ws`,
        '--no-mdns',
        '--no-link-previews',
      ],
      env,
    )
    const server = netns.spawn(process.execPath, [
      ...tsChildArgs(join(ROOT, 'apps/web/test/peer-netns-serve.ts')),
      built.outDir,
    ])
    const [ready, served] = await Promise.all([
      firstLine<{ peerId: string; addrs: string[] }>(relayNode, (v) => v.event === 'ready'),
      firstLine<{ url: string }>(server, (v) => typeof v.url === 'string'),
    ])
    relayPeerId = ready.peerId
    relay = ready.addrs.find((a) => a.includes('/ws/'))!
    assert.ok(relay.startsWith(`/ip4/${netns.address}/`), relay)
    profileDir = await mkdtemp(join(tmpdir(), 'jiayi-chromium-'))
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: netns.chromium,
      headless: true,
      args: [...CHROMIUM_ARGS],
    })
    alice = await context.newPage()
    bob = await context.newPage()
    await Promise.all([openTestPage(alice, served.url, problems), openTestPage(bob, served.url, problems)])
  })

  after(async () => {
    for (const p of [alice, bob])
      await p
        ?.evaluate(() => (globalThis as unknown as { jiayiTest: { stop(): Promise<void> } }).jiayiTest.stop())
        .catch(() => undefined)
    await context?.close()
    relayNode?.kill('SIGTERM')
    await netns?.remove()
    await cleanup()
    await removePage?.()
    if (profileDir) await rm(profileDir, { recursive: true, force: true })
  })

  test('signalling through the relay, then a direct WebRTC connection carries the chat', async () => {
    const [a, b] = await Promise.all([
      call(alice, 'create', 'Alice 甲', { profile: 'alice', relays: [relay] }),
      call(bob, 'create', 'Bob 乙', { profile: 'bob', relays: [relay] }),
    ])
    const [ra, rb] = await Promise.all([call(alice, 'reachable'), call(bob, 'reachable')])
    for (const r of [ra, rb])
      assert.ok(
        r.card.addrs.some(
          (x) => x === `${relay.replace(/\/p2p\/.*$/, '')}/p2p/${relayPeerId}/p2p-circuit/webrtc`,
        ),
        `card addresses: ${r.card.addrs.join(' ')}`,
      )

    // Bob adds Alice by her link (his request travels to her over WebRTC), then Alice adds Bob's.
    const added = await call(bob, 'add', ra.card.link)
    await until(
      async () => (await call(alice, 'contacts')).some((c) => c.peerId === b.peerId),
      20_000,
      'the request',
    )
    const accepted = await call(alice, 'add', rb.card.link)
    assert.equal(accepted.state, 'accepted')
    await until(
      async () => (await call(bob, 'contacts')).find((c) => c.id === added.id)?.state === 'accepted',
      20_000,
      'Bob sees the accept',
    )

    const hello = await call(alice, 'send', accepted.id, 'Hi Bob, browser to browser 你好')
    const reply = await call(bob, 'send', added.id, 'Hi Alice 👋 直接连接')
    await until(
      async () => (await call(bob, 'messages', added.id)).some((m) => m.id === hello.id),
      20_000,
      'Bob receives',
    )
    await until(
      async () => (await call(alice, 'messages', accepted.id)).some((m) => m.id === reply.id),
      20_000,
      'Alice receives',
    )
    await Promise.all([call(alice, 'messages', accepted.id, false), call(bob, 'messages', added.id, false)])
    await until(
      async () =>
        (await call(alice, 'messages', accepted.id)).find((m) => m.id === hello.id)?.status === 'read',
      20_000,
      'read receipt at Alice',
    )

    // The data path: a direct WebRTC connection without relay limits. A relayed connection may
    // still be open next to it (it carried the SDP/ICE exchange): it must be limited by the relay,
    // and Jiayi's protocols never run on limited connections, so no message can take it.
    const direct = async (page: Page, other: string) => {
      const conns = await call(page, 'connections', other)
      for (const c of conns)
        if (c.transport !== 'webrtc' || c.route === 'relayed')
          assert.equal(c.limited, true, `an unlimited relayed connection: ${JSON.stringify(c)}`)
      return conns.filter((c) => c.transport === 'webrtc' && c.route === 'lan' && !c.limited)
    }
    assert.ok((await direct(alice, b.peerId)).length > 0, 'Alice has a direct WebRTC connection to Bob')
    assert.ok((await direct(bob, a.peerId)).length > 0, 'Bob has a direct WebRTC connection to Alice')

    // The relay goes away; the browsers keep talking over their own connection.
    relayNode.kill('SIGTERM')
    await new Promise((resolve) => relayNode.once('exit', resolve))
    const late = await call(bob, 'send', added.id, 'relay is gone, still here 还在')
    await until(
      async () => (await call(alice, 'messages', accepted.id)).some((m) => m.id === late.id),
      20_000,
      'delivery without the relay',
    )
    // Only direct connections are left. (Two browsers that dialled each other at the same moment
    // may each keep the one they opened: both are direct.)
    const left = (await call(alice, 'connections', b.peerId)).map((c) => [c.transport, c.route, c.limited])
    assert.ok(left.length > 0, 'a connection is left')
    for (const c of left) assert.deepEqual(c, ['webrtc', 'lan', false], 'only direct connections are left')
    const lateBack = await call(alice, 'send', accepted.id, 'me too')
    await until(
      async () => (await call(bob, 'messages', added.id)).some((m) => m.id === lateBack.id),
      20_000,
      'and back',
    )
    assert.deepEqual(problems, [])
  })
})
