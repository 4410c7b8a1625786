// Runs fixtures/net-peer.ts in a child process and reads its JSON-line events.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { tsChildArgs } from './helpers/ts-child.js'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const fixture = fileURLToPath(new URL('./fixtures/net-peer.ts', import.meta.url))

export interface ChildEvent {
  event: string
  peerId?: string
  addrs?: string[]
}

export interface ChildPeer {
  process: ChildProcessWithoutNullStreams
  /** Resolves with the first event matching `predicate` (also ones already received). */
  waitFor(predicate: (e: ChildEvent) => boolean, timeoutMs?: number): Promise<ChildEvent>
  /** Resolves with the exit code, or rejects if the process is still alive after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | null>
  stop(): void
  kill(): void
}

export function startChildPeer(args: string[]): ChildPeer {
  const child = spawn(process.execPath, [...tsChildArgs(fixture), ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const events: ChildEvent[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += String(d)
  })
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(JSON.parse(line) as ChildEvent)
    for (const w of waiters) w()
  })
  let exitCode: number | null | undefined
  const exit = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      exitCode = code
      resolve(code)
      for (const w of waiters) w()
    })
  })

  return {
    process: child,
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate)
          if (found !== undefined) {
            done()
            resolve(found)
          } else if (exitCode !== undefined) {
            done()
            reject(new Error(`child exited (${exitCode}) first; stderr: ${stderr.slice(-2000)}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`child event not seen in ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    async exited(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`child still running ${timeoutMs} ms after stop`)),
          timeoutMs,
        )
      })
      try {
        return await Promise.race([exit, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
    stop() {
      child.stdin.write('stop\n')
    },
    kill() {
      if (exitCode === undefined) child.kill('SIGKILL')
    },
  }
}
