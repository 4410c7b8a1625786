/**
 * Commands that work without a running peer: init (creates the identity), whoami and card (ask
 * the running peer if there is one, else read the store directly).
 */
import { hostname } from 'node:os'
import type { CardView, MeView, Store } from '@jiayi/core'
import { type Context, optString } from '../cli/context.js'
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
      const { loadAccount } = await loadHomeStore()
      const account = await loadAccount(store)
      if (account === undefined) throw noAccount(ctx)
      return meOf(account)
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
