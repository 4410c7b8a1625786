/**
 * `jiayi devices` (our devices), `jiayi devices link` (a one-time link for a new device: prints
 * it, waits for the new device, asks for the code it shows, then follows the handover) and
 * `jiayi devices remove ID`. The rules live in @jiayi/core (devices/linker.ts); this is output.
 */
import { createInterface } from 'node:readline'
import type { DeviceView, LinkStatus } from '@jiayi/core'
import { arg, type Context, optString } from '../cli/context.js'
import { CliError, RemoteError } from '../cli/errors.js'
import { shownLine } from '../cli/terminal-text.js'
import type { ControlClient } from '../control/client.js'
import { drawQr } from './card-print.js'
import { withPeer } from './remote.js'

export async function devices(ctx: Context): Promise<void> {
  const sub = ctx.args[0]
  if (sub === undefined) {
    const list = await withPeer(ctx, (c) => c.call('devices'))
    if (ctx.json) return ctx.out.json(list)
    printDevices(ctx, list)
    return
  }
  if (sub === 'link') return link(ctx)
  if (sub === 'remove') {
    const id = arg(ctx, 1, 'the id of the device to remove (see: jiayi devices)')
    const list = await withPeer(ctx, (c) => c.call('removeDevice', { id }))
    if (ctx.json) return ctx.out.json(list)
    ctx.out.line(`Removed ${id}: your contacts are told, and it wipes itself if it is online.`)
    printDevices(ctx, list)
    return
  }
  throw new CliError('Usage', `unknown: devices ${sub} (expected: devices [link | remove ID])`)
}

function printDevices(ctx: Context, list: readonly DeviceView[]): void {
  for (const d of list) {
    const seen = d.current ? 'this device' : d.lastSeen === null ? 'not seen yet' : `seen ${d.lastSeen}`
    ctx.out.line(`${d.current ? '*' : ' '} ${shownLine(d.name)}  ${d.id}  linked ${d.linkedAt}  ${seen}`)
  }
}

/** `--expires SECONDS`: a link that works for less than the default 5 minutes. */
function expiresOption(ctx: Context): { ttlMs?: number } {
  const raw = optString(ctx, 'expires')
  if (raw === undefined) return {}
  const s = Number(raw)
  if (!/^\d+$/.test(raw) || s < 1 || s > 300)
    throw new CliError('Usage', '--expires must be a number of seconds from 1 to 300')
  return { ttlMs: s * 1000 }
}

/** Lines typed on standard input, one at a time. */
function stdinLines(): () => Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin })
  const queue: string[] = []
  const waiting: ((line: string | undefined) => void)[] = []
  let closed = false
  rl.on('line', (line) => {
    const w = waiting.shift()
    if (w) w(line)
    else queue.push(line)
  })
  rl.on('close', () => {
    closed = true
    for (const w of waiting.splice(0)) w(undefined)
  })
  return () => {
    if (queue.length > 0) return Promise.resolve(queue.shift())
    if (closed) return Promise.resolve(undefined)
    return new Promise((resolve) => waiting.push(resolve))
  }
}

async function link(ctx: Context): Promise<void> {
  await withPeer(ctx, async (c) => {
    const offer = await c.call('linkDevice', expiresOption(ctx))
    if (ctx.json) ctx.out.json(offer)
    else {
      ctx.out.line('On the new device run:')
      ctx.out.line(`  jiayi init --link '${offer.link}'`)
      ctx.out.line(await drawQr(offer.qr))
      ctx.out.line(`This link works once, until ${offer.expiresAt}. Waiting for the new device…`)
    }
    const readLine = stdinLines()
    try {
      await follow(ctx, c, Date.parse(offer.expiresAt), readLine)
    } finally {
      // Standard input would keep the process alive after an error.
      process.stdin.destroy()
    }
  })
}

async function follow(
  ctx: Context,
  c: ControlClient,
  expiresAt: number,
  readLine: () => Promise<string | undefined>,
): Promise<void> {
  let after = 0
  for (;;) {
    const status = await c.call('linkStatus', { after, timeoutMs: 30_000 })
    after = status.seq
    const done = await show(ctx, c, status, readLine)
    if (done) break
    if (status.state === 'waiting' && Date.now() > expiresAt) {
      throw new RemoteError({
        code: 'LinkExpired',
        message: 'the link expired before a device used it; make a new one (链接已过期)',
        type: 'DeviceError',
      })
    }
  }
}

/** Shows one status; true when linking is over (linked). Throws when it failed. */
async function show(
  ctx: Context,
  c: ControlClient,
  status: LinkStatus,
  readLine: () => Promise<string | undefined>,
): Promise<boolean> {
  switch (status.state) {
    case 'waiting':
      return false
    case 'code': {
      if (ctx.json) ctx.out.json({ event: 'code', code: status.code, device: status.device })
      else {
        ctx.out.line(`The device "${shownLine(status.device.name)}" (${status.device.id}) wants to link.`)
        ctx.out.line(`This device shows the code ${status.code}. Type the code the NEW device shows`)
        ctx.out.line('(the same six digits if it is yours; 新设备上显示的验证码):')
      }
      const typed = await readLine()
      // An empty line or the end of input is "no": the link ends as for a wrong code.
      await c.call('confirmLink', { code: typed?.trim() || '-' })
      return false
    }
    case 'transfer':
      if (ctx.json) ctx.out.json({ event: 'progress', done: status.done, total: status.total })
      else ctx.out.line(`Handing over: ${status.done} / ${status.total} records`)
      return false
    case 'linked':
      if (ctx.json) ctx.out.json({ event: 'linked', device: status.device })
      else
        ctx.out.line(
          `Linked "${shownLine(status.device.name)}" (${status.device.id}); your contacts are told.`,
        )
      return true
    case 'failed':
      throw new RemoteError({ code: status.error, message: status.message, type: 'DeviceError' })
  }
}
