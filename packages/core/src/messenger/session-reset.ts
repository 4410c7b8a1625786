/**
 * Session reset (Signal's "automatic session reset"): a ratchet that lost state heals instead of
 * failing forever. When a contact's ratchet messages open with none of our sessions (one side
 * lost its latest state: a damaged store, a restored backup), or we hold no session with an
 * accepted contact at all, we start a fresh session from their prekeys (X3DH/PQXDH, as adding a
 * card does) and send a `session-reset` payload as its first message. The other side accepts it
 * like any PreKey message of a known contact and makes it current; both sides add a notice to
 * the conversation and emit a `session` event.
 *
 * What could not be decrypted is lost, but named: the peer refused those envelopes, so their
 * messages show `failed` on the sender's side, and each side sends its failed text messages
 * again through the new session (same message id: a receiver that somehow has one shows it
 * once). Envelopes still queued under the old session that the peer refuses after the reset are
 * sent again the same way when their failure comes in.
 *
 * The mailbox: what we left at the peer's home node (`stored`) is acknowledged there by the peer
 * even when it cannot be opened (a PreKey message naming prekeys it no longer holds, a ratchet
 * that went astray), and no failure ever comes back. Such a peer resets the session instead
 * (inbound.ts), so a reset from them also sends again our recent `stored` text messages (same
 * message id: one that did arrive is shown once).
 *
 * Not a way in for anyone else: only an accepted contact's own device (Noise authenticates the
 * peer id) can make our sessions fail to decrypt, at most one reset per contact per
 * RESET_INTERVAL_MS starts from that, and a reset is accepted only from a PreKey message that
 * carries the identity keys stored for the contact.
 */

import { peerIdFromString } from '@libp2p/peer-id'
import { bytesToHex } from '../bytes.js'
import { decodeCardBytes } from '../card/card.js'
import { decodeCardPayload } from '../card/link.js'
import { initiateSession } from '../crypto/session.js'
import type { PreKeyBundle } from '../crypto/x3dh.js'
import { key } from '../store/keys.js'
import type { MessengerCore } from './core.js'
import type { ContactId, MessageId } from './ids.js'
import { newMessageId } from './ids.js'
import type { CoreExtensionContext, CoreExtensionHandler } from './inbound.js'
import { Keys } from './keys.js'
import { isFirstLane } from './lanes.js'
import { fetchPreKeyBundle } from './prekey-protocol.js'
import type { ContactRecord, MessageRecord } from './records.js'
import { promote, type SessionSet } from './session-set.js'
import { peerMay } from './trust.js'
import { Tx } from './tx.js'

/** The extension payload that opens a reset session (its body: RESET_BODY, for later versions). */
export const SESSION_RESET_EXTENSION = 'session-reset'
const RESET_BODY = Uint8Array.of(1)
/** At most one reset started per contact in this time: decryption failures come in bursts. */
export const RESET_INTERVAL_MS = 60_000
/** How far back failed messages are sent again: the newest messages of the conversation. */
export const RESEND_LOOKBACK = 200
/**
 * How far back `stored` ones are, after a reset from the peer: a week away from a chatty contact
 * leaves more than RESEND_LOOKBACK in their mailbox, all of which the reset may be about.
 */
export const RESEND_STORED_LOOKBACK = 1000
/** How long after a reset a failure of an envelope from before it is answered by a resend. */
export const RESEND_AFTER_RESET_MS = 10 * 60_000
const PREKEY_FETCH_TIMEOUT_MS = 4_000

/** Who started a reset, as the notice and the `session` event say. */
export type ResetBy = 'us' | 'them'

/** What a reset notice in the conversation carries (MessageRecord.extension.data). */
export interface ResetNotice {
  readonly by: ResetBy
  /** How many of our failed messages went again through the new session. */
  readonly resent: number
}

interface LastReset {
  readonly at: number
  /** Messages sent again since: each once per reset. */
  readonly resent: Set<MessageId>
}

export class SessionResets {
  private readonly last = new Map<ContactId, LastReset>()
  private readonly starting = new Set<ContactId>()
  private readonly offs: (() => void)[] = []

  constructor(private readonly core: MessengerCore) {}

  /** The handler of the `session-reset` payload (registered as a messenger extension). */
  readonly extension: CoreExtensionHandler = {
    requires: 'reset-session',
    receive: (ctx) => this.accepted(ctx),
  }

