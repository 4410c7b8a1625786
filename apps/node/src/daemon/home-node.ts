/**
 * `jiayi start --serve`: a home node in the foreground. It is keyless: its home holds its own
 * libp2p key and the mailbox (both in <home>/home-node, a LevelDB of ciphertext and peer ids),
 * never an account, an identity key or session keys. Its link (`jiayi:home/…`) is printed in the
 * ready event and kept in <home>/home-link for `jiayi home-link`.
 *
 * It refuses a home that holds an identity: a person's peer and a home node are separate homes
 * (the home node may run on another machine, and must never hold its owner's keys).
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Context, carryOnWithoutOutput, optList, optString } from '../cli/context.js'
import { CliError, EXIT_INTERNAL, EXIT_OK } from '../cli/errors.js'
import { ensureHome, homeExists, jiayiCommand } from '../cli/home.js'
import { errorFields } from '../cli/log.js'
import { loadCore } from '../core.js'
import { type HomeWeb, LOOPBACK_WS_LISTEN, startHomeWeb } from '../web/home-https.js'
import { loadOwnerTls, type OwnerTls } from '../web/owner-tls.js'
import { webDist } from '../web/start.js'
import { checkListenAddrs } from './listen.js'
import { readLockPid, removeLockPid, writeLockPid } from './lock.js'

const SHUTDOWN_TIMEOUT_MS = 10_000
/** Without --listen: TCP on every interface, on the port of the last run (links keep working). */
const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/0'
/**
 * No mDNS, and no UPnP: the link the owner adds is made once, at start, from the addresses the
 * home node has then, and a mapping comes seconds later and may move with the router. A home
 * node needs an address that stays: a public IP or a port the owner forwards.
 */
const HOME_NODE_NETWORK = { mdns: false, reach: { upnp: false } } as const

/** `--https-port` when not given: what an address without a port means to a browser. */
const DEFAULT_HTTPS_PORT = 443

export interface HomeNodeOptions {
  readonly listen: readonly string[]
  /** --tls-cert / --tls-key: serve the web app and the relay over HTTPS on `port` (home-https.ts). */
  readonly https?: { readonly cert: string; readonly key: string; readonly port: number }
}

export function homeNodeOptions(ctx: Context): HomeNodeOptions {
  for (const o of [
    'init-if-needed',
    'name',
    'show-card',
    'web',
    'web-lan',
    'mdns-open',
    'public-dht',
    'bootstrap',
  ])
    if (ctx.options[o] !== undefined)
      throw new CliError(
        'Usage',
        `--${o} does not go with --serve: a home node has no identity and no web app of its own (--tls-cert serves the app to your phone)`,
      )
  const cert = optString(ctx, 'tls-cert')
  const key = optString(ctx, 'tls-key')
  const portText = optString(ctx, 'https-port')
  if ((cert === undefined) !== (key === undefined))
    throw new CliError(
      'Usage',
      '--tls-cert and --tls-key go together: the certificate file and its private key file (证书和私钥须同时给出)',
    )
  if (cert === undefined) {
    if (portText !== undefined)
      throw new CliError('Usage', '--https-port needs --tls-cert and --tls-key (需要证书和私钥)')
    return { listen: optList(ctx, 'listen') }
  }
  const port =
    portText === undefined ? DEFAULT_HTTPS_PORT : /^\d{1,5}$/.test(portText) ? Number(portText) : -1
  if (port < 1 || port > 65_535)
    throw new CliError(
      'Usage',
      '--https-port must be a port number from 1 to 65535 (端口号须在 1 到 65535 之间)',
    )
  return { listen: optList(ctx, 'listen'), https: { cert, key: key!, port } }
}

export function homeNodePaths(home: string) {
  return { store: join(home, 'home-node'), link: join(home, 'home-link') }
}

/** The link the home node in `home` printed when it last started (`jiayi home-link`). */
export async function readHomeLink(home: string): Promise<string | undefined> {
  try {
    return (await readFile(homeNodePaths(home).link, 'utf8')).trim() || undefined
  } catch {
    return undefined
  }
}

