/**
 * Group benchmarks: real messengers on real libp2p nodes on 127.0.0.1 (TCP, Noise, Yamux; in-memory
 * stores), every peer in this one process. Setup is not timed: the creator befriends every other
 * peer and makes the group with them all (the cheapest way in: one log, sent once to each), so the
 * members are the creator's contacts and strangers to each other.
 *
 * - group.fanout_N_ms (N members; default 100 and 500): one message from a member who is not the
 *   creator, from `groups.send` until every other member holds it (its `group-message` event,
 *   emitted once the message is committed there); the median of STEADY_ROUNDS messages sent after
 *   a first one. group.fanout_N_first_ms is that first message: it includes the sender's member
 *   sessions with the 98 (498) members it had never talked to (X3DH from the card the group
 *   carries, new connections) and its sender-key handout to each. Baseline: one 1:1 message
 *   between two contacts among the same peers, in the same run, from `send` until the contact
 *   holds it (its `message` event); median of 5 after a warm-up. Goal for 100: ≤ 3× the baseline.
 * - group.rekey_N_ms (the smallest N): the creator removes a member who had been given the keys of
 *   three members (the creator and two others, each of whom has sent before); timed from
 *   `groups.remove` until one new message from each of the three, each sent as soon as its sender
 *   has applied the removal, is held by every remaining member. Each of those messages needs its
 *   sender's new key, handed to every remaining member first. The removed member must hold none.
 * - group.catchup_M_ms (M messages; default 1,000): a group of three (creator A, sender S,
 *   returning member R, all in the group before). R stops; S sends M messages, which A holds;
 *   S stops. Timed from R's start until R holds all M, carried by A (R's start asks A for news).
 *   Baseline: the same return after A queued M 1:1 messages for R (A's outbox delivers them).
 *
 * Every figure here is the work of all the peers on the machine's two cores, in one Node thread:
 * the receivers' share, which members' own machines would do in parallel, is summed in, so the
 * figures are CPU-bound (`cpuMs`: this process's CPU time over the timed span).
 *
 * Knobs: GROUPS_BENCH_SIZES (comma-separated group sizes, default "100,500"), GROUPS_BENCH_CATCHUP
 * (default 1000; 0 skips it), GROUPS_BENCH_REKEY=0 (skips the rekey), GROUPS_BENCH_ROUNDS (steady
 * messages per size, default 3), GROUPS_BENCH_MAX_CONNECTIONS (every peer's connection cap; default
 * the product's, 600, for groups whose sender needs no more, else members + 16: see maxConnections below),
 * GROUPS_BENCH_FORM_TIMEOUT_S (how long the setup may take to bring the group to every member,
 * default 600), GROUPS_BENCH_MARKS=1 (phase timestamps on stderr, for `node --cpu-prof`).
 */
import { MemoryStore, type Messenger, RESOURCE_LIMITS } from '@jiayi/core'
import { median, type RunningPeer, startPeer } from './bench-peer.js'
import { report } from './report.js'

const SIZES = (process.env.GROUPS_BENCH_SIZES ?? '100,500')
  .split(',')
  .map(Number)
  .filter((n) => n >= 3)
  .sort((a, b) => a - b)
const CATCHUP = Number(process.env.GROUPS_BENCH_CATCHUP ?? 1000)
/** 0 skips the rekey figure (measured on the smallest size). */
const REKEY = process.env.GROUPS_BENCH_REKEY !== '0'
const STEADY_ROUNDS = Number(process.env.GROUPS_BENCH_ROUNDS ?? 3)
/**
 * Every peer's connection cap in a group of `n`: GROUPS_BENCH_MAX_CONNECTIONS when set, else the
 * product's (RESOURCE_LIMITS.maxConnections, 600) while a sender needs no more connections than
 * that, else n + 16. Direct fan-out needs a connection to every member; at a cap of 100 a group
 * above ~100 thrashed (docs/performance.md, "Groups"), which is why the product's cap is 600.
 */
function maxConnections(n: number): number {
  const set = process.env.GROUPS_BENCH_MAX_CONNECTIONS
  if (set !== undefined) return Number(set)
  return n - 1 <= RESOURCE_LIMITS.maxConnections ? RESOURCE_LIMITS.maxConnections : n + 16
}
/** How long the setup may take to bring the group to every member. */
const FORM_TIMEOUT_MS = Number(process.env.GROUPS_BENCH_FORM_TIMEOUT_S ?? 600) * 1000
const BASELINE_ROUNDS = 5
/** Senders whose keys the removed member held (the remover first). */
const REKEY_SENDERS = 3
const TIMEOUT_MS = 600_000
/** About a chat line. */
const TEXT = 'Fresh jasmine tea in from Fujian this week — 50 g tins. 新茶到了。'

