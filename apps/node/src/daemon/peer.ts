/**
 * `jiayi start`: the peer in the foreground. Order matters:
 *   1. the store's LevelDB lock (one peer per home), then peer.lock with our pid;
 *   2. unlock (passphrase or key file), load (or, with --init-if-needed, create) the identity;
 *   3. the peer, assembled by @jiayi/feed's `openPeer` (node on the remembered ports with the
 *      kept WebRTC-Direct certificate, messenger, files in the home, feed);
 *   4. the control socket; only then "ready", so a command run after ready always finds it.
 * SIGINT / SIGTERM / SIGHUP shut down in reverse: web, socket, then the peer (feed, files,
 * messenger, node, peer.lock, store).
 */
import { hostname, userInfo } from 'node:os'
import type { JiayiNode, Messenger, PublicDhtOptions, Store } from '@jiayi/core'
import type { MdnsOptions } from '@jiayi/core/node'
import type { Peer, PeerInit } from '@jiayi/feed'
import { type Context, carryOnWithoutOutput, optFlag, optList, optString } from '../cli/context.js'
import { CliError, EXIT_INTERNAL, EXIT_OK } from '../cli/errors.js'
import { ensureHome, homeExists, jiayiCommand, shellWord } from '../cli/home.js'
import { errorFields } from '../cli/log.js'
import { shownLine } from '../cli/terminal-text.js'
import { type ControlServer, listenControlSocket } from '../control/unix-server.js'
import { loadCore } from '../core.js'
import { clearSessionsStale, foundNote, openHomeStore, sessionsStale, unlockOptions } from '../storage.js'
import { nodeAccount, type RunningWeb, startWeb, type WebOptions, webOptions } from '../web/start.js'
import { createDispatcher, type HostParts, pathSource } from './api-host.js'
import { saveLastCard } from './last-card.js'
import { LinkPreviewer, previewRoutes, routedPreviewNet } from './link-preview.js'
import {
  availablePorts,
  checkListenAddrs,
  listenError,
  listenFor,
  listenProblem,
  portsOf,
  rememberedPorts,
  rememberPorts,
} from './listen.js'
import { removeLockPid, writeLockPid } from './lock.js'
import { loadOrCreateWebrtcCertificate } from './webrtc-cert.js'

const SHUTDOWN_TIMEOUT_MS = 10_000

export interface PeerOptions {
  readonly listen: readonly string[]
  /**
   * --announce: public addresses that reach this peer although it does not listen there (a port
   * the router forwards to it). Announced to contacts (card, identify), so DCUtR and contacts
   * dial them directly.
   */
  readonly announce: readonly string[]
  /**
   * false with --no-mdns; `open` with --mdns-open (libp2p's mDNS beside the contacts-only
   * rendezvous); the hidden --mdns-tag/-port/-interval (tests) give the options.
   */
  readonly mdns: boolean | MdnsOptions
  /** false with --no-upnp: no UPnP port mapping on the home router (@jiayi/core's upnp.ts). */
  readonly upnp: boolean
  /**
   * --public-dht: join the public libp2p network for this run (public-dht.ts); without it the
   * saved setting (the web app's Settings switch) decides. --bootstrap replaces the bootstrap list
   * for this run; the hidden --dht-protocol (tests) names another DHT.
   */
  readonly publicDht: boolean
  readonly bootstrap: readonly string[]
  readonly dhtProtocol: string | undefined
  readonly initIfNeeded: boolean
  readonly name: string | undefined
  readonly showCard: boolean
  readonly web: WebOptions
  /** Hidden (tests): host names whose previews come from a server on 127.0.0.1 (link-preview.ts). */
  readonly previewRoutes: ReadonlyMap<string, number>
}

export function peerOptions(ctx: Context): PeerOptions {
  const name = optString(ctx, 'name')
  const initIfNeeded = optFlag(ctx, 'init-if-needed')
  if (name !== undefined && !initIfNeeded)
    throw new CliError('Usage', '--name goes with `jiayi init` (or `jiayi start --init-if-needed`)')
  return {
    listen: optList(ctx, 'listen'),
    announce: optList(ctx, 'announce').map(announceAddr),
    mdns: optFlag(ctx, 'no-mdns') ? false : mdnsOptions(ctx),
    upnp: !optFlag(ctx, 'no-upnp'),
    ...publicDhtOptions(ctx),
    initIfNeeded,
    name,
    showCard: optFlag(ctx, 'show-card'),
    web: webOptions(ctx),
    previewRoutes: routesOption(optList(ctx, 'preview-via')),
  }
}

