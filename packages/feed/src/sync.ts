/**
 * `/jiayi/feed/2`: peers exchange what they hold per feed and send each other what is missing,
 * on connect and live while connected (PROTOCOL.md, "Sync").
 *
 * Each side pulls: it opens a stream to a contact, gets a challenge, and sends HAVE: for every
 * feed it follows, a proof that it holds the feed's key, bound to that challenge, with its version
 * vector sealed under that key (have-proof.ts). The server answers, for each feed whose current
 * key was proven, with SNAPSHOT/CHUNK and ENTRY frames, then SYNCED, and keeps the stream open,
 * pushing every new entry of those feeds as it is stored (its own posts and the ones it relays).
 * Only accepted contacts are served, and only while they are: a removal ends their streams.
 *
 * Hostile input never escapes: a frame that does not decode or breaks the protocol ends that
 * stream and is counted; a frame that decodes but fails verification is rejected by the engine
 * (counted there) and the stream goes on.
 */
import {
  Emitter,
  type FramedStream,
  framedHandler,
  type JiayiNode,
  type Logger,
  MAX_INBOUND_STREAMS,
  openFramed,
  PROTOCOL_FEED,
  type RefusedStream,
} from '@jiayi/core'
import { countFailure } from './counters.js'
import type { FeedEngine } from './engine.js'
import { FeedError } from './errors.js'
import { ClaimVerifier, newChallenge } from './have-proof.js'
import { type FeedSyncEvents, Puller } from './puller.js'
import { ServeSession } from './serve-session.js'
import type { FeedHave } from './wire.js'
import { decodeFrame } from './wire.js'

export type { FeedSyncEvents }

/** libp2p's types, through the node core hands us (feed does not depend on libp2p directly). */
export type PeerId = JiayiNode['peerId']
type Connection = ReturnType<JiayiNode['getConnections']>[number]

export interface FeedSyncInit {
  readonly engine: FeedEngine
  /** Whether `peer` may sync with us (an accepted contact). */
  readonly allow: (peer: PeerId) => boolean
  /**
   * A HAVE from `peer`: the feeds whose key it proved (current or not), e.g. to notice that it
   * lacks our newest feed key.
   */
  readonly onHave?: (peer: PeerId, feeds: readonly FeedHave[]) => void
  readonly log?: Logger
  /** Dialling and opening a stream gives up after this long. Default 10 s. */
  readonly dialTimeoutMs?: number
}

export interface FeedSyncComponents {
  readonly node: JiayiNode
}

const RETRY_MIN_MS = 500
const RETRY_MAX_MS = 30_000

/** The js-libp2p service-factory shape: `feedSync(init)(components)`. */
export function feedSync(init: FeedSyncInit): (components: FeedSyncComponents) => FeedSync {
  return (components) => new FeedSync(init, components)
}

export class FeedSync {
  readonly events = new Emitter<FeedSyncEvents>()
  private readonly pullers = new Map<string, Puller>()
  private readonly opening = new Map<string, Promise<Puller>>()
  private readonly retries = new Map<string, { timer?: ReturnType<typeof setTimeout>; delay: number }>()
  /** Streams we serve, by the peer that opened them. */
  private readonly serving = new Map<ServeSession, string>()
  private readonly engine: FeedEngine
  private readonly node: JiayiNode
  private readonly onConnect = (e: Event) => this.connected((e as CustomEvent<PeerId>).detail)
  private stopped = false

  constructor(
    private readonly init: FeedSyncInit,
    components: FeedSyncComponents,
  ) {
    this.engine = init.engine
    this.node = components.node
  }

  async start(): Promise<void> {
    const handler = framedHandler(PROTOCOL_FEED, (framed, connection) => this.serve(framed, connection), {
      allow: (peer) => !this.stopped && this.init.allow(peer),
      onRefused: (r) => this.refused(r),
    })
    await this.node.handle(PROTOCOL_FEED, handler, { maxInboundStreams: MAX_INBOUND_STREAMS[PROTOCOL_FEED] })
    this.node.addEventListener('peer:connect', this.onConnect)
    for (const connection of this.node.getConnections()) this.connected(connection.remotePeer)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.node.removeEventListener('peer:connect', this.onConnect)
    for (const r of this.retries.values()) clearTimeout(r.timer)
    this.retries.clear()
    for (const p of this.pullers.values()) p.close()
    for (const s of this.serving.keys()) s.abort()
    await this.node.unhandle(PROTOCOL_FEED).catch(() => undefined)
  }

  private connected(peer: PeerId): void {
    // The other side may not listen yet (its feed starts after its node): try again while connected.
    if (!this.stopped && this.init.allow(peer)) void this.pull(peer).catch(() => this.retryLater(peer, false))
  }

