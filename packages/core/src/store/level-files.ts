/**
 * What a LevelDB directory held when its store was last closed cleanly, and whether it still
 * holds exactly that (Node only: exported from '@jiayi/core/node').
 *
 * LevelDB itself cannot tell that its files changed while it was closed: a log cut at a record
 * boundary replays without a word and silently drops the last writes, and a damaged table is
 * only noticed (if at all) when a read or a compaction reaches it. So a clean close records
 * every file's size and SHA-256 beside the files (CLOSE_RECORD, written atomically), and the
 * next open compares before LevelDB touches anything. The record is removed once the store is
 * open again, since the files change from then on; a store that was not closed cleanly has no
 * record, and LevelDB's own recovery (its `LOG` notes) is all there is to go on. A store opened
 * meanwhile by another LevelDB program changed by right: LevelDB starts a new `LOG` on every
 * open, so a `LOG` other than the recorded one voids the record.
 *
 * Hashing reads every file once per open; tables never change after they are written, so a
 * close hashes only the files that are new since the open (`known`).
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'

/** The record of the last clean close, inside the LevelDB directory (LevelDB ignores the name). */
export const CLOSE_RECORD = 'JIAYI-CLOSED'
const RECORD_VERSION = 1
/** LevelDB's own notes and lock: they change on every open and hold no data. */
const NOT_DATA = new Set(['LOCK', 'LOG', 'LOG.old', CLOSE_RECORD, `${CLOSE_RECORD}.tmp`])

export type StoreFileKind = 'log' | 'table' | 'manifest' | 'current' | 'other'

/** One file that is not as the last clean close left it, or that LevelDB's recovery complained of. */
export interface StoreFileProblem {
  readonly file: string
  readonly kind: StoreFileKind
  /**
   * missing: gone; shorter: cut (a log losing its last writes); changed: different bytes;
   * recovered: LevelDB skipped damaged parts of it while opening (its `LOG` says so).
   */
  readonly change: 'missing' | 'shorter' | 'changed' | 'recovered'
}

export interface FileFacts {
  readonly size: number
  readonly sha256: string
}

export interface StoreFilesCheck {
  /** Whether a clean close was recorded (without one, only LevelDB's own notes are known). */
  readonly recorded: boolean
  readonly problems: readonly StoreFileProblem[]
  /** The facts checked, by file name, for `recordStoreFiles` to reuse at the next close. */
  readonly known: ReadonlyMap<string, FileFacts>
}

export function fileKind(name: string): StoreFileKind {
  if (name.endsWith('.log')) return 'log'
  if (name.endsWith('.ldb') || name.endsWith('.sst')) return 'table'
  if (name.startsWith('MANIFEST-')) return 'manifest'
  if (name === 'CURRENT') return 'current'
  return 'other'
}

/**
 * Whether the damage can cost more than the last writes: a log that changed only loses what it
 * held (LevelDB replays the rest), anything else needs LevelStore.repair before the store opens.
 */
export function needsRepair(problem: StoreFileProblem): boolean {
  return problem.kind !== 'log' && problem.kind !== 'other'
}

/** Compares the directory with its close record (before LevelDB opens it). */
export async function checkStoreFiles(dir: string): Promise<StoreFilesCheck> {
  const problems: StoreFileProblem[] = await missingCurrent(dir)
  const record = await readRecord(dir)
  // LevelDB starts its LOG afresh on every open: a LOG other than the recorded one means the
  // store was opened since (by another LevelDB tool), and its files changed by right.
  if (record === undefined || !(await sameFile(join(dir, 'LOG'), record.log)))
    return { recorded: false, problems, known: new Map() }
  const known = new Map<string, FileFacts>()
  for (const [file, expected] of record.files) {
    const kind = fileKind(file)
    if (kind === 'current' && problems.length > 0) continue // reported above
    let size: number
    try {
      size = (await stat(join(dir, file))).size
    } catch {
      problems.push({ file, kind, change: 'missing' })
      continue
    }
    if (size < expected.size) {
      problems.push({ file, kind, change: 'shorter' })
      continue
    }
    const facts = await hashFile(join(dir, file))
    if (facts.size !== expected.size || facts.sha256 !== expected.sha256) {
      problems.push({ file, kind, change: 'changed' })
      continue
    }
    known.set(file, facts)
  }
  return { recorded: true, problems, known }
}

/**
 * Data files without CURRENT (which names the MANIFEST): LevelDB would take the directory for a
 * new database and delete the old files as obsolete, so this is always a repair's job.
 */
