/** Limits and labels of Jiayi's Double Ratchet (see packages/core/PROTOCOL.md, "Double Ratchet"). */
import { utf8 } from '../../bytes.js'

/** Most message keys one incoming message may make us skip within one chain. */
export const MAX_SKIP = 1000
/** Most skipped message keys a session keeps; the oldest are evicted first. */
export const MAX_SKIPPED_KEYS = 2000
/** Most receiving chains whose skipped keys are kept (the current one and four before it). */
export const MAX_SKIPPED_CHAINS = 5

/**
 * Most retired receiving chains remembered to recognise resent duplicates. A sender resends what
 * was not acknowledged, and the peer turns the conversation around (a receipt) every 250 ms or
 * so under load: eight chains cover a couple of seconds of resends.
 */
export const MAX_RETIRED_CHAINS = 8

/** Version byte that starts every ratchet message; bound into both AEADs. */
export const MESSAGE_VERSION = 1

/** KDF_RK info string: HKDF(salt = RK, ikm = DH output) -> RK || CK || NHK. */
export const ROOT_KDF_INFO = utf8('Jiayi_Ratchet_RootKey_v1')
