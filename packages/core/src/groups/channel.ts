/**
 * One member's sender keys for one group (DESIGN.md "Groups", PROTOCOL.md 7): its own chain, the
 * chains other members handed it, and the messages it carries for others.
 *
 * - A send is one sender-key message, the same bytes for every member.
 * - A removal or a leave rotates: once a member this member's key was given to is gone, the next
 *   send uses a new key, handed only to those still in the group. `keysFor` hands the key
 *   out; `align` only forgets and drops, for groups where keys go out at the first send (the
 *   service decides when: service.ts settleKeys). So whoever was removed reads
 *   nothing sent after it, and everything they send is refused (they are not a member).
 * - A new member is handed the current chain at its current iteration: it reads from now on,
 *   never back.
 * - A message that arrives before its sender's key waits (bounded) until the key comes.
 *
 * The distributions this returns travel over pairwise Double Ratchet sessions, which
 * authenticate who sent them; this module never sends anything itself.
 */
import { hexToBytes } from '../bytes.js'
import { CryptoError } from '../crypto/errors.js'
import { nextChainKey } from '../crypto/sender-keys/chain.js'
import {
  createSenderKey,
  decodeSenderKeyRecord,
  decodeSenderKeyState,
  emptySenderKeyRecord,
  encodeDistribution,
  encodeSenderKeyRecord,
  encodeSenderKeyState,
  groupDecrypt,
  groupEncrypt,
  processDistribution,
  type SenderKeyRecord,
  type SenderKeyState,
  senderKeyAssociatedData,
} from '../crypto/sender-keys/index.js'
import { decodeDistributionMessage, decodeSenderKeyMessage } from '../crypto/sender-keys/wire.js'
import type { ContactId } from '../messenger/ids.js'
import {
  type CarriedMessage,
  type CarryLimits,
  CarryStore,
  DEFAULT_CARRY_LIMITS,
  type HighWaterMarks,
} from './carry.js'
import { GroupError } from './errors.js'
import type { GroupId } from './ops.js'
import type { GroupState } from './state.js'

/** Messages kept while their sender's key has not come yet. */
export const MAX_WAITING_MESSAGES = 1024

export interface ChannelSnapshot {
  readonly own?: {
    readonly state: Uint8Array
    /** The chain at iteration 0 (what a handout given again starts from). */
    readonly first: Uint8Array
    /** Who was given the key, and at which iteration. */
    readonly givenTo: readonly (readonly [ContactId, number])[]
  }
  readonly records: readonly (readonly [ContactId, Uint8Array])[]
  /** Per member: which of their devices handed us each key they hold here (key id, peer id). */
  readonly keyDevices?: readonly (readonly [ContactId, KeyDevices])[]
}

/** Key id and the peer id of the device that handed the key over. */
export type KeyDevices = readonly (readonly [number, string])[]

/** What changed since the last `takeChanges` (null: gone), to store only that. */
export interface ChannelChanges {
  readonly own?: ChannelSnapshot['own'] | null
  readonly records: readonly (readonly [ContactId, Uint8Array | null])[]
  /** For the changed records still held: which devices handed their keys. */
  readonly keyDevices?: readonly (readonly [ContactId, KeyDevices])[]
}

export interface KeyHandout {
  readonly to: ContactId
  readonly distribution: Uint8Array
}

export type ReceiveOutcome =
  | { readonly kind: 'read'; readonly plaintext: Uint8Array; readonly message: CarriedMessage }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'waiting' }

export class GroupChannel {
  private own: { state: SenderKeyState; first: SenderKeyState; givenTo: Map<ContactId, number> } | undefined
  private readonly records = new Map<ContactId, SenderKeyRecord>()
  /**
   * Which of a member's devices handed us each of their keys: each device of a person keeps its
   * own chain, and a message under a key from a device off their list now is refused (the
   * service asks `keyDevice`). Keys handed before this was kept have no entry.
   */
  private readonly keyDevices = new Map<ContactId, Map<number, string>>()
  private readonly waiting = new Map<string, CarriedMessage>()
  readonly carried: CarryStore
  /** Senders whose record changed, and whether our own chain did, since `takeChanges`. */
  private readonly changedRecords = new Set<ContactId>()
  private ownChanged = false

  constructor(
    readonly groupId: GroupId,
    readonly me: ContactId,
    limits: CarryLimits = DEFAULT_CARRY_LIMITS,
  ) {
    this.carried = new CarryStore(limits)
  }

  /** What to store of this channel (carried messages are stored as the group's messages). */
  snapshot(): ChannelSnapshot {
    const own = this.ownSnapshot()
    return {
      ...(own === undefined ? {} : { own }),
      records: [...this.records].map(([id, r]) => [id, encodeSenderKeyRecord(r)] as const),
      keyDevices: [...this.keyDevices].map(([id, m]) => [id, [...m]] as const),
    }
  }

