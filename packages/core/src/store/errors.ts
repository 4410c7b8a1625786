import { defineError } from '../errors.js'

/**
 * Failures of the storage layer. Codes are stable; messages never contain key bytes, record keys
 * or values (record keys are structural, but they still reveal who talks to whom and how much).
 * - Closed: the store (or an iteration over it) was used after `close()`.
 * - Locked: another process (or another handle in this one) holds the database open.
 * - Corrupt: a sealed value failed authentication or has an unknown format; nothing is returned.
 * - WrongKey: the storage key does not open this store's key header (a key file from elsewhere).
 * - BadPassphrase: the passphrase does not open this store's key header.
 * - BadHeader: the key header is malformed, of an unknown version, or has absurd KDF parameters.
 * - Damaged: the database's own files are damaged or missing (a table, the log, the MANIFEST):
 *   reading them fails. LevelStore.repair keeps what can still be read.
 * - Full: the disk (or the browser's quota) has no room for the write; it may succeed once
 *   space is freed.
 * - Io: the underlying database failed for another reason (permissions, a failing disk).
 * - Busy: the secret is being changed already (one change at a time).
 *
 * Bad arguments (a key that is not a Uint8Array, an empty key, an unknown batch op) are caller
 * bugs and throw the shared InputError instead.
 */
export const StoreError = defineError('StoreError', [
  'Closed',
  'Locked',
  'Corrupt',
  'WrongKey',
  'BadPassphrase',
  'BadHeader',
  'Damaged',
  'Full',
  'Io',
  'Busy',
] as const)
export type StoreError = InstanceType<typeof StoreError>
export type StoreErrorCode = StoreError['code']
