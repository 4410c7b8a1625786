/**
 * A file through the `jiayi` command, as a user sends one: two `jiayi start` daemons on 127.0.0.1
 * (sealed LevelDB homes on disk), `jiayi send-file CONTACT PATH` run on A's home, and B taking it.
 *
 * - file.cli_1gib_mb_s: file size / time from spawning `jiayi send-file` until B's control socket
 *   says the file is complete (stored, hashed, synced to disk and moved into place). Baseline: a
 *   raw TCP copy of the same file between two bare Node processes (tcp-copy.mjs), timed from
 *   spawning the sender until the receiver has written the file and synced it (as B must before
 *   it shows a file complete); the mean of one copy before and one after the transfer. Goal:
 *   ratio ≥ 0.5.
 *
 * Extra fields: `offerMs` (spawn until B has the offer), `sendFileExitMs` (until `jiayi
 * send-file` itself exits; it polls every 200 ms), `rawUnsyncedMbS` (the copy without its final
 * sync), and CPU seconds per GiB of each process (every thread, from /proc): the two daemons
 * (`senderCpuSPerGiB`, `receiverCpuSPerGiB`; `…MainCpuSPerGiB` their main threads, where
 * JavaScript runs), the raw copy's two processes (`raw…`), and two bare
 * libp2p nodes (msg-raw-peer.ts: TCP, Noise, Yamux) moving the same bytes over one stream
 * (`libp2p…`, with its throughput `libp2pStreamMbS`): what the network stack alone costs. CPU per
 * GiB is steadier than the timings on a shared machine, and on two cores it is what the
 * throughput comes down to.
 *
 * FILES_BENCH_MIB sets the size (default 1024); FILES_BENCH_PROFILE=DIR runs both daemons with
 * `node --cpu-prof` into DIR. Homes and files go under os.tmpdir() and are removed at the end.
 * Linux only (/proc for CPU time).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BIN_NODE_FLAGS,
  Control,
  contactsOfEachOther,
  cpuMs,
  Daemon,
  type Line,
  Lines,
  ROOT,
  runJiayi,
} from './jiayi-daemons.js'
import { report } from './report.js'

const MiB = 1024 * 1024
const SIZE = Number(process.env.FILES_BENCH_MIB ?? 1024) * MiB
const WARM_UP = 8 * MiB
const PROFILE = process.env.FILES_BENCH_PROFILE
const COPY = fileURLToPath(new URL('./tcp-copy.mjs', import.meta.url))
const BARE = fileURLToPath(new URL('./msg-raw-peer.ts', import.meta.url))
/** The peers' crypto provider (each line's `crypto`): node:crypto, or @noble with JIAYI_CRYPTO=noble. */
const CRYPTO = process.env.JIAYI_CRYPTO === 'noble' ? 'noble' : 'node'

async function writeRandomFile(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w')
  for (let done = 0; done < size; done += 8 * MiB) await fh.write(randomBytes(Math.min(8 * MiB, size - done)))
  // On disk before anything is timed: the first copy does not compete with its write-back.
  await fh.sync()
  await fh.close()
}

interface Leg {
  readonly ms: number
  /** CPU time of the sending and the receiving process during the leg (every thread), s. */
  readonly senderCpuS: number
  readonly receiverCpuS: number
}

