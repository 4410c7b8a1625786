/**
 * Hostile input on /jiayi/feed/1, both ways: fuzzed frames sent to a peer's server, and a
 * contact's server answering with fuzzed and forged frames. The peer never crashes, counts what
 * it refused, leaves its docs byte-identical, and still syncs afterwards.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { randomBytes } from '@jiayi/core'
import fc from 'fast-check'
import * as Y from 'yjs'
import { makeClaims } from '../src/have-proof.js'
import { newItemId, replicaIdBytes } from '../src/ids.js'
import {
  decodeFrame,
  encodeFrame,
  FeedEngine,
  type FeedId,
  type SignedEntry,
  type SyncFrame,
  type VersionVector,
} from '../src/index.js'
import { writePost } from '../src/schema.js'
import { FRAME_TYPES, hostileServer, mutate, rawStream } from './helpers/hostile.js'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

describe('feed sync under hostile input', () => {
  const peers: FeedPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('fuzzed frames sent to a peer never crash it and change nothing', async () => {
    const a = await feedPeer('Target')
    const b = await feedPeer('Fuzzer')
    peers.push(a, b)
    await befriend(a, b)
    const post = await a.feed.post('still here')
    await eventually(() => b.feed.get(post.id), 10_000, 'B synced')
    const own = Y.encodeStateAsUpdate(a.feed.engine.doc(a.feed.id)!)
    const theirs = Y.encodeStateAsUpdate(a.feed.engine.doc(b.feed.id)!)
    const binding = { challenge: randomBytes(32), server: 'a', client: 'b' }
    const genuine: Uint8Array[] = [
      encodeFrame({
        type: 'have',
        round: 1,
        claims: makeClaims(b.feed.engine, b.feed.engine.have(), binding),
      }),
      ...(await framesOf(a.feed.engine, a.feed.id)),
    ]
    const before = a.feed.stats().rejectedTotal

    let sent = 0
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 300 }),
          fc
            .tuple(fc.constantFrom(...FRAME_TYPES), fc.uint8Array({ maxLength: 200 }))
            .map(([t, rest]) => Uint8Array.of(t, ...rest)),
          fc
            .tuple(fc.constantFrom(...genuine), fc.integer(), fc.integer())
            .map(([g, i, j]) => mutate(g, i, j)),
        ),
        async (frame) => {
          sent++
          await rawStream(b, a, [frame])
        },
      ),
      { numRuns: 150 },
    )
    // A frame over the protocol's limit, announced by its length prefix alone.
    await rawStream(b, a, [], { rawPrefix: Uint8Array.of(0xff, 0xff, 0xff, 0x7f) })
    // A HAVE with thousands of claims we cannot match: answered with the challenge and SYNCED only.
    const many = Array.from({ length: 3000 }, () => ({ tag: randomBytes(32), box: randomBytes(60) }))
    const answer = await rawStream(b, a, [encodeFrame({ type: 'have', round: 7, claims: many })], {
      read: true,
    })
    assert.deepEqual(
      answer.map((f) => f.type),
      ['challenge', 'synced'],
    )
    assert.deepEqual(answer[1], { type: 'synced', round: 7 })

    await eventually(() => a.feed.stats().rejectedTotal > before + sent / 2, 5_000, 'refusals counted')
    assert.deepEqual(Y.encodeStateAsUpdate(a.feed.engine.doc(a.feed.id)!), own)
    assert.deepEqual(Y.encodeStateAsUpdate(a.feed.engine.doc(b.feed.id)!), theirs)
    const rejected = a.feed.stats().rejected
    assert.ok((rejected.Malformed ?? 0) > 0 && (rejected.Protocol ?? 0) > 0 && (rejected.TooLarge ?? 0) > 0)

    const next = await a.feed.post('and still syncing')
    await eventually(() => b.feed.get(next.id), 10_000, 'sync still works')
  })

  it('a contact answering with fuzzed, forged and out-of-place frames changes nothing', async () => {
    const a = await feedPeer('Puller')
    const b = await feedPeer('Evil server')
    peers.push(a, b)
    const { bAtA } = await befriend(a, b)
    const real = await b.feed.post('a real post')
    await eventually(() => a.feed.get(real.id), 10_000, 'A synced')
    await a.feed.settled()
    const stateBefore = Y.encodeStateAsUpdate(a.feed.engine.doc(b.feed.id)!)
    const vvBefore = a.feed.engine.versionVector(b.feed.id)

    // B's real feed service steps aside (its pushes stop); a hostile one answers A's pulls. B's
    // engine, reopened on its store, makes one genuine update A has not seen.
    await b.feed.stop()
    const bEngine = await FeedEngine.open({ store: b.store, identity: b.messenger.account.identity })
    const bFeed = bEngine.self
    await bEngine.write((doc) =>
      writePost(doc, newItemId(), {
        text: 'one A has not seen yet',
        links: [],
        attachments: [],
        createdAt: 5,
      }),
    )
    const genuine = await framesOf(bEngine, bFeed, vvBefore)
    const entry = entryOf(genuine)
    const script: { frames: Uint8Array[]; challenge?: boolean | undefined } = { frames: [] }
    await hostileServer(b, script)

    const forged: SyncFrame[] = [
      { type: 'entry', entry: { ...entry, signature: new Uint8Array(0) } },
      { type: 'entry', entry: { ...entry, signature: flip(entry.signature) } },
      { type: 'entry', entry: { ...entry, sealed: flip(entry.sealed) } },
      { type: 'entry', entry: { ...entry, seq: entry.seq + 5 } },
      { type: 'entry', entry: { ...entry, epoch: 42 } },
      { type: 'entry', entry: { ...entry, seq: 1 } },
      { type: 'entry', entry: { ...entry, replica: replicaIdBytes('0123456789abcdef' as never) } },
      { type: 'chunk', offset: 0, bytes: randomBytes(10) },
      { type: 'have', round: 1, claims: [] },
      { type: 'challenge', nonce: randomBytes(32) },
    ]
    const cases: { frames: Uint8Array[]; challenge?: boolean }[] = forged.map((f) => ({
      frames: [encodeFrame(f)],
    }))
    // A server that skips the challenge: its entry is out of place.
    cases.push({ frames: [encodeFrame(forged[0]!)], challenge: false })
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }),
            fc
              .tuple(fc.constantFrom(...genuine), fc.integer(), fc.integer())
              .map(([g, i, j]) => mutate(g, i, j)),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (frames) => {
          cases.push({ frames })
        },
      ),
      { numRuns: 120 },
    )
    // The stream A had open to B's real server died with it: let A notice before the cases run.
    await a.feed.syncWith(bAtA.id).catch(() => undefined)
    await a.feed.syncWith(bAtA.id).catch(() => undefined)
    for (const c of cases) {
      script.frames = c.frames
      script.challenge = c.challenge
      await a.feed.syncWith(bAtA.id).catch(() => undefined)
    }
    assert.deepEqual(Y.encodeStateAsUpdate(a.feed.engine.doc(bFeed)!), stateBefore, 'doc byte-identical')
    assert.deepEqual(a.feed.engine.versionVector(bFeed), vvBefore)
    const r = a.feed.stats().rejected
    for (const code of [
      'Unsigned',
      'Forged',
      'OutOfOrder',
      'Keyless',
      'Replayed',
      'Malformed',
      'Protocol',
    ] as const) {
      assert.ok((r[code] ?? 0) > 0, `${code} counted`)
    }

    // The genuine frames, replayed by the same server, are applied.
    script.frames = genuine
    script.challenge = true
    await a.feed.syncWith(bAtA.id).catch(() => undefined)
    await eventually(() => a.feed.timeline().length === 2, 5_000, 'the genuine update applies')
  })
})

/** The frames B's engine would send a requester holding `known` of `feed`. */
async function framesOf(
  engine: FeedEngine,
  feed: FeedId,
  known: VersionVector = new Map(),
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const item of engine.missing(feed, known, 99)) {
    if (item.kind === 'entry') out.push(encodeFrame({ type: 'entry', entry: item.entry }))
  }
  return out
}

function entryOf(frames: Uint8Array[]): SignedEntry {
  const first = frames[0]
  assert.ok(first)
  const frame = decodeFrame(first)
  assert.ok(frame.type === 'entry')
  return frame.entry
}

function flip(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes)
  out[Math.floor(out.length / 2)] = out[Math.floor(out.length / 2)]! ^ 0x40
  return out
}
