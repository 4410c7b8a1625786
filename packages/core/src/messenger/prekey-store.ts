/**
 * This device's prekeys (Signal's PQXDH, section 2.3): a signed X25519 prekey (the one printed in
 * our cards), a signed last-resort ML-KEM-768 prekey, a pool of one-time X25519 prekeys and a
 * pool of signed one-time ML-KEM prekeys, one of each handed out per /jiayi/prekeys/1 request
 * (the last-resort KEM prekey when the KEM pool is empty).
 *
 * Rotation: the signed prekey and the last-resort KEM prekey are replaced every ROTATE_MS (about
 * weekly, as Signal does); a replaced one is kept for a grace period so that sessions asked for
 * with it still start, then its private key is deleted (forward secrecy for whatever an attacker
 * recorded). The signed prekey is printed in cards, and a card lives long (on a shop counter,
 * say): SIGNED_PREKEY_GRACE_MS keeps a card's prekey working on its own for four more weeks.
 * An older card still works, one round trip later: its request is answered STALE, and the
 * sender fetches fresh prekeys (session-restart.ts) with a proof made from the card's identity
 * keys, which never rotate. The KEM prekey travels only online, in fetched bundles that are used
 * at once: KEM_PREKEY_GRACE_MS covers requests that then wait in an outbox for two weeks.
 */
import { bytesToHex, hexToBytes } from '../bytes.js'
import {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  type KemPreKey,
  kemPreKeyFromSeed,
  type OneTimePreKey,
  type SignedPreKey,
} from '../crypto/prekeys.js'
import { type KeyPair, mlKemKeyPair, x25519KeyPair } from '../crypto/primitives.js'
import type { ResponderPreKeys, X3dhInit } from '../crypto/x3dh.js'
import type { IdentityKeyPair } from '../identity/identity.js'
import type { BatchOp, Store } from '../store/store.js'
import { KeyedQueue } from './events.js'
import { Keys } from './keys.js'
import { decodeRecord, encodeRecord } from './records.js'

const DAY_MS = 24 * 60 * 60_000
export const ROTATE_MS = 7 * DAY_MS
export const SIGNED_PREKEY_GRACE_MS = 28 * DAY_MS
export const KEM_PREKEY_GRACE_MS = 14 * DAY_MS

const POOL_LOW = 20
const POOL_REFILL = 100
/**
 * One-time KEM prekeys cost an ML-KEM key generation and a signature each (1.4 ms here, more on a
 * phone's browser), and 1.3 KB when handed out: a smaller pool, filled behind a hand-out rather
 * than when the account is made.
 */
const KEM_POOL_LOW = 10
const KEM_POOL_REFILL = 20
/** One-time prekeys handed out but never used are dropped beyond this many (oldest first). */
const MAX_OUTSTANDING = 1000
/**
 * One-time KEM prekeys are numbered from here; last-resort ones from 1 (one a week never gets
 * there). A PreKeyMessage names either by the same field: the number says which it is.
 */
export const ONE_TIME_KEM_BASE = 0x8000_0000

interface Retired {
  readonly id: number
  /** When it was replaced: deleted GRACE later. */
  readonly at: number
}

interface PreKeyMeta {
  readonly signedPreKeyId: number
  readonly kemPreKeyId: number
  /** Next one-time prekey id to generate. */
  readonly nextOneTimeId: number
  /** Ids below this have been handed out (or dropped); the pool is [handedOutBelow, nextOneTimeId). */
  readonly handedOutBelow: number
  /** When the current signed and KEM prekeys were made (absent in stores made before rotation). */
  readonly signedPreKeyAt?: number
  readonly kemPreKeyAt?: number
  /** Replaced prekeys whose private keys are kept for their grace period. */
  readonly retiredSigned?: readonly Retired[]
  readonly retiredKem?: readonly Retired[]
  /** The one-time KEM pool, like the X25519 one: [kemHandedOutBelow, nextKemOneTimeId). */
  readonly nextKemOneTimeId?: number
  readonly kemHandedOutBelow?: number
}

export interface PublicPreKeys {
  readonly signedPreKey: SignedPreKey
  readonly oneTimePreKey?: { readonly id: number; readonly publicKey: Uint8Array } | undefined
  /** A one-time KEM prekey while the pool lasts, else the last-resort one. */
  readonly kemPreKey: Pick<KemPreKey, 'id' | 'publicKey' | 'signature'>
}

/**
 * A last-resort KEM prekey whose key pair is derived from its seed when first needed: ML-KEM-768's
 * key generation allocates ~2 MiB and takes tens of ms, and most starts hand out no prekey
 * (peer.rss_mb in `npm run bench cli`).
 */
