/**
 * `jiayi start`'s web app: options, and starting the server on the running peer.
 *
 *   --web PORT    the port (0, the default: any free port)
 *   --no-web      no web server
 *   --web-lan     HTTPS on every interface, with the home's self-signed certificate, so phones on
 *                 the LAN can open the app (as a full peer in their browser; the camera needs a
 *                 secure context). The owner's URL with the token still names 127.0.0.1.
 *   --web-host    (hidden, tests) the address to bind, e.g. 127.0.0.1 with --web-lan, so a test
 *                 exercises HTTPS without listening on the machine's real interfaces.
 *
 * With --web-lan the node is also reachable through the HTTPS port itself (relay.ts): announced as
 * `/ip4/<address>/tcp/<web port>/tls/ws` and offered to pages in `jiayi-relays.json`, it is how a
 * phone's page reaches the node (plain ws:// is mixed content on an HTTPS page) and reserves the
 * relay slot through which other browsers and nodes reach the phone.
 *
 * The app's files come from apps/web/dist (JIAYI_WEB_DIST overrides), never imported as code.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ApiHost, BackupFile, MeView, PassphraseProgress } from '@jiayi/api'
import type { Store } from '@jiayi/core'
import { type Context, optFlag, optString } from '../cli/context.js'
import { CliError } from '../cli/errors.js'
import type { HomePaths } from '../cli/home.js'
import { createDispatcher, type HostParts } from '../daemon/api-host.js'
import { type LanInfo, lanInfo } from './lan.js'
import { relayTargetOf } from './relay.js'
import { startWebServer, type WebServer } from './server.js'
import { lanAddresses, loadOrCreateWebCertificate } from './tls.js'
import { newToken } from './token.js'
import { Uploads } from './uploads.js'

export interface WebOptions {
  readonly enabled: boolean
  readonly port: number
  readonly lan: boolean
  readonly host: string | undefined
}

export function webOptions(ctx: Context): WebOptions {
  const enabled = !optFlag(ctx, 'no-web')
  const portText = optString(ctx, 'web')
  const lan = optFlag(ctx, 'web-lan')
  const host = optString(ctx, 'web-host')
  if (!enabled && (portText !== undefined || lan || host !== undefined))
    throw new CliError('Usage', '--no-web cannot go with --web, --web-lan or --web-host')
  // Digits only: Number('') is 0, and `--web ""` is a mistake, not a request for any port.
  const port = portText === undefined ? 0 : /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new CliError('Usage', '--web must be a port number from 0 to 65535')
  if (host !== undefined && !/^[0-9a-f.:]+$/i.test(host))
    throw new CliError('Usage', '--web-host must be an IP address')
  return { enabled, port, lan, host }
}

export function webDist(): string {
  return process.env.JIAYI_WEB_DIST || join(nodeAppDir(), '..', 'web', 'dist')
}

/**
 * apps/node: the nearest directory above this module with the `jiayi` bin. This module runs from
 * src/web (through tsx) or from a chunk of the compiled build (dist/chunks), so its own depth
 * says nothing.
 */
function nodeAppDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'bin', 'jiayi.mjs'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('the jiayi app directory was not found')
    dir = up
  }
  return dir
}

export interface RunningWeb {
  readonly server: WebServer
  /** The owner's URL, with the token in the fragment. */
  readonly url: string
  /** --web-lan: what phones open (no token: they run their own peer in the page). */
  readonly lanUrls: readonly string[]
  readonly fingerprint: string | undefined
  /** --web-lan: the LAN addresses, fingerprint and cert links (lan.ts). */
  readonly lan: LanInfo | undefined
  close(): Promise<void>
}

