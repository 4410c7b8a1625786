/**
 * The primitives a crypto provider supplies to crypto/primitives.ts, as @libp2p/noise's
 * `ICryptoInterface` does: @noble (noble-provider.ts) everywhere, node:crypto
 * (node-provider.ts) where Node runs. Inputs reach a provider already checked by primitives.ts
 * (key, nonce and signature lengths, HKDF output length), and its failures are turned into typed
 * errors there; a provider only computes, byte for byte as the other one does.
 */
export interface CryptoProvider {
  /** For benchmarks and diagnostics; no code may branch on it. */
  readonly name: string
  sha256(data: Uint8Array): Uint8Array
  sha512(data: Uint8Array): Uint8Array
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array
  /** HMAC-SHA256 under one key for many messages (a provider may prepare the key once). */
  hmacSha256With(key: Uint8Array): (data: Uint8Array) => Uint8Array
  /** RFC 5869 with an explicit salt; `length` is 1..8160. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array
  /** RFC 8439 with a 12-byte nonce: writes ciphertext || tag (plaintext + 16 bytes) into `output`. */
  chacha20Poly1305Seal(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: Uint8Array,
    output: Uint8Array,
  ): void
  /** Opens ciphertext || tag; throws on any authentication failure. */
  chacha20Poly1305Open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array
  /** XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) with a 24-byte nonce; otherwise as above. */
  xchacha20Poly1305Seal(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: Uint8Array,
    output: Uint8Array,
  ): void
  xchacha20Poly1305Open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array
  /**
   * AES-256-GCM (NIST SP 800-38D) with a 12-byte nonce and a 16-byte tag: returns ciphertext ||
   * tag. Only where the platform computes it natively and at once (node:crypto): file chunks then
   * use it; without it they go through WebCrypto's (native in browsers, but asynchronous, and in
   * Node ~2.5x the CPU of node:crypto's for a 256 KiB chunk). @noble's pure-JS AES is far slower
   * than either, so the @noble provider leaves these out.
   */
  aes256GcmSeal?(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array
  /** Opens ciphertext || tag; throws on any authentication failure. */
  aes256GcmOpen?(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array
  x25519PublicKey(secretKey: Uint8Array): Uint8Array
  /** RFC 7748 X25519; throws when the result is all zero (a low-order public key). */
  x25519Shared(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array
  /** Strict RFC 8032: non-canonical encodings and small-order keys fail; may throw. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
}
