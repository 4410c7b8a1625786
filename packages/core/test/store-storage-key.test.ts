import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bytesToHex, randomBytes, utf8 } from '../src/bytes.js'
import { InputError } from '../src/errors.js'
import { StoreError } from '../src/store/errors.js'
import {
  ARGON2_PARAMS,
  createKeyHeader,
  deriveStorageKeyFromPassphrase,
  type KeyWrapper,
  keyHeaderKind,
  openKeyHeader,
  rewrapKeyHeader,
} from '../src/store/storage-key.js'

/**
 * Argon2id v1.3 known answers from the reference implementation, phc-winner-argon2 src/test.c
 * ("Test Argon2id version number: 13" block): password "password", salt "somesalt", 32-byte tag.
 * RFC 9106's own vector needs a secret and associated data, which this KDF does not take.
 */
const REFERENCE = [
  { m: 256, t: 2, p: 1, tag: '9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe' },
  { m: 256, t: 2, p: 2, tag: '6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037' },
  { m: 65536, t: 2, p: 1, tag: '09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7' },
]

/** Cheap parameters for tests that exercise the header logic rather than the KDF's cost. */
const FAST = { params: { m: 64, t: 1, p: 1 } }

test('Argon2id matches the reference implementation vectors', async () => {
  for (const { m, t, p, tag } of REFERENCE) {
    const out = await deriveStorageKeyFromPassphrase('password', utf8('somesalt'), { params: { m, t, p } })
    assert.equal(bytesToHex(out), tag, `m=${m} t=${t} p=${p}`)
  }
})

test('default parameters are m = 19 MiB, t = 2, p = 1; derivation reports progress', async () => {
  assert.deepEqual({ ...ARGON2_PARAMS }, { m: 19456, t: 2, p: 1 })
  const salt = randomBytes(16)
  const progress: number[] = []
  const started = performance.now()
  const a = await deriveStorageKeyFromPassphrase('correct horse', salt, {
    onProgress: (f) => progress.push(f),
  })
  const ms = performance.now() - started
  const b = await deriveStorageKeyFromPassphrase('correct horse', salt)
  assert.equal(a.length, 32)
  assert.deepEqual(a, b, 'deterministic for one salt')
  assert.notDeepEqual(a, await deriveStorageKeyFromPassphrase('correct horse', randomBytes(16), FAST))
  assert.ok(progress.length > 1 && progress.at(-1)! >= 0.99, 'progress reaches the end')
  console.log(`# argon2id m=19456 t=2 p=1: ${ms.toFixed(0)} ms`)
})

test('passphrases are NFC-normalised: one passphrase, one key, however it was typed', async () => {
  const salt = randomBytes(16)
  const composed = await deriveStorageKeyFromPassphrase('caf\u00e9 密码', salt, FAST)
  const decomposed = await deriveStorageKeyFromPassphrase('cafe\u0301 密码', salt, FAST)
  assert.deepEqual(composed, decomposed)
})

test('derivation rejects bad input with InputError', async () => {
  const isInput = (e: unknown) => e instanceof InputError
  await assert.rejects(deriveStorageKeyFromPassphrase('', randomBytes(16)), isInput)
  await assert.rejects(deriveStorageKeyFromPassphrase(new Uint8Array(0), randomBytes(16)), isInput)
  await assert.rejects(deriveStorageKeyFromPassphrase('pw', randomBytes(7)), isInput)
  await assert.rejects(deriveStorageKeyFromPassphrase('pw', 'salt' as unknown as Uint8Array), isInput)
  await assert.rejects(
    deriveStorageKeyFromPassphrase('pw', randomBytes(16), { params: { m: 4, t: 1, p: 1 } }),
    isInput,
  )
  await assert.rejects(
    deriveStorageKeyFromPassphrase('pw', randomBytes(16), { params: { m: 64, t: 0, p: 1 } }),
    isInput,
  )
  await assert.rejects(
    deriveStorageKeyFromPassphrase('pw', randomBytes(16), { params: { m: 2 ** 21, t: 1, p: 1 } }),
    isInput,
    'more than 1 GiB is refused',
  )
})

