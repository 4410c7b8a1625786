/**
 * `jiayi send-file CONTACT PATH`, `jiayi files` and `jiayi accept-file ID`, over the control
 * socket like the other commands. A received file downloads on its own unless it is large or over
 * a quota (@jiayi/core files/auto-download.ts); then `files` says so and `accept-file` starts it. send-file offers the file, then follows the transfer with a progress bar (speed, time
 * left) on stderr until the contact has it; with --json it prints only {"id","status"} at the end.
 * Ctrl+C stops watching (and says so); the peer keeps sending (and resumes after restarts) on its
 * own until the contact has the file or `jiayi cancel-file ID` stops it. `files` lists both
 * directions.
 *
 * `send-file GROUP PATH` offers the file in a group (a name that is a contact's and a group's is
 * refused, listing both ids): it returns once the group message is out, since every member
 * fetches the file from this peer on its own; with --json it prints {"id","status","groupId",
 * "sender":{"id","name"}}, as a group message has them.
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { TransferView } from '@jiayi/core'
import { arg, type Context, optString } from '../cli/context.js'
import { CliError, EXIT_OK, EXIT_USER } from '../cli/errors.js'
import { jiayiCommand } from '../cli/home.js'
import { shownLine } from '../cli/terminal-text.js'
import type { ControlClient } from '../control/client.js'
import { nameOf, shortTime } from './format.js'
import { withPeer } from './remote.js'

const POLL_MS = 200
const BAR_WIDTH = 24

export async function sendFile(ctx: Context): Promise<number> {
  const contact = arg(ctx, 0, 'the contact (id or name)')
  const path = resolve(arg(ctx, 1, 'the file to send'))
  const info = await stat(path).catch(() => undefined)
  if (info === undefined) throw new CliError('Usage', `no such file: ${path}`)
  if (!info.isFile()) throw new CliError('Usage', `not a regular file: ${path}`)
  const name = optString(ctx, 'name')
  const done = await withPeer(ctx, async (client) => {
    if (!ctx.json) ctx.out.note(`Offering ${path}…`)
    // A group's file is hashed before its offer (every member checks the same digest).
    const offered = await client.call('sendFile', {
      contact,
      source: path,
      ...(name === undefined ? {} : { name }),
    })
    // Ctrl+C stops watching, not the transfer: say so, and how to stop it for good.
    const onInterrupt = () => {
      if (!ctx.json)
        ctx.out.note(
          `\nStopped watching. The peer goes on sending ${offered.name} (id ${offered.id}) on its own; ` +
            `see it with: ${jiayiCommand(ctx.paths.home, 'files')}, or stop it with: ${jiayiCommand(ctx.paths.home, `cancel-file ${offered.id}`)}`,
        )
      process.exit(130)
    }
    // A group's members each fetch it when they read the message: there is no one transfer to follow.
    if (offered.groupId !== undefined) return offered
    process.once('SIGINT', onInterrupt)
    try {
      return await follow(ctx, client, offered)
    } finally {
      process.off('SIGINT', onInterrupt)
    }
  })
  if (done.groupId !== undefined) {
    if (ctx.json)
      ctx.out.json({ id: done.id, status: done.status, groupId: done.groupId, sender: done.sender })
    else
      ctx.out.line(
        `Sent ${shownLine(done.name)} (${formatBytes(done.size)}) to the group, id ${done.id}; ` +
          'each member fetches it from this peer while it runs.',
      )
    return EXIT_OK
  }
  if (ctx.json) ctx.out.json({ id: done.id, status: done.status })
  else if (done.status === 'complete')
    ctx.out.line(`Sent ${shownLine(done.name)} (${formatBytes(done.size)}), id ${done.id}`)
  else ctx.out.note(`The transfer failed: ${reasonText(done.reason)} (id ${done.id})`)
  return done.status === 'complete' ? EXIT_OK : EXIT_USER
}

/** Polls the transfer until it is final, drawing the progress bar on a terminal. */
async function follow(ctx: Context, client: ControlClient, first: TransferView): Promise<TransferView> {
  const bar = !ctx.json && process.stderr.isTTY === true
  const samples: { t: number; bytes: number }[] = []
  let t = first
  let shownNote: string | undefined
  for (;;) {
    if (t.status === 'complete' || t.status === 'failed') break
    const now = Date.now()
    samples.push({ t: now, bytes: t.bytes })
    while (samples.length > 2 && now - samples[0]!.t > 3_000) samples.shift()
    const speed = rate(samples)
    if (bar) process.stderr.write(`\r${progressLine(t, speed)}`)
    // Each time the transfer stops for the contact, once: what happens next and that Ctrl+C
    // loses nothing (the bar says it too, in short).
    const stalled = t.note === 'offline' || t.note === 'interrupted' ? t.note : undefined
    if (!ctx.json && stalled !== undefined && stalled !== shownNote) {
      const what =
        stalled === 'offline'
          ? 'Waiting for the contact to come online'
          : `The contact went away at ${formatBytes(t.bytes)} of ${formatBytes(t.size)}`
      ctx.out.note(
        `${bar ? '\n' : ''}${what}: the transfer resumes where it stopped once they are back ` +
          '(Ctrl+C stops watching; the peer keeps the transfer and resumes it on its own).',
      )
    }
    shownNote = stalled
    await new Promise((r) => setTimeout(r, POLL_MS))
    t = await client.call('transfer', { id: t.id })
  }
  if (bar) process.stderr.write(`\r${progressLine(t, 0)}\n`)
  return t
}

