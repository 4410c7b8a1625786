/**
 * The in-page peer's public surface, loaded lazily by the app (`await import('./peer/index.js')`)
 * so that libp2p, the crypto and the store stay out of the first-render bundle.
 */
export { BACKUP_MIME, backupFileName, exportStore, importIntoStore } from './backup.js'
export { apiHostOf, createInPageClient, createInPageClientWith, type InPageClientOptions } from './client.js'
export { PeerError, type PeerErrorCode } from './errors.js'
export { fileLocation, IMPORT_CHUNK_BYTES, parseLocation, StoreFileStorage } from './file-storage.js'
export {
  consoleLogger,
  createPeer,
  DEFAULT_PROFILE,
  InPagePeer,
  linkPeer,
  openPeer,
  type PeerNetworkOptions,
  type PeerOptions,
  profileStatus,
  restorePeer,
} from './runtime.js'
export {
  destroyProfile,
  KEYS_DB,
  storeDatabaseName,
  Vault,
  type VaultLock,
  type VaultOptions,
  type VaultStatus,
  vaultStatus,
} from './vault.js'
