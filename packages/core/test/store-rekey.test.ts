/**
 * A change of secret re-seals every record under a new data key and deletes the old generation
 * from the disk; a crash at any write leaves a store that opens with the old or the new secret
 * and loses nothing; a legacy store (ids in its keys) is moved the same way when it is opened.
 */
import assert from 'node:assert/strict'
import { cp, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { bytesToHex, concatBytes, randomBytes, utf8 } from '../src/bytes.js'
import { seal } from '../src/crypto/primitives.js'
import { StoreError } from '../src/store/errors.js'
import { key } from '../src/store/keys.js'
import { LAYOUT_KEY, PURGE_KEY, REKEY_KEY, STORE_HEADER_KEY } from '../src/store/layout.js'
import { LevelStore } from '../src/store/level.js'
import { MemoryStore } from '../src/store/memory.js'
import type { RekeyProgress } from '../src/store/rekey.js'
import { SealedStore } from '../src/store/sealed.js'
import { createKeyHeader, openKeyHeader, type StorageSecret } from '../src/store/storage-key.js'
import type { BatchOp, Store } from '../src/store/store.js'
import { openSealedStore } from '../src/store/unlock.js'
import { filesContaining, occursIn, rawRecords, withDir } from './helpers/store-disk.js'
import { collect } from './store-compliance.js'

const FAST = { params: { m: 64, t: 1, p: 1 } }
const OLD: StorageSecret = { passphrase: 'old passphrase 旧' }
const NEW: StorageSecret = { passphrase: 'new passphrase 新' }
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** What the application sees: every key and value, as hex, in iteration order. */
async function contents(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [k, v] of store.iterate()) out.set(hex(k), hex(v))
  return out
}

/** A conversation's worth of records, more than one copy batch, an outbox envelope among them. */
async function fill(store: Store, n = 600): Promise<void> {
  const ops: BatchOp[] = []
  for (let i = 0; i < n; i++)
    ops.push({ type: 'put', key: key('msg', `c${i % 7}`, i), value: utf8(`message ${i}`) })
  ops.push({ type: 'put', key: key('contact', 'c0'), value: utf8('{"name":"Ann"}') })
  const envelope = randomBytes(64)
  ops.push({
    type: 'put',
    key: key('outbox', 'c0', 1),
    value: concatBytes(utf8('fields'), envelope),
    endToEndFrom: 6,
  })
  await store.batch(ops)
  // Deleted and overwritten values: their old bytes must leave the disk too.
  await store.put(key('msg', 'c0', 0), utf8('edited'))
  await store.del(key('msg', 'c1', 1))
}

/** An inner store that dies at its `crashAt`-th write (puts, dels and batches count one each). */
class CrashingStore implements Store {
  writes = 0
  crashAt = Number.POSITIVE_INFINITY
  constructor(readonly inner: Store) {}
  #write<T>(op: () => Promise<T>): Promise<T> {
    if (++this.writes >= this.crashAt) return Promise.reject(new Error('killed'))
    return op()
  }
  get(k: Uint8Array) {
    return this.writes >= this.crashAt ? Promise.reject(new Error('killed')) : this.inner.get(k)
  }
  put(k: Uint8Array, v: Uint8Array) {
    return this.#write(() => this.inner.put(k, v))
  }
  del(k: Uint8Array) {
    return this.#write(() => this.inner.del(k))
  }
  batch(ops: readonly BatchOp[]) {
    return this.#write(() => this.inner.batch(ops))
  }
  iterate(options?: Parameters<Store['iterate']>[0]) {
    return this.inner.iterate(options)
  }
  compact() {
    return this.#write(async () => undefined)
  }
  async close() {}
}

/** A copy of a memory store's raw records (to try both secrets on the same crashed state). */
async function copyOf(store: Store): Promise<MemoryStore> {
  const copy = new MemoryStore()
  await copy.batch(
    (await collect(store.iterate())).map(([k, v]) => ({ type: 'put' as const, key: k, value: v })),
  )
  return copy
}

async function opens(inner: Store, secret: StorageSecret): Promise<Map<string, string> | undefined> {
  try {
    return await contents(await openSealedStore(inner, secret))
  } catch (error) {
    if (StoreError.is(error, 'BadPassphrase')) return undefined
    throw error
  }
}

