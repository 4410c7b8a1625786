/**
 * SealedStore's record format and key names: every value sealed, the application's key inside
 * the seal, ids on disk only as keyed hashes (a change of secret: store-rekey.test.ts).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { randomBytes, utf8 } from '../src/bytes.js'
import { InputError } from '../src/errors.js'
import { StoreError } from '../src/store/errors.js'
import { key } from '../src/store/keys.js'
import { LAYOUT_KEY } from '../src/store/layout.js'
import { LevelStore } from '../src/store/level.js'
import { MemoryStore } from '../src/store/memory.js'
import { END_TO_END_FAMILIES, SealedStore, STORE_HEADER_KEY } from '../src/store/sealed.js'
import type { Store } from '../src/store/store.js'
import { hasKeyHeader, openSealedStore } from '../src/store/unlock.js'
import { filesContaining, occursIn, rawRecords, withDir } from './helpers/store-disk.js'
import { collect } from './store-compliance.js'

const FAST = { params: { m: 64, t: 1, p: 1 } }
const corrupt = (e: unknown) => StoreError.is(e, 'Corrupt')

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

/** The one record `inner` holds for an application key written alone into an empty store. */
async function onlyRecord(inner: Store): Promise<[Uint8Array, Uint8Array]> {
  const records = await rawRecords(inner)
  assert.equal(records.length, 1)
  return records[0]!
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

test('ids never reach the disk: keys show families and numbers, iteration gives the keys back', async () => {
  const inner = new MemoryStore()
  const store = await openSealedStore(inner, { key: randomBytes(32) })
  const contact = 'c0ffee0123456789'
  const other = 'badc0de012345678'
  const messageId = randomBytes(16)
  const identityKey = randomBytes(32)
  await store.batch([
    { type: 'put', key: key('contact', contact), value: utf8('{}') },
    { type: 'put', key: key('msgid', contact, messageId), value: utf8('7') },
    { type: 'put', key: key('feed', 'k', identityKey, 3), value: utf8('k') },
    ...[3, 1, 256, 2].map((seq) => ({
      type: 'put' as const,
      key: key('msg', contact, seq),
      value: utf8(`m${seq}`),
    })),
    { type: 'put', key: key('msg', other, 1), value: utf8('other') },
  ])
  const raw = await rawRecords(inner)
  for (const [what, bytes] of [
    ['contact id', utf8(contact)],
    ['other contact id', utf8(other)],
    ['message id', messageId],
    ['message id (hex)', utf8(Buffer.from(messageId).toString('hex'))],
    ['identity key', identityKey],
    ['feed sub-family', key('feed', 'k')],
  ] as const) {
    assert.equal(occursIn(raw, bytes), false, `${what} is not on disk`)
  }
  // What stays visible, as PROTOCOL.md says: families and numbers.
  assert.ok(occursIn(raw, key('msg')), 'the family name is visible')
  assert.ok(occursIn(raw, key(256).subarray(0, 9)), 'sequence numbers are visible')
  // Prefixes, order and ranges still work per id, and the application's keys come back.
  const msgs = await collect(store.iterate({ prefix: key('msg', contact) }))
  assert.deepEqual(
    msgs.map(([k]) => k),
    [1, 2, 3, 256].map((s) => key('msg', contact, s)),
  )
  const before3 = await collect(
    store.iterate({ gte: key('msg', contact), lt: key('msg', contact, 3), reverse: true }),
  )
  assert.deepEqual(
    before3.map(([, v]) => Buffer.from(v).toString()),
    ['m2', 'm1'],
  )
  assert.deepEqual(
    (await collect(store.iterate({ prefix: key('feed', 'k') })))[0]![0],
    key('feed', 'k', identityKey, 3),
  )
  assert.equal((await collect(store.iterate())).length, 8, 'the layout and header records stay hidden')
  assert.ok(!occursIn(await rawRecords(inner), utf8('{}')), 'values are sealed')
  assert.deepEqual(await store.get(key('msgid', contact, messageId)), utf8('7'))
  // A key that is not a key() tuple is all family name: stored as it is, never mixed up with the
  // store's own records (which look like such keys).
  const header = await inner.get(STORE_HEADER_KEY)
  for (const raw of [Uint8Array.of(0x00), STORE_HEADER_KEY, LAYOUT_KEY, utf8('a raw key')]) {
    await store.put(raw, utf8('x'))
    assert.deepEqual(await store.get(raw), utf8('x'))
  }
  assert.ok(occursIn(await rawRecords(inner), utf8('a raw key')), 'raw keys are visible')
  assert.deepEqual(await inner.get(STORE_HEADER_KEY), header)
  await assert.rejects(openSealedStore(inner, { key: randomBytes(32) }), (e) => StoreError.is(e, 'WrongKey'))
})

test('a value moved or swapped to another key fails to open as Corrupt', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.put(key('a'), utf8('for a'))
  const [ka, ra] = await onlyRecord(inner)
  await store.put(key('b'), utf8('for b'))
  const kb = (await rawRecords(inner)).find(([k]) => !Buffer.from(k).equals(Buffer.from(ka)))![0]
  const rb = (await inner.get(kb))!
  await inner.batch([
    { type: 'put', key: ka, value: rb },
    { type: 'put', key: kb, value: ra },
  ])
  await assert.rejects(store.get(key('a')), corrupt)
  await assert.rejects(store.get(key('b')), corrupt)
  await assert.rejects(collect(store.iterate()), corrupt, 'iteration refuses too, never yields garbage')
})