function routesOption(values: readonly string[]): Map<string, number> {
  try {
    return previewRoutes(values)
  } catch (error) {
    throw new CliError('Usage', error instanceof Error ? error.message : 'bad --preview-via')
  }
}

/** --public-dht, --bootstrap (each a multiaddr ending in /p2p/PEER_ID) and --dht-protocol. */
function publicDhtOptions(ctx: Context): Pick<PeerOptions, 'publicDht' | 'bootstrap' | 'dhtProtocol'> {
  const bootstrap = optList(ctx, 'bootstrap')
  const publicDht = optFlag(ctx, 'public-dht')
  if (bootstrap.length > 0 && !publicDht) throw new CliError('Usage', '--bootstrap goes with --public-dht')
  for (const addr of bootstrap) {
    if (!/^\/.+\/p2p\/[1-9A-HJ-NP-Za-km-z]{46,64}$/.test(addr))
      throw new CliError('Usage', `--bootstrap must be a multiaddr ending in /p2p/PEER_ID: ${addr}`)
  }
  const dhtProtocol = optString(ctx, 'dht-protocol')
  if (dhtProtocol !== undefined && !/^\/[\w./-]{1,64}$/.test(dhtProtocol))
    throw new CliError('Usage', '--dht-protocol must look like /name/kad/1.0.0')
  return { publicDht, bootstrap, dhtProtocol }
}

/** --mdns-open, and the hidden test options: a private service tag, UDP port and query interval (ms). */
function mdnsOptions(ctx: Context): MdnsOptions | true {
  const open = optFlag(ctx, 'mdns-open')
  const serviceTag = optString(ctx, 'mdns-tag')
  const port = optString(ctx, 'mdns-port')
  const interval = optString(ctx, 'mdns-interval')
  if (!open && serviceTag === undefined && port === undefined && interval === undefined) return true
  const int = (name: string, v: string | undefined, min: number, max: number) => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max)
      throw new CliError('Usage', `--${name} must be an integer from ${min} to ${max}`)
    return n
  }
  if (serviceTag !== undefined && !/^_[\w-]+\._udp\.local$/.test(serviceTag))
    throw new CliError('Usage', '--mdns-tag must look like _name._udp.local')
  return {
    ...(open ? { open } : {}),
    ...(serviceTag === undefined ? {} : { serviceTag }),
    ...(port === undefined ? {} : { port: int('mdns-port', port, 1, 65_535) }),
    ...(interval === undefined ? {} : { intervalMs: int('mdns-interval', interval, 100, 3_600_000) }),
  }
}

/** The public network for this run: the flags, else the saved setting; undefined when off. */
async function publicNetworkFor(
  store: Store,
  options: PeerOptions,
  core: typeof import('@jiayi/core'),
): Promise<PublicDhtOptions | undefined> {
  const saved = await core.loadPublicNetwork(store)
  if (!options.publicDht && !saved.publicDht) return undefined
  const bootstrap = options.bootstrap.length > 0 ? options.bootstrap : saved.bootstrap
  return {
    ...(bootstrap.length > 0 ? { bootstrap } : {}),
    ...(options.dhtProtocol === undefined ? {} : { protocol: options.dhtProtocol }),
  }
}

/** The Settings switch: the saved choice, honoured at the next start; `active` is this run's. */
function publicNetworkHost(
  store: Store,
  core: typeof import('@jiayi/core'),
  active: boolean,
): Pick<NonNullable<HostParts['account']>, 'publicNetwork' | 'setPublicNetwork'> {
  return {
    publicNetwork: async () => ({ ...(await core.loadPublicNetwork(store)), active }),
    setPublicNetwork: async (setting) => {
      // Without a list the saved one stays (the switch changes only on/off).
      const bootstrap = setting.bootstrap ?? (await core.loadPublicNetwork(store)).bootstrap
      return { ...(await core.savePublicNetwork(store, { publicDht: setting.publicDht, bootstrap })), active }
    },
  }
}

/** The OS user name, as a display name for `npm start` on a first run. */
export function defaultName(): string {
  try {
    const name = userInfo().username.trim()
    if (name) return name
  } catch {
    // No passwd entry (some containers).
  }
  return process.env.USER || process.env.USERNAME || 'me'
}

