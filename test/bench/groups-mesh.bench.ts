/**
 * How a group message could travel (issue 17): a libp2p gossipsub mesh against direct fan-out,
 * on N plain libp2p nodes (TCP on 127.0.0.1, Noise, Yamux, identify; libp2p's own API, not
 * @jiayi/core), all in this one process. The message is 200 bytes, about a sender-key message
 * of a chat line; what either way costs beyond moving those bytes (Jiayi's pairwise sessions,
 * stores) is not here: groups.bench.ts measures the whole of Jiayi's own fan-out.
 *
 * - groups.gossipsub_N_ms (default N = 100 and 500): one message published by one node until all
 *   N-1 others have it (their `message` events); median of ROUNDS. Each node dials DIALS random
 *   others (seeded), all subscribe to one topic, and the mesh forms (every node with at least
 *   4 mesh peers, gossipsub's D_lo; or 20 heartbeats) before anything is timed. The publisher sends
 *   to its mesh peers only (no flood publishing: it is connected to every node for the baseline,
 *   a member of a gossiping group would not be). StrictNoSign: a
 *   sender-key message carries its sender's signature, so gossipsub's own would be a second one;
 *   the message id is the SHA-256 of the bytes.
 * - Baseline groups.direct_N_ms: the same bytes from the same node over a stream it holds open to
 *   each of the N-1 (length-prefixed, core's framing), all written at once, until all have them.
 *   Rounds alternate with the gossipsub ones, so load on the shared machine weighs on both alike.
 *
 * All N nodes share one Node thread on the machine's two cores, so a figure is the work of the
 * whole group for one message (`cpuMs`), not the latency members on their own machines would see.
 *
 * A round that has not reached every node after MESH_BENCH_ROUND_TIMEOUT_S (default 30) counts
 * as that long; `gossipRoundsShort` / `directRoundsShort` list how many nodes such rounds reached
 * (warm-up rounds included).
 *
 * Knobs: MESH_BENCH_SIZES (default "100,500"), MESH_BENCH_ROUNDS (default 7).
 */
import { createHash } from 'node:crypto'
import { type FramedStream, framedStream } from '@jiayi/core'
import { type GossipSub, gossipsub, StrictNoSign } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { median } from './bench-peer.js'
import { report } from './report.js'

const SIZES = (process.env.MESH_BENCH_SIZES ?? '100,500')
  .split(',')
  .map(Number)
  .filter((n) => n >= 3)
const ROUNDS = Number(process.env.MESH_BENCH_ROUNDS ?? 7)
const DIALS = 4
const BYTES = 200
const TOPIC = 'group'
const DIRECT = '/jiayi-bench/fanout/1'
const MESH_LO = 4
/** A round that has not reached everyone by then counts as this long, and says how far it got. */
const ROUND_TIMEOUT_MS = Number(process.env.MESH_BENCH_ROUND_TIMEOUT_S ?? 30) * 1000

type Node = Libp2p<{ pubsub: GossipSub; identify: unknown }>

function log(message: string): void {
  process.stderr.write(`# ${message}\n`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rssMb = () => process.memoryUsage().rss / 2 ** 20
const cpuNow = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** A small seeded PRNG (mulberry32): the same topology every run. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function startNode(n: number): Promise<Node> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Every node is on 127.0.0.1: libp2p's per-host inbound rate (5/s) would refuse the setup.
    connectionManager: {
      maxConnections: n + 16,
      inboundConnectionThreshold: n,
      maxIncomingPendingConnections: n,
      // 500 nodes' handshakes and heartbeats share one thread: libp2p's 10 s is too short.
      dialTimeout: 60_000,
      inboundUpgradeTimeout: 60_000,
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (m) => new Uint8Array(createHash('sha256').update(m.data).digest()),
        emitSelf: false,
        // A publisher sends to its mesh peers only, not to every subscriber it is connected to:
        // here the sender is connected to every node (the direct way's streams).
        floodPublish: false,
        // Peer scoring marks down many peers on one IP address (a Sybil sign); here all are.
        scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1']) },
      }),
    },
  }) as Promise<Node>
}

/** Dials `to` from `from`, again after a failure (a busy setup times handshakes out). */
async function dial(from: Node, to: Node, tries = 3): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await from.dial(to.getMultiaddrs()[0]!)
      return
    } catch (error) {
      if (i === tries) throw error
      await sleep(500)
    }
  }
}

/** Which round a message is: its first 4 bytes. */
const roundOf = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, 4).getUint32(0)

function payload(round: number): Uint8Array {
  const bytes = new Uint8Array(BYTES)
  for (let i = 4; i < BYTES; i++) bytes[i] = (i * 31 + round) & 0xff
  new DataView(bytes.buffer).setUint32(0, round)
  return bytes
}

/** Arrivals per round at every node but the sender, for either way. */
class Arrivals {
  private readonly counts = new Map<number, number>()
  private readonly waiters = new Map<number, () => void>()

  constructor(private readonly expected: number) {}

  arrived(round: number): void {
    const c = (this.counts.get(round) ?? 0) + 1
    this.counts.set(round, c)
    if (c === this.expected) this.waiters.get(round)?.()
  }

  /** When every node had round `round`, or the timeout and how many had it then. */
  all(round: number): Promise<{ at: number; reached: number }> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => resolve({ at: performance.now(), reached: this.counts.get(round) ?? 0 }),
        ROUND_TIMEOUT_MS,
      )
      this.waiters.set(round, () => {
        clearTimeout(timer)
        resolve({ at: performance.now(), reached: this.expected })
      })
    })
  }
}

