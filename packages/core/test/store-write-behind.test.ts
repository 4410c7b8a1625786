/** Group commit: writes are visible at once, durable in order, merged per key, and fail closed. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StoreError } from '../src/store/errors.js'
import { MemoryStore } from '../src/store/memory.js'
import type { BatchOp, Store } from '../src/store/store.js'
import { WriteBehindStore } from '../src/store/write-behind.js'

const k = (...b: number[]) => Uint8Array.from(b)

/** A MemoryStore that records its batches and can be told to hold or fail them. */
class RecordingStore extends MemoryStore {
  readonly batches: BatchOp[][] = []
  gate: Promise<void> | undefined
  fail = false
  override async batch(ops: readonly BatchOp[]): Promise<void> {
    this.batches.push([...ops])
    if (this.gate) await this.gate
    if (this.fail) throw new Error('disk full')
    return super.batch(ops)
  }
}

describe('WriteBehindStore', () => {
  it('reads see a write before it is durable; writes made meanwhile share one inner batch', async () => {
    const inner = new RecordingStore()
    let open!: () => void
    inner.gate = new Promise((r) => (open = r))
    const store = new WriteBehindStore(inner)
    const first = store.write([{ type: 'put', key: k(1), value: k(1) }])
    await new Promise((r) => setImmediate(r)) // the first batch is now on its way (held by the gate)
    const rest = [2, 3, 4].map((i) => store.write([{ type: 'put', key: k(9), value: k(i) }]))
    assert.deepEqual(await store.get(k(1)), k(1))
    assert.deepEqual(await store.get(k(9)), k(4), 'the latest pending value wins')
    assert.equal(await inner.get(k(1)), undefined, 'not on disk yet')
    open()
    inner.gate = undefined
    await Promise.all([first, ...rest])
    assert.equal(inner.batches.length, 2)
    assert.deepEqual(
      inner.batches[1],
      [{ type: 'put', key: k(9), value: k(4) }],
      'one op per key in the merged batch',
    )
    assert.deepEqual(await inner.get(k(9)), k(4))
  })

  it('passes endToEndFrom on to the inner store, for copied, owned and lazy values', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner)
    await Promise.all([
      store.write([{ type: 'put', key: k(1), value: k(1), endToEndFrom: 1 }]),
      store.write([{ type: 'put', key: k(2), value: k(2), endToEndFrom: 0 }], { owned: true }),
      store.write([{ type: 'put', key: k(3), value: () => k(3), endToEndFrom: 1 }]),
      store.write([{ type: 'put', key: k(4), value: k(4) }]),
    ])
    const ops = inner.batches.flat()
    assert.deepEqual(
      ops.map((op) => (op.type === 'put' ? op.endToEndFrom : 'del')),
      [1, 0, 1, undefined],
    )
    assert.deepEqual(await inner.get(k(3)), k(3))
  })

  it('copies what it is given unless the caller hands the arrays over (owned)', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner)
    const [key, value] = [k(1), k(1, 2, 3)]
    const written = store.write([{ type: 'put', key, value }])
    value[0] = 9 // the caller reuses its array before the write is durable
    key[0] = 9
    await written
    assert.deepEqual(await inner.get(k(1)), k(1, 2, 3), 'what was written, not what the array became')
    const [ownKey, ownValue] = [k(2), k(4, 5)]
    await store.write([{ type: 'put', key: ownKey, value: ownValue }], { owned: true })
    const last = inner.batches.at(-1)![0]!
    assert.ok(last.key === ownKey && last.type === 'put' && last.value === ownValue, 'no copies')
    assert.deepEqual(await store.get(k(2)), k(4, 5))
  })

  it('deletes are visible at once and iteration waits for pending writes', async () => {
    const store: Store & { write: WriteBehindStore['write'] } = new WriteBehindStore(new MemoryStore())
    await store.put(k(1), k(1))
    void store.write([
      { type: 'del', key: k(1) },
      { type: 'put', key: k(2), value: k(2) },
    ])
    assert.equal(await store.get(k(1)), undefined)
    const keys: number[] = []
    for await (const [key] of store.iterate()) keys.push(key[0]!)
    assert.deepEqual(keys, [2])
  })

  it('a failed inner batch fails that write and every later call with StoreError Io', async () => {
    const inner = new RecordingStore()
    inner.fail = true
    const store = new WriteBehindStore(inner)
    await assert.rejects(store.put(k(1), k(1)), (e) => StoreError.is(e, 'Io'))
    await assert.rejects(store.get(k(1)), (e) => StoreError.is(e, 'Io'))
    await assert.rejects(store.put(k(2), k(2)), (e) => StoreError.is(e, 'Io'))
  })
})