/**
 * Where the node listens: exactly --listen, else the ports of the last run (so a card someone
 * already scanned keeps working), falling back to fresh ports when another program took them.
 */
async function listening(
  store: Store,
  options: PeerOptions,
  log: Context['log'],
): Promise<Pick<PeerInit, 'listen' | 'listenFallback'>> {
  if (options.listen.length > 0) {
    return {
      listen: options.listen,
      // Checked before the start; what fails here anyway (a port taken meanwhile) is named now.
      listenFallback: async (error) => {
        for (const addr of options.listen) {
          const problem = await listenProblem(addr)
          if (problem !== undefined) throw listenError(addr, problem)
        }
        throw error
      },
    }
  }
  const remembered = listenFor(await availablePorts(await rememberedPorts(store)))
  return {
    listen: remembered,
    listenFallback: async (error) => {
      if (remembered.every((a) => /\/(tcp|udp)\/0(\/|$)/.test(a))) return undefined
      log.warn('remembered ports are taken; listening on new ones', errorFields(error))
      return listenFor({})
    },
  }
}

export async function runPeer(ctx: Context, options: PeerOptions): Promise<number> {
  const { log, out, paths } = ctx
  const started = Date.now()
  // `jiayi start --json | head -c 20`: what reads our output may go away; the peer does not.
  carryOnWithoutOutput((stream, error) =>
    log.info('output closed; the peer carries on without it', { stream, code: error.code ?? 'unknown' }),
  )
  // Listening from the first instant: a signal during startup stops the peer cleanly once it is
  // up; a second signal (at any time) ends the process at once.
  let signals = 0
  let stopNow: (s: NodeJS.Signals) => void = () => {}
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    stopNow = resolve
    const onSignal = (s: NodeJS.Signals) => {
      signals++
      if (signals === 1) return resolve(s)
      log.error('forced exit', { signal: s })
      process.exit(130)
    }
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal)
  })
  // Without an identity and without --init-if-needed nothing is created (not even the home), so
  // a later `jiayi init --passphrase …` is still free to choose how the store is locked.
  if (!options.initIfNeeded && !(await homeExists(paths)))
    throw new CliError(
      'NoAccount',
      `no identity in ${paths.home} yet; create one with: ${jiayiCommand(paths.home, 'init --name NAME')}`,
    )
  await ensureHome(paths.home, (w) => log.warn(w))
  // A typo or a busy port in --listen is the user's to fix, and said before anything opens.
  await checkListenAddrs(options.listen)
  const core = await loadCore()
  const nodeNet = await import('@jiayi/core/node')
  const { openPeer } = await import('@jiayi/feed')
  const opened = await openHomeStore(paths, unlockOptions(ctx))
  await writeLockPid(paths.lock)
  if (opened.found.length > 0)
    log.warn('the store lost its last writes', { files: opened.found.map((p) => p.file).join(' ') })
  // peer.lock goes before the store's lock: a peer started after us then keeps its own.
  const closeStore = async () => {
    await removeLockPid(paths.lock).catch(() => undefined)
    await opened.close()
  }
  let peer: Peer | undefined
  let server: ControlServer | undefined
  let web: RunningWeb | undefined
  let events: EventLines | undefined
  const cleanup = async () => {
    events?.stop(false)
    await web?.close().catch(() => undefined)
    await server?.close().catch(() => undefined)
    if (peer !== undefined) await peer.stop().catch(() => undefined)
    else await closeStore().catch(() => undefined)
  }
  try {
    const store = opened.store
    let account = await core.loadAccount(store)
    if (account === undefined) {
      if (!options.initIfNeeded)
        throw new CliError(
          'NoAccount',
          `no identity in ${paths.home} yet; create one with: ${jiayiCommand(paths.home, 'init --name NAME')}`,
        )
      account = await core.createAccount(store, options.name ?? defaultName(), { deviceName: hostname() })
      log.info('identity created')
      if (!ctx.json) out.note(`Created a new identity "${account.name}" in ${paths.home}`)
    }
    const { certificate, created } = await loadOrCreateWebrtcCertificate(store)
    if (created) log.info('new webrtc-direct certificate', { certhash: certificate.certhash })
    // Lost writes (found at open, or a repair since the last run) may have taken our ratchets
    // back in time: every secure session starts afresh.
    const staleSessions = await sessionsStale(store)
    const publicNetwork = await publicNetworkFor(store, options, core)
    if (publicNetwork !== undefined)
      log.info('joining the public network', { bootstrap: publicNetwork.bootstrap?.length ?? 'public' })
    peer = await openPeer({
      store,
      closeStore,
      account,
      network: nodeNet.nodeNetwork({
        mdns: options.mdns,
        webrtcDirectCertificate: certificate,
        reach: { upnp: options.upnp },
      }),
      ...(await listening(store, options, log)),
      ...(publicNetwork === undefined ? {} : { node: { publicDht: publicNetwork } }),
      // Files land in <home>/files.
      fileStorage: nodeNet.NodeFileStorage.forHome(paths.home),
      messenger: {
        resetSessions: staleSessions || opened.found.length > 0,
        deviceName: hostname(),
        // Tests make device links expire in moments (JIAYI_LINK_TTL_MS); people get 5 minutes.
        ...(linkTtl() === undefined ? {} : { linkTtlMs: linkTtl() }),
      },
      // Event lines from the first event (a session reset begun at open says so), written once
      // ready is out.
      onMessenger: (m) => {
        events = watchEvents(ctx, m)
      },
      log,
    })
    if (staleSessions) await clearSessionsStale(store)
    const { messenger, files, feed, node } = peer
    const addrs = node.getMultiaddrs().map((a) => a.toString())
    if (options.listen.length === 0) await rememberPorts(store, portsOf(addrs))
    await saveLastCard(store, messenger.card())
    // Tests route their preview links to loopback servers; nothing else ever reaches them.
    const previewer = new LinkPreviewer(
      options.previewRoutes.size > 0 ? routedPreviewNet(options.previewRoutes) : undefined,
    )
    const parts: HostParts = {
      messenger,
      files,
      feed,
      node,
      describeConnection: core.describeConnection,
      account: {
        ...publicNetworkHost(store, core, node.services.dht !== undefined),
        ...nodeAccount(
          store,
          () => messenger.whoami().name,
          core,
          (n) => messenger.setName(n),
          (current, next, onProgress) => {
            log.info('changing the passphrase')
            return opened
              .changePassphrase(current, next, onProgress)
              .then(() => log.info('passphrase changed'))
          },
        ),
      },
      previewLinks: optFlag(ctx, 'no-link-previews') ? undefined : (urls) => previewer.makeAll(urls),
      log,
    }
    if (options.announce.length > 0) node.services.announcedAddrs.add(options.announce)
    server = await listenControlSocket(
      paths.socket,
      createDispatcher(parts, pathSource(nodeNet.nodeFileSource), 'control'),
      { log: log.child('control') },
    )
    if (options.web.enabled) web = await startWeb(parts, store, paths, options.web, nodeNet.nodeFileSource)
  } catch (error) {
    await cleanup()
    throw error
  }
  const m = peer.messenger
  const n = peer.node
  const addrs = n.getMultiaddrs().map((a) => a.toString())
  log.info('peer ready', { peerId: n.peerId.toString(), addrs: addrs.length, ms: Date.now() - started })

  // Output: with --json one object per line (ready first); for people, a short status.
  if (ctx.json) {
    out.json({
      event: 'ready',
      peerId: n.peerId.toString(),
      addrs,
      ...(web ? { web: web.url } : {}),
      ...(web?.fingerprint ? { webLan: web.lanUrls, webCertificate: web.fingerprint } : {}),
      ...(web?.lan ? { webLanLinks: web.lan.links } : {}),
      // How others reach this peer, as far as is known at start: AutoNAT and the home node
      // reservation take a moment; each change after this line comes as a `reach` event.
      reach: m.reach(),
      // Present when this run joined the public libp2p network (--public-dht or the setting).
      ...(n.services.dht === undefined ? {} : { publicDht: true }),
      // Only when opening found damage: which files, and what it cost.
      ...(opened.found.length > 0 ? { store: { lostWrites: true, files: opened.found } } : {}),
    })
  } else {
    const me = m.whoami()
    out.line(`Jiayi peer "${me.name}" is running.`)
    out.line(`  peer id   ${me.peerId}`)
    out.line('  listening on')
    for (const a of addrs) out.line(`    ${a}`)
    out.line(`  control   ${paths.socket}`)
    if (web) {
      out.line(`  web app   ${web.url}`)
      for (const u of web.lanUrls) out.line(`  on LAN    ${u}   (a full peer in the browser; no token)`)
      if (web.fingerprint) out.line(`  TLS cert  SHA-256 ${web.fingerprint}`)
      const link = web.lan?.links[0]
      if (link !== undefined) {
        const { printCertLink } = await import('../commands/card-print.js')
        out.line()
        await printCertLink(out, link)
      }
    }
    if (options.showCard) {
      const { printCard } = await import('../commands/card-print.js')
      out.line()
      await printCard(out, m.card(), 'Your card: others add you with this link or by scanning the QR code.')
    }
    out.line('Stop it with Ctrl+C.')
    if (opened.found.length > 0) out.note(`\nNote: ${foundNote(opened.found)}`)
  }
  const watching = events!
  watching.release()
  // Another of our devices removed this one: its store is wiped (@jiayi/core), the peer ends.
  m.events.on('device', () => {
    log.warn('this device was removed from its account; its store is wiped')
    stopNow('SIGTERM')
  })
  const lastCard = watchCard(ctx, m, n, opened.store)

  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', errorFields(reason)))
  process.on('uncaughtException', (error) => log.error('uncaught exception', errorFields(error)))

  const signal = await stopSignal
  log.info('shutting down', { signal })
  watching.stop() // and writes the event lines still batched, before "stopping"
  if (ctx.json) out.json({ event: 'stopping', signal })
  else out.note(`\nStopping (${signal})…`)
  // A shutdown that hangs ends the process without waiting.
  const timer = setTimeout(() => {
    log.error('shutdown timed out')
    process.exit(EXIT_INTERNAL)
  }, SHUTDOWN_TIMEOUT_MS)
  timer.unref()
  lastCard.stop()
  await cleanup()
  clearTimeout(timer)
  log.info('stopped')
  if (ctx.json) out.json({ event: 'stopped' })
  else out.note('Stopped. Messages sent to you meanwhile wait with your contacts until the next start.')
  return EXIT_OK
}

