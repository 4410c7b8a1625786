import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { concatBytes, randomBytes, utf8 } from '../src/bytes.js'
import { seal } from '../src/crypto/primitives.js'
import { InputError } from '../src/errors.js'
import { StoreError } from '../src/store/errors.js'
import { key } from '../src/store/keys.js'
import { LevelStore } from '../src/store/level.js'
import { MemoryStore } from '../src/store/memory.js'
import {
  END_TO_END_FAMILIES,
  HINT_FAMILIES,
  isHintKey,
  SealedStore,
  STORE_HEADER_KEY,
} from '../src/store/sealed.js'
import type { Store } from '../src/store/store.js'
import { changeStoreSecret, hasKeyHeader, openSealedStore } from '../src/store/unlock.js'
import { collect } from './store-compliance.js'

const FAST = { params: { m: 64, t: 1, p: 1 } }
const corrupt = (e: unknown) => StoreError.is(e, 'Corrupt')

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* files(path)
    else yield path
  }
}

/** Every file under `dir` that contains `needle` anywhere in its bytes. */
async function filesContaining(dir: string, needle: Uint8Array): Promise<string[]> {
  const hits: string[] = []
  for await (const path of files(dir)) {
    if ((await readFile(path)).includes(Buffer.from(needle))) hits.push(path)
  }
  return hits
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-sealed-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function writeMarkers(store: Store, marker: string): Promise<void> {
  await store.put(key('msg', 1), utf8(`${marker} via put`))
  await store.batch([
    { type: 'put', key: key('msg', 2), value: utf8(`${marker} via batch`) },
    { type: 'put', key: key('session', 'x'), value: utf8(marker.repeat(50)) },
  ])
  // Overwritten and deleted values must not linger in plaintext either (LevelDB keeps old
  // versions in its log and tables until compaction).
  await store.put(key('msg', 3), utf8(`${marker} overwritten`))
  await store.put(key('msg', 3), utf8('replacement'))
  await store.put(key('msg', 4), utf8(`${marker} deleted`))
  await store.del(key('msg', 4))
}

test('at rest: no plaintext in any file of the LevelDB directory (and the scan would see it)', () =>
  withDir(async (dir) => {
    const marker = `JIAYI-PLAINTEXT-${Buffer.from(randomBytes(8)).toString('hex')}`
    const passphrase = `pass-${Buffer.from(randomBytes(8)).toString('hex')}`

    // Control: the same writes through an unsealed store are found by the scan.
    const plainDir = join(dir, 'plain')
    const plain = await LevelStore.open(plainDir)
    await writeMarkers(plain, marker)
    await plain.close()
    assert.ok((await filesContaining(plainDir, utf8(marker))).length > 0, 'the scan finds plaintext')

    const sealedDir = join(dir, 'sealed')
    const store = await openSealedStore(await LevelStore.open(sealedDir), { passphrase }, FAST)
    await writeMarkers(store, marker)
    await store.close()
    assert.deepEqual(await filesContaining(sealedDir, utf8(marker)), [])
    assert.deepEqual(await filesContaining(sealedDir, utf8(passphrase)), [])
    assert.deepEqual(await filesContaining(sealedDir, utf8('replacement')), [])

    // And it all comes back with the passphrase.
    const again = await openSealedStore(await LevelStore.open(sealedDir), { passphrase })
    assert.equal(Buffer.from((await again.get(key('msg', 2)))!).toString(), `${marker} via batch`)
    assert.equal(await again.get(key('msg', 4)), undefined)
    await again.close()
  }))

test('a value moved or swapped to another key fails to open as Corrupt', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.put(key('a'), utf8('for a'))
  await store.put(key('b'), utf8('for b'))
  const ra = (await inner.get(key('a')))!
  const rb = (await inner.get(key('b')))!
  await inner.batch([
    { type: 'put', key: key('a'), value: rb },
    { type: 'put', key: key('b'), value: ra },
    { type: 'put', key: key('c'), value: ra },
  ])
  await assert.rejects(store.get(key('a')), corrupt)
  await assert.rejects(store.get(key('b')), corrupt)
  await assert.rejects(store.get(key('c')), corrupt)
  await assert.rejects(collect(store.iterate()), corrupt, 'iteration refuses too, never yields garbage')
})

test('tampered, truncated or unknown-format records are Corrupt', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.put(key('k'), utf8('hello'))
  const record = (await inner.get(key('k')))!
  assert.equal(record.length, 1 + 24 + 5 + 16)
  for (let i = 0; i < record.length; i++) {
    const bad = record.slice()
    bad[i]! ^= 0x80
    await inner.put(key('k'), bad)
    await assert.rejects(store.get(key('k')), corrupt, `byte ${i}`)
  }
  for (const bad of [new Uint8Array(0), record.subarray(0, 40), record.subarray(1)]) {
    await inner.put(key('k'), bad)
    await assert.rejects(store.get(key('k')), corrupt)
  }
})

