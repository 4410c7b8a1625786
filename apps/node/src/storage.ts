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
import type { Context } from './cli/context.js'
import { CliError } from './cli/errors.js'
import type { HomePaths } from './cli/home.js'
import { askHidden, canPrompt } from './cli/prompt.js'
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

async function core() {
  return import('@jiayi/core')
}

/** Opens LevelDB, waiting briefly if a short-lived jiayi command holds it; fails at once if a peer does. */
async function openLevel(paths: HomePaths, busyWaitMs: number) {
  const { LevelStore, StoreError } = await core()
  const deadline = Date.now() + busyWaitMs
  for (;;) {
    try {
      return await LevelStore.open(paths.store)
    } catch (error) {
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
  const inner = await openLevel(paths, options.busyWaitMs ?? 3_000)
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
    return {
      store: store as Store,
      unlockedWith: 'passphrase' in secret ? secret.passphrase : undefined,
      changePassphrase,
      close: () => store.close(),
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
