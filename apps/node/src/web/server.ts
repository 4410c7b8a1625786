/**
 * The web server of `jiayi start`: the built web app (apps/web/dist, served as files; this code
 * never imports the app) and, behind a per-start token, the node's API for it:
 *
 *   GET  /…                 the app's files (index.html for app routes)
 *   GET  /api/ws            WebSocket: the control protocol (@jiayi/api), one message per text frame
 *   POST /api/upload        a file to send: the body streams to <home>/uploads; answers {id, size}
 *   GET  /api/files/<id>    a transfer's bytes (received files, and sent ones kept on disk)
 *   GET  /jiayi-relays.json this node's WebSocket addresses, for pages that run their own peer
 *                           (they reserve a relay slot here so other browsers can reach them)
 *   GET  /  (WebSocket)     the node itself (libp2p over WebSockets): the upgrade is handed to the
 *                           node's own WebSocket listener (relay.ts), so that over HTTPS a page
 *                           reaches the node as wss:// on its own origin and certificate
 *   GET  /jiayi-lan.json    with --web-lan: the LAN addresses and the certificate's fingerprint
 *                           (lan.ts), for the page to show; 404 otherwise
 *
 * Who may use the API: whoever holds the token (printed in the URL fragment at start, 256 random
 * bits, compared in constant time) from the server's own origin. The Host header must name the
 * server (no DNS rebinding), the Origin must be the server's own, and without the right token
 * every /api/ request gets the same bare 401 "unauthorized": no method list, no error detail,
 * not even whether the path exists. Loopback only, unless `--web-lan`, which serves HTTPS.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type ControlDispatcher, ControlSession, MAX_MESSAGE_BYTES } from '@jiayi/api'
import type { TransferView } from '@jiayi/core'
import { type WebSocket, WebSocketServer } from 'ws'
import { type AppLog, errorFields } from '../cli/log.js'
import { DOWNLOAD_CSP, INLINE_TYPES, setSecurityHeaders } from './headers.js'
import type { LanInfo } from './lan.js'
import { type RelayTarget, WebRelay } from './relay.js'
import { deny, staticFiles } from './static-files.js'
import { bearer, tokenFromProtocols, tokenMatches, WS_PROTOCOL } from './token.js'
import { UploadError, type Uploads } from './uploads.js'

const MAX_SOCKETS = 16
const MAX_QUEUED_BYTES = 8 * 1024 * 1024
/** Above this much queued for a page, its heavy requests wait for it to read (@jiayi/api work.ts). */
const HIGH_WATER_BYTES = 1024 * 1024

export interface WebServerOptions {
  /** The built app (index.html and assets). */
  readonly dist: string
  readonly host: string
  readonly port: number
  /** HTTPS with this certificate (--web-lan); plain HTTP without. */
  readonly tls?: { readonly key: string; readonly cert: string } | undefined
  /** Host names (besides 127.0.0.1 and localhost) the server answers to, e.g. its LAN addresses. */
  readonly extraHosts?: readonly string[]
  readonly token: string
  readonly dispatcher: ControlDispatcher
  readonly uploads: Uploads
  readonly transfer: (id: string) => TransferView | undefined
  /** This node's WebSocket multiaddrs (with /p2p/): relays for in-page peers. */
  readonly relays?: () => readonly string[]
  /** Where the node's own WebSocket listener is: a WebSocket upgrade on `/` goes there. */
  readonly relayTarget?: () => RelayTarget | undefined
  /** --web-lan: what phones open and the certificate's fingerprint (public, like the certificate). */
  readonly lan?: LanInfo | undefined
  readonly log: AppLog
}