  /**
   * What changed since the last call: a message read moves one sender's record, one sent moves
   * our own chain, so a group of 500 stores a record or two per message rather than all of them.
   */
  takeChanges(): ChannelChanges {
    const records = [...this.changedRecords].map((id) => {
      const r = this.records.get(id)
      return [id, r === undefined ? null : encodeSenderKeyRecord(r)] as const
    })
    const keyDevices = [...this.changedRecords].flatMap((id) => {
      const m = this.keyDevices.get(id)
      return m === undefined || !this.records.has(id) ? [] : [[id, [...m]] as const]
    })
    const own = this.ownChanged ? (this.ownSnapshot() ?? null) : undefined
    this.changedRecords.clear()
    this.ownChanged = false
    return { ...(own === undefined ? {} : { own }), records, keyDevices }
  }

  /** Marks changes as not stored yet (their write failed, or the store holds an older layout). */
  markChanged(changes?: ChannelChanges): void {
    if (changes === undefined) {
      for (const id of this.records.keys()) this.changedRecords.add(id)
      this.ownChanged = true
      return
    }
    for (const [id] of changes.records) this.changedRecords.add(id)
    if (changes.own !== undefined) this.ownChanged = true
  }

  private ownSnapshot(): ChannelSnapshot['own'] {
    if (this.own === undefined) return undefined
    return {
      state: encodeSenderKeyState(this.own.state),
      first: encodeSenderKeyState(this.own.first),
      givenTo: [...this.own.givenTo],
    }
  }

  static restore(
    groupId: GroupId,
    me: ContactId,
    snapshot: ChannelSnapshot,
    limits: CarryLimits = DEFAULT_CARRY_LIMITS,
  ): GroupChannel {
    const channel = new GroupChannel(groupId, me, limits)
    if (snapshot.own !== undefined) {
      channel.own = {
        state: decodeSenderKeyState(snapshot.own.state),
        first: decodeSenderKeyState(snapshot.own.first),
        givenTo: new Map(snapshot.own.givenTo),
      }
    }
    for (const [id, bytes] of snapshot.records) channel.records.set(id, decodeSenderKeyRecord(bytes))
    for (const [id, devices] of snapshot.keyDevices ?? []) channel.keyDevices.set(id, new Map(devices))
    return channel
  }

  /** Our current key id (undefined before the first `keysFor`). */
  get ownKeyId(): number | undefined {
    return this.own?.state.keyId
  }

  /** Hands our current chain again to `to` (a member whose marks show it lacks it). */
  handoutFor(to: ContactId): KeyHandout | undefined {
    const at = this.own?.givenTo.get(to)
    if (this.own === undefined || at === undefined) return undefined
    // From where they were first given it: a handout given again (it may overtake the first on
    // the way) opens what the first did, and nothing older.
    let chainKey = this.own.first.chainKey
    while (chainKey.iteration < at) chainKey = nextChainKey(chainKey)
    return { to, distribution: encodeDistribution({ ...this.own.state, chainKey }) }
  }

  /**
   * Brings what this member holds in line with `state` (call after every change to the group):
   * forgets the chains of those who left, and drops our own chain if anyone it was given to has
   * gone, so the next send starts a new one. Nothing is handed out here: a member hands its key
   * out when it first sends (`keysFor`), so a quiet member of a big group opens no sessions.
   */
  align(state: GroupState): void {
    for (const id of this.records.keys()) if (!state.members.has(id)) this.forget(id)
    for (const id of [...this.waitingSenders()])
      if (!state.members.has(id as ContactId)) this.forget(id as ContactId)
    if (this.own === undefined) return
    if (!state.members.has(this.me) || [...this.own.givenTo.keys()].some((id) => !state.members.has(id))) {
      this.own = undefined
      this.ownChanged = true
    }
  }

  /**
   * `align`, then the handouts owed before our next message: our current chain (new if we have
   * none) to each member who has not had it.
   */
  keysFor(state: GroupState): KeyHandout[] {
    this.align(state)
    if (!state.members.has(this.me)) return []
    if (this.own === undefined) {
      const state = createSenderKey()
      this.own = { state, first: state, givenTo: new Map() }
      this.ownChanged = true
    }
    const handouts: KeyHandout[] = []
    const distribution = encodeDistribution(this.own.state)
    for (const id of state.members.keys()) {
      if (id === this.me || this.own.givenTo.has(id)) continue
      this.own.givenTo.set(id, this.own.state.chainKey.iteration)
      this.ownChanged = true
      handouts.push({ to: id, distribution })
    }
    return handouts
  }

  /**
   * Encrypts one message for the group. Returns it (kept for carrying too) with any handouts
   * owed first: they must reach a member before the message can be read there.
   */
  encrypt(
    state: GroupState,
    plaintext: Uint8Array,
    now = Date.now(),
  ): { message: CarriedMessage; handouts: KeyHandout[] } {
    const me = state.members.get(this.me)
    if (me === undefined) throw new GroupError('NotAllowed', 'you are not a member of this group')
    const handouts = this.keysFor(state)
    const own = this.own!
    const ad = senderKeyAssociatedData(hexToBytes(this.groupId), me.card.identity.signingKey)
    const iteration = own.state.chainKey.iteration
    const out = groupEncrypt(own.state, plaintext, ad)
    own.state = out.state
    this.ownChanged = true
    const message: CarriedMessage = {
      sender: this.me,
      keyId: own.state.keyId,
      iteration,
      bytes: out.message,
      at: now,
    }
    this.carried.keep(message, now)
    return { message, handouts }
  }

