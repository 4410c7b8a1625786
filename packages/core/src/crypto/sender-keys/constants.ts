/**
 * Sender keys: fixed numbers and strings. Changing any of these changes the wire format or the
 * stored state, so each change needs a new version byte.
 */
import { utf8 } from '../../bytes.js'

/** Version byte of SenderKeyMessage and SenderKeyDistributionMessage. */
export const SENDER_KEY_WIRE_VERSION = 1

/** Version byte of serialised sender-key state and records (independent of the wire version). */
export const SENDER_KEY_STATE_VERSION = 1

/** HKDF info that turns a message-key seed into the 32-byte XChaCha20-Poly1305 key. */
export const MESSAGE_KEY_INFO = utf8('Jiayi_SenderKey_Message_v1')

/** HMAC inputs of the chain step, as in libsignal's SenderChainKey (and the Double Ratchet's KDF_CK). */
export const MESSAGE_KEY_SEED_CONSTANT = Uint8Array.of(0x01)
export const CHAIN_KEY_CONSTANT = Uint8Array.of(0x02)

/**
 * Most iterations one message may skip. libsignal allows 25,000 for sender keys; we keep the same
 * bound as our Double Ratchet's MAX_SKIP so one forged-looking-but-signed jump costs little CPU.
 */
export const MAX_SKIP = 1000

/** Most skipped message keys kept for one sender, over all of that sender's states. */
export const MAX_SKIPPED_KEYS = 2000

/** Most states (key ids) kept per sender: old states let in-flight messages from before a re-key decrypt. */
export const MAX_STATES = 5

/** Largest iteration value: the u32 field's maximum. A chain never moves past it. */
export const MAX_ITERATION = 0xffffffff

/**
 * Largest plaintext one group message may carry (64 MiB). Files travel in chunks far smaller than
 * this; the bound keeps the header's u32 length field and the AEAD well inside their limits.
 */
export const MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024
