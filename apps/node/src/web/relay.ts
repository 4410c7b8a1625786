/**
 * WebSocket upgrades on the web server's `/` handed to the node's own libp2p WebSocket listener.
 *
 * Why: a page served over HTTPS (`--web-lan`) may open only wss:// connections, and a phone's
 * browser trusts just the one certificate its user accepted, for this origin. The node's libp2p
 * listener speaks plain ws:// on its own port; so the web server, which already holds the TLS
 * connection, forwards the upgrade request and then the bytes both ways to that listener on this
 * machine. The node then is reachable at `/ip4/<LAN IP>/tcp/<web port>/tls/ws` (announced by
 * start.ts), which is also where browsers reserve their relay slot. Noise inside authenticates
 * the node end to end, as on any other transport; the web server sees only ciphertext.
 *
 * The node sees these connections coming from the address it was reached at here (loopback or
 * the LAN address it listens on), not from the browser's own address.
 */
import type { IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { type AppLog, errorFields } from '../cli/log.js'

/** Where the node's plain WebSocket listener is. */
export interface RelayTarget {
  readonly host: string
  readonly port: number
}

/** Connections handed over at once: phones and tabs on one LAN, each with one or two. */
const MAX_CONNECTIONS = 64
/** The node's listener must answer the forwarded upgrade within this. */
const CONNECT_TIMEOUT_MS = 10_000

/** The listener address to forward to: an IPv4 `/ws` (not TLS) address, loopback first. */
export function relayTargetOf(addrs: readonly string[]): RelayTarget | undefined {
  const found = addrs
    .map((a) => /^\/ip4\/([0-9.]+)\/tcp\/(\d+)\/ws(\/p2p\/[^/]+)?$/.exec(a))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ host: m[1]!, port: Number(m[2]) }))
  return found.find((t) => t.host.startsWith('127.')) ?? found[0]
}

export class WebRelay {
  private readonly open = new Set<Duplex>()

  constructor(private readonly log: AppLog) {}

  /** Forwards an upgrade request; false (nothing done) when too many are open. */
  hand(req: IncomingMessage, socket: Duplex, head: Buffer, target: RelayTarget): boolean {
    if (this.open.size >= MAX_CONNECTIONS) return false
    this.open.add(socket)
    const upstream: Socket = connect({ host: target.host, port: target.port })
    upstream.setTimeout(CONNECT_TIMEOUT_MS)
    const end = () => {
      this.open.delete(socket)
      socket.destroy()
      upstream.destroy()
    }
    socket.once('close', end)
    socket.on('error', end)
    upstream.once('close', end)
    upstream.on('error', (error) => {
      this.log.debug('relay upstream failed', errorFields(error))
      end()
    })
    upstream.once('timeout', end)
    upstream.once('connect', () => {
      upstream.setTimeout(0)
      // The request as it came (its headers in their original case and order), then the bytes
      // that followed it, then both directions as they flow.
      const lines = [`GET / HTTP/1.1`]
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
      if (head.length > 0) upstream.write(head)
      socket.pipe(upstream)
      upstream.pipe(socket)
    })
    return true
  }

  close(): void {
    for (const s of this.open) s.destroy()
    this.open.clear()
  }
}