class LazyKemPreKey {
  private made: KemPreKey | undefined

  private constructor(
    readonly id: number,
    private readonly make: () => KemPreKey,
  ) {}

  static of(key: KemPreKey): LazyKemPreKey {
    const lazy = new LazyKemPreKey(key.id, () => key)
    lazy.made = key
    return lazy
  }

  static fromSeed(identity: IdentityKeyPair, id: number, seed: Uint8Array): LazyKemPreKey {
    return new LazyKemPreKey(id, () => kemPreKeyFromSeed(identity, id, seed))
  }

  get key(): KemPreKey {
    this.made ??= this.make()
    return this.made
  }
}

export class PreKeyStore {
  /** Hand-outs, refills and rotations, one at a time (see handOut). */
  private readonly handing = new KeyedQueue()

  private constructor(
    private readonly store: Store,
    private readonly identity: IdentityKeyPair,
    private meta: PreKeyMeta,
    private current: { readonly signed: SignedPreKey; readonly kem: LazyKemPreKey },
  ) {}

  static async open(store: Store, identity: IdentityKeyPair, now = Date.now()): Promise<PreKeyStore> {
    const metaBytes = await store.get(Keys.prekeyMeta())
    if (metaBytes === undefined) {
      const spk = generateSignedPreKey(identity, 1)
      const kem = generateKemPreKey(identity, 1)
      const meta: PreKeyMeta = {
        signedPreKeyId: 1,
        kemPreKeyId: 1,
        nextOneTimeId: 1,
        handedOutBelow: 1,
        signedPreKeyAt: now,
        kemPreKeyAt: now,
      }
      await store.batch([
        { type: 'put', key: Keys.spk(1), value: encodeRecord(spkRecord(spk)) },
        { type: 'put', key: Keys.kem(1), value: encodeRecord({ seed: bytesToHex(kem.seed) }) },
        { type: 'put', key: Keys.prekeyMeta(), value: encodeRecord(meta) },
      ])
      const keys = new PreKeyStore(store, identity, meta, { signed: spk, kem: LazyKemPreKey.of(kem) })
      await keys.refill()
      return keys
    }
    const meta = decodeRecord<PreKeyMeta>(metaBytes)
    const spk = await loadSignedPreKey(store, meta.signedPreKeyId)
    const kemSeed = await loadKemSeed(store, meta.kemPreKeyId)
    if (spk === undefined || kemSeed === undefined)
      throw new Error('prekey records are missing from the store')
    const kem = LazyKemPreKey.fromSeed(identity, meta.kemPreKeyId, kemSeed)
    return new PreKeyStore(store, identity, meta, { signed: spk, kem })
  }

  /** The signed prekey our cards carry now. */
  get signedPreKey(): SignedPreKey {
    return this.current.signed
  }

  /** The last-resort KEM prekey now. */
  get kemPreKey(): KemPreKey {
    return this.current.kem.key
  }

  /** The last-resort KEM prekey's id (without deriving its key pair). */
  get kemPreKeyId(): number {
    return this.current.kem.id
  }

  /**
   * Hands out the next one-time prekeys (if any) with the signed prekey. Calls are serialised:
   * two peers fetching at the same moment must never be given the same one-time prekey, or the
   * second session to start would name a key the first one already consumed.
   */
  handOut(): Promise<PublicPreKeys> {
    return this.handing.run('hand-out', () => this.handOutNext())
  }

  /**
   * The rotation schedule, run at `now`: replaces the signed and the last-resort KEM prekey once
   * they are ROTATE_MS old, and deletes replaced ones past their grace. Returns whether anything
   * changed (then our card changed too). Stores made before rotation count their keys as made
   * at the epoch, so they rotate at once.
   */
  rotate(now: number): Promise<boolean> {
    return this.handing.run('hand-out', () => this.rotateNow(now))
  }