export interface WebServer {
  readonly origin: string
  readonly port: number
  /** The owner's URL: the origin with `#token=…`. */
  readonly url: string
  close(): Promise<void>
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const scheme = o.tls ? 'https' : 'http'
  let port = o.port
  const hosts = () => new Set(['127.0.0.1', 'localhost', ...(o.extraHosts ?? [])].map((h) => `${h}:${port}`))
  const origins = () => new Set([...hosts()].map((h) => `${scheme}://${h}`))
  const ownOrigin = () => `${scheme}://127.0.0.1:${port}`

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void route(req, res).catch((error) => {
      o.log.warn('web request failed', errorFields(error))
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('error')
    })
  }
  const server: Server = o.tls
    ? createHttpsServer({ key: o.tls.key, cert: o.tls.cert }, handler)
    : createHttpServer(handler)
  server.headersTimeout = 20_000
  server.requestTimeout = 0 // uploads may take long; idle sockets still time out
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  })
  const sockets = new Set<WebSocket>()
  const relay = new WebRelay(o.log)
  const serveStatic = staticFiles(o.dist)

  const hostOk = (req: IncomingMessage) => hosts().has(req.headers.host ?? '')
  const originOk = (req: IncomingMessage, required: boolean) => {
    const origin = req.headers.origin
    if (origin === undefined) return !required
    return origins().has(origin)
  }
  const originForHeaders = (req: IncomingMessage) => {
    const h = req.headers.host
    return h !== undefined && hosts().has(h) ? `${scheme}://${h}` : ownOrigin()
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res, originForHeaders(req))
    if (!hostOk(req)) return deny(res, 421, 'misdirected request')
    const url = new URL(req.url ?? '/', ownOrigin())
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      // The same answer for every unauthenticated /api/ request, whatever it asks.
      const fetchSite = req.headers['sec-fetch-site']
      const sameOrigin = fetchSite === undefined || fetchSite === 'same-origin' || fetchSite === 'none'
      if (
        !originOk(req, req.method !== 'GET') ||
        !sameOrigin ||
        !tokenMatches(o.token, bearer(req.headers.authorization))
      )
        return deny(res, 401, 'unauthorized')
      res.setHeader('Cache-Control', 'no-store')
      if (req.method === 'POST' && url.pathname === '/api/upload') return upload(req, res, url)
      const file = /^\/api\/files\/([0-9a-f]{32})$/.exec(url.pathname)
      if ((req.method === 'GET' || req.method === 'HEAD') && file) return download(req, res, file[1]!, url)
      return deny(res, 404, 'not found')
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed')
    if (url.pathname === '/jiayi-relays.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      return void res.end(JSON.stringify({ relays: o.relays?.() ?? [] }))
    }
    if (url.pathname === '/jiayi-lan.json') {
      if (o.lan === undefined) return deny(res, 404, 'not found')
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      return void res.end(JSON.stringify(o.lan))
    }
    return serveStatic(req, res, url.pathname)
  }

  async function upload(req: IncomingMessage, res: ServerResponse, url: URL) {
    const name = (url.searchParams.get('name') ?? '').trim().slice(0, 1024) || 'file'
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    const mime =
      /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type) && type.length <= 127 ? type : 'application/octet-stream'
    try {
      const done = await o.uploads.receive(req, name, mime)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(done))
    } catch (error) {
      const status = error instanceof UploadError ? error.status : 500
      if (!(error instanceof UploadError)) o.log.warn('upload failed', errorFields(error))
      deny(res, status, error instanceof UploadError ? error.message : 'upload failed')
      req.resume()
    }
  }

  async function download(req: IncomingMessage, res: ServerResponse, id: string, url: URL) {
    const t = o.transfer(id)
    const ready = t !== undefined && t.path !== null && (t.direction === 'out' || t.status === 'complete')
    if (!ready) return deny(res, 404, 'not found')
    const info = await stat(t.path!).catch(() => undefined)
    if (info === undefined || !info.isFile()) return deny(res, 404, 'not found')
    const mime = t.mime.toLowerCase()
    const inline = INLINE_TYPES.has(mime) && url.searchParams.get('download') === null
    res.writeHead(200, {
      'content-type': inline ? mime : 'application/octet-stream',
      'content-length': String(info.size),
      'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(t.name)}`,
      'content-security-policy': DOWNLOAD_CSP,
      'x-content-type-options': 'nosniff',
    })
    if (req.method === 'HEAD') return void res.end()
    const stream = createReadStream(t.path!)
    stream.on('error', () => res.destroy())
    stream.pipe(res)
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string) => {
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
      )
    }
    const path = new URL(req.url ?? '/', ownOrigin()).pathname
    if (!hostOk(req)) return refuse(421, 'misdirected request')
    // libp2p's WebSocket dialer asks for `/` and no subprotocol; the node authenticates it (Noise).
    const target = path === '/' ? o.relayTarget?.() : undefined
    if (target !== undefined) {
      if (!relay.hand(req, socket, head, target)) refuse(503, 'busy')
      return
    }
    if (
      path !== '/api/ws' ||
      !originOk(req, true) ||
      !tokenMatches(o.token, tokenFromProtocols(req.headers['sec-websocket-protocol']))
    )
      return refuse(401, 'unauthorized')
    if (sockets.size >= MAX_SOCKETS) return refuse(503, 'busy')
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws))
  })

  /** Resolves once what is queued for the page is below HIGH_WATER_BYTES (ws has no drain event). */
  async function readable(ws: WebSocket): Promise<void> {
    while (ws.readyState === ws.OPEN && ws.bufferedAmount > HIGH_WATER_BYTES) {
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  function serveSocket(ws: WebSocket) {
    sockets.add(ws)
    const session = new ControlSession(
      o.dispatcher,
      (message) => {
        if (ws.readyState !== ws.OPEN) return
        if (ws.bufferedAmount > MAX_QUEUED_BYTES) {
          o.log.warn('web client dropped: it is not reading')
          ws.terminate()
          return
        }
        ws.send(JSON.stringify(message))
      },
      { writable: () => readable(ws) },
    )
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only')
      void session.receive(data.toString())
    })
    ws.on('error', () => ws.terminate())
    ws.on('close', () => {
      sockets.delete(ws)
      session.close()
    })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  server.on('error', (error) => o.log.warn('web server error', errorFields(error)))
  const origin = ownOrigin()
  let closing: Promise<void> | undefined
  return {
    origin,
    port,
    url: `${origin}/#token=${o.token}`,
    close() {
      closing ??= (async () => {
        for (const ws of sockets) ws.terminate()
        relay.close()
        wss.close()
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })()
      return closing
    },
  }
}