  /**
   * Starts watching for failures to resend, and heals contacts left with no session at all.
   * With `all` (the store lost its latest writes: our ratchets may have gone back in time, and
   * would send under message keys the peer already used, which it takes for duplicates), every
   * accepted contact gets a new session before anything else is sent to them.
   */
  async start(all = false): Promise<void> {
    this.offs.push(
      this.core.events.on('message', (e) => {
        if (e.change === 'update' && e.message.direction === 'out' && e.message.status === 'failed')
          this.failedLater(e.contactId, e.message.id)
      }),
    )
    const withSessions = new Set<string>()
    for await (const [k] of this.core.store.iterate({ prefix: key('sessions') })) {
      withSessions.add(bytesToHex(k))
    }
    // A device of a person with several has no sessions with their contacts when it was just
    // linked (sessions are per device): its first message to each starts one (lane-opener.ts),
    // with nothing to heal and no notice. Only a lost state (`all`) resets those.
    const linked = this.core.ownDevices.devices.length > 1
    for (const c of this.core.contacts.all()) {
      if (c.state !== 'accepted') continue
      if (all || (!linked && !withSessions.has(bytesToHex(Keys.sessions(c.id))))) this.begin(c.id)
    }
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off()
  }

  /**
   * A ratchet message from `cid` opened with none of our sessions (inbound's decrypt-failure
   * branch): one side lost its state, so we start a new session, unless one started lately.
   */
  decryptFailed(cid: ContactId): void {
    const last = this.last.get(cid)
    if (last !== undefined && Date.now() - last.at < RESET_INTERVAL_MS) return
    this.begin(cid)
  }

  private begin(cid: ContactId): void {
    const contact = this.core.contacts.get(cid)
    if (contact === undefined || !peerMay(contact.state, 'reset-session') || this.starting.has(cid)) return
    if (this.core.stopped) return
    this.starting.add(cid)
    this.last.set(cid, { at: Date.now(), resent: new Set() })
    void this.reset(contact)
      .catch((error) =>
        this.core.log.warn('could not reset a session', {
          contact: cid,
          error: error instanceof Error ? error.name : 'unknown',
        }),
      )
      .finally(() => this.starting.delete(cid))
  }

  private async reset(contact: ContactRecord): Promise<void> {
    const core = this.core
    const cid = contact.id
    // Queued at once (begin runs synchronously up to here), prekeys fetched inside: whatever is
    // sent to them from now on goes through the new session.
    await core.queue.run(cid, async () => {
      const current = core.contacts.get(cid)
      if (current === undefined || core.stopped) return
      const bundle = await this.bundleFor(current)
      if (core.stopped) return
      const tx = new Tx()
      const set = await this.sessionsOf(cid)
      // The old sessions stay behind the new one: envelopes in flight under them may still open.
      tx.sessions.set(cid, promote(set, initiateSession(core.account.identity, bundle)))
      await core.encryptToOutbox(tx, cid, {
        kind: 'extension',
        extension: SESSION_RESET_EXTENSION,
        body: RESET_BODY,
      })
      const resent = await this.resendFailed(tx, cid)
      await this.notice(tx, current, { by: 'us', resent })
      await core.commit(tx)
      core.log.info('session reset', { contact: cid, by: 'us', resent })
    })
  }

  /** Their reset arrived: its PreKey message made the new session current in `ctx.tx` already. */
  private async accepted(ctx: CoreExtensionContext): Promise<void> {
    const core = this.core
    const { tx, contact, lane } = ctx
    const session = tx.sessions.get(lane)?.[0]
    // The identity the new session was agreed with must be the one stored for them.
    if (
      session === undefined ||
      bytesToHex(session.remoteIdentity.agreementKey) !== contact.agreementKey ||
      bytesToHex(session.remoteIdentity.signingKey) !== contact.identityKey
    ) {
      core.refuse('/jiayi/msg/1', 'not-allowed')
      return
    }
    // The first session with another device of theirs (lanes.ts; one they just linked, whose
    // start found no session to us) replaces nothing: no notice, nothing to send again.
    if (!isFirstLane(lane) && (await core.sessionSet(lane)).length === 0) return
    // Both sides may notice at once and start one each: the second is taken (the sessions
    // settle on one, session-set.ts) but shown only once, and nothing is sent twice.
    const prior = this.last.get(contact.id)
    const recent = prior !== undefined && Date.now() - prior.at < RESET_INTERVAL_MS
    this.last.set(contact.id, { at: Date.now(), resent: recent ? prior.resent : new Set() })
    const resent = await this.resendFailed(tx, contact.id, true)
    await this.notice(tx, contact, { by: 'them', resent }, !recent || resent > 0)
    tx.after(() => core.log.info('session reset', { contact: contact.id, by: 'them', resent }))
  }

