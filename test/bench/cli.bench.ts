/**
 * The `jiayi` command and its peer as processes, each against a baseline measured in the same run
 * (runs of the two sides alternate, so the machine's load falls on both alike):
 *
 * - cli.whoami_peer_ms: `jiayi whoami` with a peer running (spawn to exit, median). Baseline: a
 *   bare Node client of the same control socket asking the same (`node -e`, spawn to exit);
 *   `nodeMs` is `node -e 0`. Goal: ≤ 150 ms.
 * - cli.whoami_no_peer_ms, cli.card_no_peer_ms: the same commands with no peer running (they open
 *   the store themselves). Baseline: `node -e 0`; `versionMs` is `jiayi --version`, the floor of
 *   any command. Goal: ≤ 250 ms.
 * - peer.start_ms: spawn of `jiayi start --json` to its ready line (TCP, WebSockets and
 *   WebRTC-Direct on 127.0.0.1, no mDNS, the web app on as by default). Baseline: a bare js-libp2p
 *   node with the same transports and protocols (bare-libp2p-peer.ts, bundled here with esbuild)
 *   to its ready line. Goal: ≤ 2×.
 * - peer.rss_mb: resident memory SETTLE_MS after ready (VmRSS; `hwmMb` the peak). Baseline: the
 *   bare node likewise. Goal: ≤ 1.3×.
 * - peer.stop_ms: SIGTERM to the process's exit. Baseline: the bare node, which exits as soon as
 *   node.stop() resolves. Goal: ≤ 200 ms.
 *
 * CLI_BENCH_RUNS (default 11) runs per command figure, CLI_BENCH_PEER_RUNS (default 5) starts and
 * stops per side. The homes go under os.tmpdir() and the bundle under node_modules/.cache; both
 * are removed at the end. Linux only (/proc for RSS).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { report } from './report.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'apps/node/bin/jiayi.mjs')
/** The Node flags that `jiayi` runs with (its #! line), so the peers here run as users' do. */
const BIN_NODE_FLAGS = readFileSync(BIN, 'utf8').split('\n', 1)[0]!.split(/\s+/).slice(3)
const LISTEN = [
  '--listen',
  '/ip4/127.0.0.1/tcp/0',
  '--listen',
  '/ip4/127.0.0.1/tcp/0/ws',
  '--listen',
  '/ip4/127.0.0.1/udp/0/webrtc-direct',
  '--no-mdns',
]
const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 11)
const PEER_RUNS = Number(process.env.CLI_BENCH_PEER_RUNS ?? 5)
const SETTLE_MS = 1500
const CACHE = join(ROOT, 'node_modules/.cache/jiayi-bench')

