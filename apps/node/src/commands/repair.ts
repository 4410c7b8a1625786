/**
 * `jiayi repair`: what to do when `jiayi start` says the store is damaged. Two passes, both
 * keeping everything that can still be read:
 *   1. LevelDB's own repair (LevelStore.repair): rebuilds the MANIFEST from the files found and
 *      copies the readable records of damaged tables and logs into new tables;
 *   2. the sealed sweep: records whose bytes were damaged inside a table LevelDB kept no longer
 *      open, and are deleted, so that each costs only itself (a conversation with one damaged
 *      message still opens; a lost session resets itself when the peer runs again).
 * Only with no peer running: repair rewrites the files under it.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Context } from '../cli/context.js'
import { CliError } from '../cli/errors.js'
import { homeExists, jiayiCommand } from '../cli/home.js'
import { loadHomeStore } from '../core.js'
import { readLockPid } from '../daemon/lock.js'
import { isAlive, markSessionsStale, openHomeStore, unlockOptions } from '../storage.js'

export interface RepairReport {
  readonly repaired: true
  /** Tables and logs LevelDB found damaged, and how many of their records it kept. */
  readonly damagedFiles: readonly { readonly file: string; readonly recordsKept?: number }[]
  /** Records removed because they no longer open, by record family (msg, sessions, ...). */
  readonly unreadableRecords: Readonly<Record<string, number>>
}

export async function repair(ctx: Context): Promise<void> {
  const { paths } = ctx
  if (!(await homeExists(paths))) throw new CliError('NoAccount', `no store in ${paths.home} to repair`)
  const pid = await readLockPid(paths.lock)
  if (pid !== undefined && pid !== process.pid && isAlive(pid))
    throw new CliError(
      'AlreadyRunning',
      `a jiayi peer (pid ${pid}) is running on ${paths.home}; stop it before repairing its store`,
    )
  const files = await loadHomeStore()
  const { LevelStore, StoreError } = files
  // LevelDB's repair takes no lock: make sure nobody holds the store (a command that just
  // started, a peer whose peer.lock is gone).
  try {
    await (await LevelStore.open(paths.store)).close()
  } catch (error) {
    if (StoreError.is(error, 'Locked'))
      throw new CliError('Busy', `the store in ${paths.home} is in use by another jiayi process`)
    // Damaged (or full): that is what we are here for.
  }
  ctx.log.warn('repairing the store')
  await LevelStore.repair(paths.store)
  // The record of the last clean close describes files that repair just replaced.
  await files.forgetStoreFiles(paths.store)
  const damagedFiles = await repairNotes(paths.store)
  const opened = await openHomeStore(paths, unlockOptions(ctx))
  let unreadable: Map<string, number>
  try {
    unreadable = await opened.dropUnreadable()
    await markSessionsStale(opened.store)
  } finally {
    await opened.close()
  }
  const report: RepairReport = {
    repaired: true,
    damagedFiles,
    unreadableRecords: Object.fromEntries(unreadable),
  }
  const lost = [...unreadable.values()].reduce((a, b) => a + b, 0)
  ctx.log.warn('store repaired', { damagedFiles: damagedFiles.length, unreadableRecords: lost })
  if (ctx.json) return ctx.out.json(report)
  ctx.out.line(`Repaired the store in ${paths.home}.`)
  for (const f of damagedFiles) {
    ctx.out.line(
      `  ${f.file}: damaged; ${f.recordsKept === undefined ? 'its damaged parts were skipped' : `${f.recordsKept} records in it could be read`}`,
    )
  }
  if (lost > 0) {
    const byFamily = [...unreadable].map(([family, n]) => `${n} ${family}`).join(', ')
    ctx.out.line(`  removed ${lost} records that could no longer be read (${byFamily})`)
  } else if (damagedFiles.length === 0) {
    ctx.out.line('  every record could be read')
  }
  ctx.out.line(
    `LevelDB kept the files it replaced in ${join(paths.store, 'lost')}; delete them once all is well.`,
  )
  ctx.out.line(
    `Secure sessions that lost their state reset themselves once the peer runs. Next: ${jiayiCommand(ctx.paths.home, 'start')}`,
  )
}

/**
 * What LevelDB's repair wrote in its LOG about damaged files: "Table #N: K entries <status>"
 * with a status other than OK (it then copied the K readable ones), "Table #N: dropped", and
 * "Log #N: ignoring ..." for damaged parts of a log.
 */
async function repairNotes(dir: string): Promise<RepairReport['damagedFiles']> {
  let text: string
  try {
    text = await readFile(join(dir, 'LOG'), 'utf8')
  } catch {
    return []
  }
  const found = new Map<string, number | undefined>()
  for (const line of text.split('\n')) {
    let m = /Table #(\d+): (\d+) entries (.*)$/.exec(line)
    if (m && !/^OK\b/.test(m[3]!.trim())) {
      found.set(tableName(m[1]!), Number(m[2]))
      continue
    }
    m = /Table #(\d+): dropped/.exec(line)
    if (m) {
      found.set(tableName(m[1]!), 0)
      continue
    }
    m = /Log #(\d+): ignoring/.exec(line)
    if (m) found.set(`${m[1]!.padStart(6, '0')}.log`, undefined)
  }
  return [...found].map(([file, recordsKept]) =>
    recordsKept === undefined ? { file } : { file, recordsKept },
  )
}

function tableName(n: string): string {
  return `${n.padStart(6, '0')}.ldb`
}
