/**
 * Sealing file chunks: AES-256-GCM, the crypto provider's where it has one natively (node:crypto
 * in Node: synchronous, and ~2.5x less CPU per 256 KiB chunk than WebCrypto's there), else
 * WebCrypto's (native in browsers; 5-9x faster than @noble's ChaCha20-Poly1305, see PROTOCOL.md
 * "Files"). Both compute the same bytes.
 *
 *   nonce = 12 random bytes (fresh for every sealing, sent with the chunk)
 *   ad    = "Jiayi_FileChunk_v1" || 0x00 || file id (16) || u32be(index) [|| SHA-256 (32)]
 *   sealed = AES-256-GCM(key, nonce, ad, plaintext) = ciphertext || 16-byte tag
 *
 * The last chunk carries the SHA-256 of the whole file in its associated data (and in clear in
 * its frame), so the digest is authenticated under the per-file key like the bytes themselves.
 *
 * The key is random per file and known only to the two peers (it travels in the ratcheted offer).
 * The index and file id in the associated data stop a chunk from being replayed at another
 * position or in another file. Random nonces (rather than the index) keep a re-sent chunk safe
 * even when the file changed on disk in between: a nonce never repeats with different plaintext
 * (at most 2^32 sealings per key keeps the collision chance below 2^-32 (NIST SP 800-38D 8.3);
 * a 4 GiB file in 256 KiB chunks is 2^14 of them, plus resends).
 */
import { assertBytes, concatBytes, randomBytes, utf8 } from '../bytes.js'
import { aes256GcmOpen, aes256GcmSeal, hasNativeAes256Gcm } from '../crypto/primitives.js'
import { FileError } from './errors.js'
import { CHUNK_NONCE_BYTES, CHUNK_TAG_BYTES, FILE_ID_BYTES, FILE_KEY_BYTES, SHA256_BYTES } from './limits.js'

const AD_LABEL = utf8('Jiayi_FileChunk_v1\u0000')

type Bytes = Uint8Array<ArrayBuffer>

export interface SealedChunk {
  readonly nonce: Uint8Array
  readonly sealed: Uint8Array
}

export class ChunkCipher {
  private constructor(
    /** The raw key for the provider's AES, or WebCrypto's key object. */
    private readonly key: Uint8Array | CryptoKey,
    private readonly fileId: Uint8Array,
  ) {}

  /** With `webCrypto`, WebCrypto's AES even where the provider has its own (tests compare them). */
  static async create(
    key: Uint8Array,
    fileId: Uint8Array,
    options: { readonly webCrypto?: boolean } = {},
  ): Promise<ChunkCipher> {
    assertBytes(key, FILE_KEY_BYTES, 'file key')
    assertBytes(fileId, FILE_ID_BYTES, 'file id')
    if (hasNativeAes256Gcm() && options.webCrypto !== true)
      return new ChunkCipher(Uint8Array.from(key), Uint8Array.from(fileId))
    const subtle = globalThis.crypto?.subtle
    if (subtle === undefined) throw new FileError('Storage', 'WebCrypto is not available here')
    const cryptoKey = await subtle.importKey('raw', Uint8Array.from(key), { name: 'AES-GCM' }, false, [
      'encrypt',
      'decrypt',
    ])
    return new ChunkCipher(cryptoKey, Uint8Array.from(fileId))
  }

  /** The associated data for chunk `index` of this file; the last chunk's binds the file's digest. */
  associatedData(index: number, sha256?: Uint8Array): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
      throw new FileError('BadInput', 'chunk index out of range')
    }
    if (sha256 !== undefined && sha256.length !== SHA256_BYTES)
      throw new FileError('BadInput', 'a file digest is 32 bytes')
    const out = concatBytes(AD_LABEL, this.fileId, new Uint8Array(4), sha256 ?? new Uint8Array(0))
    new DataView(out.buffer).setUint32(AD_LABEL.length + FILE_ID_BYTES, index, false)
    return out
  }

  /**
   * Seals chunk `index` (the last one with the file's `sha256`). The plaintext is read (the
   * provider's AES) or copied (WebCrypto takes a copy of its input when it is called, before the
   * first await here) before this returns its promise, so the caller may fill the same buffer
   * with the next chunk at once.
   */
  async seal(index: number, plaintext: Uint8Array, sha256?: Uint8Array): Promise<SealedChunk> {
    const nonce = randomBytes(CHUNK_NONCE_BYTES)
    const ad = this.associatedData(index, sha256)
    if (this.key instanceof Uint8Array)
      return { nonce, sealed: aes256GcmSeal(this.key, nonce, plaintext, ad) }
    const sealed = await globalThis.crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: nonce as Bytes,
        additionalData: ad as Bytes,
        tagLength: 128,
      },
      this.key,
      plaintext as Bytes,
    )
    return { nonce, sealed: new Uint8Array(sealed) }
  }

  /**
   * The plaintext of chunk `index` (the last one opens only with the digest it was sealed with);
   * FileError BadChunk if anything was changed. The inputs are copied before this returns its
   * promise, as for `seal`.
   */
  async open(index: number, nonce: Uint8Array, sealed: Uint8Array, sha256?: Uint8Array): Promise<Uint8Array> {
    if (nonce.length !== CHUNK_NONCE_BYTES || sealed.length < CHUNK_TAG_BYTES) {
      throw new FileError('BadChunk', 'chunk is malformed')
    }
    const ad = this.associatedData(index, sha256)
    try {
      if (this.key instanceof Uint8Array) return aes256GcmOpen(this.key, nonce, sealed, ad)
      const plain = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce as Bytes, additionalData: ad as Bytes, tagLength: 128 },
        this.key,
        sealed as Bytes,
      )
      return new Uint8Array(plain)
    } catch (cause) {
      if (FileError.is(cause)) throw cause
      throw new FileError('BadChunk', `chunk ${index} failed authentication`, { cause })
    }
  }
}
