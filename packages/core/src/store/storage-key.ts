/**
 * Where the storage key comes from, as pure functions (no files, no store): the Node app keeps
 * the header bytes in its store and a random key file (mode 0600) next to it; the browser keeps
 * both in IndexedDB.
 *
 * Envelope: values are sealed with a random 32-byte data key. The key header holds that data key
 * sealed under a key-encryption key (KEK), which is either the 32 bytes of a key file or
 * Argon2id(passphrase), or sealed by a `KeyWrapper` whose key the platform keeps out of reach of
 * the code (the browser: a non-extractable WebCrypto AES-GCM key held in IndexedDB). So a wrong passphrase is told apart from corruption (the header does not
 * open: BadPassphrase / WrongKey, before any record is read), and changing the passphrase
 * rewrites one header instead of every record.
 *
 * Header grammar (version 1):
 *   header     = %x01 kind wrapped
 *   kind       = %x01                      ; key file: KEK = the 32-byte key
 *              / %x02 m t p salt           ; passphrase: KEK = Argon2id(NFC(passphrase), salt, m, t, p)
 *              / %x03                      ; wrapper: `wrapped` is whatever KeyWrapper.wrap made
 *   m, t, p    = 4OCTET each, big-endian   ; memory in KiB, passes, lanes
 *   salt       = 16OCTET
 *   wrapped    = 24OCTET nonce, 32OCTET sealed data key, 16OCTET tag     ; kinds 1 and 2
 *              / 32*256OCTET                                            ; kind 3
 * Kinds 1 and 2: `wrapped` is XChaCha20-Poly1305 under the KEK with AD = "jiayi/store-header/v1"
 * || every header byte before it, so the version, kind and KDF parameters are authenticated too.
 * Kind 3 hands the same AD to the wrapper, which must authenticate it (AES-GCM's additionalData).
 */
import { argon2idAsync } from '@noble/hashes/argon2.js'
import { assertBytes, concatBytes, randomBytes, readU32be, u32be, utf8, wipe } from '../bytes.js'
import { KEY_BYTES, open, seal, TAG_BYTES, XNONCE_BYTES } from '../crypto/primitives.js'
import { InputError } from '../errors.js'
import { StoreError } from './errors.js'

export const STORAGE_KEY_BYTES = KEY_BYTES
export const SALT_BYTES = 16

export interface Argon2Params {
  /** Memory in KiB. */
  readonly m: number
  /** Passes over memory. */
  readonly t: number
  /** Lanes. */
  readonly p: number
}

/** OWASP's minimum Argon2id setting (19 MiB, 2 passes, 1 lane): about 0.25 s on a laptop CPU. */
export const ARGON2_PARAMS: Argon2Params = Object.freeze({ m: 19456, t: 2, p: 1 })

/**
 * What a header read from disk may ask for. Lower costs than the default are accepted on read
 * (they only weaken this user's own header); absurd ones would let a planted header exhaust
 * memory or time, so they are refused as BadHeader.
 */
const LIMITS = { mMax: 1024 * 1024, tMax: 64, pMax: 16 }

/**
 * Seals the data key under a key the code cannot read (kind 3). The browser's wrapper is a
 * non-extractable AES-GCM CryptoKey: `wrap` returns nonce || ciphertext || tag. `unwrap` must
 * reject (any error) when the bytes or `ad` were changed or the key is another one.
 */
export interface KeyWrapper {
  wrap(dataKey: Uint8Array, ad: Uint8Array): Promise<Uint8Array>
  unwrap(wrapped: Uint8Array, ad: Uint8Array): Promise<Uint8Array>
}

export type StorageSecret =
  | { readonly passphrase: string | Uint8Array }
  | { readonly key: Uint8Array }
  | { readonly wrapper: KeyWrapper }

/** Which kind of secret opens a header: a key file, a passphrase, or a platform key wrapper. */
export type KeyHeaderKind = 'key' | 'passphrase' | 'wrapper'

export interface DeriveOptions {
  /** Defaults to ARGON2_PARAMS. Only tests and benchmarks lower it. */
  readonly params?: Argon2Params
  /** Called with the completed fraction (0..1), from a derivation that yields to the event loop. */
  readonly onProgress?: (fraction: number) => void
}