/** Live events on stdout: no message text there (it may end up in a file), only what happened. */
interface EventLines {
  /** Lets the lines held since the start out (after the ready line), and the next ones as they come. */
  release(): void
  /** Stops listening and writes what is still batched (unless the start failed: `write` false). */
  stop(write?: boolean): void
}

function watchEvents(ctx: Context, m: Messenger): EventLines {
  const out = batchedLines(ctx.out)
  const states = new Map(m.contactList().map((c) => [c.id as string, c.state]))
  let released = false
  let shownReach: ShownReach = m.reach()
  const offs = [
    m.events.on('message', (e) => {
      if (ctx.json) {
        out.json({
          event: 'message',
          change: e.change,
          contactId: e.contactId,
          id: e.message.id,
          direction: e.message.direction,
          status: e.message.status,
        })
      } else if (e.change === 'new' && e.message.direction === 'in') {
        const name = safeName(m, e.contactId)
        out.line(
          `New message from ${name} (read it with: ${jiayiCommand(ctx.paths.home, `chat ${shellWord(name)}`)})`,
        )
      }
    }),
    m.events.on('device', (e) => {
      if (ctx.json) return out.json({ event: 'device', change: e.change })
      out.line(
        'This device was removed by another of your devices: its data here is wiped. (此设备已被移除，数据已清除)',
      )
    }),
    m.events.on('storage', (e) => {
      if (ctx.json) return out.json({ event: 'storage', state: e.state })
      out.line(
        e.state === 'full'
          ? 'The disk is full: nothing new is stored or acknowledged (senders keep their messages and try again). Free some space; the peer carries on by itself.'
          : 'The disk has room again: carrying on.',
      )
    }),
    m.events.on('session', (e) => {
      if (ctx.json) {
        out.json({ event: 'session', change: e.change, contactId: e.contactId, by: e.by, resent: e.resent })
        return
      }
      const name = safeName(m, e.contactId)
      const again = e.resent > 0 ? ` ${e.resent} message(s) that did not arrive were sent again.` : ''
      out.line(
        `The secure session with ${name} was reset ${e.by === 'us' ? 'by this peer' : `by ${name}`}.${again}`,
      )
    }),
    m.events.on('reach', (e) => {
      // Before the ready line, which carries the reach of that moment, a change is not news.
      if (!released) return
      const before = shownReach
      if (reachKey(e) === reachKey(before)) return
      shownReach = e
      if (ctx.json) return out.json({ event: 'reach', reach: e })
      for (const a of e.mapped)
        if (!before.mapped.includes(a)) out.line(`Reachable from outside at ${a} (UPnP)`)
      for (const r of e.relays) if (!before.relays.includes(r)) out.line(`Reachable through relay ${r}`)
    }),
    m.events.on('contact', (e) => {
      const before = states.get(e.id)
      const state = e.contact?.state
      if (state === undefined) states.delete(e.id)
      else states.set(e.id, state)
      if (ctx.json) {
        out.json({ event: 'contact', change: e.change, id: e.id, state: state ?? null })
        return
      }
      // Only state transitions matter to a person; address updates stay quiet.
      if (state === 'pending-in' && before === undefined) {
        out.line(
          `${shownLine(e.contact!.name)} wants to add you: ${jiayiCommand(ctx.paths.home, `accept ${e.id}`)}   (or: ${jiayiCommand(ctx.paths.home, `reject ${e.id}`)})`,
        )
      } else if (state === 'accepted' && before === 'pending-out') {
        out.line(`${shownLine(e.contact!.name)} accepted your request.`)
      }
    }),
  ]
  return {
    release: () => {
      released = true
      shownReach = m.reach()
      out.release()
    },
    stop(write = true) {
      for (const off of offs.splice(0)) off()
      if (write) out.release()
    },
  }
}

