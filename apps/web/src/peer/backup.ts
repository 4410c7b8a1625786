/**
 * Export and restore for the in-page peer, in core's encrypted backup format
 * (@jiayi/core encodeBackup / decodeBackup: Argon2id + XChaCha20-Poly1305 frames). A backup holds
 * every record of the profile's store: identity and device key, contacts, sessions, history,
 * feeds, file transfer records. Received file bytes are left out (they can be large); their
 * messages stay and say the file is not on this device.
 */
import {
  BACKUP_MIME,
  type BackupEntry,
  BackupError,
  type BackupOptions,
  type BatchOp,
  decodeBackup,
  encodeBackup,
  loadAccount,
  type Store,
} from '@jiayi/core'
import { PeerError } from './errors.js'
import { StoreFileStorage } from './file-storage.js'

export { BACKUP_MIME }

/** A suggested file name: jiayi-backup-<name>-<yyyy-mm-dd>.jiayi */
export function backupFileName(name: string, date = new Date()): string {
  const safe = name.replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '') || 'me'
  return `jiayi-backup-${safe}-${date.toISOString().slice(0, 10)}.jiayi`
}

async function* recordsOf(store: Store): AsyncGenerator<BackupEntry> {
  for await (const [k, v] of store.iterate()) {
    if (!StoreFileStorage.isFileRecord(k)) yield [k, v]
  }
}

/** The whole store (less file bytes) as an encrypted Blob. */
export async function exportStore(
  store: Store,
  passphrase: string,
  options: BackupOptions = {},
): Promise<Blob> {
  if (!passphrase) throw new PeerError('BadBackup', 'a backup needs a passphrase')
  const parts: Blob[] = []
  for await (const piece of encodeBackup(recordsOf(store), passphrase, options))
    parts.push(new Blob([piece as Uint8Array<ArrayBuffer>]))
  return new Blob(parts, { type: BACKUP_MIME })
}

async function* blobChunks(blob: Blob): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

const BATCH_BYTES = 4 * 1024 * 1024

/**
 * Writes a backup's records into an EMPTY store. If the file turns out damaged halfway, what was
 * written is deleted again, so a failed restore leaves an empty profile, never half a history.
 */
export async function importIntoStore(
  store: Store,
  backup: Blob | AsyncIterable<Uint8Array>,
  passphrase: string,
  options: Pick<BackupOptions, 'onProgress'> = {},
): Promise<void> {
  for await (const _ of store.iterate({ limit: 1 }))
    throw new PeerError('NotEmpty', 'a backup is restored into a new profile only')
  const written: Uint8Array[] = []
  try {
    let ops: BatchOp[] = []
    let bytes = 0
    const source = backup instanceof Blob ? blobChunks(backup) : backup
    for await (const [key, value] of decodeBackup(source, passphrase, options)) {
      ops.push({ type: 'put', key, value })
      written.push(key)
      bytes += key.length + value.length
      if (ops.length >= 1000 || bytes >= BATCH_BYTES) {
        await store.batch(ops)
        ops = []
        bytes = 0
      }
    }
    if (ops.length > 0) await store.batch(ops)
    if ((await loadAccount(store)) === undefined)
      throw new BackupError('BadFormat', 'the backup holds no identity')
  } catch (error) {
    for (let i = 0; i < written.length; i += 1000)
      await store
        .batch(written.slice(i, i + 1000).map((key) => ({ type: 'del' as const, key })))
        .catch(() => undefined)
    if (BackupError.is(error))
      throw new PeerError(error.code === 'BadPassphrase' ? 'BackupPassphrase' : 'BadBackup', error.message, {
        cause: error,
      })
    throw error
  }
}