const VERSION = 0x01
const KIND_KEY = 0x01
const KIND_PASSPHRASE = 0x02
const KIND_WRAPPER = 0x03
const WRAPPED_BYTES = XNONCE_BYTES + KEY_BYTES + TAG_BYTES
const WRAPPER_MIN_BYTES = KEY_BYTES
const WRAPPER_MAX_BYTES = 256
const AD_LABEL = utf8('jiayi/store-header/v1')

function checkParams(params: Argon2Params): boolean {
  const { m, t, p } = params
  const int = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi
  return int(p, 1, LIMITS.pMax) && int(t, 1, LIMITS.tMax) && int(m, 8 * p, LIMITS.mMax)
}

function passphraseBytes(passphrase: string | Uint8Array): Uint8Array {
  // NFC: the same passphrase typed through different keyboards or IMEs must give the same key.
  const bytes = typeof passphrase === 'string' ? utf8(passphrase.normalize('NFC')) : passphrase
  assertBytes(bytes, undefined, 'passphrase')
  if (bytes.length === 0) throw new InputError('BadLength', 'passphrase must not be empty')
  return bytes
}

/** Argon2id(passphrase, salt) → 32-byte key. Yields to the event loop so a UI stays responsive. */
export async function deriveStorageKeyFromPassphrase(
  passphrase: string | Uint8Array,
  salt: Uint8Array,
  options: DeriveOptions = {},
): Promise<Uint8Array> {
  const params = options.params ?? ARGON2_PARAMS
  if (!checkParams(params)) throw new InputError('OutOfRange', 'Argon2id parameters are out of range')
  // RFC 9106 allows salts from 8 bytes (the reference test vectors use 8); headers use 16.
  assertBytes(salt, undefined, 'salt')
  if (salt.length < 8 || salt.length > 64) throw new InputError('BadLength', 'salt must be 8 to 64 bytes')
  const password = passphraseBytes(passphrase)
  return argon2idAsync(password, salt, {
    ...params,
    dkLen: STORAGE_KEY_BYTES,
    maxmem: LIMITS.mMax * 1024 + 1024,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  })
}

interface Parsed {
  readonly kind: number
  readonly params?: Argon2Params
  readonly salt?: Uint8Array
  /** Header bytes before `wrapped`: authenticated as associated data. */
  readonly prefix: Uint8Array
  readonly wrapped: Uint8Array
}

function parseHeader(header: Uint8Array): Parsed {
  const bad = (why: string) => new StoreError('BadHeader', `store key header ${why}`)
  if (!(header instanceof Uint8Array) || header.length < 2) throw bad('is too short')
  if (header[0] !== VERSION) throw bad('has an unknown version')
  const kind = header[1]!
  let at = 2
  let params: Argon2Params | undefined
  let salt: Uint8Array | undefined
  if (kind === KIND_PASSPHRASE) {
    if (header.length !== 2 + 12 + SALT_BYTES + WRAPPED_BYTES) throw bad('has the wrong length')
    params = { m: readU32be(header, 2), t: readU32be(header, 6), p: readU32be(header, 10) }
    if (!checkParams(params)) throw bad('asks for out-of-range Argon2id parameters')
    salt = header.slice(14, 14 + SALT_BYTES)
    at = 14 + SALT_BYTES
  } else if (kind === KIND_KEY) {
    if (header.length !== 2 + WRAPPED_BYTES) throw bad('has the wrong length')
  } else if (kind === KIND_WRAPPER) {
    const n = header.length - 2
    if (n < WRAPPER_MIN_BYTES || n > WRAPPER_MAX_BYTES) throw bad('has the wrong length')
  } else {
    throw bad('has an unknown kind')
  }
  return { kind, params, salt, prefix: header.slice(0, at), wrapped: header.slice(at) }
}

async function kek(
  secret: Exclude<StorageSecret, { wrapper: KeyWrapper }>,
  salt: Uint8Array | undefined,
  options: DeriveOptions,
) {
  if ('passphrase' in secret) {
    return deriveStorageKeyFromPassphrase(secret.passphrase, salt!, options)
  }
  assertBytes(secret.key, STORAGE_KEY_BYTES, 'storage key')
  return secret.key.slice()
}

function kindOf(secret: StorageSecret): number {
  return 'passphrase' in secret ? KIND_PASSPHRASE : 'wrapper' in secret ? KIND_WRAPPER : KIND_KEY
}

