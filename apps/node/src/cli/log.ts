/**
 * The log: <home>/jiayi.log (append, mode 0600), one line per event:
 *   2026-01-02T03:04:05.678Z INFO  [peer] contact added contact=3f2a… postQuantum=true
 * and, with --verbose, the same lines on stderr (debug included). Callers pass structural fields
 * only (ids, counts, error names): never message text, names typed by users, or key bytes.
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import { rename, stat } from 'node:fs/promises'
import type { Logger } from '@jiayi/core'

export type Level = 'debug' | 'info' | 'warn' | 'error'
export type Fields = Record<string, string | number | boolean>

/** Beyond this size the log moves to jiayi.log.1 when a process opens it (one generation kept). */
const ROTATE_BYTES = 10 * 1024 * 1024

export interface AppLog extends Logger {
  error(message: string, fields?: Fields): void
  /** The same log with `[component]` on each line. */
  child(component: string): AppLog
  close(): Promise<void>
}

function formatValue(value: string | number | boolean): string {
  const text = String(value)
  return /^[^\s"=]*$/.test(text) && text !== '' ? text : JSON.stringify(text)
}

export function formatLine(level: Level, component: string, message: string, fields?: Fields): string {
  const parts = [new Date().toISOString(), level.toUpperCase().padEnd(5), `[${component}]`, message]
  if (fields) for (const [k, v] of Object.entries(fields)) parts.push(`${k}=${formatValue(v)}`)
  // A message or field can never break the one-line-per-event shape.
  return `${parts.join(' ').replace(/[\r\n]+/g, ' ')}\n`
}

export async function openLog(
  path: string,
  options: { verbose: boolean; component: string },
): Promise<AppLog> {
  try {
    if ((await stat(path)).size > ROTATE_BYTES) await rename(path, `${path}.1`)
  } catch {
    // No log yet.
  }
  let stream: WriteStream | undefined = createWriteStream(path, { flags: 'a', mode: 0o600 })
  // A log that cannot be written (disk full, read-only home) must never take the peer down.
  stream.on('error', () => {
    stream = undefined
  })
  const write = (level: Level, component: string, message: string, fields?: Fields) => {
    if (level === 'debug' && !options.verbose) return
    const line = formatLine(level, component, message, fields)
    stream?.write(line)
    if (options.verbose) process.stderr.write(line)
  }
  const make = (component: string): AppLog => ({
    debug: (m, f) => write('debug', component, m, f),
    info: (m, f) => write('info', component, m, f),
    warn: (m, f) => write('warn', component, m, f),
    error: (m, f) => write('error', component, m, f),
    child: (c) => make(c),
    close: () =>
      new Promise<void>((resolve) => {
        const s = stream
        stream = undefined
        if (s === undefined) return resolve()
        s.end(() => resolve())
      }),
  })
  return make(options.component)
}

/** A log that writes nowhere (before the home is known, or in unit tests). */
export const nullLog: AppLog = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => nullLog,
  close: async () => {},
}

/** Structural facts about an error, safe for a log line (no message text from user input). */
export function errorFields(error: unknown): Fields {
  if (!(error instanceof Error)) return { error: typeof error }
  const fields: Fields = { error: error.name }
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') fields.code = code
  return fields
}
