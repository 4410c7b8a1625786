/**
 * Contacts in step between our own devices (sync.ts): a contact added or accepted on one device
 * is one on the others, with the user's private remark (备注) and labels (标签); one removed or
 * rejected is removed (and blocked) there too.
 *
 * The other device builds its own record from the card the sync carries (the signed card, checked
 * again here), and no session: its first payload to the contact opens one (lane-opener.ts), and
 * the contact, holding our device list, starts its own to it. State never goes back: a contact
 * accepted here stays accepted whatever an older sync says.
 */
import { equalBytes } from '../bytes.js'
import { type ContactCard, decodeCardBytes } from '../card/card.js'
import { decodeCardPayload } from '../card/link.js'
import { labelKey, labelName, MAX_LABELS_PER_CONTACT } from '../labels/label-name.js'
import { checkName } from './account.js'
import type { MessengerCore } from './core.js'
import { type ContactId, contactIdFor, isContactId } from './ids.js'
import { newContactRecord } from './inbound.js'
import { Keys } from './keys.js'
import type { ContactRecord } from './records.js'
import { Tx } from './tx.js'

/** A contact as the device that changed it holds it: its card, its state, the private settings. */
export interface ContactSync {
  readonly kind: 'contact'
  readonly contact: ContactId
  /** The card's link payload (ContactRecord.card). */
  readonly card: string
  readonly state: 'pending-out' | 'accepted'
  readonly remark?: string | undefined
  readonly labels: readonly string[]
}

export interface ContactRemovedSync {
  readonly kind: 'contact-removed'
  readonly contact: ContactId
}

/** What our other devices are told of `c` now; undefined for what is no contact of ours to mirror. */
export function contactSyncOf(c: ContactRecord | undefined): ContactSync | undefined {
  if (c === undefined || (c.state !== 'pending-out' && c.state !== 'accepted')) return undefined
  return {
    kind: 'contact',
    contact: c.id,
    card: c.card,
    state: c.state,
    ...(c.remark === undefined ? {} : { remark: c.remark }),
    labels: c.labels ?? [],
  }
}

/** The sync's fields checked (the card itself is checked when applied); undefined if malformed. */
export function parseContactSync(v: Record<string, unknown>): ContactSync | ContactRemovedSync | undefined {
  if (typeof v.contact !== 'string' || !isContactId(v.contact)) return undefined
  if (v.kind === 'contact-removed') return { kind: 'contact-removed', contact: v.contact }
  if (typeof v.card !== 'string' || v.card.length > 16_384) return undefined
  if (v.state !== 'pending-out' && v.state !== 'accepted') return undefined
  if (!Array.isArray(v.labels) || v.labels.length > MAX_LABELS_PER_CONTACT) return undefined
  try {
    const remark = v.remark === undefined ? undefined : checkName(v.remark as string, 'a remark')
    const labels: string[] = []
    for (const l of v.labels) {
      const name = labelName(l)
      if (!labels.some((x) => labelKey(x) === labelKey(name))) labels.push(name)
    }
    return {
      kind: 'contact',
      contact: v.contact,
      card: v.card,
      state: v.state,
      ...(remark === undefined ? {} : { remark }),
      labels: labels.sort((a, b) => a.localeCompare(b)),
    }
  } catch {
    return undefined // a remark or label this device would refuse from the user too
  }
}

/**
 * Takes a contact our other device added, accepted, or whose remark or labels it changed. False
 * when the card does not verify or is not the contact's (or is ours): nothing changes.
 */
export async function applyContactSync(core: MessengerCore, sync: ContactSync): Promise<boolean> {
  let card: ContactCard
  let bytes: Uint8Array
  try {
    bytes = decodeCardPayload(sync.card)
    card = decodeCardBytes(bytes)
  } catch {
    return false // not a card (CardError, or not even its encoding)
  }
  const cid = sync.contact
  if (contactIdFor(card.identity.signingKey) !== cid) return false
  if (equalBytes(card.identity.signingKey, core.account.identity.signing.publicKey)) return false
  await core.queue.run(cid, async () => {
    const current = core.contacts.get(cid)
    const tx = new Tx()
    let base: ContactRecord
    if (current === undefined) {
      // Added on the other device: a removal before (here too) no longer blocks them.
      tx.del(Keys.blocked(cid))
      tx.after(() => core.blockedPeers.delete(card.peerId))
      base = newContactRecord(cid, { ...card, addrs: core.contactAddrs(card.addrs) }, bytes, sync.state)
    } else {
      base = { ...current, state: current.state === 'accepted' ? 'accepted' : sync.state }
    }
    const { remark: _remark, labels: _labels, ...rest } = base
    const next: ContactRecord = {
      ...rest,
      ...(sync.remark === undefined ? {} : { remark: sync.remark }),
      ...(sync.labels.length === 0 ? {} : { labels: sync.labels }),
    }
    if (current !== undefined && sameSettings(current, next)) return
    core.putContact(tx, { ...next, updatedAt: Date.now() }, current === undefined ? 'new' : 'update')
    await core.commit(tx)
  })
  await core.rememberAddrs(card.peerId, card.addrs)
  return true
}

/** Removes (and blocks) a contact our other device removed or whose request it rejected. */
export async function applyContactRemoved(core: MessengerCore, cid: ContactId): Promise<boolean> {
  return core.queue.run(cid, async () => {
    const current = core.contacts.get(cid)
    if (current === undefined) return false
    const tx = new Tx()
    await core.forgetContact(tx, current, { block: true })
    await core.commit(tx)
    return true
  })
}

function sameSettings(a: ContactRecord, b: ContactRecord): boolean {
  return (
    a.state === b.state &&
    a.remark === b.remark &&
    (a.labels ?? []).join('\n') === (b.labels ?? []).join('\n')
  )
}