test('a change of secret: new data key, every record re-sealed, the old secret and header open nothing', () =>
  withDir(async (dir) => {
    const path = join(dir, 'store')
    const store = await openSealedStore(await LevelStore.open(path), OLD, FAST)
    await fill(store)
    const before = await contents(store)
    await store.close()

    // What an attacker keeps from before: a copy of the whole directory (and the old secret).
    const copy = join(dir, 'copy')
    await cp(path, copy, { recursive: true })
    const old = await LevelStore.open(copy)
    const oldHeader = (await old.get(STORE_HEADER_KEY))!
    const oldRecords = await rawRecords(old)
    await old.close()

    const progress: RekeyProgress[] = []
    const reopened = await openSealedStore(await LevelStore.open(path), OLD, FAST)
    const result = await reopened.changeSecret(OLD, NEW, {
      derive: FAST,
      onProgress: (p) => progress.push(p),
    })
    assert.deepEqual(result, { records: before.size, dropped: 0, cleaned: true })
    assert.deepEqual(await contents(reopened), before, 'the application sees the same store')
    await reopened.close()
    // LevelDB writes a new manifest when it opens: the table bounds it kept of the old
    // generation (keys only, names under the old key) go then.
    await (await LevelStore.open(path)).close()
    assert.equal(progress.at(-1)?.phase, 'done')
    assert.ok(progress.some((p) => p.phase === 'sealing' && p.done === p.total && p.total === before.size))
    assert.ok(progress.some((p) => p.phase === 'cleaning' && p.done === p.total && p.total === before.size))

    // The files hold neither the old header nor any old record, key or value.
    assert.deepEqual(await filesContaining(path, oldHeader), [], 'the old header is gone from every file')
    const sample = [oldRecords[0]!, oldRecords[300]!, oldRecords.at(-1)!]
    for (const [k, v] of sample) {
      assert.deepEqual(await filesContaining(path, v.subarray(1, 40)), [], 'an old sealed value is gone')
      assert.deepEqual(await filesContaining(path, k), [], 'an old record key is gone')
    }
    assert.ok(
      (await filesContaining(copy, sample[0]![1].subarray(1, 40))).length > 0,
      'the scan would see it',
    )
    assert.ok((await filesContaining(copy, oldHeader)).length > 0, 'the scan would see the header')

    const inner = await LevelStore.open(path)
    // The old secret does not open the new store...
    await assert.rejects(openSealedStore(inner, OLD), (e) => StoreError.is(e, 'BadPassphrase'))
    // ...nor does the old data key, out of the copied header, open any record of it...
    const oldKey = await openKeyHeader(oldHeader, OLD)
    const raw = await rawRecords(inner)
    assert.equal(raw.length, before.size)
    for (const ns of [0x10, 0x11]) {
      const withOldKey = new SealedStore(inner, oldKey, ns)
      for (const k of [key('contact', 'c0'), key('msg', 'c3', 3), key('outbox', 'c0', 1)])
        assert.equal(await withOldKey.get(k), undefined, 'the old key does not even find the record')
    }
    // ...nor the copied header put back in place of the new one.
    const current = (await inner.get(STORE_HEADER_KEY))!
    await inner.put(STORE_HEADER_KEY, oldHeader)
    const planted = await openSealedStore(inner, OLD)
    assert.equal(await planted.get(key('contact', 'c0')), undefined)
    await assert.rejects(collect(planted.iterate()), (e) => StoreError.is(e, 'Corrupt'))
    await inner.put(STORE_HEADER_KEY, current)
    // The new secret opens everything.
    assert.deepEqual(await contents(await openSealedStore(inner, NEW)), before)
    await inner.close()
  }))

