/**
 * The messenger's record keys (store tuple encoding, see store/keys.ts):
 *
 *   account                     the account (identity, device key, name)
 *   spk <id>                    signed prekey        otk <id>     one-time prekey
 *   kem <id>                    ML-KEM prekey        prekeymeta   prekey counters
 *   contact <cid>               contact record       blocked <cid> a rejected identity
 *   sessions <cid>              the contact's sessions
 *   msg <cid> <seq>             a message, in conversation order
 *   msgid <cid> <16-byte id>    message id -> seq (exactly-once and lookups)
 *   outbox <cid> <seq>          an encrypted envelope waiting for the peer's ack
 *   announced                   the addresses we last told our contacts
 *   meta <cid>                  the conversation's payload counters (last sent, highest received)
 *   unread <cid> <seq>          incoming messages not yet read -> seq
 */
import { key } from '../store/keys.js'
import type { ContactId, MessageId } from './ids.js'
import { messageIdBytes } from './ids.js'

export const Keys = {
  account: () => key('account'),
  spk: (id: number) => key('spk', id),
  otk: (id: number) => key('otk', id),
  otkPrefix: () => key('otk'),
  kem: (id: number) => key('kem', id),
  prekeyMeta: () => key('prekeymeta'),
  contact: (cid: ContactId) => key('contact', cid),
  contactPrefix: () => key('contact'),
  blocked: (cid: ContactId) => key('blocked', cid),
  sessions: (cid: ContactId) => key('sessions', cid),
  msg: (cid: ContactId, seq: number) => key('msg', cid, seq),
  msgPrefix: (cid: ContactId) => key('msg', cid),
  msgId: (cid: ContactId, id: MessageId) => key('msgid', cid, messageIdBytes(id)),
  msgIdPrefix: (cid: ContactId) => key('msgid', cid),
  outbox: (cid: ContactId, seq: number) => key('outbox', cid, seq),
  outboxPrefix: (cid: ContactId) => key('outbox', cid),
  announcedAddrs: () => key('announced'),
  convMeta: (cid: ContactId) => key('meta', cid),
  unread: (cid: ContactId, seq: number) => key('unread', cid, seq),
  unreadPrefix: (cid: ContactId) => key('unread', cid),
}