function rate(samples: readonly { t: number; bytes: number }[]): number {
  if (samples.length < 2) return 0
  const a = samples[0]!
  const b = samples[samples.length - 1]!
  return b.t > a.t ? ((b.bytes - a.bytes) * 1000) / (b.t - a.t) : 0
}

/** "[#########...............]  38%  102 MB / 268 MB  95.1 MB/s  0:02 left" */
export function progressLine(t: TransferView, bytesPerSecond: number): string {
  const fraction = t.size === 0 ? (t.status === 'complete' ? 1 : 0) : Math.min(1, t.bytes / t.size)
  const filled = Math.round(fraction * BAR_WIDTH)
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4)
  const amount = `${formatBytes(t.bytes)} / ${formatBytes(t.size)}`
  let tail: string
  if (t.status === 'complete') tail = 'done'
  else if (t.status === 'failed') tail = `failed: ${reasonText(t.reason)}`
  else if (bytesPerSecond > 0)
    tail = `${formatBytes(bytesPerSecond)}/s  ${formatDuration((t.size - t.bytes) / bytesPerSecond)} left`
  else tail = t.note === undefined ? 'waiting' : noteText(t.note)
  return `${bar} ${pct}  ${amount}  ${tail}`.padEnd(78)
}

export async function files(ctx: Context): Promise<void> {
  const { list, held, names } = await withPeer(ctx, async (c) => {
    const list = await c.call('files')
    if (ctx.json) return { list, held: new Map<string, string>(), names: new Map<string, string>() }
    const transfers = await c.call('transfers')
    const held = new Map(transfers.flatMap((t) => (t.hold === undefined ? [] : [[t.id as string, t.hold]])))
    const contacts = await c.call('contactList')
    const names = new Map(contacts.map((k) => [k.id as string, nameOf(k)]))
    // A group's file names its group, and its sender as the group does (members are no contacts).
    const groups = list.some((f) => f.groupId !== undefined) ? await c.call('groups') : []
    for (const g of groups) {
      names.set(g.id, g.name)
      for (const m of g.members) if (!names.has(m.id)) names.set(m.id, m.name)
    }
    return { list, held, names }
  })
  if (ctx.json) return ctx.out.json(list)
  if (list.length === 0) return ctx.out.line('No files sent or received yet.')
  for (const f of list) {
    const hold = held.get(f.id)
    const where =
      hold !== undefined
        ? `(waits for you: ${HOLD_TEXT[hold] ?? hold}; ${jiayiCommand(ctx.paths.home, `accept-file ${f.id}`)})`
        : f.status === 'incoming'
          ? '(arriving)'
          : f.status === 'sending'
            ? `(sending; ${jiayiCommand(ctx.paths.home, `cancel-file ${f.id}`)} stops it)`
            : (f.path ?? '(not kept)')
    // A contact removed since is named by the id the file was filed under.
    const who = shownLine(names.get(f.contact) ?? f.contact)
    const group = f.groupId === undefined ? undefined : shownLine(names.get(f.groupId) ?? f.groupId)
    const peer =
      group !== undefined
        ? f.direction === 'out'
          ? `to the group ${group}`
          : `from ${who} in ${group}`
        : f.direction === 'out'
          ? `to ${who}`
          : `from ${who}`
    ctx.out.line(
      `[${shortTime(f.createdAt)}] ${f.status.padEnd(8)}  ${formatBytes(f.size).padStart(8)}  ${shownLine(f.name)}  ${peer}  ${shownLine(where)}`,
    )
  }
}

const HOLD_TEXT: Record<string, string> = {
  large: 'larger than your limit',
  'contact-quota': "over today's quota for this contact",
  'total-quota': "over today's quota for all contacts",
  'disk-space': 'it would leave too little free disk space',
}

export async function cancelFile(ctx: Context): Promise<void> {
  const id = arg(ctx, 0, 'the file id (see: jiayi files)')
  const t = await withPeer(ctx, (c) => c.call('cancelFile', { id }))
  if (ctx.json) return ctx.out.json(t)
  ctx.out.line(`Cancelled ${shownLine(t.name)} (id ${t.id}).`)
}

export async function acceptFile(ctx: Context): Promise<void> {
  const id = arg(ctx, 0, 'the file id (see: jiayi files)')
  const t = await withPeer(ctx, (c) => c.call('acceptFile', { id }))
  if (ctx.json) return ctx.out.json(t)
  ctx.out.line(
    `Downloading ${shownLine(t.name)} (${formatBytes(t.size)}); see its progress with: jiayi files`,
  )
}

const REASONS: Record<string, string> = {
  'bad-chunk': 'a piece failed its integrity check',
  'size-mismatch': 'the data did not match the announced size',
  'hash-mismatch': 'the file did not match its announced SHA-256',
  'too-large': 'the file is over the size limit',
  refused: 'the contact refused it',
  cancelled: 'it was cancelled',
  'source-changed': 'the file changed on disk while being sent',
  'source-gone': 'the file can no longer be read',
  'unknown-file': 'the other side does not know this file',
  storage: 'storing it failed',
  protocol: 'the other side broke the protocol',
}

function reasonText(reason: string | undefined): string {
  return reason === undefined ? 'unknown reason' : (REASONS[reason] ?? reason)
}

function noteText(note: string): string {
  if (note === 'offline') return 'waiting for the contact; resumes then'
  if (note === 'interrupted') return 'interrupted; resumes when the contact is back'
  return note.replace(/-/g, ' ')
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = n / 1000
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}
