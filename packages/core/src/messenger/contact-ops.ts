/**
 * Who we talk to: adding a card (a contact request on a new session), accepting and rejecting
 * requests, removing contacts, and safety numbers. The Messenger facade delegates here.
 */
import { bytesToHex, equalBytes, hexToBytes } from '../bytes.js'
import type { ContactCard } from '../card/card.js'
import { decodeCard, decodeCardPayload, linkPayload } from '../card/link.js'
import { initiateSession } from '../crypto/session.js'
import { formatSafetyNumber, safetyNumber } from '../identity/safety-number.js'
import { checkName } from './account.js'
import type { MessengerCore } from './core.js'
import { MessengerError } from './errors.js'
import { isStoredIdentity } from './identity-change.js'
import { type ContactId, contactIdFor } from './ids.js'
import { newContactRecord, updateContactFromCard } from './inbound.js'
import { Keys } from './keys.js'
import type { OutboxPump } from './outbox.js'
import { bundleFor } from './prekey-protocol.js'
import type { ReceiptBatcher, ReceiptFor } from './receipts.js'
import type { ContactRecord } from './records.js'
import type { OwnSync } from './sync.js'
import { Tx } from './tx.js'
import type { ContactView } from './views.js'

export class ContactOps {
  constructor(
    private readonly core: MessengerCore,
    private readonly receipts: Pick<ReceiptBatcher, 'queue'>,
    private readonly outbox: Pick<OutboxPump, 'reset'>,
    /** Our other devices make the same change (sync.ts). */
    private readonly sync: Pick<OwnSync, 'contact' | 'contactRemoved'>,
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
    const existing = core.contacts.get(cid)
    checkSameIdentity(card, existing ?? core.contacts.byPeerId(card.peerId))
    await core.rememberAddrs(card.peerId, card.addrs)
    if (existing?.state === 'pending-in') return this.accept(cid)
    if (existing !== undefined) {
      await core.queue.run(cid, async () => {
        const tx = new Tx()
        updateContactFromCard(core, tx, existing, { ...card, bytes }, existing.state)
        await core.commit(tx)
      })
      this.sync.contact(cid)
      return this.view(cid)
    }
    const bundle = await bundleFor(core.node, card)
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
    if (theyAskedMeanwhile) return this.accept(cid)
    this.sync.contact(cid)
    return this.view(cid)
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
    this.sync.contact(contact.id)
    // The messages that waited for this accept are shown now: tell the sender they arrived.
    const held: ReceiptFor[] = []
    for await (const m of core.conversations.all(contact.id)) {
      if (m.direction === 'in' && m.status === 'received') held.push({ id: m.id, seq: m.seq })
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
    this.sync.contactRemoved(contact.id)
  }

  /**
   * Sets the user's private name for a contact (备注), or clears it with an empty one. It stays
   * with our own devices (sync.ts): contacts never learn it.
   */
  async setRemark(ref: string, remark: string): Promise<ContactView> {
    const core = this.core
    const contact = core.contacts.resolve(ref)
    const trimmed = typeof remark === 'string' ? remark.trim() : ''
    const checked = trimmed === '' ? undefined : checkName(trimmed, 'a remark')
    await core.queue.run(contact.id, async () => {
      const current = core.contacts.get(contact.id)
      if (current === undefined || current.remark === checked) return
      const tx = new Tx()
      const { remark: _old, ...rest } = current
      core.putContact(
        tx,
        { ...rest, ...(checked !== undefined ? { remark: checked } : {}), updatedAt: Date.now() },
        'update',
      )
      tx.after(() => this.sync.contact(contact.id))
      await core.commit(tx)
    })
    return this.view(contact.id)
  }

  async verify(ref: string, mark = false): Promise<{ safetyNumber: string; verified: boolean }> {
    const core = this.core
    const contact = core.contacts.resolve(ref)
    const number = safetyNumber(core.identity(), theirIdentity(contact))
    if (mark && (!contact.verified || contact.identityChanged === true)) {
      await core.queue.run(contact.id, async () => {
        const tx = new Tx()
        // Comparing the numbers again is how the user acknowledges a safety number change.
        core.putContact(
          tx,
          {
            ...core.contacts.get(contact.id)!,
            verified: true,
            identityChanged: false,
            updatedAt: Date.now(),
          },
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

/**
 * A card for a device we know under other identity keys (its peer id is a contact's, or its
 * identity key is a contact's with another agreement key) is refused, not taken as the contact's
 * new keys: anyone can print a card naming any device. The contact record is left alone; the
 * device itself, if it really has new keys, is caught when it starts a session (inbound.ts).
 */
function checkSameIdentity(card: ContactCard, known: ContactRecord | undefined): void {
  if (known === undefined || isStoredIdentity(known, card.identity)) return
  throw new MessengerError(
    'IdentityChanged',
    `this card names the device or identity of your contact ${known.name} (id ${known.id}) with other ` +
      `identity keys: the safety number would change. Compare safety numbers with them in person ` +
      `(jiayi verify ${known.id}); to take the new keys, remove them first (jiayi reject ${known.id}) ` +
      'and add the card again.',
  )
}

export function theirIdentity(contact: ContactRecord) {
  return { signingKey: hexToBytes(contact.identityKey), agreementKey: hexToBytes(contact.agreementKey) }
}
