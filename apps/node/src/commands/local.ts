/**
 * Commands that work without a running peer: init (creates the identity), whoami and card (ask
 * the running peer if there is one, else read the store directly).
 */
import { hostname } from 'node:os'
import type { CardView, MeView, Store } from '@jiayi/core'
import { type Context, optList, optString } from '../cli/context.js'
import { CliError } from '../cli/errors.js'
import { ensureHome, homeExists, jiayiCommand } from '../cli/home.js'
import { ControlClient } from '../control/client.js'
import { loadCore, loadHomeStore } from '../core.js'
import { loadLastCard } from '../daemon/last-card.js'
import { openHomeStore, unlockOptions } from '../storage.js'

function noAccount(ctx: Context): CliError {
  return new CliError(
    'NoAccount',
    `no identity in ${ctx.paths.home} yet; create one with: ${jiayiCommand(ctx.paths.home, 'init --name NAME')}`,
  )
}

/** How long whoami/card wait for a peer that holds the store but has not opened its socket yet. */
const STARTING_WAIT_MS = 15_000

/**
 * Runs `remote` against the running peer, or `local` against the store when none runs. A peer
 * that is still starting (it holds the store, its socket is not there yet) is waited for.
 */
async function viaPeerOrStore<T>(
  ctx: Context,
  remote: (client: ControlClient) => Promise<T>,
  local: (store: Store) => Promise<T>,
): Promise<{ value: T; live: boolean }> {
  const { paths } = ctx
  const deadline = Date.now() + STARTING_WAIT_MS
  for (;;) {
    const client = await ControlClient.tryConnect(paths.socket, paths.home)
    if (client !== undefined) {
      try {
        return { value: await remote(client), live: true }
      } finally {
        client.close()
      }
    }
    if (!(await homeExists(paths))) throw noAccount(ctx)
    let opened: Awaited<ReturnType<typeof openHomeStore>>
    try {
      opened = await openHomeStore(paths, unlockOptions(ctx))
    } catch (error) {
      if (CliError.is(error, 'AlreadyRunning') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200))
        continue
      }
      throw error
    }
    try {
      return { value: await local(opened.store), live: false }
    } finally {
      await opened.close()
    }
  }
}

export async function init(ctx: Context): Promise<void> {
  const link = optList(ctx, 'link')[0]
  if (link !== undefined) return initByLink(ctx, link)
  const name = optString(ctx, 'name')?.trim()
  if (!name) throw new CliError('Usage', 'give a display name: jiayi init --name NAME')
  await ensureHome(ctx.paths.home, (w) => ctx.log.warn(w))
  const { createAccount } = await loadCore()
  const opened = await openHomeStore(ctx.paths, { passphrase: ctx.passphrase })
  let me: MeView
  try {
    me = meOf(
      await createAccount(opened.store, name, { deviceName: optString(ctx, 'device-name') ?? hostname() }),
    )
    // The web server's certificate for --web-lan, made now so its fingerprint is stable from day one.
    const { loadOrCreateWebCertificate } = await import('../web/tls.js')
    await loadOrCreateWebCertificate(opened.store)
  } finally {
    await opened.close()
  }
  ctx.log.info('identity created', { peerId: me.peerId })
  if (ctx.json) return ctx.out.json(me)
  ctx.out.line(`Created the identity "${me.name}" in ${ctx.paths.home}`)
  ctx.out.line(`  identity key  ${me.identityKey}`)
  ctx.out.line(`  peer id       ${me.peerId}`)
  ctx.out.line(
    `Next: ${jiayiCommand(ctx.paths.home, 'start')}   (then: ${jiayiCommand(ctx.paths.home, 'card')}, to show your QR code)`,
  )
}

/** `--history all|none|DAYS` (default 90 days). */
function historyOption(ctx: Context): import('@jiayi/core').HistoryChoice {
  const raw = optString(ctx, 'history')?.trim().toLowerCase()
  if (raw === undefined) return { days: 90 }
  if (raw === 'all' || raw === 'none') return raw
  const days = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(days) || days < 1 || days > 100_000)
    throw new CliError('Usage', '--history must be all, none or a number of days')
  return { days }
}

/**
 * `init --link LINK`: this home becomes another device of the person whose device made the link.
 * Shows the code to type there, then the handover; the identity is written only at the end.
 */