/** Phase boundaries on the clock of `node --cpu-prof` profiles (µs), with GROUPS_BENCH_MARKS=1. */
function mark(phase: string): void {
  if (process.env.GROUPS_BENCH_MARKS) log(`phase ${phase} ${process.hrtime.bigint() / 1000n}`)
}

function log(message: string): void {
  process.stderr.write(`# ${message}\n`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rssMb = () => process.memoryUsage().rss / 2 ** 20
/** Connections closed so far, every peer of the bench: none should close while a message fans out. */
let closed = 0
const countCloses = (p: RunningPeer) =>
  p.messenger.node.addEventListener('connection:close', () => {
    closed++
  })
const cpuNow = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

async function until(check: () => boolean, what: string, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/**
 * Resolves when `m` holds group `groupId` with `members` members; checked at each of its `group`
 * events (nothing is polled: a poll of 500 peers' views would weigh on what is timed).
 */
function membersAt(
  m: Messenger,
  groupId: string,
  members: number,
  what: string,
  timeoutMs = TIMEOUT_MS,
): Promise<number> {
  const reached = () => {
    try {
      return m.groups.get(groupId).members.length === members
    } catch {
      return false
    }
  }
  if (reached()) return Promise.resolve(performance.now())
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`timed out waiting for ${what}`))
    }, timeoutMs)
    const off = m.events.on('group', (e) => {
      if (e.groupId !== groupId || !reached()) return
      clearTimeout(timer)
      off()
      resolve(performance.now())
    })
  })
}

/**
 * Resolves when every one of `peers` has stored group messages whose texts are all of `texts`
 * (events, so nothing is polled); with the time of the last.
 */
function heldByAll(peers: readonly Messenger[], texts: readonly string[], what: string): Promise<number> {
  const wanted = new Set(texts)
  let missing = peers.length * wanted.size
  const offs: (() => void)[] = []
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      for (const off of offs) off()
      reject(
        new Error(`${what}: ${missing} of ${peers.length * wanted.size} not held after ${TIMEOUT_MS} ms`),
      )
    }, TIMEOUT_MS)
    for (const m of peers) {
      const got = new Set<string>()
      offs.push(
        m.events.on('group-message', (e) => {
          const t = e.message.text
          if (!wanted.has(t) || got.has(t) || e.message.direction !== 'in') return
          got.add(t)
          if (--missing === 0) {
            clearTimeout(timer)
            for (const off of offs) off()
            resolve(performance.now())
          }
        }),
      )
    }
  })
}