type ShownReach = {
  readonly nat: string
  readonly mapped: readonly string[]
  readonly relays: readonly string[]
}

function reachKey(r: ShownReach): string {
  return JSON.stringify([r.nat, [...r.relays].sort(), [...r.mapped].sort()])
}

/**
 * Event lines collected for up to EVENT_LINES_MS and written together: a busy peer emits several
 * events per message, and each write to a pipe is a synchronous system call that also wakes the
 * reader (measured at 1,000 msg/s: ~30 µs of the sender's CPU per message, one write per event).
 * A person or a script does not notice 20 ms; the lines keep their order, and stopping writes
 * what is left.
 */
const EVENT_LINES_MS = 20
const EVENT_LINES_MAX = 1024

function batchedLines(target: Context['out']): Context['out'] & { release(): void } {
  let lines: string[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  // Held until release(): nothing may precede the ready line.
  let held = true
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (lines.length === 0) return
    const text = lines.join('\n')
    lines = []
    target.line(text)
  }
  const push = (text: string) => {
    lines.push(text)
    if (held) return
    if (lines.length >= EVENT_LINES_MAX) flush()
    else timer ??= setTimeout(flush, EVENT_LINES_MS)
  }
  return {
    json: (value) => push(JSON.stringify(value)),
    line: (text = '') => push(text),
    note: (text) => target.note(text),
    write(text) {
      flush()
      target.write(text)
    },
    release() {
      held = false
      flush()
    },
  }
}