export async function runHomeNode(ctx: Context, options: HomeNodeOptions): Promise<number> {
  const { log, out, paths } = ctx
  carryOnWithoutOutput((stream) => log.info('output closed; the home node carries on without it', { stream }))
  let signals = 0
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      signals++
      if (signals === 1) return resolve(s)
      process.exit(130)
    }
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal)
  })
  if (await homeExists(paths))
    throw new CliError(
      'Usage',
      `${paths.home} holds an identity; a home node needs a home of its own (e.g. ${jiayiCommand(`${paths.home}-home`, 'start --serve')})`,
    )
  // The certificate is checked before anything opens: a wrong file is the owner's to fix.
  const tls: OwnerTls | undefined =
    options.https === undefined ? undefined : await loadOwnerTls(options.https.cert, options.https.key)
  await ensureHome(paths.home, (w) => log.warn(w))
  await checkListenAddrs(options.listen)
  const running = await readLockPid(paths.lock)
  if (running !== undefined && running !== process.pid && isAlive(running))
    throw new CliError('AlreadyRunning', `a home node already runs in ${paths.home} (pid ${running})`)
  const core = await loadCore()
  const nodeNet = await import('@jiayi/core/node')
  const hp = homeNodePaths(paths.home)
  // Each deposit is acknowledged, and its sender then forgets it: on disk (fsync) before that.
  const store = await core.LevelStore.open(hp.store, { sync: true })
  await writeLockPid(paths.lock)
  const portKey = core.storeKey('home', 'listen')
  const remembered = await store.get(portKey)
  const listen =
    options.listen.length > 0
      ? [...options.listen]
      : [remembered === undefined ? DEFAULT_LISTEN : new TextDecoder().decode(remembered)]
  // With HTTPS, pages reach the home node through the HTTPS port, whose server hands their
  // WebSocket upgrades to this loopback listener; the owner's pages reserve relay slots on it
  // like the owner's other devices (home-relay.ts says who may).
  const extraListen = tls === undefined ? [] : [LOOPBACK_WS_LISTEN]
  let home: Awaited<ReturnType<typeof core.openHomeNode>>
  try {
    home = await core
      .openHomeNode({
        store,
        network: nodeNet.nodeNetwork(HOME_NODE_NETWORK),
        listen: [...listen, ...extraListen],
        log: (message, fields) => log.info(message, fields),
      })
      .catch(async (error) => {
        // The remembered port is taken: a new one (the owner's device learns it from the new link).
        if (options.listen.length > 0 || remembered === undefined) throw error
        log.warn('remembered port is taken; listening on a new one', errorFields(error))
        return core.openHomeNode({
          store,
          network: nodeNet.nodeNetwork(HOME_NODE_NETWORK),
          listen: [DEFAULT_LISTEN, ...extraListen],
        })
      })
  } catch (error) {
    await store.close().catch(() => undefined)
    await removeLockPid(paths.lock).catch(() => undefined)
    throw error
  }
  const seeder = await openSeeder(home, store, log).catch(async (error) => {
    await removeLockPid(paths.lock).catch(() => undefined)
    throw error
  })
  let web: HomeWeb | undefined
  if (tls !== undefined && options.https !== undefined) {
    try {
      web = await startHomeWeb(home, {
        dist: webDist(),
        port: options.https.port,
        tls,
        log: log.child('https'),
      })
    } catch (error) {
      await seeder.stop().catch(() => undefined)
      await home.stop().catch(() => undefined)
      await store.close().catch(() => undefined)
      await removeLockPid(paths.lock).catch(() => undefined)
      throw error
    }
  }
  const addrs = home.node.getMultiaddrs().map((a) => a.toString())
  if (options.listen.length === 0) {
    // Plain TCP only: not the loopback WebSocket listener nor the announced HTTPS port.
    const tcp = home.node
      .getMultiaddrs()
      .find((a) => /^\/ip[46]\/[^/]+\/tcp\/\d+(\/p2p\/[^/]+)?$/.test(a.toString()))
    const port = tcp?.toString().match(/\/tcp\/(\d+)/)?.[1]
    if (port !== undefined) await store.put(portKey, new TextEncoder().encode(`/ip4/0.0.0.0/tcp/${port}`))
  }
  const serveLink = home.link()
  await writeFile(hp.link, `${serveLink}\n`, { mode: 0o600 })
  log.info('home node ready', {
    peerId: home.node.peerId.toString(),
    addrs: addrs.length,
    https: web !== undefined,
  })
  if (ctx.json)
    out.json({
      event: 'ready',
      peerId: home.node.peerId.toString(),
      addrs,
      serveLink,
      ...(web === undefined ? {} : { https: web.urls, fingerprint: web.fingerprint }),
    })
  else {
    out.line('Jiayi home node is running (it holds no keys of yours: only what your contacts leave for you).')
    out.line(`  peer id   ${home.node.peerId.toString()}`)
    out.line('  listening on')
    for (const a of addrs) out.line(`    ${a}`)
    out.line(`  link      ${serveLink}`)
    if (web !== undefined) {
      for (const u of web.urls) out.line(`  web app   ${u}`)
      out.line(`  cert      SHA-256 ${web.fingerprint}`)
      out.line('On your phone: open the web app address, install it, and add this link in Settings.')
    }
    out.line(
      "On your own device: jiayi home-node add 'LINK' (the link above; `jiayi home-link` shows it again).",
    )
    out.line('Stop it with Ctrl+C.')
  }
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', errorFields(reason)))
  const signal = await stopSignal
  // What it kept and refused this run, for whoever reads the log (refusals are also logged one by one).
  const stats = home.mailbox.stats()
  log.info('mailbox stats', {
    items: stats.items,
    bytes: stats.bytes,
    depositors: stats.depositors,
    boxes: Object.keys(stats.boxes).length,
    notices: stats.notices,
    refused: Object.entries(stats.refused)
      .map(([code, n]) => `${code}=${n}`)
      .join(' '),
  })
  const relay = home.relayRefused()
  log.info('relay stats', { refusedReservations: relay.reservation, refusedConnections: relay.connection })
  if (ctx.json) out.json({ event: 'stopping', signal })
  const timer = setTimeout(() => process.exit(EXIT_INTERNAL), SHUTDOWN_TIMEOUT_MS)
  timer.unref()
  await web?.close().catch(() => undefined)
  await seeder.stop().catch(() => undefined)
  await home.stop().catch(() => undefined)
  await store.close().catch(() => undefined)
  await rm(hp.link, { force: true }).catch(() => undefined)
  await removeLockPid(paths.lock).catch(() => undefined)
  clearTimeout(timer)
  if (ctx.json) out.json({ event: 'stopped' })
  return EXIT_OK
}

/**
 * Its owner's feed, seeded (@jiayi/feed seeder.ts): who may push and pull is what the mailbox's
 * certificate and depositor list say.
 */
async function openSeeder(
  home: Awaited<ReturnType<Awaited<ReturnType<typeof loadCore>>['openHomeNode']>>,
  store: Parameters<Awaited<ReturnType<typeof loadCore>>['openHomeNode']>[0]['store'],
  log: Context['log'],
) {
  // The seeder alone: a home node never opens a feed (no Yjs to load).
  const { FeedSeeder } = await import('@jiayi/feed/seeder')
  const mailbox = home.mailbox
  try {
    return await FeedSeeder.open({
      node: home.node,
      store,
      owner: () => mailbox.certificate()?.ownerKey,
      isOwnerDevice: (peer) => mailbox.isOwnerDevice(peer),
      isOwnersContact: (peer) => mailbox.isOwnersContact(peer),
      log: (message, fields) => log.info(message, fields),
    })
  } catch (error) {
    await home.stop().catch(() => undefined)
    await store.close().catch(() => undefined)
    throw error
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
