/**
 * A UPnP router for the namespace internet (internet-netns.ts): fake-igd-server.mjs run inside a
 * home's router namespace, answering SSDP on the home LAN and installing real iptables DNAT
 * rules on the router for the mappings it grants. The test reads what it did (`events`) and the
 * router's NAT table (`dnatRules`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ROOT } from './cli.js'
import type { Home } from './internet-netns.js'

const SERVER = join(ROOT, 'apps/node/test/helpers/fake-igd-server.mjs')

export interface IgdEvent {
  readonly event: string
  readonly protocol?: string
  readonly externalPort?: number
  readonly internalPort?: number
  readonly client?: string
  readonly description?: string
  readonly [key: string]: unknown
}

export class FakeIgd {
  readonly events: IgdEvent[] = []
  private readonly waiters = new Set<() => void>()
  private constructor(
    readonly home: Home,
    private readonly child: ChildProcess,
  ) {}

  /**
   * Starts the IGD on `home`'s router, once it listens on the LAN. `silent`: it hears
   * M-SEARCHes (events) and answers none, as a router without UPnP. `private`: it says its
   * external address is a private one (behind a second NAT, or lying).
   */
  static start(home: Home, options: { mode?: 'silent' | 'private' } = {}): Promise<FakeIgd> {
    const lanIp = home.hostIp.replace(/\.\d+$/, '.1')
    const mode = options.mode === undefined ? [] : [options.mode]
    const args = [
      'netns',
      'exec',
      home.router,
      process.execPath,
      SERVER,
      lanIp,
      home.publicIp,
      'wan',
      ...mode,
    ]
    const child = spawn('ip', args, {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const igd = new FakeIgd(home, child)
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      igd.events.push(JSON.parse(line) as IgdEvent)
      for (const w of igd.waiters) w()
    })
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`fake IGD exited ${code}: ${stderr}`)))
      igd.waitFor((e) => e.event === 'ready', 10_000).then(() => resolve(igd), reject)
    })
  }

  /** Waits for an event matching `match` (one already seen counts). */
  waitFor(match: (e: IgdEvent) => boolean, timeoutMs = 20_000): Promise<IgdEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(match)
        if (found === undefined) return false
        this.waiters.delete(check as () => void)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check as () => void)
        reject(new Error(`fake IGD: no such event in ${timeoutMs} ms; saw ${JSON.stringify(this.events)}`))
      }, timeoutMs)
      if (!check()) this.waiters.add(check as () => void)
    })
  }

  /** The router's DNAT rules now (`iptables -t nat -S PREROUTING`, DNAT lines only). */
  dnatRules(): string[] {
    return execFileSync(
      'ip',
      ['netns', 'exec', this.home.router, 'iptables', '-t', 'nat', '-S', 'PREROUTING'],
      {
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((l) => l.includes('DNAT'))
  }

  /** Ends the IGD (it removes the rules it made). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.stdin!.end()
    await exited
  }
}
