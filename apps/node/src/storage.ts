/**
 * Opening the home's store: LevelDB in <home>/store (its LOCK is what makes "one peer per home"
 * hold, and the OS drops it when a process dies, even under kill -9), sealed by @jiayi/core's
 * SealedStore with
 *   - a passphrase (--passphrase or $JIAYI_PASSPHRASE; Argon2id, m = 19 MiB, t = 2), or else
 *   - a key file <home>/storage.key: 32 random bytes, mode 0600, created with the store.
 * Which one a store uses is fixed by the key header written when it was created, and changed only
 * by `changePassphrase`, which re-seals every record under a new data key (core's rekey.ts).
 */
import { randomBytes } from 'node:crypto'
import { open, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { RekeyProgress, SealedStore, Store } from '@jiayi/core'
import type { FileFacts, LevelStore, StoreFileProblem } from '@jiayi/core/home-store'
import type { Context } from './cli/context.js'
import { CliError } from './cli/errors.js'
import type { HomePaths } from './cli/home.js'
import { askHidden, canPrompt } from './cli/prompt.js'
import { loadHomeStore } from './core.js'
import { readLockPid } from './daemon/lock.js'

const KEY_BYTES = 32

export interface OpenedStore {
  /** The sealed view: everything the app reads and writes. */
  readonly store: Store
  /** The passphrase that opened the store; undefined when its key file did. */
  readonly unlockedWith: string | undefined
  /**
   * Locks the store with a new passphrase (Argon2id) instead of its current secret: `current` is
   * the passphrase in use, or undefined when the key file locks it (which is then wiped, since it
   * no longer opens anything). A new data key seals every record again, and the old records and
   * key header are deleted from the disk; the peer's reads and writes wait while records are
   * re-sealed. Resolves once all that is done.
   */
  changePassphrase(
    current: string | undefined,
    next: string,
    onProgress?: (progress: RekeyProgress) => void,
  ): Promise<void>
  /**
   * What opening found wrong with the store's files that did not stop it (a log cut or damaged
   * since the last clean stop: its last writes are lost); empty when nothing.
   */
  readonly found: readonly StoreFileProblem[]
  /** Deletes the records that no longer open (`jiayi repair`), by record family. */
  dropUnreadable(): Promise<Map<string, number>>
  close(): Promise<void>
}

export interface OpenStoreOptions {
  readonly passphrase?: string | undefined
  /** How long to wait while another jiayi command (not a peer) holds the store. */
  readonly busyWaitMs?: number
  /** Asks for the passphrase when the store needs one and none was given (a terminal). */
  readonly askPassphrase?: () => Promise<string>
  /**
   * Progress of work the open has to do first: moving a store written by an older version to
   * keyed names, or finishing a change of passphrase that was interrupted.
   */
  readonly onRekeyProgress?: (progress: RekeyProgress) => void
}

/** The secret options of a command: --passphrase / $JIAYI_PASSPHRASE, else ask on a terminal. */
export function unlockOptions(ctx: Context): OpenStoreOptions {
  return {
    passphrase: ctx.passphrase,
    ...(canPrompt() ? { askPassphrase: () => askHidden(`Passphrase for ${ctx.paths.home}: `) } : {}),
  }
}

/** The store without the network: what a command with no peer loads (not libp2p). */
const core = loadHomeStore

interface OpenedLevel {
  readonly level: LevelStore
  readonly found: readonly StoreFileProblem[]
  /** The files checked at open, for the close record (tables are not hashed again). */
  readonly known: ReadonlyMap<string, FileFacts>
}

/**
 * Opens LevelDB, waiting briefly if a short-lived jiayi command holds it; fails at once if a
 * peer does. Its files are first compared with the record of the last clean close: damage
 * beyond the log stops the open with what to do (`jiayi repair`), a log that lost its last
 * writes is reported in `found` (LevelDB replays what is left, and the conversations heal).
 */
async function openLevel(paths: HomePaths, busyWaitMs: number): Promise<OpenedLevel> {
  const files = await core()
  const { LevelStore, StoreError } = files
  const check = await files.checkStoreFiles(paths.store)
  const fatal = check.problems.find(files.needsRepair)
  if (fatal !== undefined) throw damaged(paths, describeProblem(fatal))
  const deadline = Date.now() + busyWaitMs
  for (;;) {
    try {
      // Synced writes: the messenger acknowledges what it received only once it is written, and
      // an acknowledgement must not outlive a crash that loses the write (group commit pays the
      // fsync once per batch).
      const level = await LevelStore.open(paths.store, {
        sync: true,
        // After a full disk, LevelDB is reopened for writing once there is room (level.ts).
        hasRoom: () => files.levelHasRoom(paths.store).catch(() => true),
      })
      // From now on the files change: the record describes the last close no longer.
      await files.forgetStoreFiles(paths.store)
      const found = [...check.problems, ...(await files.recoveryProblems(paths.store))]
      return { level, found, known: check.known }
    } catch (error) {
      if (StoreError.is(error, 'Damaged')) throw damaged(paths, error.message)
      if (StoreError.is(error, 'Full')) throw diskFull(paths)
      if (!StoreError.is(error, 'Locked')) throw error
      const pid = await readLockPid(paths.lock)
      if (pid !== undefined && pid !== process.pid && isAlive(pid)) {
        throw new CliError('AlreadyRunning', `a jiayi peer (pid ${pid}) is running on ${paths.home}`)
      }
      if (Date.now() > deadline) {
        throw new CliError('Busy', `the store in ${paths.home} is in use by another jiayi process`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** A store LevelDB cannot use as it is: what is wrong, and the one command that helps. */
export function damaged(paths: HomePaths, what: string): CliError {
  return new CliError(
    'Damaged',
    `the store in ${paths.home} is damaged (${what}). Run \`jiayi --home '${paths.home}' repair\` to keep ` +
      `everything that can still be read (records in the damaged parts are lost; copy ${paths.store} ` +
      'first if you want to keep the damaged files), then start again',
  )
}

export function diskFull(paths: HomePaths): CliError {
  return new CliError(
    'DiskFull',
    `the disk holding ${paths.store} is full: free some space on it, then try again`,
  )
}

/** A file problem in words (file names are LevelDB's numbers, never content). */
export function describeProblem(p: StoreFileProblem): string {
  const what =
    p.kind === 'log'
      ? `its log ${p.file}`
      : p.kind === 'table'
        ? `its table file ${p.file}`
        : p.kind === 'manifest'
          ? `its MANIFEST file ${p.file}`
          : p.kind === 'current'
            ? 'its CURRENT file (which names the MANIFEST)'
            : `its file ${p.file}`
  const how =
    p.change === 'missing'
      ? 'is missing'
      : p.change === 'shorter'
        ? 'was cut short since the peer last stopped'
        : p.change === 'changed'
          ? 'changed since the peer last stopped'
          : 'had damaged parts that LevelDB skipped'
  return `${what} ${how}`
}

/**
 * A repair may bring back older records (a session state from an older table): the next start
 * then resets every secure session (MessengerInit.resetSessions). Kept in the store, so that it
 * holds until a peer has actually done it.
 */
async function sessionsStaleKey(): Promise<Uint8Array> {
  return (await core()).storeKey('node', 'sessions-stale')
}

export async function markSessionsStale(store: Store): Promise<void> {
  await store.put(await sessionsStaleKey(), Uint8Array.of(1))
}

export async function sessionsStale(store: Store): Promise<boolean> {
  return (await store.get(await sessionsStaleKey())) !== undefined
}

export async function clearSessionsStale(store: Store): Promise<void> {
  await store.del(await sessionsStaleKey())
}

/** What `start` says about a store that opened with its last writes lost (OpenedStore.found). */
export function foundNote(found: readonly StoreFileProblem[]): string {
  const what = found.map(describeProblem).join('; ')
  return (
    `The store's last changes before the peer last stopped are lost: ${what}. ` +
    'Messages received or sent just before then may be missing, and a secure session that lost its ' +
    'state resets itself (both sides see a notice).'
  )
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Refuses a key file that anyone but the owner can read (like ssh refuses a loose private key). */
async function checkKeyFileMode(path: string): Promise<void> {
  if (process.platform === 'win32') return
  const info = await stat(path)
  if (!info.isFile()) throw new CliError('KeyFile', `${path} is not a file`)
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0')
    throw new CliError(
      'Unsafe',
      `${path} is readable by others (mode ${mode}); it unlocks your messages. Fix it with: chmod 600 '${path}'`,
    )
  }
}

async function readKeyFile(path: string): Promise<Uint8Array | undefined> {
  let bytes: Buffer
  try {
    await checkKeyFileMode(path)
    bytes = await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  if (bytes.length !== KEY_BYTES) {
    throw new CliError('KeyFile', `${path} is not a jiayi storage key (expected ${KEY_BYTES} bytes)`)
  }
  return new Uint8Array(bytes)
}

/** Writes a fresh key file; 'wx' never overwrites one (that would lock the user out for good). */
async function createKeyFile(path: string): Promise<Uint8Array> {
  const key = new Uint8Array(randomBytes(KEY_BYTES))
  const handle = await open(path, 'wx', 0o600)
  try {
    await handle.writeFile(key)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return key
}

export async function openHomeStore(paths: HomePaths, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  // A loose key file is refused before anything else is loaded or opened.
  if (options.passphrase === undefined) await readKeyFile(paths.keyFile)
  const { openSealedStore, hasKeyHeader, StoreError } = await core()
  const { level: inner, found, known } = await openLevel(paths, options.busyWaitMs ?? 3_000)
  try {
    const passphrase = options.passphrase
    let secret: { passphrase: string } | { key: Uint8Array }
    if (passphrase !== undefined) {
      secret = { passphrase }
    } else {
      const fresh = !(await hasKeyHeader(inner))
      const key = await readKeyFile(paths.keyFile)
      if (key !== undefined) secret = { key }
      else if (fresh) secret = { key: await createKeyFile(paths.keyFile) }
      else if (options.askPassphrase !== undefined) secret = { passphrase: await options.askPassphrase() }
      else {
        throw new CliError(
          'PassphraseNeeded',
          `the store in ${paths.home} is locked with a passphrase (or its storage.key is missing): ` +
            'give it with --passphrase or the JIAYI_PASSPHRASE environment variable',
        )
      }
    }
    if ('passphrase' in secret && secret.passphrase.length === 0)
      throw new CliError('Usage', 'the passphrase is empty')
    let store: SealedStore
    let reworked = false
    const onRekeyProgress = (p: RekeyProgress) => {
      reworked = true
      options.onRekeyProgress?.(p)
    }
    try {
      store = await openSealedStore(inner, secret, { onRekeyProgress })
    } catch (error) {
      // Branch on codes only: a wrong secret and a secret of the other kind share a code.
      if (StoreError.is(error, 'BadPassphrase')) {
        const hasKeyFile = await stat(paths.keyFile).then(
          () => true,
          () => false,
        )
        throw new CliError(
          'BadPassphrase',
          hasKeyFile
            ? `wrong passphrase (or the store in ${paths.home} is locked with its storage.key: then run without --passphrase and JIAYI_PASSPHRASE)`
            : 'wrong passphrase',
        )
      }
      if (StoreError.is(error, 'WrongKey')) {
        throw new CliError(
          'KeyFile',
          `${paths.keyFile} does not unlock the store in ${paths.home} (if it was created with a passphrase, give it with --passphrase or JIAYI_PASSPHRASE)`,
        )
      }
      throw error
    }
    if (reworked) {
      // The open rewrote the store (see onRekeyProgress). LevelDB rewrites its manifest, which
      // names the first and last key of every table, only when it opens, and its own log of that
      // session may quote keys (of a legacy store: contact ids): reopen, and delete that log.
      await store.close()
      return openHomeStore(paths, {
        ...options,
        passphrase: 'passphrase' in secret ? secret.passphrase : undefined,
      }).then(async (reopened) => {
        await unlink(join(paths.store, 'LOG.old')).catch(() => undefined)
        return reopened
      })
    }
    // Once a passphrase opens the store, a key file left beside it (a change to a passphrase cut
    // short before the file was wiped) opens nothing any more.
    if ('passphrase' in secret) await wipeKeyFile(paths.keyFile).catch(() => undefined)
    const changePassphrase = async (
      current: string | undefined,
      next: string,
      onProgress?: (progress: RekeyProgress) => void,
    ): Promise<void> => {
      // StoreError, not CliError: the API shows its message to whoever asked (web app, socket).
      if (next.length === 0) throw new StoreError('BadPassphrase', 'the new passphrase is empty')
      const key = current === undefined ? await readKeyFile(paths.keyFile) : undefined
      const old = current !== undefined ? { passphrase: current } : key !== undefined ? { key } : undefined
      if (old === undefined) throw new StoreError('BadPassphrase', 'give the current passphrase')
      try {
        await store.changeSecret(old, { passphrase: next }, onProgress === undefined ? {} : { onProgress })
      } catch (error) {
        if (StoreError.is(error, 'BadPassphrase') || StoreError.is(error, 'WrongKey'))
          throw new StoreError('BadPassphrase', 'the current passphrase is wrong')
        throw error
      }
      if (key !== undefined) await wipeKeyFile(paths.keyFile)
    }
    const close = async () => {
      await store.close()
      // Only a clean close is recorded; without a record the next open trusts LevelDB alone.
      const { recordStoreFiles } = await core()
      await recordStoreFiles(paths.store, known).catch(() => undefined)
    }
    return {
      store: store as Store,
      unlockedWith: 'passphrase' in secret ? secret.passphrase : undefined,
      changePassphrase,
      found,
      dropUnreadable: () => store.dropUnreadable(),
      close,
    }
  } catch (error) {
    await inner.close().catch(() => undefined)
    throw error
  }
}

/** Overwrites, syncs and removes the key file: once a passphrase locks the store it opens nothing. */
async function wipeKeyFile(path: string): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.write(new Uint8Array(KEY_BYTES), 0, KEY_BYTES, 0)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await unlink(path)
}