test('key header: passphrase round trip at the real cost, wrong passphrase is BadPassphrase', async () => {
  const { header, dataKey } = await createKeyHeader({ passphrase: '一二三 four' })
  assert.equal(header.length, 2 + 12 + 16 + 72)
  assert.deepEqual(await openKeyHeader(header, { passphrase: '一二三 four' }), dataKey)
  await assert.rejects(openKeyHeader(header, { passphrase: '一二三 fou' }), (e) =>
    StoreError.is(e, 'BadPassphrase'),
  )
  await assert.rejects(openKeyHeader(header, { key: randomBytes(32) }), (e) => StoreError.is(e, 'WrongKey'))
})

test('key header: key-file round trip, wrong key is WrongKey', async () => {
  const fileKey = randomBytes(32)
  const { header, dataKey } = await createKeyHeader({ key: fileKey })
  assert.equal(header.length, 2 + 72)
  assert.deepEqual(await openKeyHeader(header, { key: fileKey }), dataKey)
  await assert.rejects(openKeyHeader(header, { key: randomBytes(32) }), (e) => StoreError.is(e, 'WrongKey'))
  await assert.rejects(openKeyHeader(header, { passphrase: 'x' }), (e) => StoreError.is(e, 'BadPassphrase'))
  await assert.rejects(openKeyHeader(header, { key: randomBytes(31) }), (e) => e instanceof InputError)
  const data2 = (await createKeyHeader({ key: fileKey })).dataKey
  assert.notDeepEqual(data2, dataKey, 'every header holds a fresh random data key')
})

test('key header: tampering anywhere fails; malformed bytes are BadHeader', async () => {
  const secret = { passphrase: 'pw' }
  const { header } = await createKeyHeader(secret, FAST)
  // Every byte is covered: the KDF fields change the key, the rest is sealed or is the AD.
  for (let i = 0; i < header.length; i++) {
    const bad = header.slice()
    bad[i]! ^= 0x01
    await assert.rejects(
      openKeyHeader(bad, secret),
      (e) =>
        StoreError.is(e, 'BadPassphrase') || StoreError.is(e, 'BadHeader') || StoreError.is(e, 'WrongKey'),
      `byte ${i}`,
    )
  }
  const badHeader = (e: unknown) => StoreError.is(e, 'BadHeader')
  await assert.rejects(openKeyHeader(new Uint8Array(0), secret), badHeader)
  await assert.rejects(openKeyHeader(header.subarray(0, header.length - 1), secret), badHeader)
  await assert.rejects(openKeyHeader(Uint8Array.of(0x02, ...header.subarray(1)), secret), badHeader)
  await assert.rejects(openKeyHeader(Uint8Array.of(0x01, 0x09, ...header.subarray(2)), secret), badHeader)
  // A planted header asking for 4 GiB of memory is refused before any work is done.
  const greedy = header.slice()
  new DataView(greedy.buffer).setUint32(2, 4 * 1024 * 1024, false)
  await assert.rejects(openKeyHeader(greedy, secret), badHeader)
})

test('key header: rewrap changes the secret and keeps the data key', async () => {
  const { header, dataKey } = await createKeyHeader({ passphrase: 'old' }, FAST)
  const fileKey = randomBytes(32)
  const toNew = await rewrapKeyHeader(header, { passphrase: 'old' }, { passphrase: 'new' }, FAST)
  assert.deepEqual(await openKeyHeader(toNew, { passphrase: 'new' }), dataKey)
  await assert.rejects(openKeyHeader(toNew, { passphrase: 'old' }), (e) => StoreError.is(e, 'BadPassphrase'))
  const toFile = await rewrapKeyHeader(toNew, { passphrase: 'new' }, { key: fileKey })
  assert.deepEqual(await openKeyHeader(toFile, { key: fileKey }), dataKey)
  await assert.rejects(rewrapKeyHeader(toFile, { key: randomBytes(32) }, { passphrase: 'x' }), (e) =>
    StoreError.is(e, 'WrongKey'),
  )
})

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (e) {
    assert.ok(e instanceof Error)
    return e
  }
  assert.fail('expected a rejection')
}

