/**
 * The messenger's record keys (store tuple encoding, see store/keys.ts):
 *
 *   account                     the account (identity, device key, name)
 *   spk <id>                    signed prekey        otk <id>     one-time prekey
 *   kem <id>                    ML-KEM prekey        prekeymeta   prekey counters
 *   kemotk <id>                 one-time ML-KEM prekey (its seed and signature)
 *   contact <cid>               contact record       blocked <cid> a rejected identity (its peer id)
 *   sessions <cid>              the contact's sessions
 *   msg <cid> <seq>             a message, in conversation order
 *   msgid <cid> <16-byte id>    message id -> seq (exactly-once and lookups); a hint
 *   outbox <cid> <seq>          an encrypted envelope waiting for the peer's ack (outbox-record.ts) **
 *   announced                   the addresses we last told our contacts
 *   meta <cid>                  the conversation's payload counters (last sent, highest received),
 *                               its outgoing messages' status runs (status-runs.ts), its read
 *                               marker and unread count
 *   unread <cid> <seq>          stores written before the read marker: an incoming message not
 *                               yet read (key only); read once into the marker, then deleted
 *
 * On disk (store/layout.ts) the family and the numbers stay, the ids (<cid>, <id>) are keyed
 * hashes, and every value is sealed.
 * (**) An end-to-end family (store/record.ts END_TO_END_FAMILIES): a ratchet message's envelope is
 * stored as it is, being ciphertext already; the record's fields in front of it are sealed.
 */
import { decodeKey, key } from '../store/keys.js'
import type { ContactId, MessageId } from './ids.js'
import { messageIdBytes } from './ids.js'

export const Keys = {
  account: () => key('account'),
  spk: (id: number) => key('spk', id),
  otk: (id: number) => key('otk', id),
  otkPrefix: () => key('otk'),
  kem: (id: number) => key('kem', id),
  kemOneTime: (id: number) => key('kemotk', id),
  prekeyMeta: () => key('prekeymeta'),
  contact: (cid: ContactId) => key('contact', cid),
  contactPrefix: () => key('contact'),
  blocked: (cid: ContactId) => key('blocked', cid),
  blockedPrefix: () => key('blocked'),
  sessions: (cid: ContactId) => key('sessions', cid),
  msg: (cid: ContactId, seq: number) => key('msg', cid, seq),
  msgPrefix: (cid: ContactId) => key('msg', cid),
  msgId: (cid: ContactId, id: MessageId) => key('msgid', cid, messageIdBytes(id)),
  msgIdPrefix: (cid: ContactId) => key('msgid', cid),
  outbox: (cid: ContactId, seq: number) => key('outbox', cid, seq),
  outboxPrefix: (cid: ContactId) => key('outbox', cid),
  announcedAddrs: () => key('announced'),
  /** Our home node: its peer id, addresses and the certificate we gave it (mailbox/owner.ts). */
  homeNode: () => key('home-node'),
  convMeta: (cid: ContactId) => key('meta', cid),
  unread: (cid: ContactId, seq: number) => key('unread', cid, seq),
  unreadPrefix: (cid: ContactId) => key('unread', cid),
}

/** The sequence number of an unread marker's key; undefined for a key that is not one. */
export function unreadSeq(k: Uint8Array): number | undefined {
  try {
    const parts = decodeKey(k)
    const seq = parts.length === 3 && parts[0] === 'unread' ? parts[2] : undefined
    return typeof seq === 'number' ? seq : undefined
  } catch {
    return undefined // a key that is not a marker's is skipped, not fatal
  }
}
