/**
 * A session that began without ML-KEM (the card's signed prekey alone, when the peer could not
 * be reached to fetch its prekeys) or without a one-time prekey stays that way for as long as it
 * lives: the Double Ratchet never adds what X3DH lacked. So the next time the peer is online (a
 * connection, or their accept while connected), we fetch fresh prekeys and start a fresh PQXDH
 * session in front of the old one, and send our card on it at once (an accept, which the peer
 * applies as a card refresh), so the peer takes it up without waiting for our next message.
 *
 * Nothing in flight is lost or doubled: the old session stays in the set (session-set.ts), so
 * whatever either side sent under it still opens, and a decrypting session only takes over the
 * sending if it is at least as strong (session-set.ts `decryptMessage`), so traffic still on the
 * old session does not undo the upgrade. When both sides upgrade at once, each holds both new
 * sessions, and both settle on the same one (the rule picks by base key among equals).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeCardBytes } from '../card/card.js'
import { decodeCardPayload } from '../card/link.js'
import { initiateSession, type Session } from '../crypto/session.js'
import type { MessengerCore } from './core.js'
import type { ContactId } from './ids.js'
import { fetchPreKeyBundle, PREKEY_FETCH_TIMEOUT_MS } from './prekey-protocol.js'
import { promote } from './session-set.js'
import { Tx } from './tx.js'

/** At most one attempt per contact this often (a peer that keeps reconnecting costs one fetch). */
const MIN_INTERVAL_MS = 60_000

/** Whether a session lacks what a fresh PQXDH session would have. */
export function needsUpgrade(session: Session | undefined): boolean {
  return session !== undefined && (!session.postQuantum || !session.oneTimePreKey)
}

export class SessionUpgrader {
  private readonly running = new Set<ContactId>()
  private readonly tried = new Map<ContactId, number>()

  constructor(private readonly core: MessengerCore) {}

  /** The contact is online: upgrades its session if it needs it (in the background). */
  consider(cid: ContactId): void {
    const core = this.core
    const contact = core.contacts.get(cid)
    if (contact?.state !== 'accepted' || core.stopped || this.running.has(cid)) return
    if (Date.now() - (this.tried.get(cid) ?? 0) < MIN_INTERVAL_MS) return
    this.running.add(cid)
    void this.upgrade(cid)
      .catch((error) =>
        core.log.debug('session upgrade failed', {
          contact: cid,
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
      .finally(() => this.running.delete(cid))
  }

  private async upgrade(cid: ContactId): Promise<void> {
    const core = this.core
    if (!needsUpgrade((await core.sessionSet(cid))[0])) return
    this.tried.set(cid, Date.now())
    const contact = core.contacts.get(cid)
    if (contact === undefined) return
    const card = decodeCardBytes(decodeCardPayload(contact.card))
    const bundle = await fetchPreKeyBundle(core.node, peerIdFromString(contact.peerId), card.identity, {
      signal: AbortSignal.timeout(PREKEY_FETCH_TIMEOUT_MS),
    })
    // Only what is better than what we have: else the next time online.
    if (bundle?.kemPreKey === undefined || bundle.oneTimePreKey === undefined) return
    await core.queue.run(cid, async () => {
      const set = await core.sessionSet(cid)
      // The peer's own upgrade may have arrived while we fetched: nothing left to do.
      if (core.contacts.get(cid)?.state !== 'accepted' || !needsUpgrade(set[0])) return
      const tx = new Tx()
      tx.sessions.set(cid, promote(set, initiateSession(core.account.identity, bundle)))
      await core.encryptToOutbox(tx, cid, { kind: 'accept', card: core.cardBytes() })
      await core.commit(tx)
      core.log.info('session upgraded', { contact: cid })
    })
  }
}
