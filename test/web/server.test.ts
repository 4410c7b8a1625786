/**
 * The node's web server, from outside: without the token, with a wrong one, from another origin
 * or under another host name, the API gives nothing (the same bare 401 everywhere, not even
 * whether a path exists); the security headers; uploads and downloads; a fresh token on every
 * start; --no-web; --web-lan's HTTPS (bound to 127.0.0.1 here: tests never listen on the
 * machine's real interfaces) with a certificate kept in the home; the app shell offline.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { after, before, describe, test } from 'node:test'
import type { PeerCertificate, TLSSocket } from 'node:tls'
import WebSocket from 'ws'
import { cleanup, ensureWebBuilt, eventually, launchBrowser, NodePeer, openApp, sha256 } from './helpers.js'

const WRONG = 'ab'.repeat(32)

/** A raw HTTP(S) request (fetch will not send a foreign Host header). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
): Promise<{
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  cert?: PeerCertificate
}> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: options.method ?? 'GET',
        headers: options.headers,
        rejectUnauthorized: false,
      },
      (res) => {
        const socket = res.socket as TLSSocket
        const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, cert }))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Opens the API WebSocket; resolves with the HTTP status of a refusal or 101 and the socket. */
function ws(
  url: string,
  protocols: string[],
  origin: string,
): Promise<{ status: number; body: string; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const s = new WebSocket(url, protocols, { origin, rejectUnauthorized: false })
    s.on('open', () => resolve({ status: 101, body: '', socket: s }))
    s.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => {
        body += d.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    s.on('error', () => resolve({ status: 0, body: '' }))
  })
}

function rpc(
  socket: WebSocket,
  method: string,
  params?: object,
): Promise<{ result?: unknown; error?: unknown }> {
  return new Promise((resolve) => {
    const id = Math.floor(Math.random() * 1e9)
    const on = (data: WebSocket.RawData) => {
      const v = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown }
      if (v.id === id) {
        socket.off('message', on)
        resolve(v)
      }
    }
    socket.on('message', on)
    socket.send(JSON.stringify({ id, method, params }))
  })
}