/** Resolves when `m` has received `count` 1:1 messages whose text starts with `prefix`. */
function received(m: Messenger, prefix: string, count: number): Promise<number> {
  let n = 0
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${n} of ${count} 1:1 messages`)), TIMEOUT_MS)
    const off = m.events.on('message', (e) => {
      if (e.change !== 'new' || e.message.direction !== 'in' || !e.message.text.startsWith(prefix)) return
      if (++n === count) {
        clearTimeout(timer)
        off()
        resolve(performance.now())
      }
    })
  })
}

/**
 * Resolves once `m` holds `count` messages (1:1 or group) whose text starts with `prefix`: those
 * already stored (`stored`, read once, for what came in while the peer started) and those that
 * come in after.
 */
async function allOf(
  m: Messenger,
  event: 'message' | 'group-message',
  prefix: string,
  count: number,
  stored: () => Promise<string[]>,
): Promise<void> {
  const seen = new Set<string>()
  let wake: () => void = () => {}
  const add = (text: string) => {
    if (text.startsWith(prefix)) seen.add(text)
    if (seen.size >= count) wake()
  }
  const off = m.events.on(event, (e) => add(e.message.text))
  try {
    const done = new Promise<void>((resolve, reject) => {
      wake = resolve
      setTimeout(() => reject(new Error(`${seen.size} of ${count} held`)), TIMEOUT_MS).unref()
    })
    for (const text of await stored()) add(text)
    await done
  } finally {
    off()
  }
}

/** Makes `b` an accepted contact of `a` and `a` of `b`; returns b's contact id at a. */
async function befriend(a: Messenger, b: Messenger): Promise<string> {
  const bAtA = (await a.addContact(b.card().link)).id
  const aAtB = (await b.addContact(a.card().link)).id
  await until(
    () => a.contact(bAtA).state === 'accepted' && b.contact(aAtB).state === 'accepted',
    'a contact accepted',
    60_000,
  )
  return bAtA
}

interface Built {
  readonly peers: RunningPeer[]
  readonly groupId: string
  /** Peer i's contact id at the creator (peer 0). */
  readonly ids: string[]
  readonly startMs: number
  readonly befriendMs: number
  readonly formMs: number
  readonly rssPerPeerMb: number
}

/** `n` peers; peer 0 befriends the rest and makes a group of all `n`; waits until all hold it. */
async function build(n: number, tag: string): Promise<Built> {
  const cap = maxConnections(n)
  const limits = cap === RESOURCE_LIMITS.maxConnections ? undefined : { maxConnections: cap }
  const rss0 = rssMb()
  const t0 = performance.now()
  const peers: RunningPeer[] = []
  for (let i = 0; i < n; i++) {
    peers.push(await startPeer(new MemoryStore(), `${tag}${i}`, undefined, limits))
    countCloses(peers[i]!)
    if ((i + 1) % 100 === 0) log(`${i + 1} peers started, ${Math.round(rssMb())} MB`)
  }
  const t1 = performance.now()
  const creator = peers[0]!.messenger
  const ids = ['']
  for (let i = 1; i < n; i++) {
    ids.push(await befriend(creator, peers[i]!.messenger))
    if (i % 100 === 0) log(`${i} befriended, ${Math.round(performance.now() - t1)} ms`)
  }
  const t2 = performance.now()
  // Each member's wait starts at its first group event (the group's id is in it: a member may
  // hear of the group before `create` has returned here).
  let formedCount = 0
  const formed = peers.slice(1).map(
    (p) =>
      new Promise<void>((resolve, reject) => {
        const off = p.messenger.events.on('group', (e) => {
          off()
          membersAt(p.messenger, e.groupId, n, 'the group', FORM_TIMEOUT_MS).then(() => {
            formedCount++
            resolve()
          }, reject)
        })
      }),
  )
  const groupId = (await creator.groups.create(`Bench ${n}`, ids.slice(1))).id
  const progress = setInterval(
    () =>
      log(
        `${formedCount} of ${n - 1} members hold the whole group after ${Math.round((performance.now() - t2) / 1000)} s; the creator has ${creator.node.getConnections().length} connections`,
      ),
    30_000,
  )
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      Promise.all(formed),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `the group of ${n} reached ${formedCount} of ${n - 1} members in ${FORM_TIMEOUT_MS / 1000} s (connection cap ${cap})`,
              ),
            ),
          FORM_TIMEOUT_MS,
        )
      }),
    ])
  } finally {
    clearTimeout(timer)
    clearInterval(progress)
  }
  const t3 = performance.now()
  return {
    peers,
    groupId,
    ids,
    startMs: t1 - t0,
    befriendMs: t2 - t1,
    formMs: t3 - t2,
    rssPerPeerMb: (rssMb() - rss0) / n,
  }
}

/** One 1:1 message from peer 0 to peer 2 until peer 2 holds it; median of BASELINE_ROUNDS. */
async function oneToOne(b: Built, tag: string): Promise<number> {
  const from = b.peers[0]!.messenger
  const to = b.peers[2]!.messenger
  const times: number[] = []
  for (let i = -1; i < BASELINE_ROUNDS; i++) {
    const text = `${tag} 1:1 ${i} ${TEXT}`
    const got = received(to, text, 1)
    const t = performance.now()
    await from.send(b.ids[2]!, text)
    const at = await got
    if (i >= 0) times.push(at - t)
  }
  return median(times)
}

interface Fanned {
  readonly ms: number
  readonly sendMs: number
  readonly cpuMs: number
  readonly connectionsClosed: number
}

/** `sender` sends `text` to the group; the time until every other member holds it. */
async function fanout(b: Built, sender: number, text: string): Promise<Fanned> {
  const others = b.peers.filter((_, i) => i !== sender).map((p) => p.messenger)
  const held = heldByAll(others, [text], 'fan-out')
  const cpu0 = cpuNow()
  const closed0 = closed
  const t = performance.now()
  await b.peers[sender]!.messenger.groups.send(b.groupId, text)
  const sendMs = performance.now() - t
  const at = await held
  return { ms: at - t, sendMs, cpuMs: cpuNow() - cpu0, connectionsClosed: closed - closed0 }
}

/** CPU per second of wall time while nothing is sent: the peers' own timers, heartbeats, pings. */
async function idleCpuMsPerS(): Promise<number> {
  await sleep(1000)
  const cpu0 = cpuNow()
  const t = performance.now()
  await sleep(3000)
  return ((cpuNow() - cpu0) * 1000) / (performance.now() - t)
}

async function fanoutFigures(b: Built, n: number): Promise<void> {
  const idle = await idleCpuMsPerS()
  log(`idle: ${idle.toFixed(0)} ms of CPU a second`)
  const baseline = await oneToOne(b, `n${n}`)
  log(`1:1 baseline ${baseline.toFixed(1)} ms`)
  mark(`first-${n}`)
  const first = await fanout(b, 1, `n${n} first ${TEXT}`)
  mark(`steady-${n}`)
  log(`first group message to ${n - 1}: ${Math.round(first.ms)} ms`)
  const steady: Fanned[] = []
  for (let i = 0; i < STEADY_ROUNDS; i++) steady.push(await fanout(b, 1, `n${n} steady ${i} ${TEXT}`))
  mark(`end-${n}`)
  const mid = steady.sort((x, y) => x.ms - y.ms)[Math.floor(steady.length / 2)]!
  const common = {
    unit: 'ms',
    baseline: 'msg.one_to_one_ms',
    baselineValue: baseline,
    members: n,
    peersInProcess: n,
    maxConnections: maxConnections(n),
    setupStartMs: b.startMs,
    setupBefriendMs: b.befriendMs,
    setupGroupMs: b.formMs,
    rssPerPeerMb: b.rssPerPeerMb,
    rssMb: rssMb(),
    idleCpuMsPerS: idle,
  }
  report({
    bench: `group.fanout_${n}_ms`,
    value: mid.ms,
    ...common,
    ...(n === 100 ? { goal: 'ratio <= 3' } : {}),
    notes: `steady state, median of ${STEADY_ROUNDS}: groups.send at a member (not the creator) until all ${n - 1} others hold it`,
    sendReturnedMs: mid.sendMs,
    cpuMs: mid.cpuMs,
    connectionsClosed: steady.map((x) => x.connectionsClosed),
    senderConnections: b.peers[1]!.messenger.node.getConnections().length,
    allMs: steady.map((s) => Math.round(s.ms)),
  })
  report({
    bench: `group.fanout_${n}_first_ms`,
    value: first.ms,
    ...common,
    notes: `the sender's first message: member sessions with ${n - 2} strangers, new connections, its key handed to ${n - 1}`,
    sendReturnedMs: first.sendMs,
    cpuMs: first.cpuMs,
    connectionsClosed: first.connectionsClosed,
  })
}

