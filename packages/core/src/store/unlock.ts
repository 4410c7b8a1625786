/**
 * Opening an encrypted store in one call: the key header lives inside the inner store itself (at
 * STORE_HEADER_KEY, hidden by SealedStore), so Node and the browser unlock the same way and a
 * store can never be separated from the header that opens it.
 */
import { wipe } from '../bytes.js'
import { StoreError } from './errors.js'
import { SealedStore, STORE_HEADER_KEY } from './sealed.js'
import {
  createKeyHeader,
  type DeriveOptions,
  type KeyHeaderKind,
  keyHeaderKind,
  openKeyHeader,
  rewrapKeyHeader,
  type StorageSecret,
} from './storage-key.js'
import type { Store } from './store.js'

async function isEmpty(store: Store): Promise<boolean> {
  for await (const _ of store.iterate({ limit: 1 })) return false
  return true
}

/**
 * Unlocks `inner` with a passphrase or a 32-byte key (from the key file) and returns the sealed
 * view of it. A store without a header is initialised with a fresh data key, but only if it is
 * empty: records without a header could not be opened by anyone, so that is 'Corrupt'.
 * Rejections: BadPassphrase, WrongKey, BadHeader, Corrupt, plus whatever the inner store throws.
 * On rejection `inner` is left open (the caller opened it and decides what to do).
 */
export async function openSealedStore(
  inner: Store,
  secret: StorageSecret,
  options: DeriveOptions = {},
): Promise<SealedStore> {
  const header = await inner.get(STORE_HEADER_KEY)
  let dataKey: Uint8Array
  if (header === undefined) {
    if (!(await isEmpty(inner))) {
      throw new StoreError('Corrupt', 'store holds records but no key header')
    }
    const created = await createKeyHeader(secret, options)
    await inner.put(STORE_HEADER_KEY, created.header)
    dataKey = created.dataKey
  } else {
    dataKey = await openKeyHeader(header, secret, options)
  }
  try {
    return new SealedStore(inner, dataKey)
  } finally {
    wipe(dataKey)
  }
}

/** Whether `inner` already holds a key header (so a UI can ask "unlock" rather than "create"). */
export async function hasKeyHeader(inner: Store): Promise<boolean> {
  return (await inner.get(STORE_HEADER_KEY)) !== undefined
}

/** Which secret unlocks `inner`; undefined for a store that has no header yet (a new one). */
export async function storeKeyKind(inner: Store): Promise<KeyHeaderKind | undefined> {
  const header = await inner.get(STORE_HEADER_KEY)
  return header === undefined ? undefined : keyHeaderKind(header)
}

/**
 * Changes the secret that unlocks `inner` (set, change or remove a passphrase; move to a key
 * file). Only the header is rewritten; the data key and every record stay the same.
 */
export async function changeStoreSecret(
  inner: Store,
  oldSecret: StorageSecret,
  newSecret: StorageSecret,
  options: DeriveOptions = {},
): Promise<void> {
  const header = await inner.get(STORE_HEADER_KEY)
  if (header === undefined) throw new StoreError('BadHeader', 'store has no key header')
  await inner.put(STORE_HEADER_KEY, await rewrapKeyHeader(header, oldSecret, newSecret, options))
}
