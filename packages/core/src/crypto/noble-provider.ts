/**
 * The reference provider: @noble's audited pure-JS primitives, the browser's implementation and
 * the default everywhere until a platform installs another (see primitives.ts).
 */
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import type { CryptoProvider } from './provider.js'

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  sha256: (data) => sha256(data),
  sha512: (data) => sha512(data),
  hmacSha256: (key, data) => hmac(sha256, key, data),
  hmacSha256With(key) {
    // The key's inner and outer pads are hashed once here, not once per message.
    const keyed = hmac.create(sha256, key)
    return (data) => keyed.clone().update(data).digest()
  },
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  chacha20Poly1305Seal(key, nonce, ad, plaintext, output) {
    chacha20poly1305(key, nonce, ad).encrypt(plaintext, output)
  },
  chacha20Poly1305Open: (key, nonce, ad, sealed) => chacha20poly1305(key, nonce, ad).decrypt(sealed),
  xchacha20Poly1305Seal(key, nonce, ad, plaintext, output) {
    xchacha20poly1305(key, nonce, ad).encrypt(plaintext, output)
  },
  xchacha20Poly1305Open: (key, nonce, ad, sealed) => xchacha20poly1305(key, nonce, ad).decrypt(sealed),
  x25519PublicKey: (secretKey) => x25519.getPublicKey(secretKey),
  x25519Shared: (secretKey, publicKey) => x25519.getSharedSecret(secretKey, publicKey),
  ed25519PublicKey: (secretKey) => ed25519.getPublicKey(secretKey),
  ed25519Sign: (secretKey, message) => ed25519.sign(message, secretKey),
  // `zip215: false` is RFC 8032's strict rule: the permissive default accepts Wycheproof
  // ed25519 tcId 151, which RFC 8032 rejects.
  ed25519Verify: (publicKey, message, signature) =>
    ed25519.verify(signature, message, publicKey, { zip215: false }),
}
