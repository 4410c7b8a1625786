/**
 * What the CLI reports and how it exits: 0 ok, 1 a user error (a clear message on stderr),
 * 2 an internal error. Messages never carry key bytes or message text.
 */

export const EXIT_OK = 0
export const EXIT_USER = 1
export const EXIT_INTERNAL = 2

/**
 * Errors the CLI itself raises, with stable codes (also used in `--json` error documents):
 * - Usage: bad command line.
 * - NotRunning: the command needs the running peer and none answers on the control socket.
 * - AlreadyRunning: another peer holds this home.
 * - Busy: the store is held by another jiayi command for too long.
 * - NoAccount: no identity in this home yet.
 * - PassphraseNeeded / BadPassphrase / KeyFile: unlocking the store failed (see the message).
 * - Unsafe: a file or directory is readable by others where it must not be.
 * - Disconnected: the running peer went away in the middle of a command.
 * - ReplyTooLarge: an answer of the peer is longer than a line of the control socket may be.
 * - Damaged: the store's files are damaged or missing (`jiayi repair` keeps what can be read).
 * - DiskFull: the disk holding the home has no room left.
 * - Listen: the peer cannot listen on an address given with --listen (malformed, busy, not ours).
 * - Certificate: the files of --tls-cert / --tls-key are missing, unreadable, not PEM, or the key is
 *   not the certificate's.
 * - Internal: a bug or an environment failure; details go to the log.
 */
export type CliErrorCode =
  | 'Usage'
  | 'NotRunning'
  | 'AlreadyRunning'
  | 'Busy'
  | 'NoAccount'
  | 'PassphraseNeeded'
  | 'BadPassphrase'
  | 'KeyFile'
  | 'Unsafe'
  | 'Disconnected'
  | 'ReplyTooLarge'
  | 'Damaged'
  | 'DiskFull'
  | 'Listen'
  | 'Certificate'
  | 'Internal'

export class CliError extends Error {
  readonly code: CliErrorCode
  readonly exitCode: number

  constructor(code: CliErrorCode, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CliError'
    this.code = code
    this.exitCode = options.exitCode ?? (code === 'Internal' ? EXIT_INTERNAL : EXIT_USER)
  }

  static is(value: unknown, code?: CliErrorCode): value is CliError {
    return value instanceof CliError && (code === undefined || value.code === code)
  }
}

/** An error the running peer answered with (it crossed the control socket as {code, message, type}). */
export class RemoteError extends Error {
  readonly code: string
  readonly type: string

  constructor(body: { code: string; message: string; type?: string | undefined }) {
    super(body.message)
    this.name = 'RemoteError'
    this.code = body.code
    this.type = body.type ?? 'Error'
  }
}

/** Error classes of @jiayi/core (and @jiayi/feed) whose codes all describe bad input from the user. */
const USER_ERROR_TYPES = new Set([
  'MessengerError',
  'CardError',
  'ControlError',
  'InputError',
  'FeedError',
  'LabelError',
  // A home node that refuses or cannot be reached: the user's link or network to fix.
  'MailboxError',
  // A device link that is expired, used, or whose code did not match: a new link fixes it.
  'DeviceError',
])
/** Store failures that the user can fix (wrong secret, another process holds the store, no room). */
const USER_STORE_CODES = new Set(['BadPassphrase', 'WrongKey', 'Locked', 'Busy', 'Full'])
/** Control-protocol codes that mean the daemon itself failed. */
const INTERNAL_CODES = new Set(['Internal'])

export interface Classified {
  readonly exitCode: number
  readonly code: string
  readonly message: string
}

/** Maps any thrown value to an exit code and a message that is safe to print. */
export function classify(error: unknown): Classified {
  if (error instanceof CliError) return { exitCode: error.exitCode, code: error.code, message: error.message }
  if (error instanceof RemoteError) {
    const internal =
      INTERNAL_CODES.has(error.code) ||
      (!USER_ERROR_TYPES.has(error.type) &&
        !(error.type === 'StoreError' && USER_STORE_CODES.has(error.code)))
    return { exitCode: internal ? EXIT_INTERNAL : EXIT_USER, code: error.code, message: error.message }
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') {
      if (USER_ERROR_TYPES.has(error.name)) return { exitCode: EXIT_USER, code, message: error.message }
      if (error.name === 'StoreError' && USER_STORE_CODES.has(code))
        return { exitCode: EXIT_USER, code, message: error.message }
      if (error.name === 'StoreError' || error.name === 'NetError')
        return { exitCode: EXIT_INTERNAL, code, message: `${error.name}: ${error.message}` }
      // Node system errors (EACCES, ENOSPC, ...) name a path and a syscall, never content.
      if (typeof (error as { syscall?: unknown }).syscall === 'string')
        return { exitCode: EXIT_INTERNAL, code, message: error.message }
    }
    return {
      exitCode: EXIT_INTERNAL,
      code: 'Internal',
      message: `internal error (${error.name}); details are in the log`,
    }
  }
  return { exitCode: EXIT_INTERNAL, code: 'Internal', message: 'internal error; details are in the log' }
}