  /**
   * Syncs with `peer` (opening a stream unless one is open, else sending a fresh HAVE on it).
   * Resolves once the peer has sent everything we lacked; rejects if it cannot be reached.
   */
  async pull(peer: PeerId): Promise<void> {
    if (this.stopped) throw new FeedError('Stopped', 'feed sync is stopped')
    const key = peer.toString()
    const existing = this.pullers.get(key)
    if (existing !== undefined && !existing.ended) return existing.sendHave()
    let opening = this.opening.get(key)
    if (opening !== undefined) {
      const puller = await opening
      return puller.sendHave()
    }
    opening = this.open(peer)
    this.opening.set(key, opening)
    let puller: Puller
    try {
      puller = await opening
    } finally {
      this.opening.delete(key)
    }
    await puller.sendHave()
    // A good sync resets the back-off.
    const retry = this.retries.get(key)
    if (retry !== undefined) retry.delay = RETRY_MIN_MS
  }

  private async open(peer: PeerId): Promise<Puller> {
    const key = peer.toString()
    const framed = await openFramed(this.node, peer, PROTOCOL_FEED, {
      signal: AbortSignal.timeout(this.init.dialTimeoutMs ?? 10_000),
    })
    if (this.stopped) {
      framed.abort(new FeedError('Stopped', 'feed sync is stopped'))
      throw new FeedError('Stopped', 'feed sync is stopped')
    }
    const binding = { server: key, client: this.node.peerId.toString() }
    const puller = new Puller(this.engine, framed, binding, this.events, this.init.log)
    this.pullers.get(key)?.close()
    this.pullers.set(key, puller)
    void puller.run().then((healthy) => {
      if (this.pullers.get(key) === puller) this.pullers.delete(key)
      this.retryLater(peer, healthy)
    })
    return puller
  }

  /** Sends a fresh HAVE on every open pull (we got a new key, or started following a feed). */
  refresh(): void {
    for (const p of this.pullers.values()) void p.sendHave().catch(() => undefined)
  }

  /** Peers we are pulling from right now. */
  pulling(): string[] {
    return [...this.pullers.keys()]
  }

  /**
   * Ends every stream, both ways, with a peer that may no longer sync (a contact was removed or
   * blocked): an open stream would otherwise go on carrying pushes to it, and from it.
   */
  revalidate(): void {
    if (this.stopped) return
    for (const [session, peer] of this.serving) {
      if (!this.allowed(peer)) session.abort()
    }
    for (const [key, puller] of this.pullers) {
      if (this.allowed(key)) continue
      this.pullers.delete(key)
      clearTimeout(this.retries.get(key)?.timer)
      this.retries.delete(key)
      puller.close()
    }
  }

  private allowed(peer: string): boolean {
    const connection = this.node.getConnections().find((c) => c.remotePeer.toString() === peer)
    // Not connected: nothing is open to end; the next stream is checked when it opens.
    return connection === undefined || this.init.allow(connection.remotePeer)
  }

  /** While still connected and allowed, try again with a growing delay. */
  private retryLater(peer: PeerId, healthy: boolean): void {
    if (this.stopped || !this.init.allow(peer)) return
    const key = peer.toString()
    const state = this.retries.get(key) ?? { delay: RETRY_MIN_MS }
    if (healthy) state.delay = RETRY_MIN_MS
    clearTimeout(state.timer)
    state.timer = setTimeout(() => {
      state.timer = undefined
      if (this.stopped || this.node.getConnections(peer).length === 0) return
      void this.pull(peer).catch(() => this.retryLater(peer, false))
    }, state.delay)
    state.delay = Math.min(state.delay * 2, RETRY_MAX_MS)
    this.retries.set(key, state)
  }

  // ------------------------------------------------------------------ serving

  private async serve(framed: FramedStream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    const session = new ServeSession(this.engine, framed)
    const from = peer.toString()
    this.serving.set(session, from)
    const challenge = newChallenge()
    const verifier = new ClaimVerifier(this.engine, {
      challenge,
      server: this.node.peerId.toString(),
      client: from,
    })
    const unsubscribe = this.engine.events.on('appended', (e) => {
      // Checked again before each push: trust may have changed since the stream opened.
      if (!this.init.allow(peer)) session.abort()
      else if (e.from === from) session.received(e.feed, e.vv)
      else session.schedule(e.feed)
    })
    session.challenge(challenge)
    try {
      for (;;) {
        const bytes = await framed.read()
        if (bytes === null) break
        this.engine.counters.add('framesIn')
        this.engine.counters.add('bytesIn', bytes.length)
        const frame = decodeFrame(bytes)
        if (frame.type === 'ack') {
          session.ack(frame.consumed)
          continue
        }
        if (frame.type !== 'have') throw new FeedError('Protocol', 'a server only accepts HAVE and ACK')
        const proven = verifier.open(frame.claims, () => this.engine.counters.reject('Forged'))
        this.init.onHave?.(peer, proven)
        session.have(
          frame.round,
          proven.filter((p) => p.current),
        )
      }
      await session.drain()
      await framed.close().catch(() => undefined)
    } finally {
      unsubscribe()
      session.close()
      this.serving.delete(session)
    }
  }

  private refused(r: RefusedStream): void {
    countFailure(this.engine.counters, r.code)
    this.init.log?.debug('feed stream refused', { code: r.code, peer: r.remotePeer.toString() })
  }
}
