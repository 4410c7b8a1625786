/**
 * The sender's side: a device of a contact we cannot reach, whose card (or address update) names
 * a home node, gets the envelopes waiting in its lane (messenger/lanes.ts) deposited there for
 * that device, exactly the bytes /jiayi/msg/1 would carry, in order. Deposited entries leave the
 * lane's outbox (the home node holds them now) and their messages read `stored`, route `mailbox`,
 * until the recipient's delivery receipt arrives.
 *
 * Only devices the home node's certificate names: it serves no other (a device linked since is
 * named once the owner re-certifies it; until then its lane waits as it would without a mailbox).
 *
 * Our own other devices' lanes (what sync.ts mirrors) go the same way to our own home node: the
 * certificate we issued names both this device, which the home node then takes deposits from,
 * and the one that is away.
 */
import { toBase64 } from '../bytes.js'
import type { MessengerCore } from '../messenger/core.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import { Keys } from '../messenger/keys.js'
import { isUnopened } from '../messenger/lane-opener.js'
import { laneContact, laneDevice } from '../messenger/lanes.js'
import {
  advanceStatus,
  type ContactRecord,
  type MessageRecord,
  type OutboxRecord,
} from '../messenger/records.js'
import { peerMay } from '../messenger/trust.js'
import { Tx } from '../messenger/tx.js'
import { depositMail } from './client.js'
import { homeOf } from './contact-home.js'
import { MAX_BATCH_ITEMS } from './server.js'

/** Envelope bytes per deposit request: a request frame stays under the protocol's 1 MiB. */
const DEPOSIT_BYTES = 768 * 1024

/**
 * Deposits the outbox of `lane` (one device of a contact) at the contact's home node. True when
 * their mailbox took all that waited (maybe nothing); false when the contact has no (valid) home
 * node, it does not serve that device, or the device is online. Throws MailboxError when the home
 * node refuses or cannot be reached (the entries then stay in the outbox).
 */
export async function depositOutbox(
  core: MessengerCore,
  lane: ContactId,
  signal?: AbortSignal,
): Promise<boolean> {
  const cid = laneContact(lane)
  // A lane to another device of ours (sync.ts) goes to that device's box on our own home node.
  const own = cid === core.selfId
  const contact = own ? core.selfRecord() : core.contacts.get(cid)
  // Only to contacts: a group member we never added is not on their owner's depositor list.
  if (contact === undefined || core.stopped || (!own && !peerMay(contact.state, 'deposit-mail'))) return false
  const device = laneDevice(contact, lane)
  const home = own ? ownHome(core, contact) : homeOf(contact)
  if (device === undefined || home === undefined || !home.cert.devices.includes(device)) return false
  if (own && !home.cert.devices.includes(core.peerId.toString())) return false
  if (core.isOnline(device)) return false
  let after: number | undefined
  for (;;) {
    const entries = await core.conversations.outbox(lane, MAX_BATCH_ITEMS, after)
    if (entries.length === 0) return true
    // What waits for a session with their device (lane-opener.ts) is no envelope yet: it goes
    // once the device hands out prekeys, and what follows it waits in order behind it.
    if (entries.some(isUnopened)) return false
    after = entries[entries.length - 1]!.seq
    // Typing and the like mean nothing later: they are not kept for anyone.
    const batch: OutboxRecord[] = []
    let bytes = 0
    for (const e of entries) {
      if (e.ephemeral) continue
      if (batch.length > 0 && bytes + e.envelope.length > DEPOSIT_BYTES) break
      batch.push(e)
      bytes += e.envelope.length
      after = e.seq
    }
    if (batch.length === 0) continue
    await depositMail(
      core.node,
      home,
      device,
      batch.map((e) => ({ type: e.type, body: e.envelope })),
      { signal },
    )
    await stored(core, cid, lane, batch)
  }
}

/**
 * Our own home node, from the certificate we gave it (the one our card carries): the home node
 * takes deposits from a device it names, for another device it names.
 */
function ownHome(core: MessengerCore, self: ContactRecord): ReturnType<typeof homeOf> {
  const cert = core.homeCertificate
  return cert === undefined ? undefined : homeOf({ identityKey: self.identityKey, home: toBase64(cert) })
}

/** The entries are on the home node: out of the lane, their messages `stored` via `mailbox`. */
async function stored(
  core: MessengerCore,
  cid: ContactId,
  lane: ContactId,
  entries: readonly OutboxRecord[],
): Promise<void> {
  await core.queue.run(cid, async () => {
    const tx = new Tx()
    const changed = new Map<MessageId, MessageRecord>()
    for (const entry of entries) {
      tx.del(Keys.outbox(lane, entry.seq))
      if (entry.messageId === undefined) continue
      const m = changed.get(entry.messageId) ?? (await core.conversations.message(cid, entry.messageId))
      if (m === undefined) continue
      const next = advanceStatus(m.status, 'stored')
      if (next !== m.status || m.route === undefined)
        changed.set(entry.messageId, { ...m, status: next, route: m.route ?? 'mailbox' })
    }
    for (const m of changed.values()) await core.putStatus(tx, m)
    await core.conversations.writeMeta(tx, cid)
    await core.commit(tx)
  })
}