test('tampered, truncated or unknown-format records are Corrupt; none is ever in the clear', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.put(key('k'), utf8('hello'))
  const [physical, record] = await onlyRecord(inner)
  assert.equal(record.length, 1 + 24 + 2 + key('k').length + 5 + 16)
  for (let i = 0; i < record.length; i++) {
    const bad = record.slice()
    bad[i]! ^= 0x80
    await inner.put(physical, bad)
    await assert.rejects(store.get(key('k')), corrupt, `byte ${i}`)
  }
  for (const bad of [
    new Uint8Array(0),
    record.subarray(0, 40),
    record.subarray(1),
    Uint8Array.of(0x00, 1, 2),
  ]) {
    await inner.put(physical, bad)
    await assert.rejects(store.get(key('k')), corrupt)
  }
})

test('end-to-end families: only the fields in front of an envelope are sealed, only there', async () => {
  assert.deepEqual(END_TO_END_FAMILIES, ['outbox'])
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  const fields = utf8('seq=1 created=1767225600000 id=0123456789abcdef')
  const envelope = randomBytes(40)
  const value = new Uint8Array([...fields, ...envelope])
  await store.batch([{ type: 'put', key: key('outbox', 'c', 1), value, endToEndFrom: fields.length }])
  const [, record] = await onlyRecord(inner)
  assert.deepEqual(
    record.subarray(record.length - envelope.length),
    envelope,
    'the envelope is stored as it is',
  )
  assert.equal(occursIn(await rawRecords(inner), fields.subarray(0, 12)), false, 'the fields are sealed')
  assert.deepEqual(await store.get(key('outbox', 'c', 1)), value)
  assert.deepEqual((await collect(store.iterate()))[0], [key('outbox', 'c', 1), value])
  // The sealed part still protects what it covers.
  const bad = record.slice()
  bad[10]! ^= 1
  await inner.put((await onlyRecord(inner))[0], bad)
  await assert.rejects(store.get(key('outbox', 'c', 1)), corrupt)
  // Another family cannot leave anything unsealed, and the batch writes nothing.
  await assert.rejects(
    store.batch([
      { type: 'put', key: key('outbox', 'c', 3), value, endToEndFrom: 2 },
      { type: 'put', key: key('msg', 'c', 1), value: utf8('secret'), endToEndFrom: 0 },
    ]),
    (e) => InputError.is(e, 'BadType'),
  )
  await assert.rejects(
    store.batch([{ type: 'put', key: key('outbox', 'c', 4), value, endToEndFrom: value.length + 1 }]),
    (e) => InputError.is(e, 'OutOfRange'),
  )
  assert.equal(await store.get(key('outbox', 'c', 3)), undefined)
  assert.equal(await store.get(key('msg', 'c', 1)), undefined)
})

test('the same value sealed twice gives different bytes (random nonces)', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.put(key('a'), utf8('same'))
  const [, first] = await onlyRecord(inner)
  await store.put(key('a'), utf8('same'))
  assert.notDeepEqual((await onlyRecord(inner))[1], first)
})

test('a wrong key: bare data key finds nothing or reads Corrupt; through the header it is WrongKey', async () => {
  const inner = new MemoryStore()
  const fileKey = randomBytes(32)
  const right = await openSealedStore(inner, { key: fileKey })
  await right.put(key('a'), utf8('x'))
  await right.put(key('a', 'id'), utf8('y'))
  const wrongBare = new SealedStore(inner, randomBytes(32))
  await assert.rejects(wrongBare.get(key('a')), corrupt, 'a key without ids has the same name')
  assert.equal(await wrongBare.get(key('a', 'id')), undefined, 'an id has another name under another key')
  await assert.rejects(collect(wrongBare.iterate()), corrupt)
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

test('records without a key header are refused, not silently re-keyed', async () => {
  const inner = new MemoryStore()
  await inner.put(key('x'), utf8('from somewhere'))
  await assert.rejects(openSealedStore(inner, { key: randomBytes(32) }), corrupt)
  assert.equal(await hasKeyHeader(inner), false, 'nothing was written')
})

test('closing the sealed store closes the inner one', async () => {
  const inner = new MemoryStore()
  const store = new SealedStore(inner, randomBytes(32))
  await store.close()
  await assert.rejects(inner.get(key('a')), (e) => StoreError.is(e, 'Closed'))
  await assert.rejects(store.get(key('a')), (e) => StoreError.is(e, 'Closed'))
})