async function measure(n: number): Promise<void> {
  const rss0 = rssMb()
  const t0 = performance.now()
  const nodes: Node[] = []
  for (let i = 0; i < n; i++) nodes.push(await startNode(n))
  const rand = random(n)
  const dials: Promise<unknown>[] = []
  for (const [i, node] of nodes.entries()) {
    const targets = new Set<number>()
    while (targets.size < DIALS) {
      const j = Math.floor(rand() * n)
      if (j !== i) targets.add(j)
    }
    for (const j of targets) dials.push(dial(node, nodes[j]!))
    // A few dials at a time: the setup's handshakes would otherwise pile up past the timeouts.
    if (dials.length >= 16) await Promise.all(dials.splice(0))
  }
  await Promise.all(dials)
  log(`${n} nodes started and dialled in ${Math.round(performance.now() - t0)} ms`)
  const gossip = new Arrivals(n - 1)
  const direct = new Arrivals(n - 1)
  for (const node of nodes.slice(1)) {
    node.services.pubsub.addEventListener('message', (e) => gossip.arrived(roundOf(e.detail.data)))
    await node.handle(DIRECT, async (stream) => {
      const framed = framedStream(stream, { maxFrameBytes: 1024 })
      for (let f = await framed.read(); f !== null; f = await framed.read()) direct.arrived(roundOf(f))
    })
  }
  // The direct way: the sender holds a stream open to every other node.
  const sender = nodes[0]!
  const streams: FramedStream[] = []
  for (const node of nodes.slice(1)) {
    await dial(sender, node)
    streams.push(
      framedStream(await sender.dialProtocol(node.getMultiaddrs()[0]!, DIRECT), { maxFrameBytes: 1024 }),
    )
  }
  log(`${n} nodes connected, the sender to all`)
  for (const node of nodes) node.services.pubsub.subscribe(TOPIC)
  const meshOf = (node: Node) => node.services.pubsub as unknown as { getMeshPeers(t: string): string[] }
  for (let beat = 0; beat < 20; beat++) {
    if (nodes.every((node) => meshOf(node).getMeshPeers(TOPIC).length >= MESH_LO)) break
    await sleep(1000)
  }
  const meshSizes = nodes.map((node) => meshOf(node).getMeshPeers(TOPIC).length)
  const connections = nodes.map((node) => node.getConnections().length)
  const setupMs = performance.now() - t0
  log(
    `${n} nodes ready in ${Math.round(setupMs)} ms; mesh peers ${Math.min(...meshSizes)}–${Math.max(...meshSizes)}, connections ${Math.min(...connections)}–${Math.max(...connections)}`,
  )

  const gossipMs: number[] = []
  const gossipCpu: number[] = []
  const directMs: number[] = []
  const directCpu: number[] = []
  /** Rounds that did not reach every node in time: how many nodes each reached. */
  const gossipShort: number[] = []
  /** Publishes gossipsub refused, and why. */
  const refused: string[] = []
  const directShort: number[] = []
  // Round 0 of each way warms up and is not counted.
  for (let r = 0; r <= ROUNDS; r++) {
    {
      const round = 2 * r
      const all = gossip.all(round)
      const cpu = cpuNow()
      const t = performance.now()
      try {
        await sender.services.pubsub.publish(TOPIC, payload(round))
        const { at, reached } = await all
        if (reached < n - 1) gossipShort.push(reached)
        if (r > 0) {
          gossipMs.push(at - t)
          gossipCpu.push(cpuNow() - cpu)
        }
        log(`gossipsub round ${r}: ${reached} of ${n - 1} in ${Math.round(at - t)} ms`)
      } catch (error) {
        // The sender's mesh can be empty for a moment (NoPeersSubscribedToTopic): counted, not timed.
        refused.push(String(error instanceof Error ? error.message : error))
        log(`gossipsub round ${r}: ${refused.at(-1)}`)
        await sleep(1000)
      }
    }
    await sleep(50)
    {
      const round = 2 * r + 1
      const all = direct.all(round)
      const cpu = cpuNow()
      const t = performance.now()
      const bytes = payload(round)
      await Promise.all(streams.map((s) => s.write(bytes)))
      const { at, reached } = await all
      if (reached < n - 1) directShort.push(reached)
      log(`direct round ${r}: ${reached} of ${n - 1} in ${Math.round(at - t)} ms`)
      if (r > 0) {
        directMs.push(at - t)
        directCpu.push(cpuNow() - cpu)
      }
    }
    await sleep(50)
  }
  const direct_ = median(directMs)
  report({
    bench: `groups.gossipsub_${n}_ms`,
    value: median(gossipMs),
    unit: 'ms',
    baseline: `groups.direct_${n}_ms`,
    baselineValue: direct_,
    nodes: n,
    bytes: BYTES,
    rounds: ROUNDS,
    notes: `one ${BYTES}-byte message published into a gossipsub mesh of ${n} plain libp2p nodes in one process, until all ${n - 1} others have it; baseline: the same bytes written by the same node to a stream open to each`,
    cpuMs: median(gossipCpu),
    directCpuMs: median(directCpu),
    gossipAllMs: gossipMs.map(Math.round),
    gossipRoundsShort: gossipShort,
    gossipPublishRefused: refused,
    directRoundsShort: directShort,
    roundTimeoutMs: ROUND_TIMEOUT_MS,
    directAllMs: directMs.map(Math.round),
    meshPeersMedian: median(meshSizes),
    senderMeshPeers: meshOf(sender).getMeshPeers(TOPIC).length,
    connectionsMedian: median(connections),
    senderConnections: sender.getConnections().length,
    setupMs,
    rssPerNodeMb: (rssMb() - rss0) / n,
  })
  for (const s of streams) await s.close().catch(() => undefined)
  await Promise.all(nodes.map((node) => node.stop()))
}

for (const n of SIZES) await measure(n)
