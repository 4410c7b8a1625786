/**
 * A network namespace for the browser-to-browser test. Chromium gathers no ICE candidates on
 * loopback, so two browser peers can only open a direct WebRTC connection over a real interface;
 * the test must not use this machine's interfaces or LAN, so it makes its own world: a namespace
 * with a veth pair (both ends inside), an address on one end and a default route through it,
 * and loopback up. Chromium, the page server and the relay node run inside it (`ip netns exec`);
 * the test process talks to them through pipes and the node's Unix control socket only.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface Netns {
  readonly name: string
  /** The address the namespace's interface has (the relay node listens on it). */
  readonly address: string
  /** Runs `command args` inside the namespace; stdout lines are JSON events. */
  spawn(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess
  /** An executable that runs Debian's Chromium inside the namespace (for playwright's executablePath). */
  readonly chromium: string
  remove(): Promise<void>
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why this machine cannot run the test (not root, no `ip`), or undefined if it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace'
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return 'needs iproute2 (`ip`)'
  }
  return undefined
}

export async function createNetns(): Promise<Netns> {
  const name = `jiayi-test-${process.pid}`
  // A namespace left by an earlier run of this same pid (very unlikely) goes first.
  try {
    ip('netns', 'del', name)
  } catch {
    // none
  }
  const address = '10.213.0.1'
  ip('netns', 'add', name)
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-netns-'))
  const children = new Set<ChildProcess>()
  try {
    const inNs = (...args: string[]) => ip('netns', 'exec', name, 'ip', ...args)
    inNs('link', 'set', 'lo', 'up')
    inNs('link', 'add', 'jy0', 'type', 'veth', 'peer', 'name', 'jy1')
    inNs('addr', 'add', `${address}/24`, 'dev', 'jy0')
    inNs('link', 'set', 'jy0', 'up')
    inNs('link', 'set', 'jy1', 'up')
    inNs('route', 'add', 'default', 'dev', 'jy0')
  } catch (error) {
    ip('netns', 'del', name)
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  const chromium = join(dir, 'chromium-in-netns')
  await writeFile(chromium, `#!/bin/sh\nexec ip netns exec ${name} /usr/bin/chromium "$@"\n`)
  await chmod(chromium, 0o755)
  return {
    name,
    address,
    chromium,
    spawn(command, args, env = process.env) {
      const child = spawn('ip', ['netns', 'exec', name, command, ...args], {
        env,
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.add(child)
      child.once('exit', () => children.delete(child))
      return child
    },
    async remove() {
      for (const child of children) child.kill('SIGKILL')
      try {
        ip('netns', 'del', name)
      } catch {
        // already gone
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The first stdout line of `child` that parses as JSON and matches, or a rejection with its stderr. */
export function firstLine<T>(
  child: ChildProcess,
  match: (v: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
) {
  return new Promise<T>((resolve, reject) => {
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(
      () => reject(new Error(`no ready line; stderr: ${stderr.slice(-2000)}`)),
      timeoutMs,
    )
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited ${code} before it was ready; stderr: ${stderr.slice(-2000)}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const value = JSON.parse(line) as Record<string, unknown>
        if (match(value)) {
          clearTimeout(timer)
          resolve(value as T)
        }
      } catch {
        // not JSON
      }
    })
  })
}