test('killed at any write of a change, the store opens with the old or the new secret and loses nothing', async () => {
  // How many writes an uninterrupted change makes.
  const probe = new CrashingStore(new MemoryStore())
  const probeStore = await openSealedStore(probe, OLD, FAST)
  await fill(probeStore)
  const start = probe.writes
  await probeStore.changeSecret(OLD, NEW, { derive: FAST })
  const writes = probe.writes - start
  assert.ok(writes >= 6, `a change of 600 records takes several writes (${writes})`)

  for (let at = 1; at <= writes; at++) {
    const memory = new MemoryStore()
    const crashing = new CrashingStore(memory)
    const store = await openSealedStore(crashing, OLD, FAST)
    await fill(store)
    const before = await contents(store)
    crashing.crashAt = crashing.writes + at
    const outcome: unknown = await store.changeSecret(OLD, NEW, { derive: FAST }).then(
      (r) => r,
      (e: unknown) => e,
    )
    // Once committed the change is done: a failed purge (compaction, the mark) only says so.
    if (!(outcome instanceof Error)) assert.equal((outcome as { cleaned: boolean }).cleaned, false)

    const planOnDisk = (await memory.get(REKEY_KEY)) !== undefined
    const committed =
      (await memory.get(REKEY_KEY)) === undefined && (await memory.get(PURGE_KEY)) !== undefined
    const withOld = await opens(await copyOf(memory), OLD)
    const withNew = await opens(await copyOf(memory), NEW)
    assert.ok(withOld !== undefined || withNew !== undefined, `write ${at}: some secret opens the store`)
    for (const seen of [withOld, withNew])
      if (seen !== undefined) assert.deepEqual(seen, before, `write ${at}`)
    assert.equal(
      withOld !== undefined,
      at === 1 || planOnDisk,
      `write ${at}: the old secret opens until the commit`,
    )
    assert.equal(withNew !== undefined, at > 1, `write ${at}: the new secret opens once the plan is on disk`)
    if (committed) assert.equal(withOld, undefined)
    // Whoever opens it finishes the change: then only the new secret opens it, and no trace is left.
    if (at > 1) {
      await openSealedStore(memory, at % 2 === 0 && withOld !== undefined ? OLD : NEW)
      for (const k of [REKEY_KEY, PURGE_KEY]) assert.equal(await memory.get(k), undefined, `write ${at}`)
      assert.equal((await rawRecords(memory)).length, before.size, `write ${at}: one generation left`)
      assert.equal(await opens(await copyOf(memory), OLD), undefined)
      assert.deepEqual(await opens(memory, NEW), before)
    }
  }
})

test('the store stays usable during a change: calls wait, a running iteration finishes, nothing is lost', async () => {
  const inner = new MemoryStore()
  const store = await openSealedStore(inner, OLD, FAST)
  await fill(store)
  const before = await contents(store)
  const iteration = store.iterate({ prefix: key('msg', 'c2') })[Symbol.asyncIterator]()
  const first = await iteration.next()
  const change = store.changeSecret(OLD, NEW, { derive: FAST })
  await assert.rejects(store.changeSecret(OLD, NEW), (e) => StoreError.is(e, 'Busy'))
  const during = [
    store.put(key('msg', 'c2', 10_000), utf8('written during the change')),
    store.get(key('contact', 'c0')),
    store.del(key('msg', 'c3', 3)),
  ]
  // The iteration that began before goes on to its end, in order, on the generation it began with.
  const seqs = [(first.value as [Uint8Array])[0]]
  for (let r = await iteration.next(); !r.done; r = await iteration.next()) seqs.push(r.value[0])
  const expected = [...before.keys()].filter((k) => k.startsWith(hex(key('msg', 'c2'))))
  assert.deepEqual(seqs.map(hex), expected)
  const [, contact] = await Promise.all(during)
  assert.deepEqual(contact, utf8('{"name":"Ann"}'))
  assert.equal((await change).cleaned, true)
  const after = await contents(store)
  assert.deepEqual(after.get(hex(key('msg', 'c2', 10_000))), hex(utf8('written during the change')))
  assert.equal(after.has(hex(key('msg', 'c3', 3))), false)
  assert.equal(after.size, before.size)
  await assert.rejects(store.changeSecret(OLD, NEW), (e) => StoreError.is(e, 'BadPassphrase'))
  await assert.rejects(
    store.changeSecret(NEW, OLD, { derive: { params: { m: 64, t: 1, p: 1 } } }).then(() => {
      throw new StoreError('Io', 'not expected')
    }),
    (e) => StoreError.is(e, 'Io'),
  )
  assert.deepEqual(await contents(await openSealedStore(inner, OLD)), after, 'and back again')
})

test('a wrong or foreign secret changes nothing', async () => {
  const inner = new MemoryStore()
  const fileKey = randomBytes(32)
  const store = await openSealedStore(inner, { key: fileKey })
  await fill(store, 20)
  const raw = await rawRecords(inner)
  await assert.rejects(store.changeSecret({ key: randomBytes(32) }, NEW), (e) => StoreError.is(e, 'WrongKey'))
  await assert.rejects(store.changeSecret({ passphrase: 'x' }, NEW), (e) => StoreError.is(e, 'BadPassphrase'))
  // Another store's key file opening its own header is refused too: it is not this store's key.
  const other = new MemoryStore()
  const foreign = randomBytes(32)
  await openSealedStore(other, { key: foreign })
  await inner.put(STORE_HEADER_KEY, (await other.get(STORE_HEADER_KEY))!)
  await assert.rejects(store.changeSecret({ key: foreign }, NEW), (e) => StoreError.is(e, 'WrongKey'))
  assert.deepEqual(await rawRecords(inner), raw, 'nothing was rewritten')
  await inner.put(STORE_HEADER_KEY, (await createKeyHeader({ key: fileKey })).header) // (any header for fileKey)
  await assert.rejects(store.changeSecret({ key: fileKey }, NEW), (e) => StoreError.is(e, 'WrongKey'))
})