describe('WriteBehindStore lazy values', () => {
  it('a full disk is waited out: writes stay visible and pending, go again, and land once there is room', async () => {
    const inner = new RecordingStore()
    let full = true
    inner.batch = async function (this: RecordingStore, ops) {
      this.batches.push([...ops])
      if (full) throw new StoreError('Full', 'the disk is full')
      return MemoryStore.prototype.batch.call(this, ops)
    }
    const store = new WriteBehindStore(inner, { fullRetryMs: 5 })
    const states: string[] = []
    store.onSpace((s) => states.push(s))
    let landed = false
    const first = store.write([{ type: 'put', key: k(1), value: k(1) }]).then(() => {
      landed = true
    })
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(store.full, true)
    assert.deepEqual(states, ['full'], 'said once, however often it is tried')
    assert.ok(inner.batches.length >= 2, 'tried again')
    assert.equal(landed, false, 'not durable, so not acknowledged')
    // Later writes join the waiting batch; a later write of the same key wins.
    const second = store.write([
      { type: 'put', key: k(1), value: k(7) },
      { type: 'put', key: k(2), value: k(2) },
    ])
    assert.deepEqual(await store.get(k(1)), k(7), 'reads see what waits')
    full = false
    await Promise.all([first, second])
    assert.equal(store.full, false)
    assert.deepEqual(states, ['full', 'ok'])
    assert.deepEqual(await inner.get(k(1)), k(7))
    assert.deepEqual(await inner.get(k(2)), k(2))
    // And it goes on as before.
    await store.put(k(3), k(3))
    assert.deepEqual(await inner.get(k(3)), k(3))
    await store.close()
  })

  it('a close while the disk stays full rejects what waits, and closes', async () => {
    const inner = new RecordingStore()
    inner.batch = async () => {
      throw new StoreError('Full', 'the disk is full')
    }
    const store = new WriteBehindStore(inner, { fullRetryMs: 5 })
    const waiting = store.write([{ type: 'put', key: k(1), value: k(1) }])
    // Watched from the start: on a loaded machine it may reject before close() returns.
    const rejected = assert.rejects(waiting, (e) => StoreError.is(e, 'Full'))
    await new Promise((r) => setTimeout(r, 20))
    await store.close()
    await rejected
  })

  it('encodes only the last of several lazy writes to a key, once, and reads see it meanwhile', async () => {
    const inner = new RecordingStore()
    let open!: () => void
    inner.gate = new Promise((r) => (open = r))
    const store = new WriteBehindStore(inner)
    const first = store.write([{ type: 'put', key: k(7), value: k(0) }])
    await new Promise((r) => setImmediate(r))
    let encoded = 0
    const lazy = (v: number) => () => {
      encoded++
      return k(v)
    }
    const writes = [1, 2, 3].map((v) => store.write([{ type: 'put', key: k(8), value: lazy(v) }]))
    assert.equal(encoded, 0, 'nothing encoded before it is read or written')
    assert.deepEqual(await store.get(k(8)), k(3))
    assert.equal(encoded, 1)
    open()
    inner.gate = undefined
    await Promise.all([first, ...writes])
    assert.equal(encoded, 1, 'the two superseded values were never encoded')
    assert.deepEqual(await inner.get(k(8)), k(3))
  })
})

