/**
 * The ratchet's two KDFs, exactly as Signal's Double Ratchet spec (section 5.2) recommends:
 * KDF_RK is HKDF-SHA256 keyed by the root key, KDF_CK is HMAC-SHA256 with the constants
 * 0x01 (message key) and 0x02 (next chain key).
 */
import { hkdfSha256, hmacSha256With } from '../primitives.js'
import { ROOT_KDF_INFO } from './constants.js'

const MESSAGE_KEY_CONSTANT = Uint8Array.of(0x01)
const CHAIN_KEY_CONSTANT = Uint8Array.of(0x02)

export interface RootStep {
  readonly rootKey: Uint8Array
  readonly chainKey: Uint8Array
  /** The next header key (header-encryption variant, spec section 4). */
  readonly nextHeaderKey: Uint8Array
}

/** KDF_RK_HE(rk, dh_out) = HKDF(salt = rk, ikm = dh_out) split into RK, CK, NHK. */
export function kdfRoot(
  rootKey: Uint8Array,
  dhOutput: Uint8Array,
  info: Uint8Array = ROOT_KDF_INFO,
): RootStep {
  const out = hkdfSha256(dhOutput, rootKey, info, 96)
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32, 64), nextHeaderKey: out.slice(64, 96) }
}

export interface ChainStep {
  readonly chainKey: Uint8Array
  readonly messageKey: Uint8Array
}

/**
 * KDF_CK(ck): message key = HMAC(ck, 0x01), next chain key = HMAC(ck, 0x02).
 * Both MACs share one keyed HMAC, whose key schedule the provider may compute once.
 */
export function kdfChain(chainKey: Uint8Array): ChainStep {
  const keyed = hmacSha256With(chainKey)
  const messageKey = keyed(MESSAGE_KEY_CONSTANT)
  return { chainKey: keyed(CHAIN_KEY_CONSTANT), messageKey }
}