/** Never the developer's own home or passphrase. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.JIAYI_HOME
  delete env.JIAYI_PASSPHRASE
  return env
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Spawn to exit of `node ...args`, in ms; rejects unless it exits 0. */
function timed(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now()
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: childEnv(),
    })
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d
    })
    child.on('exit', (code) => {
      const ms = performance.now() - t
      if (code === 0) resolve(ms)
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${err}`))
    })
  })
}

const jiayiArgs = (home: string, ...args: string[]) => [BIN, '--home', home, ...args]

/** A bare Node client of the control socket: connect, ask `method`, read the answer, exit. */
function socketClientArgs(socket: string, method: string): string[] {
  const script = `const s = require('node:net').connect(${JSON.stringify(socket)});
s.on('connect', () => s.write(JSON.stringify({ id: 1, method: ${JSON.stringify(method)}, params: {} }) + '\\n'));
let b = ''; s.setEncoding('utf8').on('data', (d) => { b += d; if (b.includes('\\n')) { JSON.parse(b); s.destroy() } });`
  return ['-e', script]
}

async function procStatus(pid: number): Promise<{ rssMb: number; hwmMb: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 }
}

interface PeerRun {
  readonly startMs: number
  readonly rssMb: number
  readonly hwmMb: number
  readonly stopMs: number
}

/** Starts a process that prints a ready line, lets it settle, reads its memory, stops it. */
async function peerRun(args: readonly string[]): Promise<PeerRun> {
  const t = performance.now()
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: childEnv(),
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const lines = createInterface({ input: child.stdout! })
  await new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => {
      const value = JSON.parse(line) as { event?: string }
      if (value.event === 'ready') resolve()
      else reject(new Error(`not a ready line: ${line}`))
    })
    void exited.then((code) => reject(new Error(`exited ${code} before ready: ${args.join(' ')}`)))
  })
  const startMs = performance.now() - t
  await sleep(SETTLE_MS)
  const { rssMb, hwmMb } = await procStatus(child.pid!)
  const s = performance.now()
  child.kill('SIGTERM')
  const code = await exited
  const stopMs = performance.now() - s
  if (code !== 0) throw new Error(`exited ${code} after SIGTERM: ${args.join(' ')}`)
  return { startMs, rssMb, hwmMb, stopMs }
}

async function bundleBarePeer(): Promise<string> {
  await mkdir(CACHE, { recursive: true })
  const outfile = join(CACHE, 'bare-libp2p-peer.mjs')
  await build({
    entryPoints: [fileURLToPath(new URL('./bare-libp2p-peer.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The native WebRTC library loads as it is (from node_modules, next to the cache).
    external: ['node-datachannel', '@ipshipyard/node-datachannel'],
    // CommonJS dependencies inside an ES module bundle call require().
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
  return outfile
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jy-bench-cli-'))
  try {
    const home = join(dir, 'home')
    await timed(jiayiArgs(home, 'init', '--name', 'Bench'))
    const bare = await bundleBarePeer()

    // peer.*: jiayi and the bare node alternately; the first of each warms the disk cache.
    const jiayiPeer = [...BIN_NODE_FLAGS, ...jiayiArgs(home, 'start', '--json', ...LISTEN)]
    const barePeer = [bare]
    await peerRun(jiayiPeer)
    await peerRun(barePeer)
    const ours: PeerRun[] = []
    const theirs: PeerRun[] = []
    for (let i = 0; i < PEER_RUNS; i++) {
      ours.push(await peerRun(jiayiPeer))
      theirs.push(await peerRun(barePeer))
    }

    // cli.*_no_peer: the store's last card is there now (the peer ran), as on any used home.
    const noPeer = {
      node: [] as number[],
      version: [] as number[],
      whoami: [] as number[],
      card: [] as number[],
    }
    await timed(jiayiArgs(home, 'whoami'))
    for (let i = 0; i < RUNS; i++) {
      noPeer.node.push(await timed(['-e', '0']))
      noPeer.version.push(await timed([BIN, '--version']))
      noPeer.whoami.push(await timed(jiayiArgs(home, 'whoami')))
      noPeer.card.push(await timed(jiayiArgs(home, 'card')))
    }

    // cli.whoami_peer: a running peer answers over its control socket.
    const peer = spawn(process.execPath, jiayiPeer, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: childEnv(),
    })
    const peerExited = new Promise((resolve) => peer.once('exit', resolve))
    await new Promise((resolve) => createInterface({ input: peer.stdout }).once('line', resolve))
    const withPeer = { node: [] as number[], client: [] as number[], whoami: [] as number[] }
    const client = socketClientArgs(join(home, 'control.sock'), 'whoami')
    await timed(jiayiArgs(home, 'whoami'))
    try {
      for (let i = 0; i < RUNS; i++) {
        withPeer.node.push(await timed(['-e', '0']))
        withPeer.client.push(await timed(client))
        withPeer.whoami.push(await timed(jiayiArgs(home, 'whoami')))
      }
    } finally {
      peer.kill('SIGTERM')
      await peerExited
    }

    const nodeWithPeer = median(withPeer.node)
    report({
      bench: 'cli.whoami_peer_ms',
      value: median(withPeer.whoami),
      unit: 'ms',
      baseline: 'node.control_client_ms',
      baselineValue: median(withPeer.client),
      goal: '≤ 150 ms',
      nodeMs: nodeWithPeer,
      ratioToNode: median(withPeer.whoami) / nodeWithPeer,
      runs: RUNS,
    })
    const nodeNoPeer = median(noPeer.node)
    for (const [name, times] of [
      ['cli.whoami_no_peer_ms', noPeer.whoami],
      ['cli.card_no_peer_ms', noPeer.card],
    ] as const) {
      report({
        bench: name,
        value: median(times),
        unit: 'ms',
        baseline: 'node.e0_ms',
        baselineValue: nodeNoPeer,
        goal: '≤ 250 ms',
        versionMs: median(noPeer.version),
        runs: RUNS,
      })
    }
    const pick = (runs: readonly PeerRun[], key: keyof PeerRun) => median(runs.map((r) => r[key]))
    report({
      bench: 'peer.start_ms',
      value: pick(ours, 'startMs'),
      unit: 'ms',
      baseline: 'libp2p.bare_start_ms',
      baselineValue: pick(theirs, 'startMs'),
      goal: '≤ 2×',
      runs: PEER_RUNS,
    })
    report({
      bench: 'peer.rss_mb',
      value: pick(ours, 'rssMb'),
      unit: 'MiB',
      baseline: 'libp2p.bare_rss_mb',
      baselineValue: pick(theirs, 'rssMb'),
      goal: '≤ 1.3×',
      hwmMb: pick(ours, 'hwmMb'),
      bareHwmMb: pick(theirs, 'hwmMb'),
      afterReadyMs: SETTLE_MS,
    })
    report({
      bench: 'peer.stop_ms',
      value: pick(ours, 'stopMs'),
      unit: 'ms',
      baseline: 'libp2p.bare_stop_ms',
      baselineValue: pick(theirs, 'stopMs'),
      goal: '≤ 200 ms',
      maxMs: Math.max(...ours.map((r) => r.stopMs)),
      runs: PEER_RUNS,
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
    await rm(CACHE, { recursive: true, force: true })
  }
}

await main()
