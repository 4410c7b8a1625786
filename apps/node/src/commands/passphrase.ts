/**
 * `jiayi passphrase`: locks the home with a new passphrase. Through the running peer when there is
 * one (its reads and writes wait while the store is re-sealed), else on the store directly. The
 * new passphrase comes from $JIAYI_NEW_PASSPHRASE, or is asked twice on a terminal; the current
 * one from --passphrase / $JIAYI_PASSPHRASE, or is asked when needed (a home locked by its key
 * file needs none: the key file is wiped afterwards).
 *
 * A change makes a new data key, seals every record under it, then deletes the old records and
 * the old key header from the disk: a copy of the store or of the key file taken before it opens
 * nothing written after it. Progress goes to stderr; "done" is printed once all of that is done.
 */
import type { ControlNotification } from '@jiayi/api'
import type { RekeyProgress } from '@jiayi/core'
import type { Context } from '../cli/context.js'
import { CliError, RemoteError } from '../cli/errors.js'
import { askHidden, canPrompt } from '../cli/prompt.js'
import { ControlClient } from '../control/client.js'
import { openHomeStore, unlockOptions } from '../storage.js'

/** Progress lines at most this often (the last of each phase always goes). */
const PRINT_EVERY_MS = 250
const MIN_PASSPHRASE_CHARS = 8

async function newPassphrase(): Promise<string> {
  const given = process.env.JIAYI_NEW_PASSPHRASE
  if (given !== undefined && given !== '') return checked(given)
  if (!canPrompt())
    throw new CliError(
      'Usage',
      'give the new passphrase in the JIAYI_NEW_PASSPHRASE environment variable (or run on a terminal to be asked)',
    )
  const first = checked(await askHidden('New passphrase: '))
  if ((await askHidden('New passphrase again: ')) !== first)
    throw new CliError('Usage', 'the two passphrases differ; nothing was changed')
  return first
}

function checked(passphrase: string): string {
  if ([...passphrase].length < MIN_PASSPHRASE_CHARS)
    throw new CliError(
      'Usage',
      `the new passphrase is too short (at least ${MIN_PASSPHRASE_CHARS} characters)`,
    )
  return passphrase
}

/**
 * Prints progress to stderr, a few lines a second (and the first step of each phase at once, so
 * that the start is seen even where it all takes less), and remembers how many records there were.
 */
function progressPrinter(ctx: Context) {
  let last = 0
  let phase = ''
  let steps = 0
  let records = 0
  return {
    get records() {
      return records
    },
    report(p: RekeyProgress) {
      if (p.phase === 'done') {
        records = p.total
        return
      }
      const now = Date.now()
      const complete = p.done >= p.total
      steps = p.phase === phase ? steps + 1 : 0
      if (p.phase === phase && !complete && steps > 1 && now - last < PRINT_EVERY_MS) return
      phase = p.phase
      last = now
      const what = p.phase === 'sealing' ? 'Re-sealing records under the new key' : 'Deleting the old records'
      if (!ctx.json)
        process.stderr.write(`${what}: ${p.done.toLocaleString('en')} of ${p.total.toLocaleString('en')}\n`)
    },
  }
}

function wrongSecret(error: unknown): boolean {
  return error instanceof RemoteError && error.type === 'StoreError' && error.code === 'BadPassphrase'
}

async function viaPeer(
  ctx: Context,
  client: ControlClient,
  next: string,
  report: (p: RekeyProgress) => void,
): Promise<void> {
  client.onNotification((n: ControlNotification) => {
    if (n.event === 'passphrase') report(n as unknown as RekeyProgress)
  })
  await client.request('subscribe', { events: ['passphrase'] })
  const change = (current: string | undefined) =>
    client.call('changePassphrase', { ...(current === undefined ? {} : { current }), next })
  try {
    await change(ctx.passphrase)
  } catch (error) {
    // A home locked with a passphrase that was not given: ask for it once, on a terminal.
    if (!(wrongSecret(error) && ctx.passphrase === undefined && canPrompt())) throw error
    await change(await askHidden(`Current passphrase for ${ctx.paths.home}: `))
  }
}

export async function passphrase(ctx: Context): Promise<void> {
  const next = await newPassphrase()
  const progress = progressPrinter(ctx)
  const client = await ControlClient.tryConnect(ctx.paths.socket, ctx.paths.home)
  const live = client !== undefined
  try {
    if (client !== undefined) {
      await viaPeer(ctx, client, next, (p) => progress.report(p))
    } else {
      const opened = await openHomeStore(ctx.paths, unlockOptions(ctx))
      try {
        await opened.changePassphrase(opened.unlockedWith, next, (p) => progress.report(p))
      } finally {
        await opened.close()
      }
    }
  } catch (error) {
    if (wrongSecret(error)) throw new CliError('BadPassphrase', (error as Error).message)
    throw error
  } finally {
    client?.close()
  }
  ctx.log.info('passphrase changed', { records: progress.records, live })
  if (ctx.json) return ctx.out.json({ changed: true, records: progress.records })
  ctx.out.line(
    `Done: the passphrase is changed. ${progress.records.toLocaleString('en')} records are sealed under a new key, ` +
      'and the old key and records are deleted from the disk.',
  )
  ctx.out.line('From now on give the new passphrase (--passphrase or JIAYI_PASSPHRASE) to open this home.')
}
