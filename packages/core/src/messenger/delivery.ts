/**
 * The sending half of /jiayi/msg/1 for all conversations: the outbox pump's driver. An entry
 * leaves the outbox only when the peer acknowledges it; its message then moves to 'sent' (or
 * 'failed' when the peer will never accept it).
 *
 * The pump runs per lane (lanes.ts): one per device of each contact, so a device that is away
 * holds back nothing for the others. A message is 'sent' once any of the contact's devices
 * acknowledged it; only the first device's refusal fails it (another device refusing says that
 * device cannot read it, not that the person did not get it).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { depositOutbox } from '../mailbox/deposit.js'
import type { ConnectionRoute } from '../net/connection-info.js'
import type { MessengerCore } from './core.js'
import type { ContactId, MessageId } from './ids.js'
import { Keys } from './keys.js'
import { isUnopened, openLane } from './lane-opener.js'
import { isFirstLane, laneContact } from './lanes.js'
import { type AckStatus, type OutgoingEnvelope, sendEnvelopes } from './msg-protocol.js'
import { type AppliedAck, OutboxPump } from './outbox.js'
import type { MessageRecord, OutboxRecord } from './records.js'
import { advanceStatus } from './records.js'
import { SessionRestarter } from './session-restart.js'
import { Tx } from './tx.js'

export function createOutboxPump(core: MessengerCore): OutboxPump {
  const restarter = new SessionRestarter(core)
  return new OutboxPump({
    load: async (lane, limit, after) => {
      const entries = await core.conversations.outbox(lane, limit, after)
      if (!entries.some(isUnopened)) return entries
      // Queued before the device had a session: start one (throws while the device is away).
      await openLane(core, lane)
      return core.conversations.outbox(lane, limit, after)
    },
    send: (cid, envelopes, onAck, signal) => sendTo(core, cid, envelopes, onAck, signal),
    acked: (lane, acks) => {
      if (acks.some((a) => a.status === 'ok')) {
        restarter.succeeded(lane)
        core.reach.reached(laneContact(lane))
      }
      return acked(core, lane, acks)
    },
    dropEphemeral: (cid, entries) => dropEphemeral(core, cid, entries),
    restart: async (cid, entry) => {
      const outcome = await restarter.restart(cid, entry)
      if (outcome === 'later') return false
      // Given up: the entry fails as a rejected one does, and delivery goes on with the rest.
      if (outcome === 'give-up') await acked(core, cid, [{ entry, status: 'rejected', route: undefined }])
      return true
    },
    // Each lane to its device's own box on the contact's home node (mailbox/deposit.ts).
    unreachable: (lane, signal) => depositOutbox(core, lane, signal),
    onError: (lane, error) => {
      core.log.debug('delivery attempt failed', {
        contact: lane,
        error: error instanceof Error ? error.name : 'unknown',
      })
      if (isFirstLane(lane)) core.deliveryFailed(lane, error)
    },
  })
}

async function sendTo(
  core: MessengerCore,
  lane: ContactId,
  next: () => Promise<readonly OutgoingEnvelope[]>,
  onAck: (ref: number, status: AckStatus, route: ConnectionRoute | undefined) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const target = core.laneTarget(lane)
  if (target === undefined) {
    // The device left its person's list: what waited for it is not for it any more.
    if (core.contactOrSelf(laneContact(lane)) !== undefined && !isFirstLane(lane)) await dropLane(core, lane)
    return
  }
  if (isFirstLane(lane)) await core.rememberAddrs(target.device, target.contact.addrs)
  await sendEnvelopes(core.node, peerIdFromString(target.device), next, onAck, { signal })
}

/** Deletes what waits in a lane whose device is no longer on its person's list. */
async function dropLane(core: MessengerCore, lane: ContactId): Promise<void> {
  const cid = laneContact(lane)
  await core.queue.run(cid, async () => {
    const tx = new Tx()
    for await (const [k] of core.store.iterate({ prefix: Keys.outboxPrefix(lane) })) tx.del(k)
    tx.del(Keys.sessions(lane))
    tx.removedContacts.add(lane)
    await core.commit(tx)
  })
}

async function acked(core: MessengerCore, lane: ContactId, acks: readonly AppliedAck[]): Promise<void> {
  const cid = laneContact(lane)
  await core.queue.run(cid, async () => {
    // Removed meanwhile: its outbox and meta are gone, and nothing of it may be written again.
    if (core.contactOrSelf(cid) === undefined) return
    const tx = new Tx()
    const changed = new Map<MessageId, MessageRecord>()
    for (const { entry, status, route } of acks) {
      tx.del(Keys.outbox(lane, entry.seq))
      if (entry.messageId === undefined) continue
      // Another device of theirs refusing fails nothing (see above).
      if (status === 'rejected' && !isFirstLane(lane)) continue
      const m = changed.get(entry.messageId) ?? (await core.conversations.message(cid, entry.messageId))
      if (m === undefined) {
        // Not a message of this conversation: a group's (groups/service.ts counts who has it).
        if (status === 'ok' && cid !== core.selfId) tx.after(() => core.onOtherAck(cid, entry.messageId!))
        continue
      }
      const next = status === 'ok' ? advanceStatus(m.status, 'sent') : 'failed'
      // The route it left on is noted with its first ack (a resend keeps the first).
      const via = status === 'ok' && m.route === undefined ? route : undefined
      if (next !== m.status || via !== undefined)
        changed.set(entry.messageId, { ...m, status: next, ...(via === undefined ? {} : { route: via }) })
    }
    // 'sent' and the route go into the conversation's status runs, not the records.
    for (const m of changed.values()) await core.putStatus(tx, m)
    // The outbox numbers survive it emptying (Conversations' MetaRecord), and carry the runs.
    await core.conversations.writeMeta(tx, cid)
    // Not awaited: the next acks may be applied while these are written (group commit). Loads
    // after the last entry sent never see acknowledged entries; a delivery that starts again from
    // the top first waits for these writes (OutboxPump.deliver) and reads through the store.
    // Deferred: the peer's delivery receipt usually follows within a second and writes the same
    // counters record, so many acks and a receipt cost one sealed write, and sending does not
    // queue behind ack writes. Lost in a crash, an ack only means the envelope goes again, and the
    // peer acknowledges the duplicate without showing it twice.
    core
      .commit(tx, { defer: true })
      .catch((error) => core.log.warn('could not record an ack', { error: errorName(error) }))
  })
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown'
}

async function dropEphemeral(
  core: MessengerCore,
  lane: ContactId,
  entries: readonly OutboxRecord[],
): Promise<void> {
  const drop = entries.filter((e) => e.ephemeral)
  if (drop.length === 0) return
  const cid = laneContact(lane)
  await core.queue.run(cid, async () => {
    const tx = new Tx()
    for (const e of drop) tx.del(Keys.outbox(lane, e.seq))
    await core.conversations.writeMeta(tx, cid)
    await core.commit(tx)
  })
}
