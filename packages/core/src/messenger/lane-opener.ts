/**
 * Starting a lane's first session (lanes.ts). A payload for a device we hold no session with
 * waits in its lane as plaintext (sealed by the store): a device other than the one the card
 * names has no prekey printed anywhere, so its prekeys are fetched from it over
 * `/jiayi/prekeys/1` when its delivery runs (the same identity signs every device's prekeys).
 * The new session then encrypts every waiting entry, in order, under the same numbers, in one
 * change with the session itself; until the device answers, its lane simply waits (backoff)
 * while the contact's other devices get theirs.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { hexToBytes } from '../bytes.js'
import { decodeCardBytes } from '../card/card.js'
import { decodeCardPayload } from '../card/link.js'
import { initiateSession } from '../crypto/session.js'
import type { PreKeyBundle } from '../crypto/x3dh.js'
import type { PublicIdentity } from '../identity/identity.js'
import type { MessengerCore } from './core.js'
import type { ContactId } from './ids.js'
import { Keys } from './keys.js'
import { isFirstLane } from './lanes.js'
import { decodeOutboxRecord, encodeOutboxRecord } from './outbox-record.js'
import { fetchPreKeyBundle, PREKEY_FETCH_TIMEOUT_MS } from './prekey-protocol.js'
import type { ContactRecord, OutboxRecord } from './records.js'
import { encryptWith } from './session-set.js'
import { Tx } from './tx.js'

/** The device did not hand out prekeys: its lane waits and is tried again later. */
export class DeviceUnreachable extends Error {
  override readonly name = 'DeviceUnreachable'
}

/** Whether an outbox entry still waits for its lane's first session. */
export function isUnopened(entry: OutboxRecord): boolean {
  return entry.envelope.length === 0 && entry.payload !== undefined
}

export async function openLane(core: MessengerCore, lane: ContactId): Promise<void> {
  const target = core.laneTarget(lane)
  if (target === undefined) return
  const { contact, device } = target
  let bundle: PreKeyBundle | undefined
  if ((await core.sessionSet(lane)).length === 0) {
    const identity = identityOf(contact)
    bundle = await fetchPreKeyBundle(core.node, peerIdFromString(device), identity, {
      signal: AbortSignal.timeout(PREKEY_FETCH_TIMEOUT_MS),
    })
    // The device the card names also has the card's signed prekey to fall back on.
    if (bundle === undefined && isFirstLane(lane) && contact.card !== '') {
      const card = decodeCardBytes(decodeCardPayload(contact.card))
      bundle = { identity: card.identity, signedPreKey: card.signedPreKey }
    }
  }
  await core.queue.run(contact.id, async () => {
    let set = await core.sessionSet(lane)
    const tx = new Tx()
    if (set.length === 0) {
      if (bundle === undefined) throw new DeviceUnreachable('the device handed out no prekeys')
      set = [initiateSession(core.account.identity, bundle)]
    }
    for await (const [, value] of core.store.iterate({ prefix: Keys.outboxPrefix(lane) })) {
      const entry = decodeOutboxRecord(value)
      if (!isUnopened(entry)) continue
      const out = encryptWith(set, entry.payload!, core.account.identity)
      set = out.set
      const next: OutboxRecord = {
        seq: entry.seq,
        type: out.envelope.type,
        envelope: out.envelope.bytes,
        messageId: entry.messageId,
        createdAt: entry.createdAt,
        ...(out.envelope.type === 'prekey' ? { payload: entry.payload } : {}),
      }
      const record = encodeOutboxRecord(next)
      tx.put(
        Keys.outbox(lane, entry.seq),
        record,
        next.type === 'message' ? { endToEndFrom: record.length - next.envelope.length } : {},
      )
    }
    tx.sessions.set(lane, set)
    // Entries held in memory for a running delivery are the unencrypted ones: read the store.
    tx.after(() => core.conversations.outboxTail.forget(lane))
    await core.commit(tx)
  })
}

function identityOf(contact: ContactRecord): PublicIdentity {
  return { signingKey: hexToBytes(contact.identityKey), agreementKey: hexToBytes(contact.agreementKey) }
}
