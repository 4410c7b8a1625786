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