export async function startWeb(
  parts: HostParts,
  store: Store,
  paths: HomePaths,
  options: WebOptions,
  nodeFileSource: typeof import('@jiayi/core/node').nodeFileSource,
): Promise<RunningWeb> {
  const log = parts.log.child('web')
  const ips = options.lan ? lanAddresses() : []
  const tls = options.lan ? (await loadOrCreateWebCertificate(store, ips)).certificate : undefined
  const uploads = new Uploads(join(paths.home, 'uploads'), 4 * 1024 ** 3, (path, o) =>
    nodeFileSource(path, o),
  )
  await uploads.init()
  const dispatcher = createDispatcher(parts, (handle) => uploads.openSource(handle), 'web-api')
  // The port is known once the server listens; the LAN description follows it.
  let lan: LanInfo | undefined
  const nodeAddrs = () => parts.node.getMultiaddrs().map((a) => a.toString())
  const server = await startWebServer({
    dist: webDist(),
    host: options.host ?? (options.lan ? '0.0.0.0' : '127.0.0.1'),
    port: options.port,
    tls,
    extraHosts: ips,
    token: newToken(),
    dispatcher,
    uploads,
    transfer: (id) => parts.files.transfer(id),
    // Over HTTPS a page can dial only wss://: the web port's own addresses (below).
    relays: () =>
      nodeAddrs().filter((a) =>
        tls === undefined ? /\/ws\/p2p\//.test(a) && !/\/tls\/ws\//.test(a) : /\/tls\/ws\/p2p\//.test(a),
      ),
    relayTarget: tls === undefined ? undefined : () => relayTargetOf(nodeAddrs()),
    get lan() {
      return lan
    },
    log,
  })
  // The addresses the HTTPS server answers at: the one it is bound to, or with a wildcard bind
  // the LAN addresses (never loopback: contacts could not use it).
  const host = options.host ?? (options.lan ? '0.0.0.0' : '127.0.0.1')
  const announced =
    tls === undefined || relayTargetOf(nodeAddrs()) === undefined
      ? []
      : (host === '0.0.0.0' ? ips : [host])
          .filter((ip) => /^[0-9.]+$/.test(ip))
          .map((ip) => `/ip4/${ip}/tcp/${server.port}/tls/ws`)
  parts.node.services.announcedAddrs.add(announced)
  if (tls !== undefined)
    lan = lanInfo(
      ips.map((ip) => `https://${ip}:${server.port}/`),
      tls.fingerprint,
    )
  log.info('web app served', { port: server.port, tls: tls !== undefined })
  return {
    server,
    url: server.url,
    lanUrls: ips.map((ip) => `https://${ip}:${server.port}/`),
    fingerprint: tls?.fingerprint,
    lan,
    async close() {
      parts.node.services.announcedAddrs.remove(announced)
      await server.close()
    },
  }
}

/**
 * Account operations the node offers: an encrypted backup of its whole store, and a change of
 * passphrase (whose progress `changePassphrase` reports to the `passphrase` event).
 */
export function nodeAccount(
  store: Store,
  name: () => string,
  core: typeof import('@jiayi/core'),
  rename?: (name: string) => Promise<MeView>,
  changePassphrase?: (
    current: string | undefined,
    next: string,
    onProgress: (progress: PassphraseProgress) => void,
  ) => Promise<void>,
): NonNullable<ApiHost['account']> {
  const events = new core.Emitter<{ passphrase: PassphraseProgress }>()
  return {
    ...(rename === undefined ? {} : { setName: rename }),
    ...(changePassphrase === undefined
      ? {}
      : {
          changePassphrase: (current: string | undefined, next: string) =>
            changePassphrase(current, next, (p) => events.emit('passphrase', p)),
          events,
        }),
    async exportBackup(passphrase: string): Promise<BackupFile> {
      async function* records() {
        for await (const entry of store.iterate()) yield entry
      }
      const parts: Uint8Array[] = []
      for await (const piece of core.encodeBackup(records(), passphrase)) parts.push(piece)
      const safe =
        name()
          .replace(/[^\p{L}\p{N}_-]+/gu, '-')
          .replace(/^-+|-+$/g, '') || 'me'
      return {
        fileName: `jiayi-backup-${safe}-${new Date().toISOString().slice(0, 10)}.jiayi`,
        mime: core.BACKUP_MIME,
        data: Buffer.concat(parts).toString('base64'),
      }
    },
  }
}
