/**
 * @jiayi/core — isomorphic (Node and browser): identity, contact cards, X3DH/PQXDH, the Double
 * Ratchet, sender keys, storage and networking. This file is the package's whole public API.
 */

// --- backup ---
export {
  BACKUP_MAGIC,
  BACKUP_MIME,
  type BackupEntry,
  BackupError,
  type BackupOptions,
  decodeBackup,
  encodeBackup,
} from './backup/backup.js'
// --- errors and bytes ---
export {
  bytesToHex,
  concatBytes,
  equalBytes,
  fromBase64,
  fromUtf8,
  hexToBytes,
  type RandomSource,
  randomBytes,
  toBase64,
  utf8,
} from './bytes.js'
// --- contact card ---
export {
  type CardInput,
  type ContactCard,
  createCard,
  decodeCardBytes,
  MAX_ADDRS,
  MAX_NAME_BYTES,
} from './card/card.js'
export { CardError } from './card/errors.js'
export { cardLink, cardQrText, cardWebLink, decodeCard, encodeCardPayload } from './card/link.js'
// --- sessions ---
export { CryptoError } from './crypto/errors.js'
export {
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  type KemPreKey,
  kemPreKeyFromSeed,
  type OneTimePreKey,
  type SignedPreKey,
  signSignedPreKey,
  verifyKemPreKey,
  verifySignedPreKey,
} from './crypto/prekeys.js'
export {
  hkdfSha256,
  hmacSha256,
  KEY_BYTES,
  type KeyPair,
  open as aeadOpen,
  SIGNATURE_BYTES,
  seal as aeadSeal,
  sha256Hash,
  TAG_BYTES,
  XNONCE_BYTES,
} from './crypto/primitives.js'
export {
  countSkipped,
  deserializeRatchetState,
  MAX_SKIP,
  MAX_SKIPPED_CHAINS,
  MAX_SKIPPED_KEYS,
  type RatchetState,
  ratchetDecrypt,
  ratchetEncrypt,
  serializeRatchetState,
} from './crypto/ratchet/index.js'
// --- sender keys (groups) ---
export {
  createSenderKey,
  decodeDistributionMessage,
  decodeSenderKeyRecord,
  decodeSenderKeyState,
  emptySenderKeyRecord,
  encodeDistribution,
  encodeSenderKeyRecord,
  encodeSenderKeyState,
  groupDecrypt,
  groupEncrypt,
  MAX_STATES as MAX_SENDER_KEY_STATES,
  processDistribution,
  type SenderKeyDistribution,
  type SenderKeyRecord,
  type SenderKeyState,
  senderKeyAssociatedData,
} from './crypto/sender-keys/index.js'
export {
  acceptSession,
  type DecodedPreKeyMessage,
  decodePreKeyMessage,
  deserializeSession,
  initiateSession,
  isSameSession,
  type Session,
  type SessionEnvelope,
  serializeSession,
  sessionDecrypt,
  sessionEncrypt,
} from './crypto/session.js'
export type { PreKeyBundle, ResponderPreKeys, X3dhInit } from './crypto/x3dh.js'
export { defineError, InputError, JiayiError } from './errors.js'
// --- end messenger ---
// --- files ---
export {
  type AutoDownloadLimits,
  DEFAULT_AUTO_DOWNLOAD,
  HOLD_REASONS,
  type HoldReason,
} from './files/auto-download.js'
export { ChunkCipher, type SealedChunk } from './files/chunk-cipher.js'
export { FileError, type FileErrorCode } from './files/errors.js'
export {
  type ChunkFrame,
  decodeFrame,
  encodeChunkFrame,
  encodeFrame,
  type Frame,
  REJECT_REASONS,
  type RejectReason,
} from './files/frames.js'
export {
  ACK_EVERY_CHUNKS,
  CHUNK_NONCE_BYTES,
  CHUNK_TAG_BYTES,
  chunkCount,
  chunkLength,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_WINDOW_CHUNKS,
  HASH_FIRST_MAX_BYTES,
  MAX_CHUNK_BYTES,
  MAX_OFFER_BYTES,
  MAX_THUMBNAIL_BYTES,
  MAX_WAVEFORM_SAMPLES,
  MIN_CHUNK_BYTES,
} from './files/limits.js'
export { MemoryFileStorage, memorySource, nobleSha256 } from './files/memory-storage.js'
export { guessMime, isValidMime, numberedName, sanitizeFileName } from './files/names.js'
export {
  checkOffer,
  decodeOffer,
  encodeOffer,
  type FileKind,
  type FileOffer,
  type FilePurpose,
  type Thumbnail,
  type VoiceInfo,
} from './files/offer.js'
export {
  FILE_OFFER_EXTENSION,
  type FileProgress,
  type FileRefusal,
  FileService,
  type FileServiceEvents,
  type FileServiceInit,
  type FileServiceStats,
  type FileSettings,
  type SendFileOptions,
} from './files/service.js'
export type { FileSink, FileSource, FileStorage, Sha256Hasher, SinkInit } from './files/storage.js'
export {
  applyTransferEvent,
  type Direction as TransferDirection,
  type FailReason,
  type FileEntry,
  type FileMessageData,
  formatBytes,
  type TransferNote,
  type TransferStatus,
  type TransferView,
} from './files/transfer.js'
// --- groups: the op log, state and invites ---
export * from './groups/index.js'
// --- identity ---
export { SignatureContext } from './identity/contexts.js'
export {
  certifyDevice,
  type DeviceKey,
  decodeDeviceKey,
  devicePeerId,
  devicePublicKey,
  encodeDeviceKey,
  generateDeviceKey,
  peerIdFromDeviceKey,
  verifyDeviceCertificate,
} from './identity/device.js'
export {
  createDeviceList,
  type DeviceEntryInput,
  type DeviceList,
  type DeviceListEntry,
  deviceName,
  isNewerDeviceList,
  listsDevice,
  MAX_DEVICE_NAME_BYTES,
  MAX_DEVICES,
  nextDeviceList,
  verifyDeviceList,
} from './identity/device-list.js'
export {
  assertPublicIdentity,
  decodeIdentityKeyPair,
  encodeIdentityKeyPair,
  generateIdentity,
  IdentityError,
  type IdentityKeyPair,
  identityKeysEqual,
  type PublicIdentity,
  publicIdentity,
  signAgreementKey,
  signAs,
  verifyAgreementKey,
  verifySignedBy,
} from './identity/identity.js'
export {
  compareScannable,
  formatSafetyNumber,
  type SafetyNumber,
  SafetyNumberError,
  safetyNumber,
} from './identity/safety-number.js'
// --- end store ---
// --- labels ---
export { type BroadcastResult, broadcastEach, broadcastFile } from './labels/broadcast.js'
export { LabelError, type LabelErrorCode } from './labels/errors.js'
export { labelKey, labelName, MAX_LABEL_CHARS, MAX_LABELS_PER_CONTACT } from './labels/label-name.js'
export type { LabelAudience, LabelMember, LabelView } from './labels/labels.js'
// The home node's mailbox (/jiayi/mailbox/1) and its certificate.
export * from './mailbox/index.js'
// --- messenger ---
export { type Account, accountRecord, createAccount, loadAccount } from './messenger/account.js'
export { selectCardAddrs } from './messenger/card-addrs.js'
export { MessengerError } from './messenger/errors.js'
export { Emitter, KeyedQueue } from './messenger/events.js'
export { type ContactId, contactIdFor, isContactId, isMessageId, type MessageId } from './messenger/ids.js'
export {
  type ExtensionContext,
  type ExtensionHandler,
  type HistoryEntry,
  type Logger,
  Messenger,
  type MessengerEvents,
  type MessengerInit,
  type MessengerStats,
} from './messenger/messenger.js'
export { MAX_PICTURE_BYTES, type ProfilePicture } from './messenger/profile-picture.js'
export type { ReachProblem, ReachProblemCode } from './messenger/reach.js'
export type { ContactState, MessageStatus } from './messenger/records.js'
export {
  PEER_ACTIONS,
  PENDING_IN_LIMITS,
  type PeerAction,
  type PendingLimits,
  peerMay,
  TRUST_STATES,
  type TrustState,
} from './messenger/trust.js'
export type { Tx } from './messenger/tx.js'
export type { CardView, ContactView, MessageView, MeView } from './messenger/views.js'
export type { AnnouncedAddrs } from './net/announced-addrs.js'
// --- net ---
// Node-only transports (TCP, mDNS) live in ./net/transports-node.ts and are deliberately not
// exported here, so that the browser bundle of this index contains no Node builtins.
export {
  type AddressInfo,
  type ConnectionInfo,
  type ConnectionRoute,
  describeAddress,
  describeConnection,
  type TransportName,
} from './net/connection-info.js'
export {
  bestConnection,
  ConnectionKeeper,
  type ConnectionKeeperInit,
  connectionInfo,
  isReachableAddr,
  peerIdOf,
  waitUntilReachable,
} from './net/connection-keeper.js'
export {
  type AddressRefusal,
  DialPolicy,
  type LocalScope,
  MAX_CONTACT_ADDRS,
} from './net/dial-policy.js'
export { NetError, type NetErrorCode } from './net/errors.js'
export {
  type FramedProtocolInit,
  type FramedStreamHandler,
  framedHandler,
  type OpenFramedOptions,
  openFramed,
  type RefusedStream,
} from './net/framed-handler.js'
export {
  type FrameBytes,
  type FramedStream,
  type FramedStreamInit,
  type FrameOptions,
  framedStream,
  framedStreamFor,
  type ReadOptions,
} from './net/framing.js'
export { type IpScope, ipScope, isPublicIp } from './net/ip-scope.js'
export type { JiayiNode, JiayiServices, NetEnvironment, NetworkStack } from './net/network-stack.js'
export {
  browserConnectionGater,
  createJiayiNode,
  JIAYI_USER_AGENT,
  type JiayiNodeOptions,
} from './net/node-factory.js'
export {
  FILE_CHUNK_BYTES,
  isJiayiProtocol,
  JIAYI_PROTOCOLS,
  type JiayiProtocol,
  MAX_FRAME_BYTES,
  MAX_INBOUND_STREAMS,
  PROTOCOL_FEED,
  PROTOCOL_FILE,
  PROTOCOL_MAILBOX,
  PROTOCOL_MAILBOX_NOTICE,
  PROTOCOL_MSG,
  PROTOCOL_PREKEYS,
} from './net/protocols.js'
export {
  bootstrapAddrs,
  MAX_BOOTSTRAP,
  PUBLIC_BOOTSTRAP,
  PUBLIC_DHT_PROTOCOL,
  type PublicDhtOptions,
} from './net/public-dht-config.js'
export {
  loadPublicNetwork,
  PUBLIC_NETWORK_OFF,
  type PublicNetworkSetting,
  savePublicNetwork,
  validBootstrap,
} from './net/public-network-setting.js'
export { LAN_RELAY_LIMITS, type RelayServerLimits } from './net/relay-limits.js'
export { RESOURCE_LIMITS, type ResourceLimits } from './net/resource-limits.js'
export { type BrowserNetworkInit, browserNetwork, DEFAULT_BROWSER_LISTEN } from './net/transports-browser.js'
/** Local search: the sealed postings index, and what other sources (Moments) add to a search. */
export { BurstRunner, type BurstRunnerInit } from './search/burst-runner.js'
export { type IndexedDoc, Postings } from './search/postings.js'
export type { SearchKind, SearchOptions, SearchResult, SearchSource } from './search/results.js'
export { queryTokens, tokensOf } from './search/tokens.js'
// --- end net ---
// --- store ---
export {
  ARGON2_PARAMS,
  type Argon2Params,
  type BatchOp,
  type ChangeSecretOptions,
  type ChangeSecretResult,
  createKeyHeader,
  type DeriveOptions,
  decodeKey as decodeStoreKey,
  deriveStorageKeyFromPassphrase,
  type Entry as StoreEntry,
  hasKeyHeader,
  type IterateOptions,
  type KeyHeaderKind,
  type KeyPart,
  type KeyWrapper,
  key as storeKey,
  keyHeaderKind,
  LevelStore,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  MemoryStore,
  type OpenSealedOptions,
  openKeyHeader,
  openSealedStore,
  type RekeyProgress,
  rewrapKeyHeader,
  SALT_BYTES,
  SealedStore,
  STORAGE_KEY_BYTES,
  type StorageSecret,
  type Store,
  StoreError,
  type StoreErrorCode,
  storeKeyKind,
  WriteBehindStore,
} from './store/index.js'
// --- end files ---

// Several devices, one person: our own device list, linking (/jiayi/link/1) and unlinking.
export { DeviceError, type DeviceErrorCode } from './devices/errors.js'
export {
  DEFAULT_HISTORY_DAYS,
  type HandoverOptions,
  type HistoryChoice,
  handoverRecords,
  historyChoice,
} from './devices/handover.js'
export { type JoinOptions, joinByLink, wipeStore } from './devices/join.js'
export { decodeDeviceLink, LINK_TTL_MS } from './devices/link.js'
export { type LinkOffer, type LinkStatus, PROTOCOL_LINK } from './devices/linker.js'
export { type DeviceView, deviceViews, loadOwnDeviceList, ownDeviceListKey } from './devices/own-list.js'