  private async handOutNext(): Promise<PublicPreKeys> {
    const ops: BatchOp[] = []
    let advanced = false
    let oneTime: PublicPreKeys['oneTimePreKey']
    const id = this.meta.handedOutBelow
    if (id < this.meta.nextOneTimeId) {
      advanced = true
      const secret = await this.store.get(Keys.otk(id))
      if (secret !== undefined) oneTime = { id, publicKey: x25519KeyPair(secret).publicKey }
      const dropBelow = id + 1 - MAX_OUTSTANDING
      if (dropBelow > 0) ops.push({ type: 'del', key: Keys.otk(dropBelow - 1) })
      this.meta = { ...this.meta, handedOutBelow: id + 1 }
    }
    let kem: PublicPreKeys['kemPreKey'] | undefined
    const kemId = this.meta.kemHandedOutBelow ?? ONE_TIME_KEM_BASE
    const kemNext = this.meta.nextKemOneTimeId ?? ONE_TIME_KEM_BASE
    if (kemId < kemNext) {
      advanced = true
      const record = await this.store.get(Keys.kemOneTime(kemId))
      if (record !== undefined) kem = oneTimeKemPublic(kemId, record)
      const dropBelow = kemId + 1 - MAX_OUTSTANDING
      if (dropBelow > ONE_TIME_KEM_BASE) ops.push({ type: 'del', key: Keys.kemOneTime(dropBelow - 1) })
      this.meta = { ...this.meta, kemHandedOutBelow: kemId + 1 }
    }
    if (advanced) {
      ops.push({ type: 'put', key: Keys.prekeyMeta(), value: encodeRecord(this.meta) })
      await this.store.batch(ops)
    }
    if (this.meta.nextOneTimeId - this.meta.handedOutBelow < POOL_LOW) await this.refill()
    // The KEM pool is refilled behind this hand-out: the next one waits for it, this one not.
    if (kemNext - (this.meta.kemHandedOutBelow ?? ONE_TIME_KEM_BASE) < KEM_POOL_LOW)
      void this.handing.run('hand-out', () => this.refillKem()).catch(() => undefined)
    return {
      signedPreKey: this.current.signed,
      oneTimePreKey: oneTime,
      kemPreKey: kem ?? this.current.kem.key,
    }
  }

  /** The private keys an incoming X3DH names, or undefined if any is unknown (or already used). */
  async lookup(init: X3dhInit): Promise<ResponderPreKeys | undefined> {
    const signedPreKey = await this.signedPreKeyPair(init.signedPreKeyId)
    if (signedPreKey === undefined) return undefined
    let oneTimePreKey: KeyPair | undefined
    if (init.oneTimePreKeyId !== undefined) {
      const secret = await this.store.get(Keys.otk(init.oneTimePreKeyId))
      if (secret === undefined) return undefined
      oneTimePreKey = x25519KeyPair(secret)
    }
    let kemSecretKey: Uint8Array | undefined
    if (init.kemPreKeyId !== undefined) {
      kemSecretKey = await this.kemSecretKey(init.kemPreKeyId)
      if (kemSecretKey === undefined) return undefined
    }
    return { signedPreKey, oneTimePreKey, kemSecretKey }
  }

  /** Batch ops that delete the one-time prekeys a new session used (commit with the session). */
  consumeOps(init: X3dhInit): BatchOp[] {
    const ops: BatchOp[] = []
    if (init.oneTimePreKeyId !== undefined) ops.push({ type: 'del', key: Keys.otk(init.oneTimePreKeyId) })
    if (init.kemPreKeyId !== undefined && init.kemPreKeyId >= ONE_TIME_KEM_BASE)
      ops.push({ type: 'del', key: Keys.kemOneTime(init.kemPreKeyId) })
    return ops
  }

  private async signedPreKeyPair(id: number): Promise<KeyPair | undefined> {
    if (id === this.current.signed.id) return this.current.signed.keyPair
    return (await loadSignedPreKey(this.store, id))?.keyPair
  }

  private async kemSecretKey(id: number): Promise<Uint8Array | undefined> {
    if (id === this.current.kem.id) return this.current.kem.key.secretKey
    if (id >= ONE_TIME_KEM_BASE) {
      const record = await this.store.get(Keys.kemOneTime(id))
      return record === undefined ? undefined : mlKemKeyPair(kemSeedOf(record)).secretKey
    }
    const seed = await loadKemSeed(this.store, id)
    return seed === undefined ? undefined : mlKemKeyPair(seed).secretKey
  }

