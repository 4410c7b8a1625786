/**
 * The in-page peer's storage: one `level` database per profile (browser-level over IndexedDB,
 * database `level-js-jiayi-<profile>`), seen only through core's SealedStore. Every value is
 * XChaCha20-Poly1305-sealed under a random 32-byte data key; the store's key header holds that data
 * key wrapped by ONE of:
 *
 * - the device key (default): a non-extractable AES-256-GCM CryptoKey made by WebCrypto and kept,
 *   as a structured clone, in the separate IndexedDB database `jiayi-device-keys`;
 * - the user's passphrase (Argon2id, m = 19 MiB, t = 2), once one is set in Settings: then the
 *   device key is deleted and every start asks for the passphrase.
 *
 * What this protects against, and what not:
 * - Protected: anything that gets the records but cannot run code in this origin with the device
 *   key: a dump of the IndexedDB records (by a tool, a careless export, a backup of the records
 *   without the key database), and any script that reads values out of IndexedDB: it gets
 *   ciphertext. Key bytes never exist in JavaScript-visible form except the data key inside the
 *   SealedStore of the running peer (CryptoKey.extractable is false: exportKey refuses).
 * - NOT protected by the device key alone: someone who copies the whole browser profile from
 *   the disk. Chromium writes a stored CryptoKey's raw bytes into the same profile folder
 *   (IndexedDB's backing files are not encrypted by the browser), so the copy holds both the
 *   lock and its key, like the Node peer's key file next to its store. A passphrase closes that
 *   gap (an offline attacker must then guess it at Argon2id's cost), as does the OS's disk
 *   encryption.
 * - Never protected: code running in this origin while the peer is open (an XSS, a malicious
 *   extension, a compromised build) can use the key as the page does; malware on the device;
 *   deletion or rollback of records (sealing gives confidentiality and per-record integrity,
 *   not freshness); and the existence, number and sizes of records (keys are structural ids
 *   kept in the clear so that ranges work; they contain no names or text).
 */
import {
  type Argon2Params,
  type KeyWrapper,
  LevelStore,
  openSealedStore,
  type RekeyProgress,
  type SealedStore,
  type StorageSecret,
  type Store,
  StoreError,
  storeKeyKind,
} from '@jiayi/core'
import { PeerError } from './errors.js'
import { deleteDatabase, inTransaction, openDatabase } from './idb.js'

/** browser-level names its IndexedDB database `level-js-<location>`, with one object store `<location>`. */
export const LEVEL_DB_PREFIX = 'level-js-'
export const KEYS_DB = 'jiayi-device-keys'
const KEYS_STORE = 'keys'
const IV_BYTES = 12

export type VaultLock = 'device' | 'passphrase'

export interface VaultStatus {
  /** An identity store exists for this profile (it has a key header). */
  readonly exists: boolean
  /** What unlocks it: nothing to type ('device') or the user's passphrase. */
  readonly lock?: VaultLock | undefined
}

export interface VaultOptions {
  /** Needed when the profile is locked with a passphrase; with a new profile, locks it with one. */
  readonly passphrase?: string | undefined
  /** Argon2id cost; tests lower it. Default core's ARGON2_PARAMS. */
  readonly argon2?: Argon2Params | undefined
  /** Argon2id progress (0..1) for a progress bar. */
  readonly onProgress?: ((fraction: number) => void) | undefined
}

export function checkProfile(profile: string): string {
  if (typeof profile !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(profile))
    throw new TypeError('a profile name is 1 to 40 letters, digits, - or _')
  return profile
}

export function storeLocation(profile: string): string {
  return `jiayi-${checkProfile(profile)}`
}

/** The raw IndexedDB database name of a profile's store (tests read it directly). */
export function storeDatabaseName(profile: string): string {
  return LEVEL_DB_PREFIX + storeLocation(profile)
}

// ------------------------------------------------------------------ the device key

