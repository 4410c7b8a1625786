/** What every command gets: where the home is, how to print, the log, and its arguments. */
import { CliError } from './errors.js'
import type { HomePaths } from './home.js'
import type { AppLog } from './log.js'
import { jsonText } from './terminal-text.js'

export interface Output {
  /** One JSON document on stdout (with --json nothing else goes there). */
  json(value: unknown): void
  /** A line for people on stdout. */
  line(text?: string): void
  /** A line on stderr (hints, warnings, progress). */
  note(text: string): void
  /** Text on stdout as it is (a long JSON document written in parts). */
  write(text: string): void
}

export interface Context {
  readonly paths: HomePaths
  readonly json: boolean
  readonly verbose: boolean
  readonly passphrase: string | undefined
  readonly log: AppLog
  readonly out: Output
  /** The command's own options (parsed, already checked to belong to the command). */
  readonly options: Readonly<Record<string, string | boolean | string[] | undefined>>
  /** Positional arguments after the command name. */
  readonly args: readonly string[]
}

export const stdio: Output = {
  json: (value) => process.stdout.write(`${jsonText(value)}\n`),
  line: (text = '') => process.stdout.write(`${text}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
  write: (text) => process.stdout.write(text),
}

/**
 * A reader that goes away (`jiayi messages bob | head`, a closed terminal) ends a command quietly,
 * with the exit code it has so far: not an error worth a stack trace. A running peer carries on
 * instead (`carryOnWithoutOutput`): its output is only a view of what it does.
 */
let closedOutput: ((stream: 'stdout' | 'stderr', error: NodeJS.ErrnoException) => void) | undefined
let watching = false

export function watchClosedOutput(): void {
  if (watching) return
  watching = true
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (closedOutput !== undefined) return closedOutput(name, error)
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw error
    })
  }
}

/** From now on a failed write to stdout or stderr is reported to `onClosed` (once per stream). */
export function carryOnWithoutOutput(
  onClosed: (stream: 'stdout' | 'stderr', error: NodeJS.ErrnoException) => void,
): void {
  const reported = new Set<string>()
  closedOutput = (stream, error) => {
    if (reported.has(stream)) return
    reported.add(stream)
    onClosed(stream, error)
  }
}

export function optString(ctx: Context, name: string): string | undefined {
  const v = ctx.options[name]
  return typeof v === 'string' ? v : undefined
}

export function optFlag(ctx: Context, name: string): boolean {
  return ctx.options[name] === true
}

export function optList(ctx: Context, name: string): string[] {
  const v = ctx.options[name]
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : []
}

/** Positional argument `index`, or a usage error naming what is missing. */
export function arg(ctx: Context, index: number, what: string): string {
  const value = ctx.args[index]
  if (value === undefined || value === '') throw new CliError('Usage', `missing ${what}`)
  return value
}

/** The words from `from` on as one text, or standard input for a lone "-". */
export async function textArg(ctx: Context, from: number, usage: string): Promise<string> {
  const words = ctx.args.slice(from)
  if (words.length === 0) throw new CliError('Usage', `missing the text: ${usage}`)
  if (words.length !== 1 || words[0] !== '-') return words.join(' ')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/** `--limit N`: a whole number from 1 to `max`, or undefined when not given. */
export function optLimit(ctx: Context, max: number): number | undefined {
  const raw = optString(ctx, 'limit')
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > max)
    throw new CliError('Usage', `--limit must be a whole number from 1 to ${max}`)
  return n
}
