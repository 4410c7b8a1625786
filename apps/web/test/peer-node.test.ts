/**
 * The in-page peer (apps/web/src/peer) in Debian's Chromium against a real `jiayi start` node on
 * 127.0.0.1 (WebSockets + WebRTC-Direct, no mDNS): they add each other by links and chat both ways
 * with receipts up to read; a reload keeps identity, contacts and history (IndexedDB), whose raw
 * records hold no plaintext and no key bytes; files and a Moments post go both ways; a backup
 * restores into a new profile.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Page } from 'playwright-core'
import { type Chromium, launchChromium } from '../../../test/browser/chromium.js'
import type { StaticServer } from '../../../test/browser/static-server.js'
import { cleanup, jiayiJson, PeerProcess, tempHome } from '../../node/test/helpers/cli.js'
import { addrOf, buildTestPage, call, openTestPage, servePage, until } from './peer-helpers.js'

interface CliContact {
  id: string
  name: string
  peerId: string
  state: string
}
interface CliMessage {
  id: string
  direction: 'in' | 'out'
  text: string
  status: string
}

const NODE_LISTEN = [
  '--listen',
  '/ip4/127.0.0.1/tcp/0/ws',
  '--listen',
  '/ip4/127.0.0.1/udp/0/webrtc-direct',
  '--no-mdns',
]
const PROFILE = 'alice'
const FAST_ARGON2 = { m: 64, t: 1, p: 1 }

let page: Page
let browser: Chromium
let server: StaticServer
let node: PeerProcess
let home: string
let removePage: () => Promise<void>
let outDir: string
const problems: string[] = []
let relay: string
let nodeRef: string // the node as the page's contact id
let pageRef: string // the page as the node's contact id

before(async () => {
  home = await tempHome()
  const [built] = await Promise.all([buildTestPage(), jiayiJson(home, ['init', '--name', 'Nora Node'])])
  removePage = built.remove
  outDir = built.outDir
  ;[server, node, browser] = await Promise.all([
    servePage(built.outDir),
    PeerProcess.start(home, NODE_LISTEN),
    launchChromium(),
  ])
  relay = addrOf(node.ready.addrs, 'ws')
  page = await browser.context.newPage()
  await openTestPage(page, server.url, problems)
})

after(async () => {
  await page?.evaluate(() =>
    (globalThis as unknown as { jiayiTest: { stop(): Promise<void> } }).jiayiTest.stop(),
  )
  await browser?.close()
  await server?.close()
  await node?.stop()
  await cleanup()
  await removePage?.()
})

const nodeContacts = () => jiayiJson<CliContact[]>(home, ['contacts'])
const nodeMessages = (ref: string, peek = true) =>
  jiayiJson<CliMessage[]>(home, ['messages', ref, ...(peek ? ['--peek'] : [])])

/** One request on the node's control socket (newline-delimited JSON), for what the CLI lacks. */
function control<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(home, 'control.sock'))
    let buffered = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`control ${method} timed out`))
    }, 10_000)
    socket.setEncoding('utf8')
    socket.on('error', reject)
    socket.on('data', (d: string) => {
      buffered += d
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, i)) as {
          id?: number
          result?: T
          error?: { message: string }
        }
        buffered = buffered.slice(i + 1)
        if (line.id !== 1) continue
        clearTimeout(timer)
        socket.end()
        if (line.error) reject(new Error(line.error.message))
        else resolve(line.result as T)
      }
    })
    socket.write(`${JSON.stringify({ id: 1, method, params })}\n`)
  })
}

interface Post {
  id: string
  text: string
  author: { name: string }
  likes: unknown[]
  liked: boolean
  comments: { text: string }[]
}

