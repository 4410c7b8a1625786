/**
 * A `jiayi start` process (the victim) against peers that are not its friends, all on 127.0.0.1:
 * - a third `jiayi` process that got the victim's card, asked, and was rejected: its messages are
 *   refused (counted as "blocked") and fail on its side;
 * - a stranger (a bare libp2p node in this test process) that sends well-formed envelopes: refused;
 * - thousands of random, mutated, truncated, oversized and unframed frames on every protocol the
 *   victim serves (msg, prekeys, file, and feed when the peer runs the feed), from the stranger and from a peer the victim did accept (so that the frames
 *   get past the contacts-only gate into the parsers): refused and counted (`stats`), never a
 *   crash, never an unhandled error in the log;
 * and afterwards the victim still chats with its friend, and with the accepted attacker too
 * (its session survived the garbage).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  createAccount,
  createJiayiNode,
  encodeFrame as encodeFileFrame,
  generateDeviceKey,
  type JiayiNode,
  MAX_FRAME_BYTES,
  MemoryStore,
  Messenger,
  PROTOCOL_FEED,
  PROTOCOL_FILE,
  PROTOCOL_MSG,
  PROTOCOL_PREKEYS,
} from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { encodeFrame as encodeFeedFrame } from '@jiayi/feed'
import type { PeerId } from '@libp2p/interface'
import { cleanup, eventually, jiayiJson } from './helpers/cli.js'
import type { ContactView, Stats } from './helpers/control.js'
import { befriend, TestPeer } from './helpers/peers.js'

let victim: TestPeer
let friend: TestPeer
/** Accepted by the victim, then turns hostile: an in-process messenger on its own node. */
let mallory: Messenger
let malloryNode: JiayiNode
/** Never a contact: a bare libp2p node. */
let stranger: JiayiNode
let victimId: PeerId

before(async () => {
  ;[victim, friend] = await Promise.all([TestPeer.create('Victim 受害者'), TestPeer.create('Friend')])
  await befriend(victim, friend)

  const store = new MemoryStore()
  const account = await createAccount(store, 'Mallory')
  malloryNode = await createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    relayServer: false,
  })
  mallory = await Messenger.open({ store, node: malloryNode, account })
  const atMallory = await mallory.addContact(await victim.card())
  await victim.control.call('addContact', { link: mallory.card().link })
  await eventually(() => mallory.contact(atMallory.id).state === 'accepted', 15_000, 'Mallory accepted')
  victimId = malloryNode.getConnections().find((c) => c.remotePeer.toString() === victim.peerId)!.remotePeer

  stranger = await createJiayiNode({
    privateKey: await generateDeviceKey(),
    network: nodeNetwork({ mdns: false }),
    listen: [],
    // It only dials, and the victim is on 127.0.0.1.
    alsoDial: ['loopback'],
    relayServer: false,
  })
  const known = await malloryNode.peerStore.get(victimId)
  await stranger.peerStore.merge(victimId, { multiaddrs: known.addresses.map((a) => a.multiaddr) })
})

after(async () => {
  await mallory?.stop()
  await Promise.all([malloryNode?.stop(), stranger?.stop()])
  await Promise.all([victim?.stop(), friend?.stop()])
  await cleanup()
})

// ------------------------------------------------------------------ bytes

function varint(n: number): number[] {
  const out: number[] = []
  let v = n
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return out
}

const bytes = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]))
const lengthPrefixed = (payload: Uint8Array) => bytes(varint(payload.length), payload)

/** MsgFrame{envelope: Envelope{ref, type, body}} (wire.proto), encoded by hand. */
function envelopeFrame(ref: number, type: 0 | 1, body: Uint8Array): Uint8Array {
  const inner = bytes([0x08], varint(ref), [0x10], varint(type), [0x1a], varint(body.length), body)
  return bytes([0x0a], varint(inner.length), inner)
}

/** A small seeded PRNG (mulberry32), so that a failing run can be replayed with FUZZ_SEED. */
function prng(seed: number) {
  let s = seed >>> 0
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return {
    int,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)),
    pick: <T>(list: readonly T[]): T => list[int(list.length)]!,
  }
}

