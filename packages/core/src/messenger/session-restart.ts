/**
 * When the peer answers a PreKey message with STALE (the prekeys it names are gone: a one-time
 * prekey drained by others before our request arrived, a signed prekey rotated out while we
 * waited), the session it would start can never start. Rather than fail for good, the initiator
 * fetches fresh prekeys, starts a new session in the stale one's place, and encrypts again every
 * outbox entry that was waiting under the stale one, from the plaintext such entries keep
 * (records.ts OutboxRecord.payload), in the same order and under the same outbox numbers.
 *
 * Nothing is lost or doubled: the peer never held the stale session, so nothing under it was
 * accepted; the new envelopes carry the same payload ids. Restarts are bounded per conversation
 * (MAX_RESTARTS in a row without an OK ack): past that, a stale entry fails like a rejected one.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { equalBytes, hexToBytes } from '../bytes.js'
import { decodeCardBytes } from '../card/card.js'
import { decodeCardPayload } from '../card/link.js'
import { decodePreKeyMessage, initiateSession, sessionEncrypt } from '../crypto/session.js'
import type { PreKeyBundle } from '../crypto/x3dh.js'
import type { MessengerCore } from './core.js'
import type { ContactId, MessageId } from './ids.js'
import { Keys } from './keys.js'
import { isFirstLane, laneContact } from './lanes.js'
import { decodeOutboxRecord, encodeOutboxRecord } from './outbox-record.js'
import { fetchPreKeyBundle, PREKEY_FETCH_TIMEOUT_MS } from './prekey-protocol.js'
import type { MessageRecord, OutboxRecord } from './records.js'
import { Tx } from './tx.js'

export const MAX_RESTARTS = 3

export type RestartOutcome =
  /** A new session replaced the stale one: deliver again now. */
  | 'restarted'
  /** No fresh prekeys now (the peer did not answer): try again later. */
  | 'later'
  /** Restarted too often in a row: the entry is to fail as a rejected one does. */
  | 'give-up'

export class SessionRestarter {
  private readonly restarts = new Map<ContactId, number>()

  constructor(private readonly core: MessengerCore) {}

  /** An OK ack from the conversation: the sessions work, the count starts again. */
  succeeded(cid: ContactId): void {
    this.restarts.delete(cid)
  }

  /** `cid` is a lane (lanes.ts): the session toward one device of the contact. */
  async restart(cid: ContactId, stale: OutboxRecord): Promise<RestartOutcome> {
    const core = this.core
    const target = core.laneTarget(cid)
    if (target === undefined || stale.type !== 'prekey') return 'give-up'
    const { contact, device } = target
    const count = (this.restarts.get(cid) ?? 0) + 1
    if (count > MAX_RESTARTS) return 'give-up'
    let baseKey: Uint8Array
    let staleSpk: number
    try {
      const decoded = decodePreKeyMessage(stale.envelope)
      baseKey = decoded.init.ephemeralKey
      staleSpk = decoded.init.signedPreKeyId
    } catch {
      return 'give-up'
    }
    const identity = {
      signingKey: hexToBytes(contact.identityKey),
      agreementKey: hexToBytes(contact.agreementKey),
    }
    const fetched = await fetchPreKeyBundle(core.node, peerIdFromString(device), identity, {
      signal: AbortSignal.timeout(PREKEY_FETCH_TIMEOUT_MS),
    })
    // The card's own signed prekey (the card's device only) is worth a try only if it is not
    // what went stale.
    const card =
      isFirstLane(cid) && contact.card !== '' ? decodeCardBytes(decodeCardPayload(contact.card)) : undefined
    const bundle: PreKeyBundle | undefined =
      fetched ??
      (card === undefined || card.signedPreKey.id === staleSpk
        ? undefined
        : { identity: card.identity, signedPreKey: card.signedPreKey })
    if (bundle === undefined) return 'later'
    this.restarts.set(cid, count)
    await core.queue.run(contact.id, () => this.replace(cid, baseKey, bundle))
    core.log.info('session restarted', { contact: cid, postQuantum: bundle.kemPreKey !== undefined })
    return 'restarted'
  }

  /** Inside the conversation's queue: the new session, and every entry re-encrypted under it. */
  private async replace(cid: ContactId, baseKey: Uint8Array, bundle: PreKeyBundle): Promise<void> {
    const core = this.core
    const set = await core.sessionSet(cid)
    const at = set.findIndex((s) => equalBytes(s.baseKey, baseKey))
    if (at < 0) return // restarted already (the same stale ack on another stream)
    const identity = core.account.identity
    let session = initiateSession(identity, bundle)
    const tx = new Tx()
    const failed: MessageId[] = []
    for await (const [key, value] of core.store.iterate({ prefix: Keys.outboxPrefix(cid) })) {
      const entry = decodeOutboxRecord(value)
      if (entry.type !== 'prekey' || !underSession(entry, baseKey)) continue
      if (entry.payload === undefined) {
        // Queued by a version that did not keep payloads: it cannot be sent again.
        tx.del(key)
        if (entry.messageId !== undefined) failed.push(entry.messageId)
        continue
      }
      const out = sessionEncrypt(session, entry.payload, identity)
      session = out.session
      const next: OutboxRecord = { ...entry, envelope: out.envelope.bytes }
      tx.put(key, encodeOutboxRecord(next))
    }
    tx.sessions.set(
      cid,
      set.map((s, i) => (i === at ? session : s)),
    )
    const conversation = laneContact(cid)
    for (const id of failed) {
      const m = await core.conversations.message(conversation, id)
      if (m !== undefined) await core.putStatus(tx, { ...m, status: 'failed' } satisfies MessageRecord)
    }
    await core.conversations.writeMeta(tx, conversation)
    // Entries held in memory for a running delivery are the old envelopes: read the store instead.
    tx.after(() => core.conversations.outboxTail.forget(cid))
    await core.commit(tx)
  }
}

function underSession(entry: OutboxRecord, baseKey: Uint8Array): boolean {
  try {
    return equalBytes(decodePreKeyMessage(entry.envelope).init.ephemeralKey, baseKey)
  } catch {
    return false
  }
}