describe('in-page peer <-> node peer', { timeout: 90_000 }, () => {
  test('the peer is a lazy chunk: the entry script holds no libp2p, core or store code', async () => {
    const html = await readFile(join(outDir, 'index.html'), 'utf8')
    const entry = /<script[^>]+src="\.?\/?([^"]+\.js)"/.exec(html)?.[1]
    assert.ok(entry, html)
    const entryJs = await readFile(join(outDir, entry), 'utf8')
    assert.ok(
      !/p2p-circuit|webrtc|browser-level|xchacha/i.test(entryJs),
      'libp2p or core in the entry script',
    )
    assert.ok(entryJs.length < 30_000, `entry script is ${entryJs.length} bytes`)
    const chunks = await readdir(join(outDir, 'assets'))
    const texts = await Promise.all(chunks.map((c) => readFile(join(outDir, 'assets', c), 'utf8')))
    assert.ok(
      texts.some((t) => t.includes('/p2p-circuit')),
      'the peer chunk',
    )
  })

  test('add each other by links, chat both ways, receipts reach read', async () => {
    assert.deepEqual(await call(page, 'status', PROFILE), { exists: false })
    const me = await call(page, 'create', 'Alice 浏览器', { profile: PROFILE, relays: [relay] })
    // Connected to the node, the page reserves a relay slot: its card gets a circuit WebRTC address.
    const reachable = await call(page, 'reachable')
    assert.ok(
      reachable.card.addrs.some((a) => a.endsWith(`/p2p/${node.ready.peerId}/p2p-circuit/webrtc`)),
      `card addresses: ${reachable.card.addrs.join(' ')}`,
    )
    assert.deepEqual(await call(page, 'status', PROFILE), { exists: true, lock: 'device' })

    const nodeCard = await jiayiJson<{ link: string }>(home, ['card'])
    const added = await call(page, 'add', nodeCard.link)
    assert.equal(added.state, 'pending-out')
    assert.equal(added.name, 'Nora Node')
    nodeRef = added.id
    // The node adds the page's link: that accepts the page's request.
    await until(async () => (await nodeContacts()).some((c) => c.peerId === me.peerId), 15_000, 'the request')
    const back = await jiayiJson<{ contact: CliContact }>(home, ['add', reachable.card.link])
    assert.equal(back.contact.state, 'accepted')
    pageRef = back.contact.id
    await until(
      async () => (await call(page, 'contacts')).find((c) => c.id === nodeRef)?.state === 'accepted',
      15_000,
      'the page sees the accept',
    )

    const fromPage = await call(page, 'send', nodeRef, 'Hello from the page 你好 🌏')
    const fromNode = await jiayiJson<CliMessage>(home, ['send', pageRef, 'Hi page, node here 节点'])
    await until(
      async () => (await nodeMessages(pageRef)).some((m) => m.id === fromPage.id),
      15_000,
      'the node receives',
    )
    await until(
      async () => (await call(page, 'messages', nodeRef)).some((m) => m.id === fromNode.id),
      15_000,
      'the page receives',
    )
    // Both read: both see "read" on what they sent.
    await nodeMessages(pageRef, false)
    await call(page, 'messages', nodeRef, false)
    await until(
      async () =>
        (await call(page, 'messages', nodeRef)).find((m) => m.id === fromPage.id)?.status === 'read',
      15_000,
      'read receipt at the page',
    )
    await until(
      async () => (await nodeMessages(pageRef)).find((m) => m.id === fromNode.id)?.status === 'read',
      15_000,
      'read receipt at the node',
    )
    const info = await call(page, 'connection', node.ready.peerId)
    assert.ok(info !== null)
    assert.equal(info.route, 'lan')
    assert.ok(['websockets', 'webrtc-direct'].includes(info.transport), info.transport)
    assert.equal(info.limited, false)
  })

  test('reload: identity, contacts and history survive; IndexedDB holds no plaintext and no keys', async () => {
    const before = await call(page, 'info')
    const secrets = await call(page, 'secrets')
    await page.reload()
    await page.waitForFunction(() => 'jiayiTest' in globalThis, undefined, { timeout: 10_000 })
    const reopened = await call(page, 'open', { profile: PROFILE, relays: [relay] })
    assert.ok(!('error' in reopened), JSON.stringify(reopened))
    assert.equal(reopened.peerId, before.peerId)
    assert.deepEqual(reopened.me, before.me)
    const contacts = await call(page, 'contacts')
    assert.deepEqual(
      contacts.map((c) => [c.id, c.state]),
      [[nodeRef, 'accepted']],
    )
    const history = await call(page, 'messages', nodeRef)
    assert.deepEqual(
      history.map((m) => [m.direction, m.text, m.status]),
      [
        ['out', 'Hello from the page 你好 🌏', 'read'],
        ['in', 'Hi page, node here 节点', 'read'],
      ],
    )
    // Still talking after the reload, both ways.
    const again = await call(page, 'send', nodeRef, 'after reload 重新加载')
    await until(async () => (await nodeMessages(pageRef)).some((m) => m.id === again.id), 15_000, 'delivery')
    const reply = await jiayiJson<CliMessage>(home, ['send', pageRef, 'welcome back'])
    await until(
      async () => (await call(page, 'messages', nodeRef)).some((m) => m.id === reply.id),
      15_000,
      'reply',
    )

    // Sealed at rest: the raw IndexedDB records contain no message text, no name and no key bytes.
    const raw = await call(page, 'rawRecords', PROFILE)
    assert.ok(raw.store.length > 10, `${raw.store.length} records`)
    const everything = raw.store.map((r) => `${r.key} ${r.value}`).join('\n')
    const hexOf = (s: string) => Buffer.from(s, 'utf8').toString('hex')
    for (const plain of [
      'Hello from the page',
      'after reload',
      'welcome back',
      'node here',
      'Nora Node',
      'Alice',
    ]) {
      assert.ok(!everything.includes(hexOf(plain)), `plaintext ${JSON.stringify(plain)} is in IndexedDB`)
    }
    for (const secret of secrets) assert.ok(!everything.includes(secret), 'a private key is in IndexedDB')
    // The device key is a CryptoKey the page cannot export.
    assert.deepEqual(
      raw.keys.map((r) => [r.key, r.value]),
      [[`str:${PROFILE}`, 'cryptokey:false']],
    )
    assert.equal(await call(page, 'deviceKeyExportable', PROFILE), false)

    // One peer per profile: another tab cannot open it while this one runs.
    const other = await browser.context.newPage()
    await openTestPage(other, server.url, problems)
    assert.deepEqual(await call(other, 'open', { profile: PROFILE }), { error: 'InUse' })
    await other.close()
  })

  test('a file each way, hashes equal', async () => {
    const sent = await call(page, 'sendFile', nodeRef, 700_000, 7, 'report 报告.bin')
    const atNode = await until(
      async () =>
        (
          await jiayiJson<{ id: string; sha256: string; status: string; path: string | null }[]>(home, [
            'files',
          ])
        ).find((f) => f.id === sent.id && f.status === 'complete'),
      30_000,
      'the node stores the file',
    )
    assert.equal(atNode!.sha256, sent.sha256)

    const bytes = Buffer.alloc(300_000)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff
    const path = join(home, 'from-node.bin')
    await writeFile(path, bytes)
    const offered = await jiayiJson<{ id: string }>(home, ['send-file', pageRef, path])
    const received = await call(page, 'fileSha256', offered.id)
    assert.equal(received.status, 'complete')
    assert.equal(
      received.sha256,
      (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'),
    )
    assert.equal(received.size, bytes.length)
    assert.equal(received.name, 'from-node.bin')
  })

  test('Moments: a post each way, liked and commented on the other side', async () => {
    const mine = await call(page, 'post', 'Posted from the browser 浏览器动态 https://example.com/x')
    const atNode = await until(
      async () => (await control<Post[]>('timeline')).find((p) => p.id === mine.id),
      20_000,
      "the page's post at the node",
    )
    assert.equal(atNode!.author.name, 'Alice 浏览器')
    await control('like', { postId: mine.id })
    await control('comment', { postId: mine.id, text: 'nice 不错' })
    const theirs = await control<Post>('post', { text: 'Node news 节点新闻' })
    await until(
      async () => {
        const t = await call(page, 'timeline')
        const own = t.find((p) => p.id === mine.id)
        return (
          t.some((p) => p.id === theirs.id) &&
          own?.likes.length === 1 &&
          own.comments[0]?.text === 'nice 不错'
        )
      },
      20_000,
      "the node's post, like and comment at the page",
    )
    await call(page, 'like', theirs.id)
    await until(
      async () => (await control<Post[]>('timeline')).find((p) => p.id === theirs.id)?.likes.length === 1,
      20_000,
      "the page's like at the node",
    )
  })

  test('the in-page JiayiClient (localClient over the API): onboarding, chat, files, backup', async () => {
    assert.deepEqual(await call(page, 'clientStart', 'carol', [relay]), {
      state: 'connecting',
      account: 'new',
    })
    assert.equal(await call(page, 'clientCreate', 'Carol 客户端'), 'open')
    const card = (await call(page, 'clientCall', 'card')) as { link: string }
    const nodeCard = await jiayiJson<{ link: string }>(home, ['card'])
    const added = (await call(page, 'clientCall', 'addContact', { link: nodeCard.link })) as { id: string }
    const carol = await until(
      async () => (await nodeContacts()).find((c) => c.name === 'Carol 客户端'),
      15_000,
      "Carol's request",
    )
    await jiayiJson(home, ['add', card.link])
    const sent = (await call(page, 'clientCall', 'send', {
      contact: added.id,
      text: 'via the API 接口',
    })) as {
      id: string
    }
    await until(async () => (await nodeMessages(carol!.id)).some((m) => m.id === sent.id), 15_000, 'delivery')
    const reply = await jiayiJson<CliMessage>(home, ['send', carol!.id, 'API reply'])
    await until(
      async () =>
        (await call(page, 'clientEvents')).some(
          (e) =>
            e.event === 'message' && (e.payload as { message?: { id: string } }).message?.id === reply.id,
        ),
      15_000,
      'a message event',
    )
    const connection = (await call(page, 'clientCall', 'connection', { contact: added.id })) as {
      route: string
    }
    assert.equal(connection.route, 'lan')
    // Files: upload() stores the bytes in this profile and returns the handle sendFile takes.
    const up = await call(page, 'clientUpload', 600_000, 3, 'photo.bin')
    assert.equal(up.progress.at(-1), 600_000)
    const offer = (await call(page, 'clientCall', 'sendFile', { contact: added.id, source: up.handle })) as {
      id: string
    }
    const stored = await until(
      async () =>
        (await jiayiJson<{ id: string; sha256: string; status: string }[]>(home, ['files'])).find(
          (f) => f.id === offer.id && f.status === 'complete',
        ),
      30_000,
      'the node stores the upload',
    )
    assert.equal(stored!.sha256, up.sha256)
    assert.deepEqual(await call(page, 'clientFileSha256', offer.id), { sha256: up.sha256, size: 600_000 })
    // Only handles from upload() are sources: no way to name anything else.
    assert.deepEqual(
      await call(page, 'clientCall', 'sendFile', { contact: added.id, source: '/etc/passwd' }),
      {
        error: 'BadParams',
      },
    )
    const backup = (await call(page, 'clientCall', 'exportBackup', { passphrase: 'backup pw 密码' })) as {
      fileName: string
      mime: string
      data: string
    }
    assert.equal(backup.mime, 'application/x-jiayi-backup')
    assert.ok(Buffer.from(backup.data, 'base64').subarray(0, 12).toString() === 'JIAYI-BACKUP')
    assert.equal(await call(page, 'clientClose'), 'closed')
    // A device-locked profile unlocks by itself: the next client is ready at once.
    assert.deepEqual(await call(page, 'clientStart', 'carol', [relay]), { state: 'open', account: 'ready' })
    assert.equal(((await call(page, 'clientCall', 'whoami')) as { name: string }).name, 'Carol 客户端')
    await call(page, 'clientClose')
  })

  test('backup: export, restore into a new profile, same identity, contacts and history', async () => {
    const original = await call(page, 'info')
    const historyBefore = await call(page, 'messages', nodeRef)
    const backup = await call(page, 'exportBackup', 'backup 密码 pass')
    assert.match(backup.fileName, /^jiayi-backup-Alice-浏览器-\d{4}-\d{2}-\d{2}\.jiayi$/)
    assert.ok(!Buffer.from(backup.data, 'base64').toString('latin1').includes('Hello from the page'))
    // One tab runs a peer at a time: stop it, then restore into another profile of the same browser.
    await call(page, 'stop')
    const wrong = await call(page, 'restore', backup.data, 'wrong', { profile: 'restored' })
    assert.deepEqual(wrong, { error: 'BackupPassphrase' })
    const damaged = Buffer.from(backup.data, 'base64')
    damaged[damaged.length - 3]! ^= 1
    assert.deepEqual(
      await call(page, 'restore', damaged.toString('base64'), 'backup 密码 pass', { profile: 'restored' }),
      {
        error: 'BadBackup',
      },
    )
    const restored = await call(page, 'restore', backup.data, 'backup 密码 pass', {
      profile: 'restored',
      passphrase: 'new device pass',
      argon2: FAST_ARGON2,
    })
    assert.ok(!('error' in restored), JSON.stringify(restored))
    assert.equal(restored.peerId, original.peerId)
    assert.deepEqual(restored.me, original.me)
    assert.deepEqual(
      (await call(page, 'contacts')).map((c) => [c.id, c.state]),
      [[nodeRef, 'accepted']],
    )
    assert.deepEqual(await call(page, 'messages', nodeRef), historyBefore)
    await call(page, 'stop')
    // The restored profile is locked with its passphrase.
    assert.deepEqual(await call(page, 'status', 'restored'), { exists: true, lock: 'passphrase' })
    assert.deepEqual(await call(page, 'open', { profile: 'restored' }), { error: 'PassphraseNeeded' })
    assert.deepEqual(await call(page, 'open', { profile: 'restored', passphrase: 'wrong' }), {
      error: 'BadPassphrase',
    })
    // Settings: remove the passphrase (back to this browser's device key), set another one.
    assert.ok(
      !('error' in (await call(page, 'open', { profile: 'restored', passphrase: 'new device pass' }))),
    )
    assert.equal(await call(page, 'setPassphrase', 'new device pass', null), 'device')
    await call(page, 'stop')
    assert.deepEqual(await call(page, 'status', 'restored'), { exists: true, lock: 'device' })
    assert.ok(!('error' in (await call(page, 'open', { profile: 'restored' }))))
    assert.equal(await call(page, 'setPassphrase', null, 'another passphrase'), 'passphrase')
    await call(page, 'stop')
    assert.deepEqual(await call(page, 'status', 'restored'), { exists: true, lock: 'passphrase' })
    assert.deepEqual(await call(page, 'open', { profile: 'restored' }), { error: 'PassphraseNeeded' })
    // Back to the first profile for what follows.
    const back = await call(page, 'open', { profile: PROFILE, relays: [relay] })
    assert.ok(!('error' in back))
    assert.deepEqual(problems, [])
  })
})
