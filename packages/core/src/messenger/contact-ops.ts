/**
 * Who we talk to: adding a card (a contact request on a new session), accepting and rejecting
 * requests, removing contacts, and safety numbers. The Messenger facade delegates here.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { bytesToHex, equalBytes, hexToBytes } from '../bytes.js'
import type { ContactCard } from '../card/card.js'
import { decodeCard, decodeCardPayload, linkPayload } from '../card/link.js'
import { initiateSession } from '../crypto/session.js'
import type { PreKeyBundle } from '../crypto/x3dh.js'
import { formatSafetyNumber, safetyNumber } from '../identity/safety-number.js'
import type { MessengerCore } from './core.js'
import { MessengerError } from './errors.js'
import { type ContactId, contactIdFor, type MessageId } from './ids.js'
import { newContactRecord, updateContactFromCard } from './inbound.js'
import { Keys } from './keys.js'
import type { OutboxPump } from './outbox.js'
import { fetchPreKeyBundle } from './prekey-protocol.js'
import type { ReceiptBatcher } from './receipts.js'
import type { ContactRecord } from './records.js'
import { Tx } from './tx.js'
import type { ContactView } from './views.js'

/** How long adding a card waits for the peer's fresh prekeys before using the card's own. */
const PREKEY_FETCH_TIMEOUT_MS = 4_000

export class ContactOps {
  constructor(
    private readonly core: MessengerCore,
    private readonly receipts: Pick<ReceiptBatcher, 'queue'>,
    private readonly outbox: Pick<OutboxPump, 'reset'>,
  ) {}

  /**
   * Adds the person on a card (link or QR text) and sends them a contact request carrying our
   * own card. If they already asked us, this accepts them instead. Idempotent.
   */
  async add(link: string): Promise<ContactView> {
    const core = this.core
    const card = decodeCard(link)
    const bytes = decodeCardPayload(linkPayload(link))
    const cid = contactIdFor(card.identity.signingKey)
    if (equalBytes(card.identity.signingKey, core.account.identity.signing.publicKey)) {
      throw new MessengerError('SelfContact', 'this is your own card')
    }
    await core.rememberAddrs(card.peerId, card.addrs)
    const existing = core.contacts.get(cid)
    if (existing?.state === 'pending-in') return this.accept(cid)
    if (existing !== undefined) {
      await core.queue.run(cid, async () => {
        const tx = new Tx()
        updateContactFromCard(core, tx, existing, { ...card, bytes }, existing.state)
        await core.commit(tx)
      })
      return this.view(cid)
    }
    const bundle = await this.bundleFor(card)
    const theyAskedMeanwhile = await core.queue.run(cid, async () => {
      // Their request may have arrived while we fetched prekeys: then this add accepts it.
      const now = core.contacts.get(cid)
      if (now !== undefined) return now.state === 'pending-in'
      const tx = new Tx()
      tx.del(Keys.blocked(cid))
      tx.after(() => core.blockedPeers.delete(card.peerId))
      const admitted = { ...card, addrs: core.contactAddrs(card.addrs) }
      core.putContact(tx, newContactRecord(cid, admitted, bytes, 'pending-out'), 'new')
      tx.sessions.set(cid, [initiateSession(core.account.identity, bundle)])
      await core.encryptToOutbox(tx, cid, { kind: 'request', card: core.cardBytes() })
      await core.commit(tx)
      core.log.info('contact added', { contact: cid, postQuantum: bundle.kemPreKey !== undefined })
      return false
    })
    return theyAskedMeanwhile ? this.accept(cid) : this.view(cid)
  }

  /** Prefers a fresh bundle from the peer (one-time prekey + ML-KEM); else the card's signed prekey. */
  private async bundleFor(card: ContactCard): Promise<PreKeyBundle> {
    const fetched = await fetchPreKeyBundle(this.core.node, peerIdFromString(card.peerId), card.identity, {
      signal: AbortSignal.timeout(PREKEY_FETCH_TIMEOUT_MS),
    })
    return fetched ?? { identity: card.identity, signedPreKey: card.signedPreKey }
  }

  async accept(ref: string): Promise<ContactView> {
    const core = this.core
    const contact = core.contacts.resolve(ref)
    await core.queue.run(contact.id, async () => {
      const current = core.contacts.get(contact.id)
      if (current === undefined || current.state !== 'pending-in') return
      const tx = new Tx()
      core.putContact(tx, { ...current, state: 'accepted', updatedAt: Date.now() }, 'update')
      await core.encryptToOutbox(tx, current.id, { kind: 'accept', card: core.cardBytes() })
      await core.commit(tx)
    })
    // The messages that waited for this accept are shown now: tell the sender they arrived.
    const held: MessageId[] = []
    for await (const m of core.conversations.all(contact.id)) {
      if (m.direction === 'in' && m.status === 'received') held.push(m.id)
    }
    this.receipts.queue(contact.id, 'delivered', held)
    return this.view(contact.id)
  }

  /** Declines a request or removes a contact: deletes everything about them and blocks new requests. */
  async reject(ref: string): Promise<void> {
    const core = this.core
    const contact = core.contacts.resolve(ref)
    await core.queue.run(contact.id, async () => {
      const tx = new Tx()
      await core.forgetContact(tx, contact, { block: true })
      await core.commit(tx)
    })
    this.outbox.reset(contact.id)
  }

  async verify(ref: string, mark = false): Promise<{ safetyNumber: string; verified: boolean }> {
    const core = this.core
    const contact = core.contacts.resolve(ref)
    const number = safetyNumber(core.identity(), theirIdentity(contact))
    if (mark && !contact.verified) {
      await core.queue.run(contact.id, async () => {
        const tx = new Tx()
        core.putContact(
          tx,
          { ...core.contacts.get(contact.id)!, verified: true, updatedAt: Date.now() },
          'update',
        )
        await core.commit(tx)
      })
    }
    return { safetyNumber: formatSafetyNumber(number.digits), verified: mark || contact.verified }
  }

  /** The scannable safety number (for a QR code the other person scans), as hex. */
  safetyNumberCode(ref: string): string {
    const contact = this.core.contacts.resolve(ref)
    return bytesToHex(safetyNumber(this.core.identity(), theirIdentity(contact)).scannable)
  }

  private view(cid: ContactId): ContactView {
    return this.core.view(this.core.contacts.resolve(cid))
  }
}

export function theirIdentity(contact: ContactRecord) {
  return { signingKey: hexToBytes(contact.identityKey), agreementKey: hexToBytes(contact.agreementKey) }
}