async function wrap(dataKey: Uint8Array, secret: StorageSecret, options: DeriveOptions): Promise<Uint8Array> {
  if ('wrapper' in secret) {
    const prefix = Uint8Array.of(VERSION, KIND_WRAPPER)
    const wrapped = await secret.wrapper.wrap(dataKey, concatBytes(AD_LABEL, prefix))
    assertBytes(wrapped, undefined, 'wrapped key')
    if (wrapped.length < WRAPPER_MIN_BYTES || wrapped.length > WRAPPER_MAX_BYTES)
      throw new InputError('BadLength', 'the key wrapper returned a value of the wrong length')
    return concatBytes(prefix, wrapped)
  }
  let prefix: Uint8Array
  let salt: Uint8Array | undefined
  if ('passphrase' in secret) {
    const { m, t, p } = options.params ?? ARGON2_PARAMS
    salt = randomBytes(SALT_BYTES)
    prefix = concatBytes(Uint8Array.of(VERSION, KIND_PASSPHRASE), u32be(m), u32be(t), u32be(p), salt)
  } else {
    prefix = Uint8Array.of(VERSION, KIND_KEY)
  }
  const k = await kek(secret, salt, options)
  try {
    return concatBytes(prefix, seal(k, dataKey, concatBytes(AD_LABEL, prefix)))
  } finally {
    wipe(k)
  }
}

/** A fresh random data key and the header that holds it sealed under `secret`. */
export async function createKeyHeader(
  secret: StorageSecret,
  options: DeriveOptions = {},
): Promise<{ header: Uint8Array; dataKey: Uint8Array }> {
  const dataKey = randomBytes(STORAGE_KEY_BYTES)
  return { header: await wrap(dataKey, secret, options), dataKey }
}

/**
 * The data key inside `header`. Rejects with BadPassphrase (passphrase secret) or WrongKey (key
 * secret) when the secret does not open it, and with BadHeader when the bytes are malformed.
 * The header's own Argon2id parameters are used; `options.params` is ignored here.
 */
export async function openKeyHeader(
  header: Uint8Array,
  secret: StorageSecret,
  options: Pick<DeriveOptions, 'onProgress'> = {},
): Promise<Uint8Array> {
  const parsed = parseHeader(header)
  const usesPassphrase = 'passphrase' in secret
  if (kindOf(secret) !== parsed.kind) {
    throw new StoreError(
      usesPassphrase ? 'BadPassphrase' : 'WrongKey',
      parsed.kind === KIND_PASSPHRASE
        ? 'this store is locked with a passphrase'
        : parsed.kind === KIND_WRAPPER
          ? "this store is locked with this device's key"
          : 'this store is locked with a key file',
    )
  }
  const ad = concatBytes(AD_LABEL, parsed.prefix)
  if ('wrapper' in secret) {
    let dataKey: Uint8Array
    try {
      dataKey = await secret.wrapper.unwrap(parsed.wrapped, ad)
    } catch (cause) {
      throw new StoreError('WrongKey', "this device's key does not open this store", { cause })
    }
    assertBytes(dataKey, STORAGE_KEY_BYTES, 'unwrapped storage key')
    return dataKey
  }
  const k = await kek(secret, parsed.salt, {
    ...options,
    ...(parsed.params ? { params: parsed.params } : {}),
  })
  try {
    return open(k, parsed.wrapped, ad)
  } catch (cause) {
    throw usesPassphrase
      ? new StoreError('BadPassphrase', 'the passphrase is wrong', { cause })
      : new StoreError('WrongKey', 'the storage key does not open this store', { cause })
  } finally {
    wipe(k)
  }
}

/** Which secret opens `header` (so a UI knows whether to ask for a passphrase). BadHeader if malformed. */
export function keyHeaderKind(header: Uint8Array): KeyHeaderKind {
  const { kind } = parseHeader(header)
  return kind === KIND_PASSPHRASE ? 'passphrase' : kind === KIND_WRAPPER ? 'wrapper' : 'key'
}

/** Re-seals the data key under a new secret (change or set a passphrase); records stay as they are. */
export async function rewrapKeyHeader(
  header: Uint8Array,
  oldSecret: StorageSecret,
  newSecret: StorageSecret,
  options: DeriveOptions = {},
): Promise<Uint8Array> {
  const dataKey = await openKeyHeader(header, oldSecret, options)
  try {
    return await wrap(dataKey, newSecret, options)
  } finally {
    wipe(dataKey)
  }
}