async function rekeyFigure(b: Built, n: number): Promise<void> {
  const remover = b.peers[0]!.messenger
  const senders = b.peers.slice(0, REKEY_SENDERS).map((p) => p.messenger)
  const victimIndex = n - 1
  const victim = b.peers[victimIndex]!.messenger
  const remaining = b.peers.filter((_, i) => i !== victimIndex).map((p) => p.messenger)
  // Every sender has handed its key to everyone, the victim included (peer 1 did in fanout).
  for (const [i, s] of senders.entries()) {
    if (i === 1) continue
    const text = `rekey warm ${i} ${TEXT}`
    const held = heldByAll(
      b.peers.filter((p) => p.messenger !== s).map((p) => p.messenger),
      [text],
      'warm-up',
    )
    await s.groups.send(b.groupId, text)
    await held
  }
  const baseline = await oneToOne(b, 'rekey')
  const victimGot: string[] = []
  const offVictim = victim.events.on('group-message', (e) => victimGot.push(e.message.text))
  const texts = senders.map((_, i) => `after removal ${i} ${TEXT}`)
  const waits = senders.map((s, i) =>
    heldByAll(
      remaining.filter((m) => m !== s),
      [texts[i]!],
      `rekey ${i}`,
    ),
  )
  const victimName = b.peers[victimIndex]!.messenger.whoami().name
  mark('rekey')
  const closed0 = closed
  const cpu0 = cpuNow()
  const t = performance.now()
  const applied = remaining.map((m) => membersAt(m, b.groupId, n - 1, 'the removal'))
  await remover.groups.remove(b.groupId, victimName)
  await Promise.all(
    senders.map(async (s, i) => {
      await applied[remaining.indexOf(s)]
      await s.groups.send(b.groupId, texts[i]!)
    }),
  )
  const at = Math.max(...(await Promise.all(waits)))
  const cpuMs = cpuNow() - cpu0
  mark('rekey-end')
  const appliedMs = Math.max(...(await Promise.all(applied))) - t
  await sleep(1000)
  offVictim()
  const leaked = victimGot.filter((x) => texts.includes(x)).length
  if (leaked > 0) throw new Error(`the removed member read ${leaked} message(s) sent after`)
  report({
    bench: `group.rekey_${n}_ms`,
    value: at - t,
    unit: 'ms',
    baseline: 'msg.one_to_one_ms',
    baselineValue: baseline,
    members: n,
    notes: `groups.remove of one of ${n} (who held ${REKEY_SENDERS} members' keys) until one new message from each of those ${REKEY_SENDERS} (the remover first), each sent once its sender applied the removal and so under a new key handed to the ${n - 2} remaining others, is held by every remaining member; the removed member holds none`,
    maxConnections: maxConnections(n),
    removalAppliedEverywhereMs: appliedMs,
    cpuMs,
    connectionsClosed: closed - closed0,
  })
}

