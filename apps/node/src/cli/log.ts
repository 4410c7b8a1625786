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
/** After the log could not be written, how long before it is tried again. */
const REOPEN_MS = 5_000
/** The same line (level, component, message) at most this often per window; the rest counted. */
export const SAME_LINE_MAX = 5
export const SAME_LINE_WINDOW_MS = 60_000

/**
 * Keeps a repeated line from flooding the log (a disk that stays full, a peer that keeps
 * sending garbage): SAME_LINE_MAX per key per window, then silence, then one line with the
 * count when the key comes back in a new window.
 */
export class LineLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>()

  constructor(
    private readonly max = SAME_LINE_MAX,
    private readonly windowMs = SAME_LINE_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether to write this line, and how many were held back before it (to say so first). */
  take(key: string): { allowed: boolean; say?: number } {
    const now = this.now()
    const w = this.windows.get(key)
    if (w === undefined || now - w.start >= this.windowMs) {
      const held = w === undefined ? 0 : w.count - this.max
      this.windows.set(key, { start: now, count: 1 })
      if (this.windows.size > 1000) this.prune(now)
      return held > 0 ? { allowed: true, say: held } : { allowed: true }
    }
    w.count++
    return { allowed: w.count <= this.max }
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k)
  }
}

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
  let closed = false
  let stream: WriteStream | undefined
  // A log that cannot be written (disk full, read-only home) must never take the peer down, and
  // writes again once it can: a new stream at most every REOPEN_MS, and a line saying how many
  // were lost meanwhile.
  let failedAt = 0
  let lost = 0
  const open = () => {
    const s = createWriteStream(path, { flags: 'a', mode: 0o600 })
    s.on('error', () => {
      if (stream === s) stream = undefined
      failedAt = Date.now()
      s.destroy()
    })
    stream = s
  }
  open()
  const limiter = new LineLimiter()
  const emit = (line: string) => {
    if (stream === undefined && !closed && Date.now() - failedAt >= REOPEN_MS) {
      open()
      if (lost > 0)
        stream!.write(
          formatLine('warn', 'log', 'log lines lost while the log could not be written', { lines: lost }),
        )
      lost = 0
    }
    if (stream === undefined) lost++
    else stream.write(line)
    if (options.verbose) process.stderr.write(line)
  }
  const write = (level: Level, component: string, message: string, fields?: Fields) => {
    if (level === 'debug' && !options.verbose) return
    const verdict = limiter.take(`${level} ${component} ${message}`)
    if (verdict.say !== undefined)
      emit(
        formatLine(
          level,
          component,
          `${message} (${verdict.say} more like this in the last minute, not shown)`,
        ),
      )
    if (!verdict.allowed) return
    emit(formatLine(level, component, message, fields))
  }
  const make = (component: string): AppLog => ({
    debug: (m, f) => write('debug', component, m, f),
    info: (m, f) => write('info', component, m, f),
    warn: (m, f) => write('warn', component, m, f),
    error: (m, f) => write('error', component, m, f),
    child: (c) => make(c),
    close: () =>
      new Promise<void>((resolve) => {
        closed = true
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