/** A record as SealedStore wrote every value before hint families: %x01 nonce ciphertext tag. */
function concatSealed(dataKey: Uint8Array, k: Uint8Array, value: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(0x01), seal(dataKey, value, k))
}

test('hint families are stored in the clear; nothing else can be downgraded to it', async () => {
  assert.deepEqual(HINT_FAMILIES, ['msgid', 'unread'])
  assert.ok(isHintKey(key('msgid', 'c', Uint8Array.of(1, 2))) && isHintKey(key('unread', 'c', 7)))
  assert.ok(!isHintKey(key('msgid')) && !isHintKey(key('msg', 'c', 7)) && !isHintKey(key('msgidx', 1)))
  const inner = new MemoryStore()
  const dataKey = randomBytes(32)
  const store = new SealedStore(inner, dataKey)
  await store.batch([
    { type: 'put', key: key('msgid', 'c', Uint8Array.of(9)), value: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 7) },
    { type: 'put', key: key('unread', 'c', 7), value: new Uint8Array(0) },
    { type: 'put', key: key('msg', 'c', 7), value: utf8('sealed as ever') },
  ])
  assert.deepEqual(
    await inner.get(key('msgid', 'c', Uint8Array.of(9))),
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 7),
  )
  assert.deepEqual(await inner.get(key('unread', 'c', 7)), Uint8Array.of(0))
  assert.equal((await inner.get(key('msg', 'c', 7)))![0], 0x01)
  assert.deepEqual(await store.get(key('unread', 'c', 7)), new Uint8Array(0))
  assert.deepEqual(
    (await collect(store.iterate())).map(([, v]) => v.length),
    [14, 8, 0],
    'iteration opens both kinds (msg, msgid, unread in key order)',
  )
  // A record of any other family written in the clear is refused, never believed.
  await inner.put(key('msg', 'c', 8), Uint8Array.of(0x00, ...utf8('forged')))
  await assert.rejects(store.get(key('msg', 'c', 8)), corrupt)
  // Hint records sealed by an older version still open, and tampering with those still shows.
  const sealedHint = key('unread', 'c', 9)
  await inner.put(sealedHint, concatSealed(dataKey, sealedHint, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 9)))
  assert.deepEqual(await store.get(sealedHint), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 9))
  const bad = (await inner.get(sealedHint))!.slice()
  bad[30]! ^= 1
  await inner.put(sealedHint, bad)
  await assert.rejects(store.get(sealedHint), corrupt)
})

test('end-to-end families: a write marked sealedEndToEnd is stored as it is, only there', async () => {
  assert.deepEqual(END_TO_END_FAMILIES, ['outbox'])
  const inner = new MemoryStore()
  const dataKey = randomBytes(32)
  const store = new SealedStore(inner, dataKey)
  const envelope = randomBytes(40)
  await store.batch([
    { type: 'put', key: key('outbox', 'c', 1), value: envelope, sealedEndToEnd: true },
    { type: 'put', key: key('outbox', 'c', 2), value: utf8('not marked: sealed') },
  ])
  assert.deepEqual(await inner.get(key('outbox', 'c', 1)), concatBytes(Uint8Array.of(0x00), envelope))
  assert.equal((await inner.get(key('outbox', 'c', 2)))![0], 0x01)
  assert.deepEqual(await store.get(key('outbox', 'c', 1)), envelope)
  assert.deepEqual(await store.get(key('outbox', 'c', 2)), utf8('not marked: sealed'))
  assert.deepEqual(
    (await collect(store.iterate())).map(([, v]) => v.length),
    [40, 18],
    'iteration opens both kinds',
  )
  // Another family cannot be written in the clear this way, and the batch writes nothing.
  await assert.rejects(
    store.batch([
      { type: 'put', key: key('outbox', 'c', 3), value: envelope, sealedEndToEnd: true },
      { type: 'put', key: key('msg', 'c', 1), value: utf8('secret'), sealedEndToEnd: true },
    ]),
    (e) => InputError.is(e, 'BadType'),
  )
  assert.equal(await inner.get(key('outbox', 'c', 3)), undefined)
  assert.equal(await inner.get(key('msg', 'c', 1)), undefined)
  // A sealed outbox record (as every one was before) still opens, and tampering still shows.
  const older = key('outbox', 'c', 4)
  await inner.put(older, concatSealed(dataKey, older, utf8('{"seq":4}')))
  assert.deepEqual(await store.get(older), utf8('{"seq":4}'))
  const bad = (await inner.get(older))!.slice()
  bad[30]! ^= 1
  await inner.put(older, bad)
  await assert.rejects(store.get(older), corrupt)
})

