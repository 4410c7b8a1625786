/**
 * The home directory: one identity, one store, one running peer. Everything jiayi keeps lives
 * here, private to the user (the directory is 0700, secrets and the control socket 0600).
 *
 *   <home>/store/         LevelDB, every value sealed (XChaCha20-Poly1305)
 *   <home>/storage.key    32 random bytes that unlock the store (absent with a passphrase)
 *   <home>/control.sock   the running peer's control socket (Unix domain socket)
 *   <home>/peer.lock      the running peer's pid (LevelDB's own lock is the real one)
 *   <home>/jiayi.log      the log: timestamps, levels, events; no content, no keys
 */
import { createHash } from 'node:crypto'
import { chmod, mkdir, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { CliError } from './errors.js'

export interface HomePaths {
  readonly home: string
  readonly store: string
  readonly keyFile: string
  readonly socket: string
  readonly lock: string
  readonly log: string
}

/** Linux/BSD: $XDG_DATA_HOME/jiayi or ~/.local/share/jiayi; macOS: ~/Library/Application Support/jiayi; Windows: %APPDATA%\jiayi. */
export function defaultHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'jiayi')
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'jiayi')
  const xdg = env.XDG_DATA_HOME
  // The XDG spec: a relative $XDG_DATA_HOME is invalid and must be ignored.
  return join(xdg?.startsWith('/') ? xdg : join(home, '.local', 'share'), 'jiayi')
}

/** --home, else $JIAYI_HOME, else the OS data directory. */
export function resolveHome(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = option || env.JIAYI_HOME || defaultHome(env)
  return resolve(chosen)
}

/** `text` as one shell word (quoted when it has anything but plain characters). */
export function shellWord(text: string): string {
  return /^[\w./@:+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`
}

/**
 * A `jiayi` command line to suggest to the user, keeping the home they are using: with
 * `--home` unless it is the one jiayi finds by itself ($JIAYI_HOME or the OS data directory).
 */
export function jiayiCommand(home: string, args: string, env: NodeJS.ProcessEnv = process.env): string {
  const homeArg = resolve(home) === resolveHome(undefined, env) ? '' : ` --home ${shellWord(home)}`
  return `jiayi${homeArg} ${args}`
}

/** Linux allows 108 bytes in sockaddr_un.sun_path (with the NUL), macOS 104. */
const MAX_SOCKET_PATH = 103

export function homePaths(home: string, platform: NodeJS.Platform = process.platform): HomePaths {
  const socket =
    platform === 'win32'
      ? `\\\\.\\pipe\\jiayi-${createHash('sha256').update(home).digest('hex').slice(0, 16)}`
      : join(home, 'control.sock')
  return {
    home,
    store: join(home, 'store'),
    keyFile: join(home, 'storage.key'),
    socket,
    lock: join(home, 'peer.lock'),
    log: join(home, 'jiayi.log'),
  }
}

/**
 * A home that exists must be a directory: a file there (a mistyped --home) would otherwise show
 * as "no identity yet" or a failed socket connection, depending on the command.
 */
export async function checkHomeIsDirectory(home: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(home)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return // created where needed (init, start --init-if-needed)
    if (code === 'ENOTDIR')
      throw new CliError(
        'Usage',
        `the home ${home} lies inside a file, not a directory: give a directory with --home`,
      )
    throw error
  }
  if (!info.isDirectory())
    throw new CliError('Usage', `the home ${home} is a file, not a directory: give a directory with --home`)
}

export function checkSocketPath(paths: HomePaths): void {
  if (process.platform !== 'win32' && Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new CliError(
      'Usage',
      `the home path is too long for a control socket (${paths.socket}); use a shorter --home`,
    )
  }
}

/**
 * Creates the home (mode 0700) or checks an existing one. A home that others can enter is
 * tightened to 0700: the store, key file and control socket inside are only ever the owner's.
 */
export async function ensureHome(home: string, warn: (message: string) => void = () => {}): Promise<void> {
  await checkHomeIsDirectory(home)
  await mkdir(home, { recursive: true, mode: 0o700 })
  const info = await stat(home)
  if (!info.isDirectory()) throw new CliError('Usage', `the home ${home} is not a directory`)
  if (process.platform === 'win32') return
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
    throw new CliError('Unsafe', `the home ${home} belongs to another user`)
  }
  if ((info.mode & 0o077) !== 0) {
    await chmod(home, 0o700)
    warn(`tightened the permissions of ${home} to 0700`)
  }
}

/** Whether the home has been initialised (it holds a store directory). */
export async function homeExists(paths: HomePaths): Promise<boolean> {
  try {
    return (await stat(paths.store)).isDirectory()
  } catch {
    return false
  }
}