// ------------------------------------------------------------------ streams

/**
 * Opens `protocol` to the victim, writes `raw` as is, closes our writable end and reads whatever
 * comes back until the victim ends or resets the stream. Never throws.
 */
async function exchange(node: JiayiNode, protocol: string, raw: Uint8Array): Promise<'answered' | 'ended'> {
  let stream: Awaited<ReturnType<JiayiNode['dialProtocol']>>
  try {
    stream = await node.dialProtocol(victimId, protocol, { signal: AbortSignal.timeout(5_000) })
  } catch (error) {
    throw new Error(`could not open ${protocol}: ${(error as Error).name}`)
  }
  let answered = false
  const timer = setTimeout(() => stream.abort(new Error('no answer in time')), 5_000)
  try {
    if (raw.length > 0) stream.send(raw)
    await stream.close()
    for await (const _ of stream) answered = true
  } catch {
    // A reset is the expected answer to garbage.
  } finally {
    clearTimeout(timer)
    stream.abort(new Error('done'))
  }
  return answered ? 'answered' : 'ended'
}

const stats = () => victim.control.stats()
const count = (s: Stats, protocol: string, reason: string) => s.refused[protocol]?.[reason] ?? 0

test('a peer that is not a contact cannot get a message accepted', { timeout: 60_000 }, async () => {
  // A third jiayi process obtained the victim's card and asked; the victim said no.
  const carol = await TestPeer.create('Carol')
  try {
    const atCarol = await carol.control.call<ContactView>('addContact', { link: await victim.card() })
    const request = await eventually(
      async () => (await victim.contact(carol.peerId))?.state === 'pending-in',
      15_000,
      "Carol's request at the victim",
    )
    assert.ok(request)
    const rejected = await jiayiJson<{ removed: boolean }>(victim.home, ['reject', 'carol'])
    assert.equal(rejected.removed, true)
    const before = await stats()
    const sent = await carol.control.send(atCarol.id, 'let me in 让我进去')
    await eventually(
      async () =>
        (await carol.control.messages(atCarol.id)).find((m) => m.id === sent.id)?.status === 'failed',
      20_000,
      "Carol's message refused",
    )
    assert.equal(await victim.contact(carol.peerId), undefined, 'Carol is not a contact')
    assert.ok(count(await stats(), PROTOCOL_MSG, 'blocked') > count(before, PROTOCOL_MSG, 'blocked'))
  } finally {
    await carol.stop()
  }

  // A stranger's well-formed envelopes: an ordinary ratchet message and a PreKeyMessage that is
  // no contact request of this identity are both refused.
  const before = await stats()
  assert.equal(
    await exchange(stranger, PROTOCOL_MSG, lengthPrefixed(envelopeFrame(1, 0, randomBytes(120)))),
    'answered',
  )
  await exchange(stranger, PROTOCOL_MSG, lengthPrefixed(envelopeFrame(2, 1, randomBytes(400))))
  const after = await stats()
  assert.ok(count(after, PROTOCOL_MSG, 'not-a-contact') > count(before, PROTOCOL_MSG, 'not-a-contact'))
  assert.ok(after.refusedTotal >= before.refusedTotal + 2)
  assert.deepEqual(
    (await victim.control.contacts()).map((c) => c.name).sort(),
    ['Friend', 'Mallory'],
    'nobody new among the contacts',
  )
})

