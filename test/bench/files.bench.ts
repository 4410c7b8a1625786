/**
 * File transfer benchmark: a 1 GiB file A -> B over loopback TCP, each peer in its own process
 * (files-peer.ts), on the real stack (ratcheted offer, /jiayi/file/1, AES-256-GCM chunks, LevelDB,
 * files on disk, SHA-256 on both sides).
 *
 * - file.throughput_mb_s: file size / time from sendFile (a 1 GiB file is hashed on the way, not
 *   before its offer; `offerMs` is until the offer is queued) until the receiver has it complete
 *   and verified. Baseline: raw libp2p one-stream throughput between the same two processes in the
 *   same run (256 KiB writes, no framing, no crypto beyond Noise). Goal ratio ≥ 0.70.
 * - file.rss_growth_mb: the larger of the two processes' peak RSS growth during the transfer.
 *   Baseline: the 1 GiB file size (the ratio shows the share of the file held in memory). Goal ≤ 64.
 *
 * Temporary files go under os.tmpdir() and are removed at the end. FILES_BENCH_MIB sets the file
 * size; FILES_BENCH_PROFILE=DIR runs both peers with `node --cpu-prof` into DIR.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { report } from './report.js'

const MiB = 1024 * 1024
const SIZE = Number(process.env.FILES_BENCH_MIB ?? 1024) * MiB
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PEER = fileURLToPath(new URL('./files-peer.ts', import.meta.url))
const PROFILE = process.env.FILES_BENCH_PROFILE
/** The peers' crypto provider (each line's `crypto`): node:crypto, or @noble with JIAYI_CRYPTO=noble. */
const CRYPTO = process.env.JIAYI_CRYPTO === 'noble' ? 'noble' : 'node'

/** With FILES_BENCH_PROFILE: phase boundaries on the monotonic clock of the .cpuprofile files (µs). */
function phase(name: string): void {
  if (PROFILE) process.stderr.write(`# phase ${name} ${process.hrtime.bigint() / 1000n}\n`)
}

type Event = Record<string, unknown> & { event: string }

class Peer {
  readonly events: Event[] = []
  private readonly waiters = new Set<() => void>()
  private readonly child: ChildProcess

  constructor(home: string) {
    const profile = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : []
    this.child = spawn(
      process.execPath,
      [
        ...profile,
        '--import',
        'tsx',
        '--import',
        './polyfill.mjs',
        '--import',
        './test/use-node-crypto.mjs',
        PEER,
      ],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, BENCH_HOME: home, BENCH_KEY: randomBytes(32).toString('hex') },
      },
    )
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.push(JSON.parse(line) as Event))
    // A peer that dies (a bad option, a crash) fails whatever waits on it instead of hanging the run.
    this.child.once('exit', (code, signal) => this.push({ event: 'error', exited: code ?? signal }))
  }

  private push(event: Event): void {
    this.events.push(event)
    for (const w of [...this.waiters]) w()
  }

  next(name: string, from = 0, timeoutMs = 600_000): Promise<Event> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = this.events
          .slice(from)
          .find((x) => x.event === name || x.event === 'error' || x.event === 'failed')
        if (e === undefined) return
        this.waiters.delete(check)
        clearTimeout(timer)
        if (e.event === name) resolve(e)
        else reject(new Error(`${name}: ${JSON.stringify(e)}`))
      }
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${name}`)), timeoutMs)
      this.waiters.add(check)
      check()
    })
  }

  async ask(cmd: Record<string, unknown>, reply: string): Promise<Event> {
    const from = this.events.length
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`)
    return this.next(reply, from)
  }

  async exit(): Promise<void> {
    const gone = new Promise((r) => this.child.once('exit', r))
    this.child.stdin!.write(`${JSON.stringify({ cmd: 'exit' })}\n`)
    await gone
  }
}

const dir = await mkdtemp(join(tmpdir(), 'jiayi-files-bench-'))
try {
  const path = join(dir, 'one-gib.bin')
  const fh = await open(path, 'w')
  for (let done = 0; done < SIZE; done += 8 * MiB) await fh.write(randomBytes(Math.min(8 * MiB, SIZE - done)))
  await fh.close()

  const a = new Peer(join(dir, 'a'))
  const b = new Peer(join(dir, 'b'))
  const [ra, rb] = await Promise.all([a.next('ready'), b.next('ready')])
  const bAtA = String((await a.ask({ cmd: 'add', link: rb.link }, 'added')).id)
  const aAtB = String((await b.ask({ cmd: 'add', link: ra.link }, 'added')).id)
  await a.ask({ cmd: 'wait-accepted', contact: bAtA }, 'accepted')
  await b.ask({ cmd: 'wait-accepted', contact: aAtB }, 'accepted')
  await b.ask({ cmd: 'raw-listen' }, 'raw-listening')

  const raw = async (): Promise<number> => {
    const from = b.events.length
    await a.ask({ cmd: 'raw-send', addr: rb.addr, bytes: SIZE }, 'raw-sent')
    const done = await b.next('raw-done', from)
    return Number(done.bytes) / 1e6 / (Number(done.ms) / 1000)
  }
  const rawBefore = await raw()

  const [baseA, baseB] = await Promise.all([
    a.ask({ cmd: 'rss', reset: true }, 'rss'),
    b.ask({ cmd: 'rss', reset: true }, 'rss'),
  ])
  const fromB = b.events.length
  phase('transfer-start')
  const t0 = performance.now()
  const offered = await a.ask({ cmd: 'send', contact: bAtA, path }, 'offered')
  const offeredMs = performance.now() - t0
  await b.next('complete', fromB)
  const totalMs = performance.now() - t0
  phase('transfer-end')
  const [peakA, peakB] = await Promise.all([a.ask({ cmd: 'rss' }, 'rss'), b.ask({ cmd: 'rss' }, 'rss')])

  const rawAfter = await raw()
  await Promise.all([a.exit(), b.exit()])

  const rawMbS = (rawBefore + rawAfter) / 2
  const fileMbS = SIZE / 1e6 / (totalMs / 1000)
  report({
    bench: 'file.throughput_mb_s',
    crypto: CRYPTO,
    value: fileMbS,
    unit: 'MB/s',
    baseline: 'libp2p.one_stream_mb_s',
    baselineValue: rawMbS,
    goal: 'ratio >= 0.70',
    mib: SIZE / MiB,
    offerMs: offeredMs,
    transferMbS: SIZE / 1e6 / ((totalMs - offeredMs) / 1000),
    rawBeforeMbS: rawBefore,
    rawAfterMbS: rawAfter,
    id: offered.id,
  })
  const growth = (base: Event, peak: Event) => (Number(peak.peak) - Number(base.rss)) / MiB
  const growthA = growth(baseA, peakA)
  const growthB = growth(baseB, peakB)
  report({
    bench: 'file.rss_growth_mb',
    crypto: CRYPTO,
    value: Math.max(growthA, growthB),
    unit: 'MiB',
    baseline: 'file_size_mb',
    baselineValue: SIZE / MiB,
    goal: 'value <= 64',
    senderMb: growthA,
    receiverMb: growthB,
  })
} finally {
  await rm(dir, { recursive: true, force: true })
}
