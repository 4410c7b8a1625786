/**
 * What the benchmarks of whole `jiayi` processes share: the command as users run it (the compiled
 * bin with the Node flags of its #! line), `jiayi start --json` daemons on 127.0.0.1 with their
 * homes, their control sockets, and each process's CPU time and memory from /proc (Linux only).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = join(ROOT, 'apps/node/bin/jiayi.mjs')
/** The Node flags that `jiayi` runs with (its #! line), so the peers here run as users' do. */
export const BIN_NODE_FLAGS = readFileSync(BIN, 'utf8').split('\n', 1)[0]!.split(/\s+/).slice(3)
const LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

export type Line = Record<string, unknown>

/** Lines of a child's stdout as parsed JSON, with a way to wait for one. */
export class Lines {
  readonly all: Line[] = []
  private readonly waiters = new Set<() => void>()

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.all.push(JSON.parse(line) as Line)
      } catch {
        this.all.push({ text: line })
      }
      for (const w of [...this.waiters]) w()
    })
  }

  next(match: (l: Line) => boolean, from = 0, timeoutMs = 120_000): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.all.slice(from).find(match)
        if (found === undefined) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error('timed out waiting for a line'))
      }, timeoutMs)
      this.waiters.add(check)
      check()
    })
  }
}

/** Never the developer's own home or passphrase. */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.JIAYI_HOME
  delete env.JIAYI_PASSPHRASE
  return env
}

/** `jiayi --home HOME ...args` to its exit; resolves with its stdout, rejects unless it exits 0. */
export function runJiayi(args: readonly string[], home: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...BIN_NODE_FLAGS, BIN, '--home', home, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: childEnv(),
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`jiayi ${args[0]} exited ${code}`)),
    )
  })
}

/** `jiayi start --json` on a home, TCP on 127.0.0.1 only; `readyMs` is spawn to the ready line. */
export class Daemon {
  readonly child: ChildProcess
  readonly lines: Lines
  readonly spawnedAt = performance.now()
  readyMs = 0

  constructor(
    readonly home: string,
    nodeArgs: readonly string[] = [],
  ) {
    const args = [...BIN_NODE_FLAGS, ...nodeArgs, BIN, '--home', home, 'start', '--json', ...LOOPBACK]
    this.child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: childEnv(),
    })
    this.lines = new Lines(this.child)
  }

  async ready(): Promise<this> {
    await this.lines.next((l) => l.event === 'ready')
    this.readyMs = performance.now() - this.spawnedAt
    return this
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve())
      this.child.kill('SIGTERM')
    })
  }
}

/** The control socket: newline-delimited JSON requests, responses and notifications. */
export class Control {
  private nextId = 1
  private buffered = ''
  private readonly pending = new Map<number, (v: Line) => void>()
  onEvent: (n: Line) => void = () => {}

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const value = JSON.parse(this.buffered.slice(0, nl)) as Line
        this.buffered = this.buffered.slice(nl + 1)
        if (typeof value.event === 'string') this.onEvent(value)
        else this.pending.get(value.id as number)?.(value)
      }
    })
  }

  static open(home: string): Promise<Control> {
    return new Promise((resolve, reject) => {
      const socket = connect(join(home, 'control.sock'), () => resolve(new Control(socket)))
      socket.once('error', reject)
    })
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (v) => {
        this.pending.delete(id)
        if (v.error) reject(new Error(`${method}: ${JSON.stringify(v.error)}`))
        else resolve(v.result as T)
      })
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`)
    })
  }

  close(): void {
    this.socket.destroy()
  }
}

/** Two daemons that are each other's accepted contact; `bAtA` is B's contact id at A. */
export async function contactsOfEachOther(ca: Control, cb: Control): Promise<{ bAtA: string; aAtB: string }> {
  const [cardA, cardB] = await Promise.all([
    ca.call<{ link: string }>('card'),
    cb.call<{ link: string }>('card'),
  ])
  const bAtA = (await ca.call<{ id: string }>('addContact', { link: cardB.link })).id
  const aAtB = (await cb.call<{ id: string }>('addContact', { link: cardA.link })).id
  for (;;) {
    const [x, y] = await Promise.all([
      ca.call<{ state: string }[]>('contactList'),
      cb.call<{ state: string }[]>('contactList'),
    ])
    if (x[0]?.state === 'accepted' && y[0]?.state === 'accepted') return { bAtA, aAtB }
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function procStatus(pid: number): Promise<{ hwmMb: number; rssMb: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
  return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 }
}

const CLOCK_TICKS_PER_S = 100

/**
 * CPU time a process has used so far, all its threads (user + system), in ms; with `mainOnly`,
 * its main thread's (the one JavaScript runs on; its thread id is the process id).
 */
export async function cpuMs(pid: number, mainOnly = false): Promise<number> {
  const stat = await readFile(mainOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S
}