/** One raw copy of `path` to `dest`: from spawning the sender until the copy is synced. */
async function rawCopy(path: string, dest: string): Promise<Leg & { syncMs: number }> {
  const receiver = spawn(process.execPath, [COPY, 'receive', dest], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const lines = new Lines(receiver)
    const ready = await lines.next((l) => l.event === 'ready')
    const base = await cpuMs(receiver.pid!)
    const t0 = performance.now()
    const sender = spawn(process.execPath, [COPY, 'send', String(ready.port), path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const sent = new Lines(sender).next((l) => l.event === 'sent', 0, 600_000)
    const done = await lines.next((l) => l.event === 'done', 0, 600_000)
    const ms = performance.now() - t0
    if (Number(done.bytes) !== SIZE) throw new Error(`the raw copy moved ${done.bytes} bytes`)
    return {
      ms,
      syncMs: Number(done.syncMs),
      senderCpuS: Number((await sent).cpuMs) / 1000,
      receiverCpuS: (Number(done.cpuMs) - base) / 1000,
    }
  } finally {
    if (receiver.exitCode === null) receiver.kill()
    await rm(dest, { force: true })
  }
}

/** A bare libp2p node (msg-raw-peer.ts: TCP, Noise, Yamux) under the flags `jiayi` runs with. */
class BarePeer {
  readonly child = spawn(
    process.execPath,
    [...BIN_NODE_FLAGS, '--import', 'tsx', '--import', './polyfill.mjs', BARE],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  readonly lines = new Lines(this.child)

  async addr(): Promise<string> {
    return String((await this.lines.next((l) => l.event === 'ready')).addr)
  }

  send(cmd: Line): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`)
  }
}

/** `bytes` over one libp2p stream between two bare nodes: what the stack alone costs. */
async function libp2pStream(bytes: number): Promise<Leg> {
  const [a, b] = [new BarePeer(), new BarePeer()]
  try {
    const [, addr] = await Promise.all([a.addr(), b.addr()])
    const streamed = async (n: number) => {
      const from = b.lines.all.length
      a.send({ cmd: 'stream', addr, bytes: n })
      const got = await b.lines.next((l) => l.event === 'streamed' || l.event === 'error', from, 600_000)
      if (got.bytes !== n) throw new Error(`the libp2p stream moved ${JSON.stringify(got)}`)
    }
    await streamed(WARM_UP)
    const base = await Promise.all([cpuMs(a.child.pid!), cpuMs(b.child.pid!)])
    const t0 = performance.now()
    await streamed(bytes)
    const ms = performance.now() - t0
    const end = await Promise.all([cpuMs(a.child.pid!), cpuMs(b.child.pid!)])
    return { ms, senderCpuS: (end[0]! - base[0]!) / 1000, receiverCpuS: (end[1]! - base[1]!) / 1000 }
  } finally {
    a.send({ cmd: 'exit' })
    b.send({ cmd: 'exit' })
  }
}

type Transfer = { id: string; direction: string; status: string; hold?: string; path: string | null }

/** B's transfer events, and a way to wait for a file of A's to be complete there. */
class Arrivals {
  readonly offered = new Map<string, number>()
  readonly complete = new Map<string, number>()
  private waiters = new Set<() => void>()

  constructor(private readonly cb: Control) {
    cb.onEvent = (n: Line) => {
      if (n.event !== 'transfer') return
      const t = n.transfer as Transfer
      if (t.direction !== 'in') return
      if (!this.offered.has(t.id)) this.offered.set(t.id, performance.now())
      // 1 GiB is over the default auto-download limits: B's user accepts it.
      if (t.status === 'incoming' && t.hold !== undefined) void this.cb.call('acceptFile', { id: t.id })
      if (t.status === 'failed') throw new Error(`the file failed at B: ${JSON.stringify(t)}`)
      if (t.status === 'complete') this.complete.set(t.id, performance.now())
      for (const w of [...this.waiters]) w()
    }
  }

  /** The next file (not among `seen`) complete at B: its id and when. */
  next(seen: ReadonlySet<string>): Promise<{ id: string; at: number; offeredAt: number }> {
    return new Promise((resolve) => {
      const check = () => {
        for (const [id, at] of this.complete) {
          if (seen.has(id)) continue
          this.waiters.delete(check)
          resolve({ id, at, offeredAt: this.offered.get(id) ?? at })
          return
        }
      }
      this.waiters.add(check)
      check()
    })
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jy-files-cli-bench-'))
  const daemons: Daemon[] = []
  try {
    const path = join(dir, 'one-gib.bin')
    const warmPath = join(dir, 'warm-up.bin')
    await writeRandomFile(path, SIZE)
    await writeRandomFile(warmPath, WARM_UP)
    const [ha, hb] = [join(dir, 'a'), join(dir, 'b')]
    await Promise.all([
      runJiayi(['init', '--name', 'Bench A'], ha),
      runJiayi(['init', '--name', 'Bench B'], hb),
    ])

    const rawBefore = await rawCopy(path, join(dir, 'copy.bin'))
    const stack = await libp2pStream(SIZE)

    const nodeArgs = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : []
    const [a, b] = [new Daemon(ha, nodeArgs), new Daemon(hb, nodeArgs)]
    daemons.push(a, b)
    await Promise.all([a.ready(), b.ready()])
    const [ca, cb] = await Promise.all([Control.open(ha), Control.open(hb)])
    const { bAtA } = await contactsOfEachOther(ca, cb)
    const arrivals = new Arrivals(cb)
    await cb.call('subscribe', { events: ['transfer'] })

    // A small file first: connections, sessions and code paths warm, as on a peer in use.
    await runJiayi(['send-file', bAtA, warmPath, '--json'], ha)
    const warm = await arrivals.next(new Set())

    const cpuOf = (d: Daemon) => Promise.all([cpuMs(d.child.pid!), cpuMs(d.child.pid!, true)])
    const cpuBefore = await Promise.all([cpuOf(a), cpuOf(b)])
    if (PROFILE) process.stderr.write(`# phase transfer-start ${process.hrtime.bigint() / 1000n}\n`)
    const t0 = performance.now()
    let sendFileExitMs = 0
    const sending = runJiayi(['send-file', bAtA, path, '--json'], ha).then((out) => {
      sendFileExitMs = performance.now() - t0
      return out
    })
    const got = await arrivals.next(new Set([warm.id]))
    const ms = got.at - t0
    if (PROFILE) process.stderr.write(`# phase transfer-end ${process.hrtime.bigint() / 1000n}\n`)
    const cpuAfter = await Promise.all([cpuOf(a), cpuOf(b)])
    const sent = JSON.parse(await sending) as { id: string; status: string }
    if (sent.status !== 'complete') throw new Error(`send-file ended ${sent.status}`)
    const received = (await cb.call<Transfer[]>('transfers')).find((t) => t.id === got.id)
    if (received?.path) await rm(received.path, { force: true })

    ca.close()
    cb.close()
    await Promise.all([a.stop(), b.stop()])

    const rawAfter = await rawCopy(path, join(dir, 'copy.bin'))
    const rawMs = (rawBefore.ms + rawAfter.ms) / 2
    const rawSyncMs = (rawBefore.syncMs + rawAfter.syncMs) / 2
    const mbS = (bytes: number, millis: number) => bytes / 1e6 / (millis / 1000)
    /** CPU seconds per GiB moved. */
    const perGiB = (s: number) => (s * (1024 * MiB)) / SIZE
    report({
      bench: 'file.cli_1gib_mb_s',
      crypto: CRYPTO,
      value: mbS(SIZE, ms),
      unit: 'MB/s',
      baseline: 'tcp.copy_mb_s',
      baselineValue: mbS(SIZE, rawMs),
      goal: 'ratio >= 0.5',
      mib: SIZE / MiB,
      ms,
      offerMs: got.offeredAt - t0,
      sendFileExitMs,
      senderCpuSPerGiB: perGiB((cpuAfter[0]![0] - cpuBefore[0]![0]) / 1000),
      receiverCpuSPerGiB: perGiB((cpuAfter[1]![0] - cpuBefore[1]![0]) / 1000),
      senderMainCpuSPerGiB: perGiB((cpuAfter[0]![1] - cpuBefore[0]![1]) / 1000),
      receiverMainCpuSPerGiB: perGiB((cpuAfter[1]![1] - cpuBefore[1]![1]) / 1000),
      rawBeforeMbS: mbS(SIZE, rawBefore.ms),
      rawAfterMbS: mbS(SIZE, rawAfter.ms),
      rawUnsyncedMbS: mbS(SIZE, rawMs - rawSyncMs),
      rawSyncMs,
      rawSenderCpuSPerGiB: perGiB((rawBefore.senderCpuS + rawAfter.senderCpuS) / 2),
      rawReceiverCpuSPerGiB: perGiB((rawBefore.receiverCpuS + rawAfter.receiverCpuS) / 2),
      libp2pStreamMbS: mbS(SIZE, stack.ms),
      libp2pSenderCpuSPerGiB: perGiB(stack.senderCpuS),
      libp2pReceiverCpuSPerGiB: perGiB(stack.receiverCpuS),
    })
  } finally {
    // A failed run leaves no daemon behind.
    await Promise.all(daemons.filter((d) => d.child.exitCode === null).map((d) => d.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
