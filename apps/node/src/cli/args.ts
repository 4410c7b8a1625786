/**
 * The command line: `jiayi [global options] COMMAND [args] [options]`, global options accepted
 * anywhere. Parsed with node:util parseArgs (strict), then checked against the command's own
 * option list so that `jiayi send --mark` is an error, not silently ignored.
 */
import { parseArgs } from 'node:util'
import { CliError } from './errors.js'

export interface CommandSpec {
  readonly name: string
  readonly usage: string
  readonly summary: string
  /** Command-specific option names (keys of OPTIONS). */
  readonly options: readonly string[]
  readonly minArgs: number
  /** Infinity for "the rest of the line" (send's text). */
  readonly maxArgs: number
}

const OPTIONS = {
  // global
  home: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  passphrase: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  // per command
  name: { type: 'string' },
  png: { type: 'string' },
  listen: { type: 'string', multiple: true },
  announce: { type: 'string', multiple: true },
  'no-mdns': { type: 'boolean' },
  'no-upnp': { type: 'boolean' },
  'mdns-open': { type: 'boolean' },
  'public-dht': { type: 'boolean' },
  bootstrap: { type: 'string', multiple: true },
  // hidden (tests): the DHT protocol, to keep a test's DHT apart from the public one
  'dht-protocol': { type: 'string' },
  'init-if-needed': { type: 'boolean' },
  'show-card': { type: 'boolean' },
  web: { type: 'string' },
  'no-web': { type: 'boolean' },
  'web-lan': { type: 'boolean' },
  'no-link-previews': { type: 'boolean' },
  serve: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'https-port': { type: 'string' },
  // hidden (tests): bind the web server here (e.g. 127.0.0.1 with --web-lan)
  'web-host': { type: 'string' },
  // hidden (tests): link previews of NAME come from a server on 127.0.0.1:PORT (NAME=PORT)
  'preview-via': { type: 'string', multiple: true },
  // hidden (tests): mDNS on a private service tag, UDP port and query interval
  'mdns-tag': { type: 'string' },
  'mdns-port': { type: 'string' },
  'mdns-interval': { type: 'string' },
  limit: { type: 'string' },
  contact: { type: 'string' },
  link: { type: 'string', multiple: true },
  peek: { type: 'boolean' },
  mark: { type: 'boolean' },
  file: { type: 'string' },
  expires: { type: 'string' },
  'join-approval': { type: 'string' },
  'admins-only': { type: 'string' },
  history: { type: 'string' },
} as const