async function missingCurrent(dir: string): Promise<StoreFileProblem[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return [] // no store yet
  }
  const data = names.some((n) => ['log', 'table', 'manifest'].includes(fileKind(n)))
  if (!data || names.includes('CURRENT')) return []
  return [{ file: 'CURRENT', kind: 'current', change: 'missing' }]
}

/** Room LevelDB needs beyond its logs to reopen: a new log, a MANIFEST, its notes. */
const REOPEN_HEADROOM_BYTES = 512 * 1024

/**
 * Whether the disk holding `dir` has room for LevelDB to reopen (LevelStoreOptions.hasRoom): it
 * replays its logs into a new table, so their size and some headroom.
 */
export async function levelHasRoom(dir: string): Promise<boolean> {
  let logs = 0
  for (const name of await readdir(dir)) {
    if (fileKind(name) === 'log') logs += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size
  }
  const fs = await statfs(dir)
  return fs.bavail * fs.bsize >= logs + REOPEN_HEADROOM_BYTES
}

/** Removes the close record: from the moment LevelDB opens the files, they change. */
export async function forgetStoreFiles(dir: string): Promise<void> {
  await rm(join(dir, CLOSE_RECORD), { force: true })
}

/** Records the files of a closed store (call after LevelDB closed it). */
export async function recordStoreFiles(
  dir: string,
  known: ReadonlyMap<string, FileFacts> = new Map(),
): Promise<void> {
  const files: Record<string, FileFacts> = {}
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile() || NOT_DATA.has(entry.name)) continue
    const path = join(dir, entry.name)
    const before = known.get(entry.name)
    // Tables never change once written: one checked at open is not read again.
    if (before !== undefined && fileKind(entry.name) === 'table' && (await stat(path)).size === before.size) {
      files[entry.name] = before
    } else {
      files[entry.name] = await hashFile(path)
    }
  }
  const log = await hashFile(join(dir, 'LOG')).catch(() => undefined)
  const tmp = join(dir, `${CLOSE_RECORD}.tmp`)
  const handle = await open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(JSON.stringify({ version: RECORD_VERSION, files, log }))
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, join(dir, CLOSE_RECORD))
}

/**
 * What LevelDB's recovery said while opening: it writes "dropping N bytes" for each damaged
 * part of a log it skipped (and carries on), into the `LOG` file it starts on every open.
 */
export async function recoveryProblems(dir: string): Promise<StoreFileProblem[]> {
  let text: string
  try {
    text = await readFile(join(dir, 'LOG'), 'utf8')
  } catch {
    return []
  }
  const files = new Set<string>()
  for (const line of text.split('\n')) {
    if (!/dropping \d+ bytes/.test(line)) continue
    const file = /(\d+\.(?:log|ldb|sst))/.exec(line)?.[1] ?? 'log'
    files.add(file)
  }
  return [...files].map((file) => ({ file, kind: fileKind(file), change: 'recovered' as const }))
}

interface CloseRecord {
  readonly files: ReadonlyMap<string, FileFacts>
  /** LevelDB's LOG as the close left it (absent when there was none). */
  readonly log: FileFacts | undefined
}

async function readRecord(dir: string): Promise<CloseRecord | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, CLOSE_RECORD), 'utf8')
  } catch {
    return undefined
  }
  try {
    const value = JSON.parse(text) as { version?: unknown; files?: Record<string, unknown>; log?: unknown }
    if (value.version !== RECORD_VERSION || typeof value.files !== 'object' || value.files === null)
      return undefined
    const files = new Map<string, FileFacts>()
    for (const [name, facts] of Object.entries(value.files)) if (isFacts(facts)) files.set(name, facts)
    return { files, log: isFacts(value.log) ? value.log : undefined }
  } catch {
    // A record cut short (it is written before a rename, so only by outside hands) says nothing.
    return undefined
  }
}

function isFacts(value: unknown): value is FileFacts {
  const v = value as Partial<FileFacts> | null | undefined
  return typeof v?.size === 'number' && typeof v.sha256 === 'string'
}

async function sameFile(path: string, expected: FileFacts | undefined): Promise<boolean> {
  const facts = await hashFile(path).catch(() => undefined)
  if (facts === undefined || expected === undefined) return facts === expected
  return facts.size === expected.size && facts.sha256 === expected.sha256
}

function hashFile(path: string): Promise<FileFacts> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    let size = 0
    createReadStream(path)
      .on('data', (chunk) => {
        size += chunk.length
        hash.update(chunk)
      })
      .on('error', reject)
      .on('end', () => resolve({ size, sha256: hash.digest('hex') }))
  })
}