  /**
   * A chain `from` handed us, from their device `device` (its session carried it). Only a
   * member's is taken.
   */
  receiveKey(
    state: GroupState,
    from: ContactId,
    distribution: Uint8Array,
    device?: string,
  ): ReceiveOutcome[] {
    if (!state.members.has(from) || from === this.me) {
      throw new GroupError('NotAllowed', 'a sender key from someone who is not a member of this group')
    }
    const record = processDistribution(this.records.get(from) ?? emptySenderKeyRecord(), distribution)
    this.records.set(from, record)
    this.changedRecords.add(from)
    if (device !== undefined) {
      const held = new Set(record.states.map((s) => s.keyId))
      const devices = new Map([...(this.keyDevices.get(from) ?? [])].filter(([keyId]) => held.has(keyId)))
      devices.set(decodeDistributionMessage(distribution).keyId, device)
      this.keyDevices.set(from, devices)
    }
    // What waited for this key can be read now.
    const released: ReceiveOutcome[] = []
    // A snapshot: a message this key does not open waits again, and must not be visited again.
    for (const [k, m] of [...this.waiting]) {
      if (m.sender !== from) continue
      this.waiting.delete(k)
      released.push(this.receive(state, m))
    }
    return released.filter((r) => r.kind === 'read')
  }

  /**
   * A group message, pushed by its sender or carried by another member. Refused (GroupError
   * NotAllowed) from a non-member; CryptoError for a forgery or corruption.
   */
  receive(
    state: GroupState,
    input: Omit<CarriedMessage, 'keyId' | 'iteration' | 'at'> & { at?: number },
    now = Date.now(),
  ): ReceiveOutcome {
    const sender = input.sender as ContactId
    const member = state.members.get(sender)
    if (member === undefined)
      throw new GroupError('NotAllowed', 'a group message from someone who is not a member')
    const header = decodeSenderKeyMessage(input.bytes)
    const message: CarriedMessage = {
      sender,
      keyId: header.keyId,
      iteration: header.iteration,
      bytes: input.bytes,
      at: input.at ?? now,
    }
    if (sender === this.me || this.carried.has(message)) return { kind: 'duplicate' }
    const record = this.records.get(sender)
    if (record === undefined || !record.states.some((s) => s.keyId === message.keyId)) {
      this.wait(message)
      return { kind: 'waiting' }
    }
    const ad = senderKeyAssociatedData(hexToBytes(this.groupId), member.card.identity.signingKey)
    let out: { plaintext: Uint8Array; record: SenderKeyRecord }
    try {
      out = groupDecrypt(record, input.bytes, ad)
    } catch (error) {
      if (CryptoError.is(error, 'Duplicate')) return { kind: 'duplicate' }
      throw error
    }
    this.records.set(sender, out.record)
    this.changedRecords.add(sender)
    this.carried.keep({ ...message, at: now }, now)
    return { kind: 'read', plaintext: out.plaintext, message }
  }

  /**
   * What this member holds, for a member it meets: per sender and key, the highest iteration
   * carried or read (a key with nothing read yet: one below where its chain starts).
   */
  marks(): HighWaterMarks {
    const out: Record<string, Record<number, number>> = {}
    for (const [sender, record] of this.records) {
      out[sender] = Object.fromEntries(record.states.map((s) => [s.keyId, s.chainKey.iteration - 1]))
    }
    for (const [sender, byKey] of Object.entries(this.carried.marks())) {
      const mine = out[sender] ?? {}
      out[sender] = mine
      for (const [keyId, it] of Object.entries(byKey))
        mine[Number(keyId)] = Math.max(mine[Number(keyId)] ?? -1, it)
    }
    return out
  }

  /** The device of `sender` that handed us their key `keyId`, when known. */
  keyDevice(sender: ContactId, keyId: number): string | undefined {
    return this.keyDevices.get(sender)?.get(keyId)
  }

  /** What a member whose marks are `theirs` lacks of what this member carries. */
  missingFor(theirs: HighWaterMarks): CarriedMessage[] {
    return this.carried.missingFor(theirs)
  }

  private wait(m: CarriedMessage): void {
    if (this.waiting.size >= MAX_WAITING_MESSAGES) this.waiting.delete(this.waiting.keys().next().value!)
    this.waiting.set(`${m.sender}/${m.keyId}/${m.iteration}`, m)
  }

  private *waitingSenders(): Iterable<string> {
    for (const m of this.waiting.values()) yield m.sender
  }

  private forget(id: ContactId): void {
    if (this.records.delete(id)) this.changedRecords.add(id)
    this.keyDevices.delete(id)
    this.carried.forgetSender(id)
    for (const [k, m] of this.waiting) if (m.sender === id) this.waiting.delete(k)
  }
}
