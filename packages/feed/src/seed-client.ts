/**
 * Both clients of a home node's feed seeder (seeder.ts): the owner's device pushes what the
 * seeder lacks of its own log; a contact pulls what it lacks of the owner's feed and applies it
 * through the engine, which checks signatures, chains and keys exactly as for /jiayi/feed/2.
 */
import { concatBytes, type HomeNodeRef, type JiayiNode, openHomeStream } from '@jiayi/core'
import type { FeedEngine } from './engine.js'
import { FeedError } from './errors.js'
import { type FeedId, feedIdOf } from './ids.js'
import { PROTOCOL_FEED_SEED, SEED_FRAME_BYTES, SeedOp, SeedStatus, type SeedStatusCode } from './seeder.js'
import {
  decodeFrame,
  decodeVV,
  encodeFrame,
  encodeVV,
  type SignedEntry,
  type SnapshotHeader,
  snapshotFrames,
} from './wire.js'

/** How long one exchange may take, dial included (a 32 MiB snapshot over a slow uplink fits). */
export const SEED_REQUEST_TIMEOUT_MS = 120_000
/** Entries applied per engine run while a pull goes on. */
const APPLY_BATCH = 256

const CODE_OF = new Map<number, SeedStatusCode>(
  Object.entries(SeedStatus).map(([code, n]) => [n, code as SeedStatusCode]),
)

function refused(status: number | undefined): FeedError {
  const code = status === undefined ? 'BadRequest' : (CODE_OF.get(status) ?? 'BadRequest')
  return new FeedError(
    code === 'Forged' ? 'Forged' : code === 'BadRequest' ? 'Protocol' : 'Refused',
    `the home node refused: ${code}`,
  )
}

function signalOf(signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(SEED_REQUEST_TIMEOUT_MS)
  return signal === undefined ? timeout : AbortSignal.any([timeout, signal])
}

/** Pushes to our home node what it lacks of our own feed; resolves to the frames sent. */
export async function pushOwnFeed(
  node: JiayiNode,
  home: HomeNodeRef,
  engine: FeedEngine,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const signal = signalOf(options.signal)
  const framed = await openHomeStream(node, home, PROTOCOL_FEED_SEED, {
    signal,
    maxFrameBytes: SEED_FRAME_BYTES,
  })
  try {
    await framed.write(Uint8Array.of(SeedOp.Push), { signal })
    const answer = await framed.read({ signal })
    if (answer === null || answer[0] !== SeedStatus.Ok) throw refused(answer?.[0])
    const held = decodeVV(answer.subarray(1))
    let sent = 0
    for await (const item of engine.missing(engine.self, held, Number.MAX_SAFE_INTEGER)) {
      if (item.kind === 'entry') {
        await framed.write(encodeFrame({ type: 'entry', entry: item.entry }), { signal })
      } else {
        for (const frame of snapshotFrames(item.snapshot)) await framed.write(encodeFrame(frame), { signal })
      }
      sent++
    }
    await framed.write(encodeFrame({ type: 'synced', round: 0 }), { signal })
    const done = await framed.read({ signal })
    if (done === null || done[0] !== SeedStatus.Ok) throw refused(done?.[0])
    await framed.close({ signal }).catch(() => undefined)
    return sent
  } catch (error) {
    framed.abort(error instanceof Error ? error : new Error('feed push failed'))
    throw error
  }
}

/**
 * Pulls what we lack of `feed` (a contact's, whose key we hold) from that contact's home node and
 * applies it; resolves to the entries and snapshots applied. What fails the engine's checks is
 * counted there and skipped, as from any peer.
 */
export async function pullSeededFeed(
  node: JiayiNode,
  home: HomeNodeRef,
  engine: FeedEngine,
  feed: FeedId,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const signal = signalOf(options.signal)
  const framed = await openHomeStream(node, home, PROTOCOL_FEED_SEED, {
    signal,
    maxFrameBytes: SEED_FRAME_BYTES,
  })
  const from = home.peerId
  let applied = 0
  let run: SignedEntry[] = []
  const apply = async () => {
    if (run.length === 0) return
    const verdicts = await engine.ingestEntries(run, from)
    applied += verdicts.filter((v) => v === undefined).length
    run = []
  }
  try {
    await framed.write(concatBytes(Uint8Array.of(SeedOp.Pull), encodeVV(engine.versionVector(feed))), {
      signal,
    })
    const answer = await framed.read({ signal })
    if (answer === null || answer.length !== 1 || answer[0] !== SeedStatus.Ok) throw refused(answer?.[0])
    let header: SnapshotHeader | undefined
    let chunks: Uint8Array[] = []
    let received = 0
    for (;;) {
      const bytes = await framed.read({ signal })
      if (bytes === null) throw new FeedError('Protocol', 'the home node ended the stream early')
      const frame = decodeFrame(bytes)
      if (header !== undefined && frame.type !== 'chunk')
        throw new FeedError('Protocol', 'a snapshot was cut short')
      if (frame.type === 'synced') break
      if (frame.type === 'entry') {
        if (!sameFeed(frame.entry.feed, feed)) throw new FeedError('Protocol', 'an entry of another feed')
        run.push(frame.entry)
        if (run.length >= APPLY_BATCH) await apply()
      } else if (frame.type === 'snapshot') {
        await apply()
        if (!sameFeed(frame.header.feed, feed)) throw new FeedError('Protocol', 'a snapshot of another feed')
        engine.checkSnapshotHeader(frame.header)
        header = frame.header
        chunks = []
        received = 0
      } else if (frame.type === 'chunk') {
        if (
          header === undefined ||
          frame.offset !== received ||
          received + frame.bytes.length > header.sealedBytes
        )
          throw new FeedError('Protocol', 'a chunk out of place')
        chunks.push(frame.bytes)
        received += frame.bytes.length
        if (received === header.sealedBytes) {
          await engine.ingestSnapshot({ ...header, sealed: concatBytes(...chunks) }, from)
          applied++
          header = undefined
          chunks = []
        }
      } else throw new FeedError('Protocol', `an unexpected ${frame.type} frame`)
    }
    await apply()
    await framed.close({ signal }).catch(() => undefined)
    return applied
  } catch (error) {
    framed.abort(error instanceof Error ? error : new Error('feed pull failed'))
    throw error
  }
}

function sameFeed(bytes: Uint8Array, feed: FeedId): boolean {
  return feedIdOf(bytes) === feed
}
