export { MAX_RETIRED_CHAINS, MAX_SKIP, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS } from './constants.js'
export { type ChainStep, kdfChain, kdfRoot, type RootStep } from './kdf.js'
export { MESSAGE_OVERHEAD } from './message.js'
export {
  canEncrypt,
  type InitiatorParams,
  initInitiator,
  initResponder,
  type ResponderParams,
  ratchetDecrypt,
  ratchetEncrypt,
} from './ratchet.js'
export { deserializeRatchetState, serializeRatchetState } from './serialize.js'
export { countSkipped, type RatchetState } from './state.js'