test('errors never carry secrets in their messages', async () => {
  const fileKey = randomBytes(32)
  const { header } = await createKeyHeader({ key: fileKey })
  const wrong = randomBytes(32)
  const error = await rejection(openKeyHeader(header, { key: wrong }))
  const text = `${error.message} ${String(error.stack)}`
  for (const secret of [fileKey, wrong]) {
    assert.ok(!text.includes(bytesToHex(secret)) && !text.includes(Buffer.from(secret).toString('base64')))
  }
  const { header: pwHeader } = await createKeyHeader({ passphrase: 'hunter2-secret' }, FAST)
  const pwError = await rejection(openKeyHeader(pwHeader, { passphrase: 'hunter3-secret' }))
  assert.ok(!pwError.message.includes('hunter'))
})

/** The browser's wrapper: a non-extractable AES-GCM CryptoKey (Node's WebCrypto is the same API). */
async function aesGcmWrapper(): Promise<KeyWrapper> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  return {
    async wrap(dataKey, ad) {
      const iv = randomBytes(12)
      const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: ad }, key, dataKey)
      return Uint8Array.of(...iv, ...new Uint8Array(sealed))
    },
    async unwrap(wrapped, ad) {
      const iv = wrapped.subarray(0, 12)
      const opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: ad },
        key,
        wrapped.subarray(12),
      )
      return new Uint8Array(opened)
    },
  }
}

test('key header: a platform key wrapper (non-extractable AES-GCM) round trip, tampering, kinds', async () => {
  const wrapper = await aesGcmWrapper()
  const { header, dataKey } = await createKeyHeader({ wrapper })
  assert.equal(header.length, 2 + 12 + 32 + 16)
  assert.equal(keyHeaderKind(header), 'wrapper')
  assert.deepEqual(await openKeyHeader(header, { wrapper }), dataKey)
  const wrongKey = (e: unknown) => StoreError.is(e, 'WrongKey')
  await assert.rejects(openKeyHeader(header, { wrapper: await aesGcmWrapper() }), wrongKey)
  await assert.rejects(openKeyHeader(header, { key: randomBytes(32) }), wrongKey)
  await assert.rejects(openKeyHeader(header, { passphrase: 'x' }), (e) => StoreError.is(e, 'BadPassphrase'))
  for (let i = 0; i < header.length; i++) {
    const bad = header.slice()
    bad[i]! ^= 0x01
    await assert.rejects(
      openKeyHeader(bad, { wrapper }),
      (e) => StoreError.is(e, 'WrongKey') || StoreError.is(e, 'BadHeader'),
      `byte ${i}`,
    )
  }
  await assert.rejects(openKeyHeader(header.subarray(0, 2 + 31), { wrapper }), (e) =>
    StoreError.is(e, 'BadHeader'),
  )
  // A passphrase set later replaces the wrapper; removing it goes back to a (new) wrapper.
  const withPassphrase = await rewrapKeyHeader(header, { wrapper }, { passphrase: 'pw' }, FAST)
  assert.equal(keyHeaderKind(withPassphrase), 'passphrase')
  await assert.rejects(openKeyHeader(withPassphrase, { wrapper }), wrongKey)
  const other = await aesGcmWrapper()
  const back = await rewrapKeyHeader(withPassphrase, { passphrase: 'pw' }, { wrapper: other })
  assert.deepEqual(await openKeyHeader(back, { wrapper: other }), dataKey)
  assert.equal(keyHeaderKind((await createKeyHeader({ key: randomBytes(32) })).header), 'key')
  // A wrapper that returns something absurd is a caller bug, refused before anything is stored.
  const broken: KeyWrapper = { wrap: async () => new Uint8Array(4), unwrap: async (w) => w }
  await assert.rejects(createKeyHeader({ wrapper: broken }), (e) => e instanceof InputError)
})
