/** What every command gets: where the home is, how to print, the log, and its arguments. */
import type { HomePaths } from './home.js'
import type { AppLog } from './log.js'

export interface Output {
  /** One JSON document on stdout (with --json nothing else goes there). */
  json(value: unknown): void
  /** A line for people on stdout. */
  line(text?: string): void
  /** A line on stderr (hints, warnings, progress). */
  note(text: string): void
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
  json: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
  line: (text = '') => process.stdout.write(`${text}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
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
