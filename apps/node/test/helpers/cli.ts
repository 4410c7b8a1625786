/**
 * Real `jiayi` processes for tests: each test home is a fresh temp directory, every peer listens
 * on 127.0.0.1 only and runs without mDNS (nothing leaves loopback).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
export const BIN = join(ROOT, 'apps/node/bin/jiayi.mjs')
/** Where test peers listen: loopback only, a port the OS picks. */
export const LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

/**
 * Loopback arguments on a port a peer can come back to after a restart. It lies below Linux's
 * ephemeral range (32768–60999), so no socket the system numbers for itself (another test's
 * browser or peer, started meanwhile) takes it while the peer is down.
 */
export function stablePortArgs(): string[] {
  const port = 20_000 + Math.floor(Math.random() * 12_000)
  return ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns']
}

const homes: string[] = []
const children = new Set<ChildProcess>()

/** A fresh home (short path: Unix socket paths are limited to ~100 bytes). */
export async function tempHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'jy-'))
  homes.push(home)
  return home
}

/** Kills what is left and removes the homes; call from after(). */
export async function cleanup(): Promise<void> {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })))
}

/** The environment of a child: never the developer's own JIAYI_HOME or passphrase. */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.JIAYI_HOME
  delete env.JIAYI_PASSPHRASE
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>
  readonly input?: string
  readonly timeoutMs?: number
  /** Let the peer fetch links it posts for previews (off in tests unless asked for). */
  readonly linkPreviews?: boolean
  /** `start` and LineProcess: run inside this network namespace (`ip netns exec`, as root). */
  readonly netns?: string
}

/** Runs `jiayi --home HOME ...args` to completion. */
export function jiayi(home: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', home, ...args], {
      cwd: ROOT,
      env: childEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`jiayi ${args.join(' ')} timed out; stderr: ${stderr}`))
    }, options.timeoutMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Runs a command with --json, expects exit 0, and returns the parsed stdout. */
export async function jiayiJson<T = unknown>(
  home: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<T> {
  const r = await jiayi(home, [...args, '--json'], options)
  if (r.code !== 0) throw new Error(`jiayi ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

export interface Ready {
  readonly event: 'ready'
  readonly peerId: string
  readonly addrs: string[]
  readonly reach: { readonly nat: string; readonly relays: string[]; readonly mapped: string[] }
}

/** A running `jiayi start --json`: its ready line, the lines after it, and how it ended. */
export class PeerProcess {
  readonly lines: Record<string, unknown>[] = []
  private readonly waiters = new Set<() => void>()
  readonly exited: Promise<number | null>
  stderr = ''

  private constructor(
    readonly home: string,
    readonly child: ChildProcess,
    readonly ready: Ready,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  }

  /** Starts a peer on loopback and waits for its ready line (rejects if it exits first). */
  static start(
    home: string,
    args: readonly string[] = LOOPBACK,
    options: RunOptions = {},
  ): Promise<PeerProcess> {
    // Posting a link makes the peer fetch it for a preview: tests never reach beyond loopback.
    const previews = options.linkPreviews === true ? [] : ['--no-link-previews']
    const argv = [process.execPath, BIN, '--home', home, 'start', '--json', ...args, ...previews]
    // `ip netns exec` execs the command: the child's pid is the peer's, signals reach it.
    const [command, ...rest] =
      options.netns === undefined ? argv : ['ip', 'netns', 'exec', options.netns, ...argv]
    const child = spawn(command!, rest, {
      cwd: ROOT,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    child.once('exit', () => children.delete(child))
    return new Promise((resolve, reject) => {
      let peer: PeerProcess | undefined
      let stderr = ''
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d
        if (peer) peer.stderr += d
      })
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`jiayi start did not get ready; stderr: ${stderr}`))
      }, options.timeoutMs ?? 20_000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        if (!peer) reject(Object.assign(new Error(`jiayi start exited ${code}: ${stderr}`), { code, stderr }))
      })
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const value = JSON.parse(line) as Record<string, unknown>
        if (peer === undefined) {
          clearTimeout(timer)
          if (value.event !== 'ready') {
            void readFile(join(home, 'jiayi.log'), 'utf8')
              .catch(() => '')
              .then((log) =>
                reject(new Error(`jiayi start failed: ${line}\nstderr: ${stderr}\nlog: ${log.slice(-3000)}`)),
              )
            return
          }
          peer = new PeerProcess(home, child, value as unknown as Ready)
          peer.stderr = stderr
          resolve(peer)
          return
        }
        peer.lines.push(value)
        for (const w of peer.waiters) w()
      })
    })
  }

  /** Waits for an event line matching `match`. */
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match)
        if (found === undefined) return false
        clearTimeout(timer)
        this.waiters.delete(waiter)
        resolve(found)
        return true
      }
      const waiter = () => void check()
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error('timed out waiting for an event line'))
      }, timeoutMs)
      if (!check()) this.waiters.add(waiter)
    })
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.child.kill(signal)
    return this.exited
  }
}

/** Polls `check` until it returns a truthy value. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * A `jiayi … --json` command that runs a while and talks on its standard streams (`devices link`,
 * `init --link`): its JSON lines as they come, its stdin to type into, how it ended.
 */
export class LineProcess {
  readonly lines: Record<string, unknown>[] = []
  stderr = ''
  private ended = false
  readonly exited: Promise<number | null>
  private readonly waiters = new Set<() => void>()

  constructor(
    readonly home: string,
    args: readonly string[],
    options: RunOptions = {},
  ) {
    const argv = [process.execPath, BIN, '--home', home, ...args, '--json']
    // `ip netns exec` execs the command: the child's pid is the command's, signals reach it.
    const [command, ...rest] =
      options.netns === undefined ? argv : ['ip', 'netns', 'exec', options.netns, ...argv]
    const child = spawn(command!, rest, {
      cwd: ROOT,
      env: childEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child = child
    children.add(child)
    this.exited = new Promise((resolve) =>
      child.once('close', (code) => {
        children.delete(child)
        this.ended = true
        resolve(code)
        for (const w of this.waiters) w()
      }),
    )
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(JSON.parse(line) as Record<string, unknown>)
      for (const w of this.waiters) w()
    })
  }

  readonly child: ChildProcess & { stdin: NodeJS.WritableStream }

  /** The first line matching `match` (rejects when the process ends without one). */
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match)
        if (found !== undefined || this.ended) {
          clearTimeout(timer)
          this.waiters.delete(check)
          if (found !== undefined) resolve(found)
          else reject(new Error(`exited without the line; stderr: ${this.stderr}`))
        }
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out waiting for a line; stderr: ${this.stderr}`))
      }, timeoutMs)
      this.waiters.add(check)
      check()
    })
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`)
  }
}