describe('the web server of jiayi start', () => {
  let node: NodePeer
  let lan: NodePeer

  before(async () => {
    ensureWebBuilt()
    ;[node, lan] = await Promise.all([
      NodePeer.start('Carol'),
      NodePeer.start('Dave', ['--web-lan', '--web-host', '127.0.0.1']),
    ])
  })
  after(cleanup)

  test('ready gives the URL with a 256-bit token in the fragment, on 127.0.0.1', () => {
    assert.match(node.web, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/)
  })

  test('without the token, with a wrong one, from another origin or host: nothing but "unauthorized"', async () => {
    const o = node.origin
    const answers = await Promise.all([
      raw(`${o}/api/ws`),
      raw(`${o}/api/nothing-here`),
      raw(`${o}/api/files/${'0'.repeat(32)}`, { headers: { authorization: `Bearer ${WRONG}` } }),
      raw(`${o}/api/upload?name=x`, { method: 'POST', headers: { origin: o }, body: new Uint8Array(3) }),
      raw(`${o}/api/upload?name=x`, {
        method: 'POST',
        headers: { origin: o, authorization: `Bearer ${WRONG}` },
        body: new Uint8Array(3),
      }),
      // The right token from a page of another origin (CSRF), or a cross-site fetch.
      raw(`${o}/api/upload?name=x`, {
        method: 'POST',
        headers: { origin: 'http://127.0.0.1:1', authorization: `Bearer ${node.token}` },
        body: new Uint8Array(3),
      }),
      raw(`${o}/api/files/${'0'.repeat(32)}`, {
        headers: { authorization: `Bearer ${node.token}`, 'sec-fetch-site': 'cross-site' },
      }),
    ])
    for (const a of answers) {
      assert.equal(a.status, 401)
      assert.equal(a.body, 'unauthorized')
      assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8')
    }
    const wsUrl = `${o.replace('http', 'ws')}/api/ws`
    for (const [protocols, origin] of [
      [['jiayi.v1'], o],
      [['jiayi.v1', `jiayi-token.${WRONG}`], o],
      [['jiayi.v1', `jiayi-token.${node.token}`], 'http://evil.example'],
      [['jiayi.v1', `jiayi-token.${node.token}`], 'http://127.0.0.1:1'],
    ] as const) {
      const r = await ws(wsUrl, [...protocols], origin)
      assert.deepEqual({ status: r.status, body: r.body }, { status: 401, body: 'unauthorized' })
    }
    // A DNS-rebinding page reaches 127.0.0.1 under its own host name: refused before anything else.
    const rebound = await raw(`${o}/`, { headers: { host: `evil.example:${new URL(o).port}` } })
    assert.equal(rebound.status, 421)
    const reboundApi = await raw(`${o}/api/ws`, {
      headers: { host: 'evil.example', authorization: `Bearer ${node.token}` },
    })
    assert.equal(reboundApi.status, 421)
    // And with the token, from its own origin, it answers.
    const ok = await ws(wsUrl, ['jiayi.v1', `jiayi-token.${node.token}`], o)
    assert.equal(ok.status, 101)
    assert.equal(((await rpc(ok.socket!, 'whoami')).result as { name: string }).name, 'Carol')
    ok.socket!.close()
  })

  test('the app and the API carry strict security headers', async () => {
    const page = await raw(`${node.origin}/`)
    assert.equal(page.status, 200)
    const csp = String(page.headers['content-security-policy'])
    for (const part of [
      "default-src 'none'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "base-uri 'none'",
    ])
      assert.ok(csp.includes(part), part)
    assert.equal(page.headers['x-content-type-options'], 'nosniff')
    assert.equal(page.headers['x-frame-options'], 'DENY')
    assert.equal(page.headers['referrer-policy'], 'no-referrer')
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin')
    const traversal = await raw(`${node.origin}/..%2f..%2fpackage.json`)
    assert.ok(traversal.status === 400 || traversal.status === 404, `traversal answered ${traversal.status}`)
  })

  test('uploads stream into the home; sendFile takes only upload ids; downloads are attachments with nosniff', async () => {
    const o = node.origin
    const auth = { authorization: `Bearer ${node.token}`, origin: o }
    const body = new TextEncoder().encode('<html><script>alert(1)</script></html>')
    const up = await fetch(`${o}/api/upload?name=${encodeURIComponent('page.html')}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/html' },
      body,
    })
    assert.equal(up.status, 200)
    const { id, size } = (await up.json()) as { id: string; size: number }
    assert.match(id, /^[0-9a-f]{32}$/)
    assert.equal(size, body.length)

    // A contact to send it to: Dave.
    const card = await lan.call<{ link: string }>('card')
    const dave = await node.call<{ id: string }>('addContact', { link: card.link })
    const socket = (
      await ws(`${o.replace('http', 'ws')}/api/ws`, ['jiayi.v1', `jiayi-token.${node.token}`], o)
    ).socket!
    try {
      const sent = await rpc(socket, 'sendFile', { contact: dave.id, source: id })
      const transfer = sent.result as { id: string; sha256: string }
      assert.equal(transfer.sha256, sha256(body))
      // The web API never reads paths: an absolute path is not an upload id.
      const path = await rpc(socket, 'sendFile', { contact: dave.id, source: '/etc/passwd' })
      assert.equal((path.error as { code: string }).code, 'BadParams')
      const dl = await fetch(`${o}/api/files/${transfer.id}`, { headers: auth })
      assert.equal(dl.status, 200)
      assert.equal(dl.headers.get('content-type'), 'application/octet-stream', 'HTML is never served as HTML')
      assert.equal(dl.headers.get('content-disposition'), `attachment; filename*=UTF-8''page.html`)
      assert.equal(dl.headers.get('x-content-type-options'), 'nosniff')
      assert.match(dl.headers.get('content-security-policy') ?? '', /sandbox/)
      assert.equal(sha256(new Uint8Array(await dl.arrayBuffer())), sha256(body))
      const missing = await fetch(`${o}/api/files/${'0'.repeat(32)}`, { headers: auth })
      assert.equal(missing.status, 404)
    } finally {
      socket.close()
    }
  })

  test('--web-lan serves HTTPS with a certificate kept in the home; a new token on every start', async () => {
    assert.match(lan.web, /^https:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/)
    const fingerprint = (lan.ready as unknown as { webCertificate: string }).webCertificate
    assert.match(fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    const page = await raw(`${lan.origin}/`)
    assert.equal(page.status, 200)
    const cert = page.cert!
    assert.equal(cert.fingerprint256, fingerprint)
    assert.match(cert.subjectaltname ?? '', /IP Address:127\.0\.0\.1/)
    assert.match(String(page.headers['strict-transport-security']), /max-age=/)
    const wss = await ws(
      `${lan.origin.replace('https', 'wss')}/api/ws`,
      ['jiayi.v1', `jiayi-token.${lan.token}`],
      lan.origin,
    )
    assert.equal(wss.status, 101)
    assert.equal(((await rpc(wss.socket!, 'whoami')).result as { name: string }).name, 'Dave')
    wss.socket!.close()

    // Restart on the same home: the same certificate, a different token.
    const home = lan.home
    const before = lan.token
    await lan.stop()
    const again = await NodePeer.restart(home, ['--web-lan', '--web-host', '127.0.0.1'])
    try {
      assert.equal((again.ready as unknown as { webCertificate: string }).webCertificate, fingerprint)
      assert.notEqual(again.token, before)
      const old = await ws(
        `${again.origin.replace('https', 'wss')}/api/ws`,
        ['jiayi.v1', `jiayi-token.${before}`],
        again.origin,
      )
      assert.equal(old.status, 401, 'the old token is dead')
    } finally {
      lan = again
    }
  })

  test('--no-web: no server, no "web" in the ready event', async () => {
    const quiet = await NodePeer.start('Erin', ['--no-web'])
    assert.equal(quiet.ready.web, undefined)
    await quiet.stop()
  })

  test('in the browser: the token is taken as the page starts, before the address changes again', async () => {
    const browser = await launchBrowser()
    try {
      // A route set as soon as the document is parsed (a script, a click, a test driver) came
      // before the app read the token, and the tab opened as an in-page peer instead.
      const early = await browser.newContext()
      await early.addInitScript(() =>
        addEventListener('DOMContentLoaded', () => {
          location.hash = '#/settings'
        }),
      )
      const page = await early.newPage()
      await page.goto(node.web)
      await page.getByRole('combobox', { name: 'Language' }).waitFor()
      await page.getByRole('navigation').getByRole('link', { name: 'Chats' }).waitFor()
      assert.equal(await page.evaluate(() => location.hash), '#/settings')
      await early.close()

      // The token and a contact link in one address: the token goes, the link is offered.
      const card = await node.call<{ link: string }>('card')
      const payload = card.link.slice('jiayi:add/'.length)
      const both = await openApp(browser, `${node.web}&add=${payload}`)
      await both.page.getByText('Add the contact from the link you opened?').waitFor()
      assert.equal(
        await both.page.getByRole('textbox', { name: 'Contact link' }).inputValue(),
        `${node.origin}/#add=${payload}`,
      )
      assert.ok(!(await both.page.evaluate(() => location.href)).includes('token'))
      await both.context.close()
    } finally {
      await browser.close()
    }
  })

  test('in the browser: a name typed in Settings before the node has answered stays', async () => {
    const browser = await launchBrowser()
    try {
      const context = await browser.newContext()
      const page = await context.newPage()
      // The node's answer to `whoami` (the current name) comes 1.5 s late; everything else at once.
      await page.routeWebSocket(/\/api\/ws$/, (ws) => {
        const server = ws.connectToServer()
        ws.onMessage((m) => server.send(m))
        server.onMessage((m) => {
          if (typeof m === 'string' && m.includes('"identityKey"')) setTimeout(() => ws.send(m), 1_500)
          else ws.send(m)
        })
      })
      await page.goto(node.web)
      await page.getByRole('navigation').getByRole('link', { name: 'Settings', exact: true }).click()
      const field = page.getByLabel('Name', { exact: true })
      await field.fill('Typed before the answer')
      await page.getByRole('definition').filter({ hasText: 'Carol' }).first().waitFor()
      assert.equal(await field.inputValue(), 'Typed before the answer')
      assert.equal(await page.getByRole('button', { name: 'Save name' }).isEnabled(), true)
      await context.close()
    } finally {
      await browser.close()
    }
  })

  test('in the browser: a wrong token shows a dead-link screen; the shell loads offline', async () => {
    const browser = await launchBrowser()
    try {
      const bad = await openApp(browser, `${node.origin}/#token=${WRONG}`)
      await bad.page.getByRole('heading', { name: 'This link does not open your node' }).waitFor()
      assert.equal(await bad.page.getByText('Carol').count(), 0)
      await bad.context.close()

      const { context, page } = await openApp(browser, node.web)
      await page.getByRole('heading', { name: 'Chats' }).waitFor()
      await eventually(
        () => page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.state === 'activated')),
        'the service worker',
      )
      await context.setOffline(true)
      await page.reload()
      // The shell comes from the cache; the node is out of reach, so the app says it is connecting.
      await page.getByRole('navigation').getByRole('link', { name: 'Chats' }).waitFor()
      await page.getByText('Connecting to your node…').waitFor()
      await context.setOffline(false)
      await page.getByText('Connecting to your node…').waitFor({ state: 'detached', timeout: 15_000 })
      await context.close()
    } finally {
      await browser.close()
    }
  })
})