  /** One of our messages failed after a reset: it may have been queued under the old session. */
  private failedLater(cid: ContactId, id: MessageId): void {
    const last = this.last.get(cid)
    if (last === undefined || Date.now() - last.at > RESEND_AFTER_RESET_MS || last.resent.has(id)) return
    void this.core.queue
      .run(cid, async () => {
        if (this.core.stopped || this.core.contacts.get(cid) === undefined) return
        const m = await this.core.conversations.message(cid, id)
        if (m === undefined || m.at > last.at || !resendable(m)) return
        const tx = new Tx()
        await this.resend(tx, m, last.resent)
        await this.core.commit(tx)
      })
      .catch(() => undefined)
  }

  /**
   * Sends the conversation's recent failed text messages again, within `tx` (with `stored`, those
   * left in their mailbox too); returns how many.
   */
  private async resendFailed(tx: Tx, cid: ContactId, stored = false): Promise<number> {
    const resent = this.last.get(cid)?.resent ?? new Set<MessageId>()
    let n = 0
    const lookback = stored ? RESEND_STORED_LOOKBACK : RESEND_LOOKBACK
    for (const m of await this.core.conversations.list(cid, lookback)) {
      if (!resendable(m, stored) || resent.has(m.id)) continue
      await this.resend(tx, m, resent)
      n++
    }
    return n
  }

  private async resend(tx: Tx, m: MessageRecord, resent: Set<MessageId>): Promise<void> {
    resent.add(m.id)
    this.core.putMessage(tx, { ...m, status: 'queued' }, 'update')
    await this.core.encryptToOutbox(
      tx,
      m.contactId,
      { kind: 'text', text: m.text, replyTo: m.replyTo },
      // Payload number 0: the receiver checks the id, in case it had the message after all (a
      // retransmission refused under an older session).
      { id: m.id, sentAt: m.sentAt, messageId: m.id, payloadSeq: 0 },
    )
  }

  /** The `session` event, and (with `show`) the notice in the conversation: local only, never sent. */
  private async notice(tx: Tx, contact: ContactRecord, notice: ResetNotice, show = true): Promise<void> {
    const core = this.core
    tx.after(() => core.events.emit('session', { contactId: contact.id, change: 'reset', ...notice }))
    if (!show) return
    const now = Date.now()
    const record: MessageRecord = {
      id: newMessageId(),
      contactId: contact.id,
      seq: await core.conversations.nextMessageSeq(contact.id),
      direction: 'in',
      // Apps show their own words for the notice (by its extension kind); this is the fallback.
      text: `The secure session with ${contact.name} was reset.`,
      sentAt: now,
      at: now,
      status: 'read',
      extension: { kind: SESSION_RESET_EXTENSION, data: notice },
    }
    core.putMessage(tx, record, 'new')
  }

  private async sessionsOf(cid: ContactId): Promise<SessionSet> {
    try {
      return await this.core.sessionSet(cid)
    } catch {
      return [] // a record that no longer opens is a lost state like any other
    }
  }

  /** Their fresh bundle (one-time prekey, ML-KEM) when they answer; else their card's prekey. */
  private async bundleFor(contact: ContactRecord): Promise<PreKeyBundle> {
    const card = decodeCardBytes(decodeCardPayload(contact.card))
    const fetched = await fetchPreKeyBundle(this.core.node, peerIdFromString(contact.peerId), card.identity, {
      signal: AbortSignal.timeout(PREKEY_FETCH_TIMEOUT_MS),
    }).catch(() => undefined)
    return fetched ?? { identity: card.identity, signedPreKey: card.signedPreKey }
  }
}

/**
 * A failed (with `stored`, or stored) text message of ours: what a new session can carry again
 * (files offer themselves).
 */
function resendable(m: MessageRecord, stored = false): boolean {
  return (
    m.direction === 'out' &&
    (m.status === 'failed' || (stored && m.status === 'stored')) &&
    !m.deleted &&
    m.extension === undefined &&
    m.text !== ''
  )
}
