/** Parent side of files-child.ts: spawn a peer process, send it commands, wait for its events. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { tsChildArgs } from './ts-child.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const CHILD = fileURLToPath(new URL('./files-child.ts', import.meta.url))

export type ChildEvent = Record<string, unknown> & { event: string }

export interface ChildPeerInit {
  home: string
  key: string
  name: string
  window?: number
  throttleMs?: number
  quiet?: boolean
  port?: number
}

export class ChildPeer {
  readonly events: ChildEvent[] = []
  private readonly waiters = new Set<() => void>()
  private exited = false
  readonly ready: Promise<ChildEvent>
  stderr = ''

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as ChildEvent)
      } catch {
        return
      }
      for (const w of [...this.waiters]) w()
    })
    child.stderr!.on('data', (d) => {
      this.stderr = (this.stderr + String(d)).slice(-4000)
      if (process.env.JIAYI_CHILD_STDERR) process.stderr.write(d)
    })
    child.on('exit', () => {
      this.exited = true
      for (const w of [...this.waiters]) w()
    })
    this.ready = this.waitFor((e) => e.event === 'ready', 30_000)
  }

  static spawn(init: ChildPeerInit): ChildPeer {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.JIAYI_CHILD_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.JIAYI_CHILD_PROF}`]
          : []),
        ...tsChildArgs(CHILD),
      ],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          JIAYI_TEST_HOME: init.home,
          JIAYI_TEST_KEY: init.key,
          JIAYI_TEST_NAME: init.name,
          JIAYI_TEST_WINDOW: init.window === undefined ? '' : String(init.window),
          JIAYI_TEST_THROTTLE_MS: String(init.throttleMs ?? 0),
          JIAYI_TEST_QUIET: init.quiet ? '1' : '0',
          JIAYI_TEST_PORT: String(init.port ?? 0),
        },
      },
    )
    return new ChildPeer(child)
  }

  get pid(): number {
    return this.child.pid!
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`)
  }

  /** The first event (from the start) matching `match`, waiting up to `timeoutMs`. */
  waitFor(match: (e: ChildEvent) => boolean, timeoutMs = 30_000, from = 0): Promise<ChildEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(match)
        if (found !== undefined) {
          done()
          resolve(found)
        } else if (this.exited) {
          done()
          reject(new Error(`peer exited before the event came; stderr: ${this.stderr}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(
          new Error(`timed out after ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-3))}`),
        )
      }, timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  /** Sends `cmd` and waits for the next event named `reply` (or an error). */
  async request(cmd: Record<string, unknown>, reply: string, timeoutMs = 30_000): Promise<ChildEvent> {
    const from = this.events.length
    this.send(cmd)
    const e = await this.waitFor(
      (x) => x.event === reply || (x.event === 'error' && x.cmd === cmd.cmd),
      timeoutMs,
      from,
    )
    if (e.event === 'error') throw new Error(`${String(cmd.cmd)} failed: ${String(e.error)}`)
    return e
  }

  kill9(): Promise<void> {
    if (this.exited) return Promise.resolve()
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.child.kill('SIGKILL')
    return gone
  }

  async exit(): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.send({ cmd: 'exit' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await gone
    clearTimeout(timer)
  }
}
