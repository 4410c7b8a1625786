/** The storage layer's public surface (re-exported by @jiayi/core's index). */
export { StoreError, type StoreErrorCode } from './errors.js'
export { decodeKey, type KeyPart, key } from './keys.js'
export { LevelStore } from './level.js'
export { MemoryStore } from './memory.js'
export { compareBytes, prefixEnd } from './range.js'
export type { RekeyProgress } from './rekey.js'
export { type ChangeSecretOptions, type ChangeSecretResult, SealedStore, STORE_HEADER_KEY } from './sealed.js'
export {
  ARGON2_PARAMS,
  type Argon2Params,
  createKeyHeader,
  type DeriveOptions,
  deriveStorageKeyFromPassphrase,
  type KeyHeaderKind,
  type KeyWrapper,
  keyHeaderKind,
  openKeyHeader,
  rewrapKeyHeader,
  SALT_BYTES,
  STORAGE_KEY_BYTES,
  type StorageSecret,
} from './storage-key.js'
export {
  type BatchOp,
  type Entry,
  type IterateOptions,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  type Store,
} from './store.js'
export { hasKeyHeader, type OpenSealedOptions, openSealedStore, storeKeyKind } from './unlock.js'
export { WriteBehindStore } from './write-behind.js'
