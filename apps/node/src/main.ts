/**
 * `jiayi`: parses the command line, opens the log in the home, runs one command and turns what
 * it threw into a message and an exit code (0 ok, 1 user error, 2 internal). Command modules are
 * loaded on demand: the ones that talk to a running peer never load @jiayi/core or libp2p.
 */
import { type CommandSpec, parseCommandLine, usage } from './cli/args.js'
import { type Context, stdio, watchClosedOutput } from './cli/context.js'
import { classify, EXIT_OK, EXIT_USER } from './cli/errors.js'
import { checkHomeIsDirectory, checkSocketPath, ensureHome, homePaths, resolveHome } from './cli/home.js'
import { type AppLog, errorFields, nullLog, openLog } from './cli/log.js'
import { shownText } from './cli/terminal-text.js'

type Run = (ctx: Context) => Promise<number | undefined> | Promise<void>

const RUN: Record<string, () => Promise<Run>> = {
  init: async () => (await import('./commands/local.js')).init,
  whoami: async () => (await import('./commands/local.js')).whoami,
  card: async () => (await import('./commands/local.js')).card,
  start: async () => (await import('./commands/start.js')).start,
  repair: async () => (await import('./commands/repair.js')).repair,
  add: async () => (await import('./commands/remote.js')).add,
  contacts: async () => (await import('./commands/remote.js')).contacts,
  accept: async () => (await import('./commands/remote.js')).accept,
  reject: async () => (await import('./commands/remote.js')).reject,
  send: async () => (await import('./commands/remote.js')).send,
  'send-file': async () => (await import('./commands/files.js')).sendFile,
  files: async () => (await import('./commands/files.js')).files,
  'accept-file': async () => (await import('./commands/files.js')).acceptFile,
  'cancel-file': async () => (await import('./commands/files.js')).cancelFile,
  post: async () => (await import('./commands/feed.js')).post,
  feed: async () => (await import('./commands/feed.js')).feed,
  like: async () => (await import('./commands/feed.js')).like,
  unlike: async () => (await import('./commands/feed.js')).unlike,
  comment: async () => (await import('./commands/feed.js')).comment,
  'delete-post': async () => (await import('./commands/feed.js')).deletePost,
  messages: async () => (await import('./commands/remote.js')).messages,
  read: async () => (await import('./commands/remote.js')).read,
  name: async () => (await import('./commands/remote.js')).rename,
  remark: async () => (await import('./commands/remote.js')).remark,
  search: async () => (await import('./commands/remote.js')).search,
  group: async () => (await import('./commands/groups.js')).group,
  groups: async () => (await import('./commands/groups.js')).groups,
  label: async () => (await import('./commands/labels.js')).label,
  labels: async () => (await import('./commands/labels.js')).labels,
  broadcast: async () => (await import('./commands/labels.js')).broadcast,
  verify: async () => (await import('./commands/remote.js')).verify,
  stats: async () => (await import('./commands/remote.js')).stats,
  passphrase: async () => (await import('./commands/passphrase.js')).passphrase,
  chat: async () => (await import('./commands/chat.js')).chat,
  'home-link': async () => (await import('./commands/home-node.js')).homeLinkCommand,
  'home-node': async () => (await import('./commands/home-node.js')).homeNodeCommand,
  devices: async () => (await import('./commands/devices.js')).devices,
}

export async function main(argv: readonly string[]): Promise<number> {
  watchClosedOutput()
  let json = argv.includes('--json')
  let log: AppLog = nullLog
  try {
    const parsed = parseCommandLine(argv)
    json = parsed.json
    if (parsed.version) {
      stdio.line('jiayi 0.1.0')
      return EXIT_OK
    }
    if (parsed.help || parsed.command === undefined) {
      ;(parsed.help ? process.stdout : process.stderr).write(usage(parsed.command))
      return parsed.help ? EXIT_OK : EXIT_USER
    }
    const command: CommandSpec = parsed.command
    const home = resolveHome(parsed.home)
    const paths = homePaths(home)
    checkSocketPath(paths)
    await checkHomeIsDirectory(home)
    const passphrase = parsed.passphrase ?? (process.env.JIAYI_PASSPHRASE || undefined)
    // init and `start --init-if-needed` create the home; do it first so their log has a place.
    if (
      command.name === 'init' ||
      (command.name === 'start' &&
        (parsed.options['init-if-needed'] === true || parsed.options.serve === true))
    ) {
      await ensureHome(home, (w) => process.stderr.write(`jiayi: ${w}\n`))
    }
    log = await openHomeLog(paths.log, parsed.verbose, command.name)
    const ctx: Context = {
      paths,
      json,
      verbose: parsed.verbose,
      passphrase,
      log,
      out: stdio,
      options: parsed.options,
      args: parsed.args,
    }
    log.debug('command', { command: command.name })
    const run = await RUN[command.name]!()
    const code = await run(ctx)
    return typeof code === 'number' ? code : EXIT_OK
  } catch (error) {
    const c = classify(error)
    if (c.exitCode === EXIT_USER) log.info('command refused', { code: c.code, exit: c.exitCode })
    else log.warn('command failed', { ...errorFields(error), exit: c.exitCode })
    if (c.code === 'Internal' && error instanceof Error) {
      const frames = (error.stack ?? '').split('\n').slice(1, 8).join(' | ')
      log.error('internal error', { ...errorFields(error), stack: frames.trim() })
    }
    process.stderr.write(`jiayi: ${shownText(c.message)}\n`)
    if (json) stdio.json({ error: { code: c.code, message: c.message } })
    return c.exitCode
  } finally {
    await log.close()
  }
}

/** The log lives in the home; a command run before the home exists logs nowhere. */
async function openHomeLog(path: string, verbose: boolean, component: string): Promise<AppLog> {
  try {
    return await openLog(path, { verbose, component })
  } catch {
    return nullLog
  }
}