test('thousands of fuzzed frames on every protocol never bring the peer down', {
  timeout: 120_000,
}, async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
  const rnd = prng(seed)
  const served = (await malloryNode.peerStore.get(victimId)).protocols
  const protocols = [PROTOCOL_MSG, PROTOCOL_PREKEYS, PROTOCOL_FILE, PROTOCOL_FEED].filter((p) =>
    served.includes(p),
  )
  assert.deepEqual(
    protocols.slice(0, 3),
    [PROTOCOL_MSG, PROTOCOL_PREKEYS, PROTOCOL_FILE],
    'the victim serves msg, prekeys, file',
  )

  /** A plausible frame of `protocol` (to mutate). */
  const seedFrame = (protocol: string): Uint8Array => {
    switch (protocol) {
      case PROTOCOL_MSG:
        return envelopeFrame(rnd.int(1000), rnd.pick([0, 1] as const), rnd.bytes(rnd.int(300)))
      case PROTOCOL_PREKEYS:
        return bytes([0x08, 0x01]) // PrekeyRequest{version: 1}
      case PROTOCOL_FILE:
        return encodeFileFrame(
          rnd.pick([
            { type: 'have', fileId: rnd.bytes(16) },
            { type: 'want', fileId: rnd.bytes(16), nextChunk: rnd.int(100) },
            { type: 'chunk', index: rnd.int(10), nonce: rnd.bytes(12), sealed: rnd.bytes(16 + rnd.int(200)) },
            { type: 'ack', nextChunk: rnd.int(100) },
            { type: 'done', sha256: rnd.bytes(32) },
          ] as const),
        )
      case PROTOCOL_FEED:
        return encodeFeedFrame(
          rnd.pick([
            { type: 'have', round: rnd.int(100), claims: [] },
            { type: 'synced', round: rnd.int(100) },
            { type: 'ack', consumed: rnd.int(1_000_000) },
            { type: 'chunk', offset: rnd.int(1000), bytes: rnd.bytes(1 + rnd.int(200)) },
          ] as const),
        )
      default:
        return rnd.bytes(rnd.int(200))
    }
  }
  const mutate = (frame: Uint8Array): Uint8Array => {
    const m = Uint8Array.from(frame)
    const edits = 1 + rnd.int(4)
    for (let i = 0; i < edits && m.length > 0; i++) m[rnd.int(m.length)] = rnd.int(256)
    const cut = rnd.int(4)
    if (cut === 0) return m.subarray(0, rnd.int(m.length + 1))
    if (cut === 1) return bytes(m, rnd.bytes(1 + rnd.int(16)))
    return m
  }
  type Kind = 'random' | 'mutated' | 'unframed' | 'oversized' | 'truncated' | 'bad-varint' | 'many' | 'empty'
  const kinds: Kind[] = [
    'random',
    'mutated',
    'mutated',
    'unframed',
    'oversized',
    'truncated',
    'bad-varint',
    'many',
    'empty',
  ]
  const caseBytes = (protocol: string, kind: Kind): Uint8Array => {
    const max = MAX_FRAME_BYTES[protocol as keyof typeof MAX_FRAME_BYTES]
    switch (kind) {
      case 'random':
        return lengthPrefixed(rnd.bytes(rnd.int(400)))
      case 'mutated':
        return lengthPrefixed(mutate(seedFrame(protocol)))
      case 'unframed':
        return rnd.bytes(1 + rnd.int(64))
      case 'oversized':
        return bytes(varint(max + 1 + rnd.int(2 ** 30)), rnd.bytes(rnd.int(64)))
      case 'truncated': {
        const payload = seedFrame(protocol)
        return bytes(varint(payload.length + 1 + rnd.int(100)), payload)
      }
      case 'bad-varint':
        return bytes(Array.from({ length: 6 + rnd.int(6) }, () => 0x80 | rnd.int(128)))
      case 'many':
        return bytes(
          ...Array.from({ length: 2 + rnd.int(5) }, () => lengthPrefixed(mutate(seedFrame(protocol)))),
        )
      case 'empty':
        return new Uint8Array(0)
    }
  }

  const before = await stats()
  const CASES = Number(process.env.FUZZ_CASES ?? 2400)
  const tally = new Map<string, number>()
  let done = 0
  const worker = async (node: JiayiNode) => {
    while (done < CASES) {
      done++
      const protocol = rnd.pick(protocols)
      const kind = rnd.pick(kinds)
      await exchange(node, protocol, caseBytes(protocol, kind))
      const k = `${protocol} ${kind}`
      tally.set(k, (tally.get(k) ?? 0) + 1)
    }
  }
  const started = Date.now()
  // Two streams at a time from each attacker: the stranger (stopped at the contacts-only gate or
  // by the ratchet) and Mallory (an accepted contact: the frames reach every parser).
  await Promise.all([worker(stranger), worker(stranger), worker(malloryNode), worker(malloryNode)])
  const ms = Date.now() - started

  // Garbage below the protocols: plain TCP bytes at the victim's listener (no Noise handshake).
  const tcp = victim.proc.ready.addrs.map((a) => /\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(a)).find(Boolean)
  for (let i = 0; i < 20 && tcp; i++) {
    await new Promise<void>((resolve) => {
      const socket = connect(Number(tcp[1]), '127.0.0.1', () => socket.end(randomBytes(1 + rnd.int(2048))))
      socket.on('error', () => resolve())
      socket.on('close', () => resolve())
      socket.resume()
    })
  }

  assert.equal(victim.proc.child.exitCode, null, `the victim is running (seed ${seed})`)
  const after = await eventually(
    async () => {
      const s = await stats()
      return s.refusedTotal > before.refusedTotal + CASES / 4 ? s : undefined
    },
    10_000,
    `refusals counted (seed ${seed})`,
  )
  const counted = after.refusedTotal - before.refusedTotal
  const fuzzed = [...tally].filter(([k]) => k.startsWith(PROTOCOL_MSG) || k.startsWith(PROTOCOL_PREKEYS))
  console.log(
    `# fuzz seed ${seed}: ${done} streams in ${ms} ms on ${protocols.join(' ')}; ` +
      `${fuzzed.reduce((n, [, v]) => n + v, 0)} on msg/prekeys; ` +
      `victim refused +${counted}: ${JSON.stringify(after.refused)}`,
  )
  for (const reason of ['malformed-frame', 'not-a-contact', 'bad-envelope'])
    assert.ok(
      count(after, PROTOCOL_MSG, reason) > count(before, PROTOCOL_MSG, reason),
      `msg ${reason} counted`,
    )
  assert.ok(
    count(after, PROTOCOL_PREKEYS, 'malformed-frame') > count(before, PROTOCOL_PREKEYS, 'malformed-frame'),
  )
  // The files and feed layers count their own refusals; `stats` shows those too.
  assert.ok((after.files?.refusedTotal ?? 0) > (before.files?.refusedTotal ?? 0), 'file refusals counted')
  assert.ok((after.feed?.rejectedTotal ?? 0) > (before.feed?.rejectedTotal ?? 0), 'feed rejections counted')

  // Nothing escaped as an unhandled error (the peer logs those instead of dying).
  const log = await readFile(join(victim.home, 'jiayi.log'), 'utf8')
  assert.doesNotMatch(log, /uncaught exception|unhandled rejection|control method failed/)
  assert.deepEqual(
    (await victim.control.contacts()).map((c) => c.name).sort(),
    ['Friend', 'Mallory'],
    'the stranger got no request in',
  )
})

test('after all that the victim still chats, with its friend and with Mallory', {
  timeout: 60_000,
}, async () => {
  const [atVictim] = (await friend.control.contacts()).filter((c) => c.peerId === victim.peerId)
  const [atFriend] = (await victim.control.contacts()).filter((c) => c.peerId === friend.peerId)
  const hello = await friend.control.send(atVictim!.id, 'still there? 还在吗？')
  const reply = await victim.control.send(atFriend!.id, 'yes 在 ✅')
  await eventually(
    async () => (await victim.control.messages(atFriend!.id)).some((m) => m.id === hello.id),
    15_000,
    'the friend gets through',
  )
  await eventually(
    async () => (await friend.control.messages(atVictim!.id)).some((m) => m.id === reply.id),
    15_000,
    'the victim gets through',
  )
  const [mAtVictim] = (await victim.control.contacts()).filter((c) => c.name === 'Mallory')
  const fromMallory = await mallory.send(mallory.contactList()[0]!.id, 'a real message this time')
  await eventually(
    async () => (await victim.control.messages(mAtVictim!.id)).some((m) => m.id === fromMallory.id),
    15_000,
    "Mallory's session survived",
  )
  assert.equal(victim.proc.child.exitCode, null)
})
