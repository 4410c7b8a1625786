/**
 * Link previews are made by the poster: Alice's peer fetches the page when she posts, and Bob's
 * feed shows title, description and image without Bob ever fetching the URL. The page is "public"
 * tea.test, served from 127.0.0.1 (the hidden `--preview-via tea.test=PORT` carries that name's
 * connections there); the same server named by its loopback address gets no request at all.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import QRCode from 'qrcode'
import { cleanup, eventually, jiayiJson, LOOPBACK, PeerProcess, tempHome } from './helpers/cli.js'

interface Post {
  id: string
  links: { url: string; title?: string; description?: string; image?: string }[]
}

let alice: PeerProcess
let bob: PeerProcess
let ha: string
let hb: string
let server: Server
let base: string
let loopbackBase: string
const hits: string[] = []

before(async () => {
  const png = await QRCode.toBuffer('jiayi', { width: 64, margin: 1 })
  server = createServer((req, res) => {
    hits.push(req.url ?? '')
    if (req.url === '/shop') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(
        '<html><head><title>fallback</title><meta property="og:title" content="Zhang\'s Tea 张记茶庄">' +
          '<meta property="og:description" content="Jasmine &amp; oolong, shipped from Hangzhou">' +
          '<meta property="og:image" content="/logo.png"></head><body>…</body></html>',
      )
    } else if (req.url === '/logo.png') {
      res.writeHead(200, { 'content-type': 'image/png' })
      res.end(png)
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  base = 'http://tea.test'
  loopbackBase = `http://127.0.0.1:${port}`
  ha = await tempHome()
  hb = await tempHome()
  await Promise.all([jiayiJson(ha, ['init', '--name', 'Alice']), jiayiJson(hb, ['init', '--name', 'Bob'])])
  ;[alice, bob] = await Promise.all([
    PeerProcess.start(ha, [...LOOPBACK, '--preview-via', `tea.test=${port}`], { linkPreviews: true }),
    PeerProcess.start(hb, LOOPBACK),
  ])
  await jiayiJson(ha, ['add', (await jiayiJson<{ link: string }>(hb, ['card'])).link])
  await jiayiJson(hb, ['add', (await jiayiJson<{ link: string }>(ha, ['card'])).link])
  await eventually(
    async () => (await jiayiJson<{ state: string }[]>(ha, ['contacts']))[0]?.state === 'accepted',
    15_000,
  )
})

after(async () => {
  await Promise.all([alice?.stop('SIGTERM'), bob?.stop('SIGTERM')])
  await new Promise((resolve) => server.close(resolve))
  await cleanup()
})

test("the poster's peer makes the preview; the reader shows it without fetching", async () => {
  const made = await jiayiJson<{ id: string }>(ha, ['post', 'New season tea', '--link', `${base}/shop`])
  const fetchedByPoster = hits.length
  assert.deepEqual(hits, ['/shop', '/logo.png'])
  const seen = await eventually(
    async () => (await jiayiJson<Post[]>(hb, ['feed'])).find((p) => p.id === made.id),
    15_000,
  )
  const [link] = seen.links
  assert.equal(link?.url, `${base}/shop`)
  assert.equal(link?.title, "Zhang's Tea 张记茶庄")
  assert.equal(link?.description, 'Jasmine & oolong, shipped from Hangzhou')
  assert.match(link?.image ?? '', /^data:image\/png;base64,/)
  assert.equal(hits.length, fetchedByPoster, 'the reader never fetched the URL')
})

test('a link that cannot be fetched is posted bare', async () => {
  const made = await jiayiJson<{ id: string }>(ha, ['post', 'Broken link', '--link', `${base}/missing`])
  const seen = await eventually(
    async () => (await jiayiJson<Post[]>(hb, ['feed'])).find((p) => p.id === made.id),
    15_000,
  )
  assert.deepEqual(seen.links, [{ url: `${base}/missing` }])
})

test('a link to a private address is posted bare, and never fetched', async () => {
  const before = hits.length
  const urls = [
    `${loopbackBase}/shop`,
    'http://127.0.0.1/shop',
    'http://localhost/shop',
    'http://tea.test:8080/shop',
  ]
  const made = await jiayiJson<{ id: string }>(ha, [
    'post',
    'Not for previews',
    ...urls.flatMap((u) => ['--link', u]),
  ])
  const seen = await eventually(
    async () => (await jiayiJson<Post[]>(hb, ['feed'])).find((p) => p.id === made.id),
    15_000,
  )
  assert.deepEqual(
    seen.links,
    urls.map((url) => ({ url })),
  )
  assert.equal(hits.length, before, 'the server on 127.0.0.1 got no request')
})