const GLOBAL = new Set(['home', 'json', 'verbose', 'passphrase', 'help', 'version'])

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'init',
    usage: 'init --name NAME | init --link LINK [--name DEVICE] [--history all|none|DAYS]',
    summary: 'create your identity in this home, or link this home to your other device',
    options: ['name', 'link', 'history'],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'whoami',
    usage: 'whoami',
    summary: 'your name, identity key and peer id',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'card',
    usage: 'card [--png FILE]',
    summary: 'your contact card: the link and its QR code',
    options: ['png'],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'start',
    usage:
      'start [--listen MULTIADDR ...] [--announce MULTIADDR ...] [--no-mdns | --mdns-open] [--no-upnp] [--public-dht [--bootstrap MULTIADDR ...]] [--init-if-needed [--name NAME]] [--show-card] [--web PORT | --no-web] [--web-lan] [--no-link-previews] | start --serve [--listen MULTIADDR ...] [--tls-cert FILE --tls-key FILE [--https-port N]]',
    summary: 'run the peer in the foreground until Ctrl+C',
    // mdns-tag, mdns-port and mdns-interval are hidden: tests keep their multicast to themselves.
    options: [
      'listen',
      'announce',
      'no-mdns',
      'no-upnp',
      'mdns-open',
      'public-dht',
      'bootstrap',
      'dht-protocol',
      'init-if-needed',
      'name',
      'show-card',
      'web',
      'no-web',
      'web-lan',
      'no-link-previews',
      'serve',
      'tls-cert',
      'tls-key',
      'https-port',
      'web-host',
      'preview-via',
      'mdns-tag',
      'mdns-port',
      'mdns-interval',
    ],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'repair',
    usage: 'repair',
    summary: 'keep what can be read of a damaged store (when start says so; stop the peer first)',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'add',
    usage: 'add LINK',
    summary: 'add the person on a card link',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'contacts',
    usage: 'contacts',
    summary: 'list your contacts and requests',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'accept',
    usage: 'accept CONTACT',
    summary: 'accept a contact request',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'reject',
    usage: 'reject CONTACT',
    summary: 'decline a request (or remove a contact)',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'send',
    usage: 'send CONTACT|GROUP TEXT...',
    summary: 'send a message (TEXT "-" reads stdin)',
    options: [],
    minArgs: 2,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'send-file',
    usage: 'send-file CONTACT PATH [--name NAME]',
    summary: 'send a file (progress until the contact has it)',
    options: ['name'],
    minArgs: 2,
    maxArgs: 2,
  },
  {
    name: 'files',
    usage: 'files',
    summary: 'files received: status, size, name, where',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'accept-file',
    usage: 'accept-file ID',
    summary: 'download a received file that waits for you (large, or over a quota)',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'cancel-file',
    usage: 'cancel-file ID',
    summary: 'stop a file you are sending or receiving (the other side cannot finish it either)',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'messages',
    usage: 'messages CONTACT|GROUP [--limit N] [--peek]',
    summary: 'the conversation, oldest first (marks it read unless --peek)',
    options: ['limit', 'peek'],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'search',
    usage: 'search QUERY… [--contact C] [--limit N]',
    summary: 'find messages, file names, posts, comments and contacts (every word; Chinese by characters)',
    options: ['contact', 'limit'],
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'name',
    usage: 'name NEW NAME…',
    summary: 'change the name your contacts see (it reaches them as an address update does)',
    options: [],
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'remark',
    usage: 'remark CONTACT [REMARK…]',
    summary: 'your private name for a contact (备注), shown instead of theirs; none clears it',
    options: [],
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'label',
    usage: 'label add|remove LABEL CONTACT…',
    summary: 'label contacts (标签, only on this device); label delete LABEL takes it from all',
    options: [],
    minArgs: 2,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'labels',
    usage: 'labels',
    summary: 'your labels and who has each',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'broadcast',
    usage: 'broadcast LABEL TEXT... | --file PATH',
    summary: 'send to everyone with a label (群发), to each as a separate message',
    options: ['file'],
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'group',
    usage:
      'group create NAME [CONTACT…] | add|remove|promote|demote|transfer|approve|refuse GROUP MEMBER | leave GROUP | ' +
      'rename GROUP NAME | invite GROUP [--expires 7d] | join LINK | revoke GROUP LINK|ID | ' +
      'settings GROUP [--join-approval on|off] [--admins-only on|off]',
    summary: 'group chats (群聊): make one, invite by QR, add and remove members, roles, leave',
    options: ['expires', 'join-approval', 'admins-only'],
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'groups',
    usage: 'groups',
    summary: 'the groups you are in, with members and unread counts',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'read',
    usage: 'read CONTACT',
    summary: 'mark a conversation read',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'chat',
    usage: 'chat CONTACT',
    summary: 'chat interactively (/quit to leave)',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'verify',
    usage: 'verify CONTACT [--mark]',
    summary: 'show the safety number; --mark records that you compared it',
    options: ['mark'],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'post',
    usage: 'post TEXT... [--link URL ...]',
    summary: 'post to your moments (TEXT "-" reads stdin)',
    options: ['link'],
    minArgs: 1,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'feed',
    usage: 'feed [--limit N]',
    summary: "your moments: your posts and your contacts', newest first",
    options: ['limit'],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'like',
    usage: 'like POST_ID',
    summary: 'like a post',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'unlike',
    usage: 'unlike POST_ID',
    summary: 'take your like back',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'comment',
    usage: 'comment POST_ID TEXT...',
    summary: 'comment on a post (seen by those who have you as a contact too)',
    options: [],
    minArgs: 2,
    maxArgs: Number.POSITIVE_INFINITY,
  },
  {
    name: 'delete-post',
    usage: 'delete-post POST_ID',
    summary: 'delete one of your posts',
    options: [],
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'passphrase',
    usage: 'passphrase',
    summary: 'lock this home with a new passphrase (asked twice, or $JIAYI_NEW_PASSPHRASE)',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'stats',
    usage: 'stats',
    summary: 'what the peer refused from the network',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'home-link',
    usage: 'home-link',
    summary: 'on a home node (start --serve): the link its owner adds, and its QR code',
    options: [],
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'devices',
    usage: 'devices [link [--expires SECONDS] | remove ID]',
    summary: 'your devices; link a new one (prints a one-time link), or remove one',
    options: ['expires'],
    minArgs: 0,
    maxArgs: 2,
  },
  {
    name: 'home-node',
    usage: 'home-node [add LINK]',
    summary: 'your home node (keeps messages for you while you are offline), or link one',
    options: [],
    minArgs: 0,
    maxArgs: 2,
  },
]

