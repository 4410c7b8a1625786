/**
 * A home node's HTTPS server (`jiayi start --serve --tls-cert FILE --tls-key FILE`): a phone on
 * mobile data opens https://<a name of the certificate>:<port>/, gets the web app (whose page runs
 * a full peer: it holds the keys, the home node holds none), installs it, and its peer reaches the
 * home node on the same origin:
 *
 *   GET  /…                 the app's files (static-files.ts)
 *   GET  /jiayi-relays.json the home node's WSS address as this page reached it
 *                           (`/dns4/<host>/tcp/<port>/tls/ws/p2p/<id>`): the page reserves a relay
 *                           slot there, through which its contacts reach it
 *   GET  /  (WebSocket)     the home node itself (libp2p over WebSockets): the upgrade is handed to
 *                           its WebSocket listener on loopback (relay.ts); Noise inside
 *                           authenticates the home node end to end
 *
 * It answers only to the names its certificate holds (421 otherwise): a page that reached it
 * under another name did so past a certificate warning, or through DNS rebinding. There is no API
 * and no secret here: everything it serves is public.
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { CliError } from '../cli/errors.js'
import { type AppLog, errorFields } from '../cli/log.js'
import { setSecurityHeaders } from './headers.js'
import { namedBy, type OwnerTls } from './owner-tls.js'
import { type RelayTarget, relayTargetOf, WebRelay } from './relay.js'
import { deny, staticFiles } from './static-files.js'

export interface HomeHttpsOptions {
  readonly dist: string
  readonly host: string
  readonly port: number
  readonly tls: OwnerTls
  /** The home node's peer id, for the relay address pages dial. */
  readonly peerId: string
  /** Where the home node's plain WebSocket listener is. */
  readonly relayTarget: () => RelayTarget | undefined
  readonly log: AppLog
}

export interface HomeHttps {
  readonly port: number
  close(): Promise<void>
}

interface HostName {
  readonly name: string
  readonly port: number
}

/** A Host header's name (lower-case, IPv6 without brackets) and port (443 when absent), if valid. */
export function parseHost(header: string | undefined): HostName | undefined {
  if (header === undefined || header.length > 260) return undefined
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i.exec(header)
  if (m === null) return undefined
  const port = m[3] === undefined ? 443 : Number(m[3])
  if (port < 1 || port > 65_535) return undefined
  return { name: (m[1] ?? m[2]!).toLowerCase(), port }
}

/** The libp2p address of `/` as reached at `host` (with `/p2p/<peerId>` when given). */
export function wssAddr(host: HostName, peerId?: string): string {
  const proto = host.name.includes(':') ? 'ip6' : /^[0-9.]+$/.test(host.name) ? 'ip4' : 'dns'
  const addr = `/${proto}/${host.name}/tcp/${host.port}/tls/ws`
  return peerId === undefined ? addr : `${addr}/p2p/${peerId}`
}

export async function startHomeHttps(o: HomeHttpsOptions): Promise<HomeHttps> {
  const serveStatic = staticFiles(o.dist)
  const relay = new WebRelay(o.log)
  const hostOf = (req: IncomingMessage) => {
    const host = parseHost(req.headers.host)
    return host !== undefined && namedBy(o.tls.names, host.name) ? host : undefined
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = hostOf(req)
    if (host === undefined) return deny(res, 421, 'misdirected request')
    setSecurityHeaders(res, `https://${req.headers.host}`)
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed')
    const url = new URL(req.url ?? '/', 'https://home.invalid')
    if (url.pathname === '/jiayi-relays.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      return void res.end(JSON.stringify({ relays: [wssAddr(host, o.peerId)] }))
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return deny(res, 404, 'not found')
    return serveStatic(req, res, url.pathname)
  }

  const server: Server = createServer({ key: o.tls.key, cert: o.tls.cert }, (req, res) => {
    void route(req, res).catch((error) => {
      o.log.warn('home https request failed', errorFields(error))
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('error')
    })
  })
  server.headersTimeout = 20_000

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string) =>
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
      )
    if (hostOf(req) === undefined) return refuse(421, 'misdirected request')
    // libp2p's WebSocket dialer asks for `/`; nothing else upgrades here.
    const path = new URL(req.url ?? '/', 'https://home.invalid').pathname
    const target = path === '/' ? o.relayTarget() : undefined
    if (target === undefined) return refuse(404, 'not found')
    if (!relay.hand(req, socket, head, target)) refuse(503, 'busy')
  })
  // A TLS handshake that fails (plain HTTP on this port, a client that distrusts the certificate)
  // only closes that socket.
  server.on('tlsClientError', (error) => o.log.debug('tls handshake refused', errorFields(error)))

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port, o.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (error) => o.log.warn('home https server error', errorFields(error)))
  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined
  return {
    port,
    close() {
      closing ??= (async () => {
        relay.close()
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })()
      return closing
    },
  }
}

/** The libp2p listener the HTTPS server hands WebSocket upgrades to: loopback only. */
export const LOOPBACK_WS_LISTEN = '/ip4/127.0.0.1/tcp/0/ws'

export interface HomeWeb {
  /** What phones open: one URL per name of the certificate (wildcards left out). */
  readonly urls: readonly string[]
  readonly fingerprint: string
  close(): Promise<void>
}

interface HomeNodeLike {
  readonly node: {
    readonly peerId: { toString(): string }
    getMultiaddrs(): readonly { toString(): string }[]
    readonly services: {
      readonly announcedAddrs: { add(a: readonly string[]): void; remove(a: readonly string[]): void }
    }
  }
}

/**
 * Serves the web app and the home node's WSS relay on `port`, and announces the relay under the
 * certificate's names (`/dns/<name>/tcp/<port>/tls/ws`, `/ip4/…`), so the owner's link and the
 * circuit addresses of the pages that reserve a slot carry them.
 */
export async function startHomeWeb(
  home: HomeNodeLike,
  o: { readonly dist: string; readonly port: number; readonly tls: OwnerTls; readonly log: AppLog },
): Promise<HomeWeb> {
  const addrs = () => home.node.getMultiaddrs().map((a) => a.toString())
  let server: HomeHttps
  try {
    server = await startHomeHttps({
      dist: o.dist,
      host: '0.0.0.0',
      port: o.port,
      tls: o.tls,
      peerId: home.node.peerId.toString(),
      relayTarget: () => relayTargetOf(addrs().filter((a) => a.startsWith('/ip4/127.'))),
      log: o.log,
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why =
      code === 'EADDRINUSE'
        ? 'is in use by another program (另一个程序占用了该端口)'
        : code === 'EACCES'
          ? 'needs privileges (ports below 1024 do); try --https-port 8443 (端口需要权限)'
          : `cannot be listened on (${code ?? 'error'}) (无法监听该端口)`
    throw new CliError('Listen', `--https-port ${o.port} ${why}`, { cause: error })
  }
  const names = o.tls.names.filter((n) => !n.startsWith('*.'))
  const announced = names.map((n) => wssAddr({ name: n, port: server.port }))
  home.node.services.announcedAddrs.add(announced)
  const urls = names.map(
    (n) => `https://${n.includes(':') ? `[${n}]` : n}${server.port === 443 ? '' : `:${server.port}`}/`,
  )
  return {
    urls,
    fingerprint: o.tls.fingerprint,
    async close() {
      home.node.services.announcedAddrs.remove(announced)
      await server.close()
    },
  }
}
