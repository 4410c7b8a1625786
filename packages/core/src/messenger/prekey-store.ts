/**
 * This device's prekeys: one signed X25519 prekey (the one printed in our cards), a pool of
 * one-time prekeys handed out one per /jiayi/prekeys/1 request, and one identity-signed ML-KEM-768
 * prekey used as the last-resort KEM key.
 *
 * The signed prekey is not rotated automatically: a card is a long-lived thing (printed on a shop
 * counter, say), and a request made from it must still decrypt. Forward secrecy for sessions
 * started online comes from the one-time prekeys, as in Signal.
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
import { type KeyPair, x25519KeyPair } from '../crypto/primitives.js'
import type { ResponderPreKeys, X3dhInit } from '../crypto/x3dh.js'
import type { IdentityKeyPair } from '../identity/identity.js'
import type { BatchOp, Store } from '../store/store.js'
import { KeyedQueue } from './events.js'
import { Keys } from './keys.js'
import { decodeRecord, encodeRecord } from './records.js'

const POOL_LOW = 20
const POOL_REFILL = 100
/** One-time prekeys handed out but never used are dropped beyond this many (oldest first). */
const MAX_OUTSTANDING = 1000

interface PreKeyMeta {
  readonly signedPreKeyId: number
  readonly kemPreKeyId: number
  /** Next one-time prekey id to generate. */
  readonly nextOneTimeId: number
  /** Ids below this have been handed out (or dropped); the pool is [handedOutBelow, nextOneTimeId). */
  readonly handedOutBelow: number
}

export interface PublicPreKeys {
  readonly signedPreKey: SignedPreKey
  readonly oneTimePreKey?: { readonly id: number; readonly publicKey: Uint8Array } | undefined
  readonly kemPreKey: KemPreKey
}

export class PreKeyStore {
  /** Hand-outs, one at a time (see handOut). */
  private readonly handing = new KeyedQueue()

  private constructor(
    private readonly store: Store,
    private meta: PreKeyMeta,
    readonly signedPreKey: SignedPreKey,
    readonly kemPreKey: KemPreKey,
  ) {}

  static async open(store: Store, identity: IdentityKeyPair): Promise<PreKeyStore> {
    const metaBytes = await store.get(Keys.prekeyMeta())
    if (metaBytes === undefined) {
      const spk = generateSignedPreKey(identity, 1)
      const kem = generateKemPreKey(identity, 1)
      const meta: PreKeyMeta = { signedPreKeyId: 1, kemPreKeyId: 1, nextOneTimeId: 1, handedOutBelow: 1 }
      await store.batch([
        { type: 'put', key: Keys.spk(1), value: encodeRecord(spkRecord(spk)) },
        { type: 'put', key: Keys.kem(1), value: encodeRecord({ seed: bytesToHex(kem.seed) }) },
        { type: 'put', key: Keys.prekeyMeta(), value: encodeRecord(meta) },
      ])
      const keys = new PreKeyStore(store, meta, spk, kem)
      await keys.refill()
      return keys
    }
    const meta = decodeRecord<PreKeyMeta>(metaBytes)
    const spk = await loadSignedPreKey(store, meta.signedPreKeyId)
    const kemBytes = await store.get(Keys.kem(meta.kemPreKeyId))
    if (spk === undefined || kemBytes === undefined)
      throw new Error('prekey records are missing from the store')
    const kem = kemPreKeyFromSeed(
      identity,
      meta.kemPreKeyId,
      hexToBytes(decodeRecord<{ seed: string }>(kemBytes).seed),
    )
    return new PreKeyStore(store, meta, spk, kem)
  }

  /**
   * Hands out the next one-time prekey (if any) with the signed and KEM prekeys. Calls are
   * serialised: two peers fetching at the same moment must never be given the same one-time
   * prekey, or the second session to start would name a key the first one already consumed.
   */
  handOut(): Promise<PublicPreKeys> {
    return this.handing.run('hand-out', () => this.handOutNext())
  }

  private async handOutNext(): Promise<PublicPreKeys> {
    let oneTime: PublicPreKeys['oneTimePreKey']
    const id = this.meta.handedOutBelow
    if (id < this.meta.nextOneTimeId) {
      const secret = await this.store.get(Keys.otk(id))
      if (secret !== undefined) oneTime = { id, publicKey: x25519KeyPair(secret).publicKey }
      const dropBelow = id + 1 - MAX_OUTSTANDING
      const ops: BatchOp[] = []
      if (dropBelow > 0) ops.push({ type: 'del', key: Keys.otk(dropBelow - 1) })
      this.meta = { ...this.meta, handedOutBelow: id + 1 }
      ops.push({ type: 'put', key: Keys.prekeyMeta(), value: encodeRecord(this.meta) })
      await this.store.batch(ops)
    }
    if (this.meta.nextOneTimeId - this.meta.handedOutBelow < POOL_LOW) await this.refill()
    return { signedPreKey: this.signedPreKey, oneTimePreKey: oneTime, kemPreKey: this.kemPreKey }
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
      if (init.kemPreKeyId !== this.kemPreKey.id) return undefined
      kemSecretKey = this.kemPreKey.secretKey
    }
    return { signedPreKey, oneTimePreKey, kemSecretKey }
  }

  /** Batch ops that delete the one-time prekey a new session used (commit with the session). */
  consumeOps(init: X3dhInit): BatchOp[] {
    return init.oneTimePreKeyId === undefined ? [] : [{ type: 'del', key: Keys.otk(init.oneTimePreKeyId) }]
  }

  private async signedPreKeyPair(id: number): Promise<KeyPair | undefined> {
    if (id === this.signedPreKey.id) return this.signedPreKey.keyPair
    return (await loadSignedPreKey(this.store, id))?.keyPair
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
