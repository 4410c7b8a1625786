/**
 * Finding a contact whose addresses we lost, through the contacts we share. Two peers that both
 * moved (new ports, a new network) while the other was offline each hold only the other's old
 * addresses, and without mDNS nothing tells them the new ones. A mutual contact that stayed
 * reachable got both address updates, so we ask it: a `where-is` payload naming the peer, and
 * it answers `here-is` with the addresses it knows for them (the connection it has to them now
 * first). (DESIGN.md's home node and DHT are the later layers; this one needs neither.)
 *
 * When: a delivery to a contact fails and we have no connection to them (at most once per
 * contact per ASK_INTERVAL_MS), we ask every accepted contact we are connected to now.
 *
 * Who learns what: an accepted contact only, only about a peer that is an accepted contact of
 * ours too, and only a peer id they already know. An answer is taken only from a contact we asked
 * about that very peer within ASK_INTERVAL_MS, and its addresses go through the same filter as a
 * card's; a lie costs a failed dial, since Noise checks the peer id at the other end.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { fromUtf8, utf8 } from '../bytes.js'
import { verifyHomeCertificate } from '../mailbox/certificate.js'
import { selectCardAddrs } from './card-addrs.js'
import type { MessengerCore } from './core.js'
import type { ContactId } from './ids.js'
import type { CoreExtensionContext, CoreExtensionHandler } from './inbound.js'
import type { ContactRecord } from './records.js'
import { peerMay } from './trust.js'
import { Tx } from './tx.js'

export const WHERE_IS_EXTENSION = 'where-is'
export const HERE_IS_EXTENSION = 'here-is'
/** How often we ask about one contact, and how long an answer about them is taken. */
export const ASK_INTERVAL_MS = 15_000
/** At most this many questions answered per asking contact per minute. */
const ANSWERS_PER_MINUTE = 20
/** A peer id as text (base58btc Ed25519 ids are 52 characters). */
const MAX_PEER_ID_CHARS = 128
const MAX_ANSWER_BYTES = 4096

export class ContactFinder {
  /** When we last asked about a contact (by peer id), and whom. */
  private readonly asked = new Map<string, { at: number; of: Set<string> }>()
  private readonly answered = new Map<string, { start: number; count: number }>()

  constructor(
    private readonly core: MessengerCore,
    /** Delivery to the contact should be tried again now (new addresses known). */
    private readonly retry: (cid: ContactId) => void,
  ) {}

  /** The handlers of the two payloads (registered as messenger extensions). */
  readonly extensions: Readonly<Record<string, CoreExtensionHandler>> = {
    [WHERE_IS_EXTENSION]: { requires: 'find-contact', receive: (ctx) => this.whereIs(ctx) },
    [HERE_IS_EXTENSION]: { requires: 'find-contact', receive: (ctx) => this.hereIs(ctx) },
  }

  /** Delivery to `cid` failed: if we are not connected to them, ask the contacts we share. */
  deliveryFailed(cid: ContactId): void {
    const core = this.core
    const lost = core.contacts.get(cid)
    if (lost === undefined || lost.state !== 'accepted' || core.stopped || core.isOnline(lost.peerId)) return
    const last = this.asked.get(lost.peerId)
    if (last !== undefined && Date.now() - last.at < ASK_INTERVAL_MS) return
    const of = new Set<string>()
    for (const c of core.contacts.all()) {
      if (c.id === cid || !peerMay(c.state, 'find-contact') || !core.isOnline(c.peerId)) continue
      of.add(c.peerId)
      void core.queue
        .run(c.id, async () => {
          const tx = new Tx()
          await core.encryptToOutbox(
            tx,
            c.id,
            { kind: 'extension', extension: WHERE_IS_EXTENSION, body: utf8(lost.peerId) },
            { ephemeral: true },
          )
          await core.commit(tx)
        })
        .catch(() => undefined)
    }
    if (of.size === 0) return // nobody to ask yet: the next failure asks again
    this.asked.set(lost.peerId, { at: Date.now(), of })
    core.log.debug('asking mutual contacts for a contact', { contact: cid, asked: of.size })
  }

  /** They ask where a peer is: answered if it is an accepted contact of ours too. */
  private async whereIs(ctx: CoreExtensionContext): Promise<void> {
    const core = this.core
    if (ctx.body.length > MAX_PEER_ID_CHARS || !this.mayAnswer(ctx.contact.peerId)) return
    const peerId = fromUtf8(ctx.body)
    const target = core.contacts.byPeerId(peerId)
    if (target === undefined || target.state !== 'accepted' || target.id === ctx.contact.id) return
    const addrs = this.addressesOf(target)
    if (addrs.length === 0) return
    await core.encryptToOutbox(
      ctx.tx,
      ctx.contact.id,
      { kind: 'extension', extension: HERE_IS_EXTENSION, body: utf8(JSON.stringify({ peerId, addrs })) },
      { ephemeral: true },
    )
  }

  /** An answer: taken only from a contact we asked about that peer, lately. */
  private async hereIs(ctx: CoreExtensionContext): Promise<void> {
    const core = this.core
    if (ctx.body.length > MAX_ANSWER_BYTES) return
    let answer: { peerId?: unknown; addrs?: unknown }
    try {
      answer = JSON.parse(fromUtf8(ctx.body)) as typeof answer
    } catch {
      return
    }
    if (typeof answer.peerId !== 'string' || !Array.isArray(answer.addrs)) return
    const asked = this.asked.get(answer.peerId)
    if (asked === undefined || Date.now() - asked.at > ASK_INTERVAL_MS || !asked.of.has(ctx.contact.peerId))
      return
    const target = core.contacts.byPeerId(answer.peerId)
    if (target === undefined) return
    const addrs = selectCardAddrs(
      answer.addrs.filter((a): a is string => typeof a === 'string'),
      8,
    )
    if (addrs.length === 0) return
    ctx.tx.after(() => {
      void core.rememberAddrs(target.peerId, addrs).then(() => this.retry(target.id))
      core.log.debug('a mutual contact told where a contact is', { contact: target.id })
    })
  }

  /** Where we reach `c`: the connection we have now, then what they told us last. */
  private addressesOf(c: ContactRecord): string[] {
    let live: string[] = []
    try {
      live = this.core.node
        .getConnections(peerIdFromString(c.peerId))
        .filter((conn) => conn.status === 'open' && conn.direction === 'outbound')
        .map((conn) => conn.remoteAddr.toString())
    } catch {
      // A peer id that does not parse has no connections.
    }
    // A circuit through our own home node was told to us alone and opens only for our devices
    // (reach/contact-relays.ts): of no use to whoever asks, and it would say whose contact they are.
    const own = this.ownHome()
    const mine = (a: string) => own !== undefined && a.includes(`/p2p/${own}/p2p-circuit`)
    return selectCardAddrs(
      [...live, ...c.addrs].filter((a) => !mine(a)),
      8,
    )
  }

  private ownHome(): string | undefined {
    const home = this.core.homeCertificate
    if (home === undefined) return undefined
    try {
      return verifyHomeCertificate(home).homePeerId
    } catch {
      return undefined
    }
  }

  private mayAnswer(asker: string): boolean {
    const now = Date.now()
    const w = this.answered.get(asker)
    if (w === undefined || now - w.start >= 60_000) {
      this.answered.set(asker, { start: now, count: 1 })
      return true
    }
    w.count++
    return w.count <= ANSWERS_PER_MINUTE
  }
}