// ------------------------------------------------------------------ legacy stores

/** A store as layout 1 wrote it: ids in keys, hint indexes and ratchet envelopes in the clear. */
async function legacyStore(inner: Store, secret: StorageSecret) {
  const { header, dataKey } = await createKeyHeader(secret, FAST)
  const sealed = (k: Uint8Array, v: Uint8Array) => concatBytes(Uint8Array.of(0x01), seal(dataKey, v, k))
  const plain = (v: Uint8Array) => concatBytes(Uint8Array.of(0x00), v)
  const contact = 'feedface01234567'
  const messageId = randomBytes(16)
  const envelope = randomBytes(80)
  const records: [Uint8Array, Uint8Array, Uint8Array][] = [
    [key('contact', contact), utf8('{"name":"Bo"}'), sealed(key('contact', contact), utf8('{"name":"Bo"}'))],
    [key('msg', contact, 1), utf8('hello'), sealed(key('msg', contact, 1), utf8('hello'))],
    [key('msgid', contact, messageId), Uint8Array.of(1), plain(Uint8Array.of(1))],
    [key('unread', contact, 1), new Uint8Array(0), plain(new Uint8Array(0))],
    [key('outbox', contact, 1), envelope, plain(envelope)],
    [key('outbox', contact, 2), utf8('{"seq":2}'), sealed(key('outbox', contact, 2), utf8('{"seq":2}'))],
  ]
  await inner.batch([
    { type: 'put', key: STORE_HEADER_KEY, value: header },
    ...records.map(([k, , r]) => ({ type: 'put' as const, key: k, value: r })),
  ])
  const expected = new Map(
    records.map(([k, v]) => [hex(k), hex(v)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  )
  return { header, expected, contact, messageId }
}

test('a legacy store is moved to keyed names when it opens; its ids and old header leave the disk', () =>
  withDir(async (dir) => {
    const inner = await LevelStore.open(dir)
    const { header, expected, contact, messageId } = await legacyStore(inner, OLD)
    await inner.close()
    assert.ok((await filesContaining(dir, utf8(contact))).length > 0, 'the scan sees the legacy ids')

    const progress: RekeyProgress[] = []
    const store = await openSealedStore(await LevelStore.open(dir), OLD, {
      onRekeyProgress: (p) => progress.push(p),
    })
    const sorted = new Map([...(await contents(store))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    assert.deepEqual(sorted, expected, 'every record, with its key and value')
    assert.ok(progress.some((p) => p.phase === 'sealing' && p.total === expected.size))
    await store.close()
    // Once more: LevelDB writes a new manifest on open, so the old keys' table bounds go too.
    await (await openSealedStore(await LevelStore.open(dir), OLD)).close()
    // LevelDB's own info log (LOG, LOG.old) may quote a key where a manual compaction stops; the
    // Node app deletes the one from the session that moved the store (apps/node storage.ts).
    const dataFiles = async (needle: Uint8Array) =>
      (await filesContaining(dir, needle)).filter((f) => !/\/LOG(\.old)?$/.test(f))
    for (const needle of [utf8(contact), messageId, utf8(bytesToHex(messageId)), header])
      assert.deepEqual(await dataFiles(needle), [], 'no id and no old header in any table, log or manifest')
    assert.ok(
      (await readdir(dir)).some((f) => f.endsWith('.ldb')),
      'the store has tables to scan',
    )

    const again = await LevelStore.open(dir)
    assert.notEqual(await again.get(LAYOUT_KEY), undefined)
    assert.equal(occursIn(await rawRecords(again), utf8(contact)), false)
    await again.close()
  }))

test('a legacy store killed at any write of its move opens again, whole', async () => {
  const probe = new CrashingStore(new MemoryStore())
  await legacyStore(probe, OLD)
  const start = probe.writes
  await openSealedStore(probe, OLD)
  const writes = probe.writes - start
  for (let at = 1; at <= writes; at++) {
    const memory = new MemoryStore()
    const crashing = new CrashingStore(memory)
    const { expected } = await legacyStore(crashing, OLD)
    crashing.crashAt = crashing.writes + at
    await openSealedStore(crashing, OLD).catch(() => undefined)
    const store = await openSealedStore(memory, OLD)
    const sorted = new Map([...(await contents(store))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    assert.deepEqual(sorted, expected, `write ${at}`)
    assert.equal(await memory.get(PURGE_KEY), undefined)
  }
})