async function initByLink(ctx: Context, link: string): Promise<void> {
  const history = historyOption(ctx)
  const deviceName = optString(ctx, 'name')?.trim() || hostname()
  await ensureHome(ctx.paths.home, (w) => ctx.log.warn(w))
  const core = await loadCore()
  // A bad or expired link is told before anything is opened.
  const ref = core.decodeDeviceLink(link)
  if (Date.now() > ref.expiresAt)
    throw new core.DeviceError(
      'LinkExpired',
      'this device link has expired; make a new one (链接已过期，请重新生成)',
    )
  const { nodeNetwork } = await import('@jiayi/core/node')
  const opened = await openHomeStore(ctx.paths, { passphrase: ctx.passphrase })
  let me: MeView
  try {
    const deviceKey = await core.generateDeviceKey()
    // Dials only: nothing listens, nothing is discovered. It dials where the person's own link
    // says, which may be this machine (two homes on one computer) or the link we sit on.
    const node = await core.createJiayiNode({
      privateKey: deviceKey,
      network: nodeNetwork({ mdns: false }),
      listen: [],
      relayServer: false,
      alsoDial: ['loopback', 'link-local'],
    })
    let shown = -1
    try {
      const account = await core.joinByLink({
        link,
        store: opened.store,
        node,
        deviceKey,
        name: deviceName,
        history,
        onCode: (code) => {
          if (ctx.json) ctx.out.json({ event: 'code', code })
          else {
            ctx.out.line(`Type this code on your other device: ${code}`)
            ctx.out.line(`(在另一台设备上输入此验证码: ${code})`)
          }
        },
        onProgress: (done, total) => {
          if (ctx.json) return ctx.out.json({ event: 'progress', done, total })
          const percent = total === 0 ? 100 : Math.floor((done / total) * 100)
          if (percent >= shown + 10 || done === total) {
            shown = percent
            ctx.out.line(`Receiving: ${done} / ${total} records (${percent}%)`)
          }
        },
        onResume: (done, total) => {
          if (ctx.json) return ctx.out.json({ event: 'resumed', done, total })
          ctx.out.line(`The connection ended; continuing on a new one after ${done} / ${total} records`)
          ctx.out.line('(连接已结束，正在新连接上继续)')
        },
      })
      me = meOf(account)
    } finally {
      await Promise.resolve(node.stop()).catch(() => undefined)
    }
    const { loadOrCreateWebCertificate } = await import('../web/tls.js')
    await loadOrCreateWebCertificate(opened.store)
  } finally {
    await opened.close()
  }
  ctx.log.info('device linked', { peerId: me.peerId })
  if (ctx.json) return ctx.out.json(me)
  ctx.out.line(`Linked: this home is now a device of "${me.name}" (${me.peerId}).`)
  ctx.out.line(`Next: ${jiayiCommand(ctx.paths.home, 'start')}`)
}

function meOf(account: import('@jiayi/core').Account): MeView {
  // The same view Messenger.whoami() gives, computed without a network node.
  return {
    name: account.name,
    identityKey: Buffer.from(account.identity.signing.publicKey).toString('hex'),
    peerId: account.deviceKey.publicKey.toString(),
  }
}

export async function whoami(ctx: Context): Promise<void> {
  const { value: me } = await viaPeerOrStore<MeView>(
    ctx,
    (c) => c.call('whoami'),
    async (store) => {
      const { loadAccount, loadOwnDeviceList, deviceViews } = await loadHomeStore()
      const account = await loadAccount(store)
      if (account === undefined) throw noAccount(ctx)
      const list = await loadOwnDeviceList(store, account)
      const devices = list === undefined ? [] : deviceViews(list, meOf(account).peerId, new Map())
      return { ...meOf(account), devices }
    },
  )
  if (ctx.json) return ctx.out.json(me)
  ctx.out.line(me.name)
  ctx.out.line(`  identity key  ${me.identityKey}`)
  ctx.out.line(`  peer id       ${me.peerId}`)
}

/** A card without a running peer: the last run's (it has addresses), else one with none. */
async function offlineCard(ctx: Context, store: Store): Promise<CardView> {
  const { loadAccount } = await loadHomeStore()
  const account = await loadAccount(store)
  if (account === undefined) throw noAccount(ctx)
  const last = await loadLastCard(store)
  if (last !== undefined && last.peerId === account.deviceKey.publicKey.toString()) return last
  // Only a home whose peer never ran gets here: the network and the messenger make its card.
  const core = await loadCore()
  const { nodeNetwork } = await import('@jiayi/core/node')
  // A node that never starts: no sockets, no discovery; it only gives the Messenger its peer id.
  const node = await core.createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen: [],
    relayServer: false,
    start: false,
  })
  const messenger = await core.Messenger.open({ store, node, account })
  try {
    return messenger.card()
  } finally {
    await messenger.stop()
  }
}

export async function card(ctx: Context): Promise<void> {
  const png = optString(ctx, 'png')
  const { value: view, live } = await viaPeerOrStore<CardView>(
    ctx,
    (c) => c.call('card'),
    (store) => offlineCard(ctx, store),
  )
  // The QR code's module loads only here: whoami never needs it.
  const { printCard, writeCardPng } = await import('./card-print.js')
  if (png !== undefined) await writeCardPng(png, view)
  if (!live) {
    ctx.out.note(
      view.addrs.length > 0
        ? `No peer is running: these are the addresses of its last run. Start it with: ${jiayiCommand(ctx.paths.home, 'start')}`
        : `No peer is running, so this card has no addresses yet. Start it with: ${jiayiCommand(ctx.paths.home, 'start')}`,
    )
  }
  if (ctx.json) return ctx.out.json({ ...view, live })
  await printCard(ctx.out, view)
  if (png !== undefined) ctx.out.line(`QR code written to ${png}`)
}