async function loadDeviceKey(profile: string): Promise<CryptoKey | undefined> {
  const db = await openDatabase(KEYS_DB, KEYS_STORE)
  try {
    const value = await inTransaction(db, KEYS_STORE, 'readonly', (s) => s.get(profile))
    return value instanceof CryptoKey ? value : undefined
  } finally {
    db.close()
  }
}

async function createDeviceKey(profile: string): Promise<CryptoKey> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  const db = await openDatabase(KEYS_DB, KEYS_STORE)
  try {
    // Stored before any header refers to it, so a crash in between leaves nothing unopenable.
    await inTransaction(db, KEYS_STORE, 'readwrite', (s) => s.put(key, profile))
  } finally {
    db.close()
  }
  return key
}

async function deleteDeviceKey(profile: string): Promise<void> {
  const db = await openDatabase(KEYS_DB, KEYS_STORE)
  try {
    await inTransaction(db, KEYS_STORE, 'readwrite', (s) => s.delete(profile))
  } finally {
    db.close()
  }
}

/** The store header's wrapper: AES-256-GCM under the CryptoKey, iv(12) || ciphertext || tag(16). */
export function cryptoKeyWrapper(key: CryptoKey): KeyWrapper {
  return {
    async wrap(dataKey, ad) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: ad as Uint8Array<ArrayBuffer> },
          key,
          dataKey as Uint8Array<ArrayBuffer>,
        ),
      )
      const out = new Uint8Array(IV_BYTES + sealed.length)
      out.set(iv)
      out.set(sealed, IV_BYTES)
      return out
    },
    async unwrap(wrapped, ad) {
      if (wrapped.length <= IV_BYTES) throw new Error('wrapped key too short')
      const opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: wrapped.slice(0, IV_BYTES), additionalData: ad as Uint8Array<ArrayBuffer> },
        key,
        wrapped.slice(IV_BYTES),
      )
      return new Uint8Array(opened)
    },
  }
}

// ------------------------------------------------------------------ one tab per profile

/**
 * Holds the Web Lock `jiayi-peer:<profile>` until released; false if another holder keeps it for
 * `waitMs` (another tab runs the profile; a peer of this tab that is still stopping lets go soon).
 */
async function acquireTabLock(profile: string, waitMs = 3_000): Promise<(() => void) | false> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  if (locks === undefined) return () => undefined
  return new Promise((resolve, reject) => {
    let release: () => void = () => undefined
    const held = new Promise<void>((r) => {
      release = r
    })
    locks
      .request(`jiayi-peer:${profile}`, { signal: AbortSignal.timeout(waitMs) }, async () => {
        resolve(release)
        await held
      })
      .catch((error: unknown) => {
        if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'))
          resolve(false)
        else reject(error)
      })
  })
}

// ------------------------------------------------------------------ the vault

/** Whether a profile exists and how it is locked, without unlocking it. */
export async function vaultStatus(profile: string): Promise<VaultStatus> {
  const inner = await LevelStore.open(storeLocation(profile))
  try {
    const kind = await storeKeyKind(inner)
    if (kind === undefined) return { exists: false }
    return { exists: true, lock: kind === 'passphrase' ? 'passphrase' : 'device' }
  } finally {
    await inner.close()
  }
}

export class Vault {
  #lock: VaultLock
  #closed = false

  private constructor(
    readonly profile: string,
    /** The sealed view: everything the peer reads and writes. */
    private readonly sealed: SealedStore,
    lock: VaultLock,
    private readonly releaseTab: () => void,
    private readonly argon2: Argon2Params | undefined,
    /** This open made the store (it had no key header before). */
    readonly created: boolean,
  ) {
    this.#lock = lock
  }

  /** The sealed view: everything the peer reads and writes. */
  get store(): Store {
    return this.sealed
  }

  get lock(): VaultLock {
    return this.#lock
  }

