/**
 * The contact list in memory (it is small) with lookups by id, name and peer id. Records are
 * persisted by the caller in the same batch as whatever changed them; the book is updated only
 * after that batch commits.
 */
import type { Store } from '../store/store.js'
import { MessengerError } from './errors.js'
import { type ContactId, isContactId } from './ids.js'
import { Keys } from './keys.js'
import { type ContactRecord, contactDevices, decodeRecord } from './records.js'

export class ContactBook {
  private readonly byId = new Map<ContactId, ContactRecord>()
  private readonly byPeer = new Map<string, ContactId>()

  static async load(store: Store): Promise<ContactBook> {
    const book = new ContactBook()
    for await (const [, value] of store.iterate({ prefix: Keys.contactPrefix() })) {
      book.set(decodeRecord<ContactRecord>(value))
    }
    return book
  }

  get(id: ContactId): ContactRecord | undefined {
    return this.byId.get(id)
  }

  byPeerId(peerId: string): ContactRecord | undefined {
    const id = this.byPeer.get(peerId)
    return id === undefined ? undefined : this.byId.get(id)
  }

  /** Contacts, requests included; not group members we did not add (they are no contacts). */
  all(): ContactRecord[] {
    return this.everyone().filter((c) => c.state !== 'member')
  }

  /** Every record with a session: contacts and group members (delivery, sessions). */
  everyone(): ContactRecord[] {
    return [...this.byId.values()].sort((a, b) => a.addedAt - b.addedAt)
  }

  /**
   * Indexes every device of the contact (records.ts contactDevices), so any of them finds it, and
   * only those: a device their newest list dropped (even the one their card named) finds nobody.
   */
  set(record: ContactRecord): void {
    const previous = this.byId.get(record.id)
    if (previous !== undefined) this.unindex(previous)
    this.byId.set(record.id, record)
    // Only the devices on their newest list: the card's device too once it is no longer there
    // is refused like a stranger (contactDevices is that device alone when they have no list).
    // A list is signed by its owner alone, not by the devices it names: one naming the device
    // another contact's card names does not take that device over.
    for (const peer of contactDevices(record)) {
      const holder = this.byId.get(this.byPeer.get(peer) ?? ('' as ContactId))
      if (peer === record.peerId || holder === undefined || holder.id === record.id || holder.peerId !== peer)
        this.byPeer.set(peer, record.id)
    }
  }

  delete(id: ContactId): void {
    const previous = this.byId.get(id)
    if (previous === undefined) return
    this.byId.delete(id)
    this.unindex(previous)
  }

  private unindex(record: ContactRecord): void {
    for (const peer of [record.peerId, ...contactDevices(record)]) {
      if (this.byPeer.get(peer) === record.id) this.byPeer.delete(peer)
    }
  }

  /**
   * Finds a contact by id, id prefix (≥ 4 hex digits), peer id, or name (case-insensitive).
   * Throws UnknownContact / AmbiguousContact with a message that says what to type instead.
   */
  resolve(ref: string): ContactRecord {
    const query = typeof ref === 'string' ? ref.trim() : ''
    if (query === '') throw new MessengerError('UnknownContact', 'no contact given')
    if (isContactId(query) && this.byId.has(query)) return this.byId.get(query)!
    const peer = this.byPeerId(query)
    if (peer !== undefined) return peer
    const lower = query.toLowerCase()
    // Most precise first: the whole name, then an id prefix, then one word of the name
    // ("bob" for "小明 Bob"), then the start of the name ("小明" for "小明 Bob").
    // A remark (备注) counts as a name: it is what the user sees and types.
    const names = (c: ContactRecord) =>
      c.remark === undefined ? [c.name.toLowerCase()] : [c.remark.toLowerCase(), c.name.toLowerCase()]
    const rules: ((c: ContactRecord) => boolean)[] = [
      (c) => names(c).includes(lower),
      (c) => /^[0-9a-f]{4,16}$/.test(lower) && c.id.startsWith(lower),
      (c) => names(c).some((n) => n.split(/\s+/).includes(lower)),
      (c) => names(c).some((n) => n.startsWith(lower)),
    ]
    let matches: ContactRecord[] = []
    for (const rule of rules) {
      matches = this.all().filter(rule)
      if (matches.length > 0) break
    }
    if (matches.length === 1) return matches[0]!
    if (matches.length > 1) {
      throw new MessengerError(
        'AmbiguousContact',
        `${matches.length} contacts match "${query}"; use an id: ${matches.map((c) => c.id).join(', ')}`,
      )
    }
    throw new MessengerError('UnknownContact', `no contact matches "${query}"`)
  }
}
