/**
 * The link-preview fetcher never reads a private address, on the first URL or on any redirect,
 * and only on ports 80 and 443. Real HTTP servers on 127.0.0.1 play the web: "public.test" and
 * "public2.test" are public sites (their names resolve to public addresses, and the test's
 * network layer carries a connection to such an address to a loopback server), "secret" is what
 * an attacker wants read (a router page, a cloud metadata service) and counts every request.
 * The resolver also knows a name for a private address and one that resolves to both kinds.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import QRCode from 'qrcode'
import { LinkPreviewer, type PreviewNet, type PreviewTarget } from '../src/daemon/link-preview.js'

const PUBLIC_A = '93.184.216.34'
const PUBLIC_C = '93.184.216.35'

let siteA: Server
let siteC: Server
let secret: Server
let secretPort: number
const secretHits: string[] = []
const connects: PreviewTarget[] = []
let png: Buffer

function serve(handler: (url: string, res: import('node:http').ServerResponse) => void): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer((req, res) => handler(req.url ?? '', res))
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
}
const portOf = (s: Server) => (s.address() as AddressInfo).port
const redirect = (res: import('node:http').ServerResponse, to: string) =>
  res.writeHead(302, { location: to }).end()
const html = (res: import('node:http').ServerResponse, body: string) =>
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body)

/** DNS and sockets of the test's web: public names to loopback servers, nothing else anywhere. */
function testNet(): PreviewNet {
  const names: Record<string, string[]> = {
    'public.test': [PUBLIC_A],
    'public2.test': [PUBLIC_C],
    'internal.test': ['10.0.0.7'],
    'rebind.test': [PUBLIC_A, '127.0.0.1'],
    'mapped.test': ['::ffff:169.254.169.254'],
  }
  const servers: Record<string, Server> = { [PUBLIC_A]: siteA, [PUBLIC_C]: siteC }
  return {
    async resolve(hostname) {
      return names[hostname] ?? []
    },
    connect(target) {
      connects.push(target)
      const server = servers[target.address]
      if (server === undefined || target.port !== 80) throw new Error('the test web has no such server')
      return connect({ host: '127.0.0.1', port: portOf(server) })
    },
  }
}

before(async () => {
  png = await QRCode.toBuffer('jiayi', { width: 64, margin: 1 })
  secret = await serve((url, res) => {
    secretHits.push(url)
    html(res, '<title>router admin: password hunter2</title>')
  })
  secretPort = portOf(secret)
  siteA = await serve((url, res) => {
    if (url === '/to-loopback') return redirect(res, `http://127.0.0.1:${secretPort}/secret`)
    if (url === '/to-loopback-80') return redirect(res, 'http://127.0.0.1/secret')
    if (url === '/to-internal') return redirect(res, 'http://internal.test/admin')
    if (url === '/to-rebind') return redirect(res, 'http://rebind.test/')
    if (url === '/to-mapped') return redirect(res, 'http://[::ffff:127.0.0.1]/')
    if (url === '/to-mapped-name') return redirect(res, 'http://mapped.test/latest/meta-data/')
    if (url === '/to-metadata') return redirect(res, 'http://169.254.169.254/latest/meta-data/')
    if (url === '/to-other-port') return redirect(res, `http://public2.test:${portOf(siteC)}/page`)
    if (url === '/loop') return redirect(res, '/loop')
    if (url === '/to-public2') return redirect(res, 'http://public2.test/page')
    res.writeHead(404).end()
  })
  siteC = await serve((url, res) => {
    if (url === '/page')
      return html(
        res,
        `<title>Tea</title><meta property="og:image" content="http://127.0.0.1:${secretPort}/logo.png">`,
      )
    if (url === '/page-with-logo')
      return html(res, '<title>Tea shop</title><meta property="og:image" content="/logo.png">')
    if (url === '/logo.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(png)
    res.writeHead(404).end()
  })
})

after(async () => {
  await Promise.all([siteA, siteC, secret].map((s) => new Promise((r) => s.close(r))))
})

describe('link previews reach public servers only', () => {
  it('refuses private and local targets given directly, before any connection', async () => {
    const previewer = new LinkPreviewer(testNet())
    const before = connects.length
    const urls = [
      `http://127.0.0.1:${secretPort}/secret`,
      'http://127.0.0.1/secret',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost/',
      'http://router/',
      'http://printer.local/',
      'http://internal.test/',
      'http://rebind.test/',
      'http://mapped.test/',
      'http://public.test:8080/',
      'ftp://public.test/',
      'http://user:pw@public.test/',
    ]
    const previews = await previewer.makeAll(urls)
    assert.deepEqual(
      previews,
      urls.map((url) => ({ url })),
      'every link stays, bare',
    )
    assert.equal(connects.length, before, 'no connection was opened')
    assert.deepEqual(secretHits, [])
    assert.deepEqual(Object.fromEntries(previewer.refusals), {
      PrivateAddress: 11,
      BadPort: 2,
      BadScheme: 1,
      Credentials: 1,
    })
  })

  it('refuses every redirect hop that leads to a private target or another port', async () => {
    const previewer = new LinkPreviewer(testNet())
    const paths = [
      '/to-loopback',
      '/to-loopback-80',
      '/to-internal',
      '/to-rebind',
      '/to-mapped',
      '/to-mapped-name',
      '/to-metadata',
      '/to-other-port',
      '/loop',
    ]
    const before = connects.length
    for (const path of paths) {
      const url = `http://public.test${path}`
      assert.deepEqual(await previewer.make(url), { url }, path)
    }
    assert.deepEqual(secretHits, [], 'the secret server was never asked')
    const hops = connects.slice(before)
    assert.ok(
      hops.every((t) => t.address === PUBLIC_A),
      `only the public site was connected to: ${hops.map((t) => t.address).join(' ')}`,
    )
    assert.equal(previewer.refusals.get('TooManyRedirects'), 1)
  })

  it('follows redirects between public sites; a private image is left out', async () => {
    const previewer = new LinkPreviewer(testNet())
    const made = await previewer.make('http://public.test/to-public2')
    assert.equal(made.title, 'Tea')
    assert.equal(made.image, undefined, 'the image on 127.0.0.1 was not fetched')
    assert.deepEqual(secretHits, [])
    const withLogo = await previewer.make('http://public2.test/page-with-logo')
    assert.equal(withLogo.title, 'Tea shop')
    assert.equal(withLogo.image?.type, 'image/png')
    assert.deepEqual(Buffer.from(withLogo.image?.bytes ?? []), png)
  })
})
