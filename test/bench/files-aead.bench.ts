/**
 * Which AEAD seals file chunks (PROTOCOL.md "Files" quotes these figures): 256 KiB chunks sealed
 * and opened with @noble/ciphers ChaCha20-Poly1305 (pure JS, on the calling thread) and with
 * AES-256-GCM through WebCrypto (native; asynchronous, off the calling thread), one at a time and
 * four in flight as the file pipeline runs them. Throughput counts plaintext bytes.
 *
 * - file.chunk_seal_mb_s: WebCrypto AES-256-GCM sealing, 4 in flight; baseline @noble ChaCha20-Poly1305.
 * - file.chunk_open_mb_s: the same for opening.
 */

import { ChunkCipher, randomBytes } from '@jiayi/core'
import { gcm } from '@noble/ciphers/aes.js'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { report } from './report.js'

const CHUNK = 256 * 1024
const data = new Uint8Array(CHUNK)
for (let i = 0; i < CHUNK; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536))
const key = randomBytes(32)
const nonce = randomBytes(12)
const ad = randomBytes(38)

function syncMbS(fn: () => void, ms = 1500): number {
  for (let i = 0; i < 8; i++) fn()
  let n = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    fn()
    n++
  }
  return (n * CHUNK) / 1e6 / ((performance.now() - start) / 1000)
}

async function asyncMbS(fn: () => Promise<unknown>, inFlight: number, ms = 1500): Promise<number> {
  for (let i = 0; i < 8; i++) await fn()
  let n = 0
  const start = performance.now()
  const lanes = Array.from({ length: inFlight }, async () => {
    while (performance.now() - start < ms) {
      await fn()
      n++
    }
  })
  await Promise.all(lanes)
  return (n * CHUNK) / 1e6 / ((performance.now() - start) / 1000)
}

const sealedChacha = chacha20poly1305(key, nonce, ad).encrypt(data)
const nobleSeal = syncMbS(() => chacha20poly1305(key, nonce, ad).encrypt(data))
const nobleOpen = syncMbS(() => chacha20poly1305(key, nonce, ad).decrypt(sealedChacha))
const nobleGcm = syncMbS(() => gcm(key, nonce, ad).encrypt(data), 800)

const cipher = await ChunkCipher.create(key, randomBytes(16))
const { nonce: n0, sealed } = await cipher.seal(7, data)
const webSeal1 = await asyncMbS(() => cipher.seal(7, data), 1)
const webOpen1 = await asyncMbS(() => cipher.open(7, n0, sealed), 1)
const webSeal4 = await asyncMbS(() => cipher.seal(7, data), 4)
const webOpen4 = await asyncMbS(() => cipher.open(7, n0, sealed), 4)

report({
  bench: 'file.chunk_seal_mb_s',
  value: webSeal4,
  unit: 'MB/s',
  baseline: 'noble.chacha20poly1305_seal_mb_s',
  baselineValue: nobleSeal,
  webcryptoOneAtATime: webSeal1,
  nobleAesGcm: nobleGcm,
})
report({
  bench: 'file.chunk_open_mb_s',
  value: webOpen4,
  unit: 'MB/s',
  baseline: 'noble.chacha20poly1305_open_mb_s',
  baselineValue: nobleOpen,
  webcryptoOneAtATime: webOpen1,
})