test('the same value sealed twice gives different bytes (random nonces)', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.put(key('a'), utf8('same'))
  const first = await inner.get(key('a'))
  await store.put(key('a'), utf8('same'))
  assert.notDeepEqual(await inner.get(key('a')), first)
})

test('a wrong key: bare data key reads Corrupt; through the header it is WrongKey up front', async () => {
  const inner = new MemoryStore()
  const fileKey = randomBytes(32)
  const right = await openSealedStore(inner, { key: fileKey })
  await right.put(key('a'), utf8('x'))
  const wrongBare = new SealedStore(inner, randomBytes(32))
  await assert.rejects(wrongBare.get(key('a')), corrupt)
  await assert.rejects(openSealedStore(inner, { key: randomBytes(32) }), (e) => StoreError.is(e, 'WrongKey'))
  await assert.rejects(openSealedStore(inner, { passphrase: 'pw' }), (e) => StoreError.is(e, 'BadPassphrase'))
  assert.throws(
    () => new SealedStore(inner, randomBytes(16)),
    (e) => e instanceof InputError,
  )
})

test('passphrase: create, reopen at the real cost, wrong passphrase is BadPassphrase', () =>
  withDir(async (dir) => {
    const level = await LevelStore.open(dir)
    assert.equal(await hasKeyHeader(level), false)
    const store = await openSealedStore(level, { passphrase: '我的密码 🔑' })
    await store.put(key('contact', 1), utf8('Alice'))
    await store.close()

    const again = await LevelStore.open(dir)
    assert.equal(await hasKeyHeader(again), true)
    await assert.rejects(openSealedStore(again, { passphrase: '我的密码' }), (e) =>
      StoreError.is(e, 'BadPassphrase'),
    )
    const unlocked = await openSealedStore(again, { passphrase: '我的密码 🔑' })
    assert.deepEqual(await unlocked.get(key('contact', 1)), utf8('Alice'))
    await unlocked.close()
  }))

test('changing the secret rewrites only the header; data stays readable', async () => {
  const inner = new MemoryStore()
  const store = await openSealedStore(inner, { passphrase: 'old' }, FAST)
  await store.put(key('m', 1), utf8('kept'))
  const recordBefore = await inner.get(key('m', 1))
  await changeStoreSecret(inner, { passphrase: 'old' }, { passphrase: 'new' }, FAST)
  assert.deepEqual(await inner.get(key('m', 1)), recordBefore)
  await assert.rejects(openSealedStore(inner, { passphrase: 'old' }), (e) =>
    StoreError.is(e, 'BadPassphrase'),
  )
  const reopened = await openSealedStore(inner, { passphrase: 'new' })
  assert.deepEqual(await reopened.get(key('m', 1)), utf8('kept'))
  await assert.rejects(changeStoreSecret(new MemoryStore(), { passphrase: 'a' }, { passphrase: 'b' }), (e) =>
    StoreError.is(e, 'BadHeader'),
  )
})

test('records without a key header are refused, not silently re-keyed', async () => {
  const inner = new MemoryStore()
  await inner.put(key('x'), utf8('from somewhere'))
  await assert.rejects(openSealedStore(inner, { key: randomBytes(32) }), corrupt)
  assert.equal(await hasKeyHeader(inner), false, 'nothing was written')
})

test('the key header is hidden and reserved', async () => {
  const inner = new MemoryStore()
  const store = await openSealedStore(inner, { key: randomBytes(32) })
  // Keys around the header (it starts with 0x00) so it falls inside ranges and limits.
  const around = [
    Uint8Array.of(0x00),
    Uint8Array.of(0x00, 0x01),
    Uint8Array.of(0x00, 0x7f),
    Uint8Array.of(0x01),
  ]
  for (const k of around) await store.put(k, k)
  assert.equal(await store.get(STORE_HEADER_KEY), undefined)
  const all = await collect(store.iterate())
  assert.deepEqual(
    all.map(([k]) => k),
    around,
  )
  assert.deepEqual(
    (await collect(store.iterate({ gt: Uint8Array.of(0x00, 0x01), limit: 1 }))).map(([k]) => k),
    [Uint8Array.of(0x00, 0x7f)],
  )
  assert.deepEqual(
    (await collect(store.iterate({ lt: Uint8Array.of(0x01), reverse: true, limit: 1 }))).map(([k]) => k),
    [Uint8Array.of(0x00, 0x7f)],
  )
  const reserved = (e: unknown) => e instanceof InputError
  await assert.rejects(store.put(STORE_HEADER_KEY, utf8('x')), reserved)
  await assert.rejects(store.del(STORE_HEADER_KEY), reserved)
  await assert.rejects(store.batch([{ type: 'del', key: STORE_HEADER_KEY }]), reserved)
  assert.equal(await hasKeyHeader(inner), true)
})

test('closing the sealed store closes the inner one', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.close()
  await assert.rejects(inner.get(key('a')), (e) => StoreError.is(e, 'Closed'))
})