  /** Unlocks (or creates) the profile's store. */
  static async open(profile: string, options: VaultOptions = {}): Promise<Vault> {
    checkProfile(profile)
    const release = await acquireTabLock(profile)
    if (release === false) throw new PeerError('InUse', 'this profile is open in another tab')
    let inner: LevelStore | undefined
    try {
      inner = await LevelStore.open(storeLocation(profile))
      const kind = await storeKeyKind(inner)
      const derive = {
        ...(options.argon2 ? { params: options.argon2 } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }
      let secret: StorageSecret
      if (kind === 'passphrase' || (kind === undefined && options.passphrase !== undefined)) {
        if (options.passphrase === undefined || options.passphrase === '')
          throw new PeerError('PassphraseNeeded', 'this profile is locked with a passphrase')
        secret = { passphrase: options.passphrase }
      } else if (kind === undefined) {
        secret = { wrapper: cryptoKeyWrapper(await createDeviceKey(profile)) }
      } else {
        const key = await loadDeviceKey(profile)
        if (key === undefined)
          throw new PeerError('DeviceKeyMissing', "this browser's key for the profile is gone")
        secret = { wrapper: cryptoKeyWrapper(key) }
      }
      const store = await openSealedStore(inner, secret, derive)
      // The open may have finished a change of passphrase that a closed tab cut short: then the
      // store is locked as that change said, and a device key it replaced opens nothing.
      const lock: VaultLock = (await storeKeyKind(inner)) === 'passphrase' ? 'passphrase' : 'device'
      if (lock === 'passphrase' && !('passphrase' in secret)) await deleteDeviceKey(profile)
      return new Vault(profile, store, lock, release, options.argon2, kind === undefined)
    } catch (error) {
      await inner?.close().catch(() => undefined)
      release()
      throw error
    }
  }

  /**
   * Sets, changes or removes the passphrase: a new data key seals every record again and the old
   * records are deleted (core's rekey.ts; IndexedDB's own files are the browser's to compact).
   * Setting one deletes the device key; removing it makes a new device key.
   */
  async setPassphrase(
    current: string | undefined,
    next: string | undefined,
    onProgress?: (progress: RekeyProgress) => void,
  ): Promise<void> {
    this.#checkOpen()
    let old: StorageSecret
    if (this.#lock === 'device' && !next) return
    if (this.#lock === 'passphrase') {
      if (!current) throw new PeerError('PassphraseNeeded', 'give the current passphrase')
      old = { passphrase: current }
    } else {
      const key = await loadDeviceKey(this.profile)
      if (key === undefined)
        throw new PeerError('DeviceKeyMissing', "this browser's key for the profile is gone")
      old = { wrapper: cryptoKeyWrapper(key) }
    }
    const fresh: StorageSecret = next
      ? { passphrase: next }
      : { wrapper: cryptoKeyWrapper(await createDeviceKey(this.profile)) }
    await this.sealed.changeSecret(old, fresh, {
      ...(this.argon2 ? { derive: { params: this.argon2 } } : {}),
      ...(onProgress ? { onProgress } : {}),
    })
    if (next) await deleteDeviceKey(this.profile)
    this.#lock = next ? 'passphrase' : 'device'
  }

  /** Whether the store holds nothing yet (a restore needs that). */
  async isEmpty(): Promise<boolean> {
    for await (const _ of this.store.iterate({ limit: 1 })) return false
    return true
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.store.close()
    } finally {
      this.releaseTab()
    }
  }

  /** Closes, and deletes the profile again if this open created it (a failed create or restore). */
  async abandon(): Promise<void> {
    await this.close()
    if (this.created) await destroyProfile(this.profile)
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('Closed', 'store is closed')
  }
}

/** Deletes a profile: its store and its device key (gone for good unless there is a backup). */
export async function destroyProfile(profile: string): Promise<void> {
  await deleteDatabase(storeDatabaseName(profile))
  await deleteDeviceKey(checkProfile(profile))
}
