/**
 * Where the peer listens. With --listen, exactly there. Without it, on every interface with TCP,
 * WebSockets and WebRTC-Direct; the first start takes ports the OS picks (port 0), and later
 * starts ask for the same ports again so the addresses on a card someone already scanned keep
 * working (the WebRTC-Direct certhash is kept too, see webrtc-cert.ts). If a remembered port is
 * taken, the peer falls back to fresh ports and its contacts learn the new addresses.
 */
import { createSocket } from 'node:dgram'
import { createServer, isIP } from 'node:net'
import { type Store, storeKey } from '@jiayi/core'
import { CliError } from '../cli/errors.js'

export const DEFAULT_LISTEN: readonly string[] = [
  '/ip4/0.0.0.0/tcp/0',
  '/ip4/0.0.0.0/tcp/0/ws',
  '/ip4/0.0.0.0/udp/0/webrtc-direct',
]

const PORTS_KEY = () => storeKey('node', 'listen-ports')

export interface ListenPorts {
  readonly tcp?: number
  readonly ws?: number
  readonly webrtcDirect?: number
}

function validPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536
}

export function listenFor(ports: ListenPorts): string[] {
  return [
    `/ip4/0.0.0.0/tcp/${validPort(ports.tcp) ? ports.tcp : 0}`,
    `/ip4/0.0.0.0/tcp/${validPort(ports.ws) ? ports.ws : 0}/ws`,
    `/ip4/0.0.0.0/udp/${validPort(ports.webrtcDirect) ? ports.webrtcDirect : 0}/webrtc-direct`,
  ]
}

/** The ports a running node actually got, read from its listen addresses. */
export function portsOf(addrs: readonly string[]): ListenPorts {
  const ports: { tcp?: number; ws?: number; webrtcDirect?: number } = {}
  for (const a of addrs) {
    if (a.includes('/p2p-circuit')) continue
    let m = /\/tcp\/(\d+)\/(ws|wss)(\/|$)/.exec(a)
    if (m) {
      ports.ws ??= Number(m[1])
      continue
    }
    m = /\/udp\/(\d+)\/webrtc-direct(\/|$)/.exec(a)
    if (m) {
      ports.webrtcDirect ??= Number(m[1])
      continue
    }
    m = /\/tcp\/(\d+)(\/p2p\/[^/]+)?$/.exec(a)
    if (m) ports.tcp ??= Number(m[1])
  }
  return ports
}

export async function rememberedPorts(store: Store): Promise<ListenPorts> {
  const bytes = await store.get(PORTS_KEY())
  if (bytes === undefined) return {}
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as ListenPorts
    return typeof value === 'object' && value !== null ? value : {}
  } catch {
    return {}
  }
}

export async function rememberPorts(store: Store, ports: ListenPorts): Promise<void> {
  await store.put(PORTS_KEY(), new TextEncoder().encode(JSON.stringify(ports)))
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4')
    socket.once('error', () => {
      socket.close()
      resolve(false)
    })
    socket.bind({ port, address: '0.0.0.0', exclusive: true }, () => socket.close(() => resolve(true)))
  })
}

/** Drops the remembered ports that another program holds now (the rest are kept). */
export async function availablePorts(ports: ListenPorts): Promise<ListenPorts> {
  const keep = async (port: number | undefined, free: (p: number) => Promise<boolean>) =>
    validPort(port) && (await free(port)) ? port : undefined
  const [tcp, ws, webrtcDirect] = await Promise.all([
    keep(ports.tcp, tcpFree),
    keep(ports.ws, tcpFree),
    keep(ports.webrtcDirect, udpFree),
  ])
  return {
    ...(tcp === undefined ? {} : { tcp }),
    ...(ws === undefined ? {} : { ws }),
    ...(webrtcDirect === undefined ? {} : { webrtcDirect }),
  }
}

/**
 * Checks the addresses of --listen before the node tries them, so that a typo or a busy port is
 * a clear user error naming the address (libp2p reports only that "some" address failed).
 * Addresses this cannot judge (dns, relay forms) are left to libp2p.
 */
export async function checkListenAddrs(addrs: readonly string[]): Promise<void> {
  for (const addr of addrs) {
    const problem = await listenProblem(addr)
    if (problem !== undefined) throw listenError(addr, problem)
  }
}

/** The user error for an address the node could not listen on. */
export function listenError(addr: string, problem: string): CliError {
  return new CliError(
    'Listen',
    `cannot listen on ${addr}: ${problem}. Give another address (port 0 lets the system pick a ` +
      'free one, e.g. /ip4/0.0.0.0/tcp/0), or leave --listen out',
  )
}

const LISTEN_FORM = /^\/(ip4|ip6)\/([^/]+)\/(tcp|udp)\/([^/]+)(\/.*)?$/

/** Why the node could not listen on `addr`, or undefined when it can (as far as we can tell). */
export async function listenProblem(addr: string): Promise<string | undefined> {
  if (!addr.startsWith('/')) return 'it is not a multiaddr (they look like /ip4/0.0.0.0/tcp/4001)'
  const m = LISTEN_FORM.exec(addr)
  if (m === null)
    return /^\/(dns|dns4|dns6|p2p-circuit|webrtc)\b/.test(addr)
      ? undefined
      : 'it is not an address to listen on'
  const [, family, host, proto, portText] = m as unknown as [
    string,
    'ip4' | 'ip6',
    string,
    'tcp' | 'udp',
    string,
  ]
  if (isIP(host) !== (family === 'ip4' ? 4 : 6))
    return `${host} is not an ${family === 'ip4' ? 'IPv4' : 'IPv6'} address`
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535)
    return `${portText} is not a port number (0 to 65535)`
  const port = Number(portText)
  const code = await bindError(proto, host, port)
  if (code === undefined) return undefined
  if (code === 'EADDRINUSE') return `port ${port} is in use by another program`
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`
  if (code === 'EACCES') return `port ${port} needs privileges this user does not have`
  return `the system refused it (${code})`
}

/** Binds and releases `host:port` for a moment: the error code, or undefined when it works. */
function bindError(proto: 'tcp' | 'udp', host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const fail = (error: NodeJS.ErrnoException) => resolve(error.code ?? 'unknown')
    if (proto === 'tcp') {
      const server = createServer()
      server.once('error', fail)
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)))
      return
    }
    const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4')
    socket.once('error', (error) => {
      socket.close()
      fail(error)
    })
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(undefined)))
  })
}