  private async rotateNow(now: number): Promise<boolean> {
    let meta = this.meta
    const ops: BatchOp[] = []
    let current = this.current
    if (now - (meta.signedPreKeyAt ?? 0) >= ROTATE_MS) {
      const spk = generateSignedPreKey(this.identity, meta.signedPreKeyId + 1)
      ops.push({ type: 'put', key: Keys.spk(spk.id), value: encodeRecord(spkRecord(spk)) })
      meta = {
        ...meta,
        signedPreKeyId: spk.id,
        signedPreKeyAt: now,
        retiredSigned: [...(meta.retiredSigned ?? []), { id: meta.signedPreKeyId, at: now }],
      }
      current = { ...current, signed: spk }
    }
    if (now - (meta.kemPreKeyAt ?? 0) >= ROTATE_MS) {
      const kem = generateKemPreKey(this.identity, meta.kemPreKeyId + 1)
      ops.push({ type: 'put', key: Keys.kem(kem.id), value: encodeRecord({ seed: bytesToHex(kem.seed) }) })
      meta = {
        ...meta,
        kemPreKeyId: kem.id,
        kemPreKeyAt: now,
        retiredKem: [...(meta.retiredKem ?? []), { id: meta.kemPreKeyId, at: now }],
      }
      current = { ...current, kem: LazyKemPreKey.of(kem) }
    }
    const expired = (grace: number) => (r: Retired) => now - r.at >= grace
    for (const r of (meta.retiredSigned ?? []).filter(expired(SIGNED_PREKEY_GRACE_MS)))
      ops.push({ type: 'del', key: Keys.spk(r.id) })
    for (const r of (meta.retiredKem ?? []).filter(expired(KEM_PREKEY_GRACE_MS)))
      ops.push({ type: 'del', key: Keys.kem(r.id) })
    if (ops.length === 0) return false
    meta = {
      ...meta,
      retiredSigned: (meta.retiredSigned ?? []).filter((r) => !expired(SIGNED_PREKEY_GRACE_MS)(r)),
      retiredKem: (meta.retiredKem ?? []).filter((r) => !expired(KEM_PREKEY_GRACE_MS)(r)),
    }
    ops.push({ type: 'put', key: Keys.prekeyMeta(), value: encodeRecord(meta) })
    await this.store.batch(ops)
    this.meta = meta
    this.current = current
    return true
  }

  private async refill(): Promise<void> {
    const first = this.meta.nextOneTimeId
    const keys: OneTimePreKey[] = generateOneTimePreKeys(first, POOL_REFILL)
    this.meta = { ...this.meta, nextOneTimeId: first + POOL_REFILL }
    await this.store.batch([
      ...keys.map((k): BatchOp => ({ type: 'put', key: Keys.otk(k.id), value: k.keyPair.secretKey })),
      { type: 'put', key: Keys.prekeyMeta(), value: encodeRecord(this.meta) },
    ])
  }

  private async refillKem(): Promise<void> {
    const first = this.meta.nextKemOneTimeId ?? ONE_TIME_KEM_BASE
    if (first - (this.meta.kemHandedOutBelow ?? ONE_TIME_KEM_BASE) >= KEM_POOL_LOW) return
    const ops: BatchOp[] = []
    for (let id = first; id < first + KEM_POOL_REFILL; id++) {
      const k = generateKemPreKey(this.identity, id)
      ops.push({ type: 'put', key: Keys.kemOneTime(id), value: encodeRecord(kemOneTimeRecord(k)) })
    }
    this.meta = {
      ...this.meta,
      nextKemOneTimeId: first + KEM_POOL_REFILL,
      kemHandedOutBelow: this.meta.kemHandedOutBelow ?? ONE_TIME_KEM_BASE,
    }
    ops.push({ type: 'put', key: Keys.prekeyMeta(), value: encodeRecord(this.meta) })
    await this.store.batch(ops)
  }
}

function spkRecord(spk: SignedPreKey) {
  return { id: spk.id, secret: bytesToHex(spk.keyPair.secretKey), signature: bytesToHex(spk.signature) }
}

async function loadSignedPreKey(store: Store, id: number): Promise<SignedPreKey | undefined> {
  const bytes = await store.get(Keys.spk(id))
  if (bytes === undefined) return undefined
  const r = decodeRecord<{ id: number; secret: string; signature: string }>(bytes)
  return { id: r.id, keyPair: x25519KeyPair(hexToBytes(r.secret)), signature: hexToBytes(r.signature) }
}

async function loadKemSeed(store: Store, id: number): Promise<Uint8Array | undefined> {
  const bytes = await store.get(Keys.kem(id))
  return bytes === undefined ? undefined : hexToBytes(decodeRecord<{ seed: string }>(bytes).seed)
}

/** A one-time KEM prekey's record: its seed and signature (re-signing on every hand-out would cost). */
function kemOneTimeRecord(k: KemPreKey) {
  return { seed: bytesToHex(k.seed), signature: bytesToHex(k.signature) }
}

function kemSeedOf(record: Uint8Array): Uint8Array {
  return hexToBytes(decodeRecord<{ seed: string }>(record).seed)
}

function oneTimeKemPublic(id: number, record: Uint8Array): PublicPreKeys['kemPreKey'] {
  const r = decodeRecord<{ seed: string; signature: string }>(record)
  return { id, publicKey: mlKemKeyPair(hexToBytes(r.seed)).publicKey, signature: hexToBytes(r.signature) }
}
