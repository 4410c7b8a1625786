/**
 * Opening an encrypted store in one call: the key header lives inside the inner store itself (at
 * STORE_HEADER_KEY, hidden by SealedStore), so Node and the browser unlock the same way and a
 * store can never be separated from the header that opens it. Opening also finishes what a crash
 * cut short (a change of secret, the deletion of an old generation) and moves a legacy store to
 * the current layout (rekey.ts).
 */
import { wipe } from '../bytes.js'
import { StoreError } from './errors.js'
import {
  decodeLayout,
  encodeLayout,
  LAYOUT_KEY,
  LEGACY,
  NAMESPACES,
  REKEY_KEY,
  STORE_HEADER_KEY,
} from './layout.js'
import {
  beginRekey,
  finishRekey,
  type OnRekeyProgress,
  purge,
  type RekeyPlan,
  unlockPlan,
  wipePlan,
} from './rekey.js'
import { SealedStore } from './sealed.js'
import {
  createKeyHeader,
  type DeriveOptions,
  type KeyHeaderKind,
  keyHeaderKind,
  openKeyHeader,
  type StorageSecret,
} from './storage-key.js'
import type { Store } from './store.js'

export interface OpenSealedOptions extends DeriveOptions {
  /**
   * Progress of the work an open may have to do first: moving a legacy store to the current
   * layout, or finishing a change of secret that a crash interrupted.
   */
  readonly onRekeyProgress?: OnRekeyProgress
}

async function isEmpty(store: Store): Promise<boolean> {
  for await (const _ of store.iterate({ limit: 1 })) return false
  return true
}

/** Carries a begun change to its end and returns the store on the new generation. */
async function complete(inner: Store, plan: RekeyPlan, options: OpenSealedOptions): Promise<SealedStore> {
  try {
    await finishRekey(inner, plan, options.onRekeyProgress)
    await purge(inner, options.onRekeyProgress)
    return new SealedStore(inner, plan.to.key, plan.to.ns)
  } finally {
    wipePlan(plan)
  }
}

/**
 * Unlocks `inner` with a passphrase, a 32-byte key (from the key file) or a key wrapper, and
 * returns the sealed view of it. A store without a header is initialised with a fresh data key,
 * but only if it is empty: records without a header could not be opened by anyone, so that is
 * 'Corrupt'. A change of secret that a crash interrupted opens with the old secret or the new
 * one, and is finished here (then only the new one opens the store).
 * Rejections: BadPassphrase, WrongKey, BadHeader, Corrupt, plus whatever the inner store throws.
 * On rejection `inner` is left open (the caller opened it and decides what to do).
 */
export async function openSealedStore(
  inner: Store,
  secret: StorageSecret,
  options: OpenSealedOptions = {},
): Promise<SealedStore> {
  const { onRekeyProgress: _, ...derive } = options
  const header = await inner.get(STORE_HEADER_KEY)
  if (header === undefined) {
    if (!(await isEmpty(inner))) {
      throw new StoreError('Corrupt', 'store holds records but no key header')
    }
    const created = await createKeyHeader(secret, derive)
    const ns = NAMESPACES[0]!
    await inner.batch([
      { type: 'put', key: STORE_HEADER_KEY, value: created.header },
      { type: 'put', key: LAYOUT_KEY, value: encodeLayout(ns) },
    ])
    try {
      return new SealedStore(inner, created.dataKey, ns)
    } finally {
      wipe(created.dataKey)
    }
  }
  const pending = await inner.get(REKEY_KEY)
  if (pending !== undefined)
    return complete(inner, await unlockPlan(pending, header, secret, derive), options)
  const dataKey = await openKeyHeader(header, secret, derive)
  const layout = await inner.get(LAYOUT_KEY)
  if (layout === undefined) {
    // A legacy store: its ids are in its keys. Moved under a new data key, like a change of
    // secret to the same secret, so that the old records are gone from the disk afterwards.
    const created = await createKeyHeader(secret, derive)
    const plan: RekeyPlan = {
      from: { key: dataKey, ns: LEGACY },
      to: { key: created.dataKey, ns: NAMESPACES[0]! },
      header: created.header,
    }
    await beginRekey(inner, plan).catch((error: unknown) => {
      wipePlan(plan)
      throw error
    })
    return complete(inner, plan, options)
  }
  try {
    const ns = decodeLayout(layout)
    await purge(inner, options.onRekeyProgress)
    return new SealedStore(inner, dataKey, ns)
  } finally {
    wipe(dataKey)
  }
}

/** Whether `inner` already holds a key header (so a UI can ask "unlock" rather than "create"). */
export async function hasKeyHeader(inner: Store): Promise<boolean> {
  return (await inner.get(STORE_HEADER_KEY)) !== undefined
}

/**
 * Which secret unlocks `inner`; undefined for a store that has no header yet (a new one). While a
 * change of secret is unfinished, the old secret's kind (the new secret opens it too).
 */
export async function storeKeyKind(inner: Store): Promise<KeyHeaderKind | undefined> {
  const header = await inner.get(STORE_HEADER_KEY)
  return header === undefined ? undefined : keyHeaderKind(header)
}
