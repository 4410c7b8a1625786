/**
 * Chunk sealing: AES-256-GCM, the crypto provider's (node:crypto, as in these runs) or WebCrypto's.
 * Known answers from the GCM specification (McGrew & Viega, "The Galois/Counter Mode of
 * Operation", test cases 13 and 14: 256-bit zero key, zero IV) for both, a differential check
 * against @noble/ciphers' independent AES-GCM on random inputs, the two opening each other's
 * chunks, and the binding of file id and chunk index: every changed bit anywhere is refused.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gcm } from '@noble/ciphers/aes.js'
import { bytesToHex, concatBytes, hexToBytes, randomBytes, utf8 } from '../src/bytes.js'
import { CryptoError } from '../src/crypto/errors.js'
import { aes256GcmOpen, aes256GcmSeal, hasNativeAes256Gcm } from '../src/crypto/primitives.js'
import { ChunkCipher } from '../src/files/chunk-cipher.js'
import { FileError } from '../src/files/errors.js'

type Bytes = Uint8Array<ArrayBuffer>

async function webGcm(
  key: Uint8Array,
  iv: Uint8Array,
  ad: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key as Bytes, 'AES-GCM', false, ['encrypt'])
  return new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: iv as Bytes, additionalData: ad as Bytes },
      k,
      data as Bytes,
    ),
  )
}

describe("chunk AEAD (AES-256-GCM: the provider's or WebCrypto's)", () => {
  it('the tests run where the provider has its own AES-256-GCM (node:crypto)', () => {
    assert.ok(hasNativeAes256Gcm() || process.env.JIAYI_CRYPTO === 'noble')
  })

  const native = async (key: Uint8Array, iv: Uint8Array, ad: Uint8Array, data: Uint8Array) =>
    hasNativeAes256Gcm() ? aes256GcmSeal(key, iv, data, ad) : webGcm(key, iv, ad, data)

  it('matches the GCM specification test cases 13 and 14', async () => {
    const key = new Uint8Array(32)
    const iv = new Uint8Array(12)
    for (const seal of [webGcm, native]) {
      assert.equal(
        bytesToHex(await seal(key, iv, new Uint8Array(), new Uint8Array())),
        '530f8afbc74536b9a963b4f1c4cb738b',
      )
      assert.equal(
        bytesToHex(await seal(key, iv, new Uint8Array(), new Uint8Array(16))),
        'cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919',
      )
    }
  })

  it('equals @noble/ciphers AES-GCM on random keys, nonces, data and lengths', async () => {
    for (let i = 0; i < 64; i++) {
      const key = randomBytes(32)
      const iv = randomBytes(12)
      const ad = randomBytes(i % 40)
      const data = new Uint8Array(i === 63 ? 256 * 1024 : Math.floor(Math.random() * 5000))
      for (let o = 0; o < data.length; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536))
      const expected = gcm(key, iv, ad).encrypt(data)
      assert.deepEqual(await webGcm(key, iv, ad, data), expected)
      assert.deepEqual(await native(key, iv, ad, data), expected)
      if (hasNativeAes256Gcm()) assert.deepEqual(aes256GcmOpen(key, iv, expected, ad), data)
    }
  })

  it('the AES-256-GCM primitives check their inputs and name a failed authentication', () => {
    if (!hasNativeAes256Gcm()) return
    const key = randomBytes(32)
    const iv = randomBytes(12)
    const sealed = aes256GcmSeal(key, iv, randomBytes(100), new Uint8Array(3))
    assert.throws(() => aes256GcmSeal(randomBytes(16), iv, randomBytes(1), new Uint8Array()), /AES key/)
    assert.throws(() => aes256GcmSeal(key, randomBytes(16), randomBytes(1), new Uint8Array()), /nonce/)
    const decryptFailed = (e: unknown) => CryptoError.is(e, 'DecryptFailed')
    assert.throws(() => aes256GcmOpen(key, iv, sealed, new Uint8Array(4)), decryptFailed)
    assert.throws(() => aes256GcmOpen(key, iv, sealed.subarray(0, 15), new Uint8Array(3)), decryptFailed)
  })

  it("the provider's chunks open with WebCrypto's and the other way round", async () => {
    const key = randomBytes(32)
    const fileId = randomBytes(16)
    const [own, web] = await Promise.all([
      ChunkCipher.create(key, fileId),
      ChunkCipher.create(key, fileId, { webCrypto: true }),
    ])
    const data = randomBytes(40_000)
    const digest = randomBytes(32)
    for (const [a, b] of [
      [own, web],
      [web, own],
    ] as const) {
      const { nonce, sealed } = await a.seal(4, data, digest)
      assert.deepEqual(await b.open(4, nonce, sealed, digest), data)
      const changed = Uint8Array.from(sealed)
      changed[7]! ^= 1
      await assert.rejects(b.open(4, nonce, changed, digest), (e: unknown) => FileError.is(e, 'BadChunk'))
    }
  })

  it('seals with a fresh random nonce and the documented associated data', async () => {
    const key = randomBytes(32)
    const fileId = randomBytes(16)
    const cipher = await ChunkCipher.create(key, fileId)
    const plaintext = randomBytes(1000)
    const a = await cipher.seal(5, plaintext)
    const b = await cipher.seal(5, plaintext)
    assert.notDeepEqual(a.nonce, b.nonce, 'a resent chunk never reuses a nonce')
    const ad = concatBytes(utf8('Jiayi_FileChunk_v1\u0000'), fileId, hexToBytes('00000005'))
    assert.deepEqual(cipher.associatedData(5), ad)
    assert.deepEqual(a.sealed, gcm(key, a.nonce, ad).encrypt(plaintext))
    assert.deepEqual(await cipher.open(5, a.nonce, a.sealed), plaintext)
    assert.deepEqual(await cipher.open(5, b.nonce, b.sealed), plaintext)
  })

  it('binds the last chunk to the file digest it carries', async () => {
    const key = randomBytes(32)
    const fileId = randomBytes(16)
    const cipher = await ChunkCipher.create(key, fileId)
    const plaintext = randomBytes(300)
    const digest = randomBytes(32)
    const { nonce, sealed } = await cipher.seal(9, plaintext, digest)
    const ad = concatBytes(utf8('Jiayi_FileChunk_v1\u0000'), fileId, hexToBytes('00000009'), digest)
    assert.deepEqual(cipher.associatedData(9, digest), ad)
    assert.deepEqual(sealed, gcm(key, nonce, ad).encrypt(plaintext))
    assert.deepEqual(await cipher.open(9, nonce, sealed, digest), plaintext)
    const badChunk = (e: unknown) => FileError.is(e, 'BadChunk')
    await assert.rejects(cipher.open(9, nonce, sealed), badChunk)
    const other = Uint8Array.from(digest)
    other[31]! ^= 1
    await assert.rejects(cipher.open(9, nonce, sealed, other), badChunk)
    const plain = await cipher.seal(9, plaintext)
    await assert.rejects(cipher.open(9, plain.nonce, plain.sealed, digest), badChunk)
    await assert.rejects(cipher.seal(9, plaintext, randomBytes(31)), (e: unknown) =>
      FileError.is(e, 'BadInput'),
    )
  })

  it('takes its input before it returns: the caller may reuse the buffer at once', async () => {
    for (const webCrypto of [false, true]) {
      const cipher = await ChunkCipher.create(randomBytes(32), randomBytes(16), { webCrypto })
      const buffer = randomBytes(64 * 1024)
      const original = Uint8Array.from(buffer)
      const sealing = cipher.seal(0, buffer)
      buffer.fill(0)
      const { nonce, sealed } = await sealing
      const opening = cipher.open(0, nonce, sealed)
      sealed.fill(0)
      assert.deepEqual(await opening, original)
    }
  })

  it('refuses a flipped bit anywhere, another index, another file, another key', async () => {
    const key = randomBytes(32)
    const fileId = randomBytes(16)
    const cipher = await ChunkCipher.create(key, fileId)
    const { nonce, sealed } = await cipher.seal(3, randomBytes(64))
    const refused = async (p: Promise<unknown>) =>
      assert.rejects(
        p,
        (e: unknown) => FileError.is(e, 'BadChunk') && !/[0-9a-f]{32}/.test((e as Error).message),
      )
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const changed = Uint8Array.from(sealed)
      changed[bit >> 3]! ^= 1 << (bit & 7)
      await refused(cipher.open(3, nonce, changed))
    }
    for (let bit = 0; bit < nonce.length * 8; bit += 7) {
      const changed = Uint8Array.from(nonce)
      changed[bit >> 3]! ^= 1 << (bit & 7)
      await refused(cipher.open(3, changed, sealed))
    }
    await refused(cipher.open(2, nonce, sealed))
    await refused(cipher.open(4, nonce, sealed))
    await refused((await ChunkCipher.create(key, randomBytes(16))).open(3, nonce, sealed))
    await refused((await ChunkCipher.create(randomBytes(32), fileId)).open(3, nonce, sealed))
    await refused(cipher.open(3, nonce, sealed.subarray(0, sealed.length - 1)))
    await refused(cipher.open(3, nonce.subarray(1), sealed))
    await refused(cipher.open(3, nonce, new Uint8Array(15)))
  })

  it('checks key, file id and index at the boundary', async () => {
    await assert.rejects(ChunkCipher.create(randomBytes(16), randomBytes(16)))
    await assert.rejects(ChunkCipher.create(randomBytes(32), randomBytes(8)))
    const cipher = await ChunkCipher.create(randomBytes(32), randomBytes(16))
    assert.throws(
      () => cipher.associatedData(-1),
      (e: unknown) => FileError.is(e, 'BadInput'),
    )
    assert.throws(
      () => cipher.associatedData(2 ** 32),
      (e: unknown) => FileError.is(e, 'BadInput'),
    )
  })
})