async function catchupFigure(m: number): Promise<void> {
  const stores = [new MemoryStore(), new MemoryStore(), new MemoryStore()]
  const names = ['CatchA', 'CatchS', 'CatchR']
  const peers = await Promise.all(stores.map((s, i) => startPeer(s, names[i]!)))
  let [a, s, r] = peers as [RunningPeer, RunningPeer, RunningPeer]
  try {
    const sAtA = await befriend(a.messenger, s.messenger)
    const rAtA = await befriend(a.messenger, r.messenger)
    const group = await a.messenger.groups.create('Catch-up', [sAtA, rAtA])
    await until(() => [s, r].every((p) => p.messenger.groups.list().length === 1), 'the catch-up group')
    // R and A hold S's key: what S sends later opens at R.
    const hello = `hello ${TEXT}`
    const held = heldByAll([a.messenger, r.messenger], [hello], 'hello')
    await s.messenger.groups.send(group.id, hello)
    await held

    // Baseline: M 1:1 messages queued at A while R is away.
    await r.stop()
    for (let i = 0; i < m; i++) await a.messenger.send(rAtA, `direct ${i} ${TEXT}`)
    let t = performance.now()
    r = await startPeer(stores[2]!, names[2]!)
    const aAtR = r.messenger.contactList()[0]!.id
    await allOf(r.messenger, 'message', 'direct ', m, async () =>
      (await r.messenger.messages(aAtR, { peek: true, limit: 10_000 })).map((x) => x.text),
    )
    const direct = performance.now() - t
    log(`${m} 1:1 messages caught up in ${Math.round(direct)} ms`)

    // M group messages from S while R is away; A holds them; S stops.
    await r.stop()
    const texts = Array.from({ length: m }, (_, i) => `missed ${i} ${TEXT}`)
    const atA = heldByAll([a.messenger], texts, 'the burst at A')
    for (const text of texts) await s.messenger.groups.send(group.id, text)
    await atA
    await s.stop()
    const cpu0 = cpuNow()
    t = performance.now()
    r = await startPeer(stores[2]!, names[2]!)
    const startMs = performance.now() - t
    await allOf(r.messenger, 'group-message', 'missed ', m, async () =>
      (await r.messenger.groups.messages(group.id, { peek: true, limit: 10_000 })).map((x) => x.text),
    )
    const ms = performance.now() - t
    report({
      bench: `group.catchup_${m}_ms`,
      value: ms,
      unit: 'ms',
      baseline: `msg.catchup_${m}_one_to_one_ms`,
      baselineValue: direct,
      messages: m,
      notes: `a member back after ${m} group messages, its sender stopped: from its start until it holds all ${m}, carried by another member; baseline: ${m} 1:1 messages queued for it, from its start until it holds them`,
      peerStartMs: startMs,
      cpuMs: cpuNow() - cpu0,
    })
  } finally {
    await Promise.all([a, r].map((p) => p.stop()))
  }
}

async function main(): Promise<void> {
  for (const [k, n] of SIZES.entries()) {
    log(`group of ${n}`)
    const b = await build(n, `N${n}_`)
    log(
      `built: start ${Math.round(b.startMs)} ms, befriend ${Math.round(b.befriendMs)} ms, group ${Math.round(b.formMs)} ms, ${b.rssPerPeerMb.toFixed(2)} MB a peer`,
    )
    try {
      await fanoutFigures(b, n)
      if (k === 0 && REKEY) await rekeyFigure(b, n)
    } finally {
      const t = performance.now()
      await Promise.all(b.peers.map((p) => p.stop()))
      log(`stopped ${n} peers in ${Math.round(performance.now() - t)} ms`)
    }
  }
  if (CATCHUP > 0) await catchupFigure(CATCHUP)
}

await main()