export interface ParsedArgs {
  readonly command: CommandSpec | undefined
  readonly args: string[]
  readonly home: string | undefined
  readonly json: boolean
  readonly verbose: boolean
  readonly passphrase: string | undefined
  readonly help: boolean
  readonly version: boolean
  readonly options: Record<string, string | boolean | string[] | undefined>
}

export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    // parseArgs' messages name the option, never a value.
    throw new CliError('Usage', `${(error as Error).message}. See: jiayi --help`)
  }
  const [name, ...args] = parsed.positionals
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>
  const command = name === undefined ? undefined : COMMANDS.find((c) => c.name === name)
  const help = values.help === true || name === 'help'
  if (name !== undefined && name !== 'help' && command === undefined)
    throw new CliError('Usage', `unknown command "${name}". See: jiayi --help`)
  const options: Record<string, string | boolean | string[] | undefined> = {}
  for (const [k, v] of Object.entries(values)) {
    if (GLOBAL.has(k) || v === undefined) continue
    if (command === undefined || !command.options.includes(k))
      throw new CliError(
        'Usage',
        `--${k} does not go with ${command ? `jiayi ${command.name}` : 'no command'}`,
      )
    options[k] = v
  }
  if (command !== undefined && !help) {
    if (args.length < command.minArgs || args.length > command.maxArgs)
      throw new CliError('Usage', `usage: jiayi ${command.usage}`)
  }
  return {
    command: name === 'help' ? COMMANDS.find((c) => c.name === args[0]) : command,
    args,
    home: values.home as string | undefined,
    json: values.json === true,
    verbose: values.verbose === true,
    passphrase: values.passphrase as string | undefined,
    help,
    version: values.version === true,
    options,
  }
}

export function usage(command?: CommandSpec): string {
  if (command !== undefined) return `usage: jiayi ${command.usage}\n\n${command.summary}\n`
  const width = Math.max(...COMMANDS.map((c) => c.usage.length))
  const lines = [
    'jiayi: serverless, end-to-end encrypted chat between peers',
    '',
    'usage: jiayi COMMAND [args] [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(Math.min(width, 40))}  ${c.summary}`),
    '',
    'global options (anywhere on the line):',
    '  --home DIR          where the identity and store live (default: $JIAYI_HOME, else the OS data dir)',
    '  --json              print one JSON document on stdout (start/chat: one JSON object per line)',
    '  --passphrase TEXT   unlock a passphrase-protected store (prefer $JIAYI_PASSPHRASE: argv is visible to ps)',
    '  --verbose, -v       log to stderr too (the log file is <home>/jiayi.log)',
    '  --help, -h          this help (jiayi help COMMAND: one command)',
    '',
    'CONTACT is a contact id, an id prefix of 4+ hex digits, a peer id or a name.',
    'Use -- before a text that starts with "-".',
    'Exit codes: 0 ok, 1 a problem to fix (the message says what), 2 an internal error.',
  ]
  return `${lines.join('\n')}\n`
}