describe('WriteBehindStore deferred writes', () => {
  const put = (key: number, value: number) => ({ type: 'put' as const, key: k(key), value: k(value) })

  it('are visible at once, and reach the disk only with a later write to one of their keys', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner)
    const deferred = store.write([{ type: 'del', key: k(1) }, put(2, 1)], { defer: true })
    assert.equal(await store.get(k(2)).then((v) => v?.[0]), 1, 'read back before it is durable')
    await store.write([put(5, 5)]) // an unrelated write goes alone
    assert.equal(inner.batches.length, 1)
    assert.deepEqual(inner.batches[0], [put(5, 5)])
    assert.equal(store.deferredKeys, 2)
    await store.write([put(2, 2)]) // touches the deferred key: both go, the key once
    await deferred
    assert.equal(inner.batches.length, 2)
    assert.deepEqual(inner.batches[1], [{ type: 'del', key: k(1) }, put(2, 2)])
    assert.equal(store.deferredKeys, 0)
  })

  it('deferred writes of the same key merge into one group, written whole', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner)
    const a = store.write([put(1, 1), put(2, 1)], { defer: true })
    const b = store.write([put(2, 2), put(3, 2)], { defer: true })
    const c = store.write([put(9, 9)], { defer: true })
    await store.write([put(3, 3)])
    await Promise.all([a, b])
    assert.deepEqual(inner.batches, [[put(1, 1), put(2, 2), put(3, 3)]], 'a and b together, c left out')
    assert.equal(store.deferredKeys, 1)
    await store.flushed()
    await c
    assert.deepEqual(inner.batches[1], [put(9, 9)])
  })

  it('a deferred write that meets a pending key goes with it', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner)
    const first = store.write([put(1, 1)])
    const second = store.write([put(1, 2), put(4, 4)], { defer: true })
    await Promise.all([first, second])
    assert.deepEqual(inner.batches, [[put(1, 2), put(4, 4)]])
  })

  it('iterate, flushed and close take deferred writes to the disk first', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner)
    void store.write([put(1, 1)], { defer: true })
    const keys: number[] = []
    for await (const [key] of store.iterate()) keys.push(key[0]!)
    assert.deepEqual(keys, [1])
    assert.deepEqual(await inner.get(k(1)), k(1))
    const closing = store.write([put(2, 2)], { defer: true })
    await store.close()
    await closing
    assert.equal(inner.batches.length, 2)
  })

  it('go to disk on their own once their time is up', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner, { deferMs: 40 })
    const started = performance.now()
    await store.write([put(1, 1)], { defer: true })
    assert.ok(performance.now() - started >= 35, 'held back until then')
    assert.deepEqual(inner.batches, [[put(1, 1)]])
  })

  it('a write held at most n ms brings the time forward for all; a later one never postpones it', async () => {
    const inner = new RecordingStore()
    const store = new WriteBehindStore(inner, { deferMs: 60_000 })
    const started = performance.now()
    const long = store.write([put(1, 1)], { defer: true }) // would wait a minute on its own
    const short = store.write([put(2, 2)], { defer: 30 })
    const later = store.write([put(3, 3)], { defer: 50_000 })
    await Promise.all([long, short, later])
    const waited = performance.now() - started
    assert.ok(waited >= 25 && waited < 30_000, `released by the 30 ms bound (after ${waited} ms)`)
    assert.deepEqual(inner.batches, [[put(1, 1), put(2, 2), put(3, 3)]], 'together, in one batch')
    // A bound above the store's own is the store's.
    const capped = new WriteBehindStore(new RecordingStore(), { deferMs: 40 })
    const t0 = performance.now()
    await capped.write([put(1, 1)], { defer: 60_000 })
    assert.ok(performance.now() - t0 < 30_000)
  })

  it('a failed batch rejects the deferred writes still held back', async () => {
    const inner = new RecordingStore()
    inner.fail = true
    const store = new WriteBehindStore(inner)
    const held = store.write([put(1, 1)], { defer: true })
    await assert.rejects(store.write([put(2, 2)]), (e) => StoreError.is(e, 'Io'))
    await assert.rejects(held, (e) => StoreError.is(e, 'Io'))
    assert.equal(store.deferredKeys, 0)
  })
})