function safeName(m: Messenger, id: string): string {
  try {
    return shownLine(m.contact(id).name)
  } catch {
    return id
  }
}

/** Keeps the stored "last card" (what `jiayi card` shows while no peer runs) up to date. */
function watchCard(ctx: Context, m: Messenger, n: JiayiNode, s: Store) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const onUpdate = () => {
    if (timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void saveLastCard(s, m.card()).catch((error) =>
        ctx.log.debug('could not save the card', errorFields(error)),
      )
    }, 1_000)
  }
  n.addEventListener('self:peer:update', onUpdate)
  return {
    stop() {
      n.removeEventListener('self:peer:update', onUpdate)
      if (timer !== undefined) clearTimeout(timer)
    },
  }
}

/** An --announce address: an IP and a TCP port (what a router forwards), without /p2p. */
function announceAddr(text: string): string {
  if (!/^\/ip[46]\/[0-9a-fA-F:.]+\/tcp\/\d{1,5}$/.test(text))
    throw new CliError('Usage', `--announce takes /ip4/ADDRESS/tcp/PORT (a forwarded port), not ${text}`)
  return text
}

function linkTtl(): number | undefined {
  const raw = process.env.JIAYI_LINK_TTL_MS
  const ms = raw === undefined ? Number.NaN : Number(raw)
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined
}
