/** Sender keys (Signal's group construction): the public surface, for the package index to export. */
export { senderKeyAssociatedData } from './associated-data.js'
export type { SenderChainKey, SkippedMessageKey } from './chain.js'
export { MAX_PLAINTEXT_BYTES, MAX_SKIP, MAX_SKIPPED_KEYS, MAX_STATES } from './constants.js'
export { encodeDistribution, groupDecrypt, groupEncrypt, processDistribution } from './group-cipher.js'
export { createSenderKey, emptySenderKeyRecord, type SenderKeyRecord, type SenderKeyState } from './state.js'
export {
  decodeSenderKeyRecord,
  decodeSenderKeyState,
  encodeSenderKeyRecord,
  encodeSenderKeyState,
} from './state-codec.js'
export { decodeDistributionMessage, type SenderKeyDistribution } from './wire.js'
