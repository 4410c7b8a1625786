/**
 * The one compliance suite every Store adapter passes (automerge-repo's pattern): the messenger
 * relies only on what is checked here, so an adapter that passes can be swapped in freely.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InputError } from '../src/errors.js'
import { StoreError } from '../src/store/errors.js'
import { key } from '../src/store/keys.js'
import { compareBytes } from '../src/store/range.js'
import type { BatchOp, Entry, IterateOptions, Store } from '../src/store/store.js'

export interface StoreHarness {
  readonly store: Store
  /** Closes `store` and opens the same data again; absent for adapters that do not persist. */
  readonly reopen?: () => Promise<Store>
  /** Closes whatever is still open and removes what the harness created. */
  dispose(): Promise<void>
}

export type MakeStore = () => Promise<StoreHarness>

const b = (...bytes: number[]) => Uint8Array.from(bytes)
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

export async function collect(iterable: AsyncIterable<Entry>): Promise<Entry[]> {
  const out: Entry[] = []
  for await (const entry of iterable) out.push(entry)
  return out
}

async function keysOf(store: Store, options?: IterateOptions): Promise<string[]> {
  return (await collect(store.iterate(options))).map(([k]) => hex(k))
}

function isCode(code: StoreError['code']) {
  return (error: unknown) => StoreError.is(error, code)
}

const isInputError = (error: unknown) => error instanceof InputError

/** The reference answer for a range over `keys`, computed the slow obvious way. */
function expected(keys: Uint8Array[], o: IterateOptions): string[] {
  const startsWith = (k: Uint8Array, p: Uint8Array) => k.length >= p.length && p.every((x, i) => k[i] === x)
  const out = [...keys]
    .sort(compareBytes)
    .filter(
      (k) =>
        (o.gt === undefined || compareBytes(k, o.gt) > 0) &&
        (o.gte === undefined || compareBytes(k, o.gte) >= 0) &&
        (o.lt === undefined || compareBytes(k, o.lt) < 0) &&
        (o.lte === undefined || compareBytes(k, o.lte) <= 0) &&
        (o.prefix === undefined || startsWith(k, o.prefix)),
    )
  if (o.reverse) out.reverse()
  return out.slice(0, o.limit ?? out.length).map(hex)
}

/** Binary keys at the edges: 0x00 and 0xff bytes, prefixes of each other, one byte and longer. */
const EDGE_KEYS = [
  b(0x00),
  b(0x00, 0x00),
  b(0x00, 0xff),
  b(0x01),
  b(0x61),
  b(0x61, 0x00),
  b(0x61, 0x62),
  b(0x61, 0xff),
  b(0x61, 0xff, 0xff),
  b(0x62),
  b(0x7f),
  b(0x80),
  b(0xfe, 0xff),
  b(0xff),
  b(0xff, 0x00),
  b(0xff, 0xff),
  b(0xff, 0xff, 0xff),
]

/**
 * `persistent` adapters also run the close-and-reopen test; in-memory ones do not register it at
 * all (rather than registering a skipped test).
 */
export function runStoreCompliance(
  name: string,
  makeStore: MakeStore,
  options: {
    persistent?: boolean
    /** The longest key the adapter takes, when less than MAX_KEY_BYTES (SealedStore: raw keys). */
    maxKeyBytes?: number
  } = {},
): void {
  async function withStore(fn: (store: Store, harness: StoreHarness) => Promise<void>): Promise<void> {
    const harness = await makeStore()
    try {
      await fn(harness.store, harness)
    } finally {
      await harness.dispose()
    }
  }

  async function withEdgeKeys(fn: (store: Store) => Promise<void>): Promise<void> {
    await withStore(async (store) => {
      // Inserted out of order, by single puts and a batch, so order comes from the store.
      const shuffled = [...EDGE_KEYS].reverse()
      for (const k of shuffled.slice(0, 8)) await store.put(k, k)
      await store.batch(shuffled.slice(8).map((k) => ({ type: 'put', key: k, value: k })))
      await fn(store)
    })
  }

  describe(`Store compliance: ${name}`, () => {
    test('get of a missing key is undefined; put then get round-trips', () =>
      withStore(async (store) => {
        assert.equal(await store.get(b(1)), undefined)
        await store.put(b(1), b(9, 8, 7))
        assert.deepEqual(await store.get(b(1)), b(9, 8, 7))
        await store.put(b(2), new Uint8Array(0))
        assert.deepEqual(await store.get(b(2)), new Uint8Array(0), 'empty values are values')
      }))

    test('bytes in and out are not aliased', () =>
      withStore(async (store) => {
        const k = b(1, 2)
        const v = b(3, 4)
        await store.put(k, v)
        k[0] = 9
        v[0] = 9
        const got = await store.get(b(1, 2))
        assert.deepEqual(got, b(3, 4))
        got![0] = 7
        assert.deepEqual(await store.get(b(1, 2)), b(3, 4))
        const [[ik, iv]] = (await collect(store.iterate())) as [Entry]
        ik[0] = 7
        iv[0] = 7
        assert.deepEqual(await collect(store.iterate()), [[b(1, 2), b(3, 4)]])
      }))

    test('keys and values given as views into larger buffers store only the viewed bytes', () =>
      withStore(async (store) => {
        // Sealed records are such views (store/sealed.ts aligns them inside a larger buffer).
        const backing = b(0xee, 0xee, 0xee, 1, 2, 3, 4, 5, 0xee)
        const k = backing.subarray(3, 5)
        const v = backing.subarray(5, 8)
        await store.put(k, v)
        await store.batch([{ type: 'put', key: backing.subarray(4, 6), value: backing.subarray(1, 4) }])
        assert.deepEqual(await store.get(b(1, 2)), b(3, 4, 5))
        assert.deepEqual(await store.get(b(2, 3)), b(0xee, 0xee, 1))
        assert.deepEqual(
          (await collect(store.iterate())).map(([ek, ev]) => [hex(ek), hex(ev)]),
          [
            ['0102', '030405'],
            ['0203', 'eeee01'],
          ],
        )
      }))

    test('overwrite replaces; delete removes; deleting a missing key is fine', () =>
      withStore(async (store) => {
        await store.put(b(5), b(1))
        await store.put(b(5), b(2, 2))
        assert.deepEqual(await store.get(b(5)), b(2, 2))
        await store.del(b(5))
        assert.equal(await store.get(b(5)), undefined)
        await store.del(b(5))
        await store.del(b(6))
        assert.deepEqual(await keysOf(store), [])
      }))

    test('iteration follows unsigned byte order, with 0x00, 0xff and prefixes', () =>
      withEdgeKeys(async (store) => {
        const all = await keysOf(store)
        assert.deepEqual(all, [
          '00',
          '0000',
          '00ff',
          '01',
          '61',
          '6100',
          '6162',
          '61ff',
          '61ffff',
          '62',
          '7f',
          '80',
          'feff',
          'ff',
          'ff00',
          'ffff',
          'ffffff',
        ])
        assert.deepEqual(await keysOf(store, { reverse: true }), [...all].reverse())
        const entries = await collect(store.iterate())
        for (const [k, v] of entries) assert.deepEqual(v, k, 'values travel with their keys')
      }))

    test('range bounds, reverse and limit match the reference on every combination', () =>
      withEdgeKeys(async (store) => {
        const probes = [
          undefined,
          b(0x00),
          b(0x00, 0x00),
          b(0x61),
          b(0x61, 0x80),
          b(0x80),
          b(0xff),
          b(0xff, 0xff, 0xff, 0xff),
        ]
        let cases = 0
        for (const lo of probes) {
          for (const hi of probes) {
            for (const lowKind of ['gt', 'gte'] as const) {
              for (const highKind of ['lt', 'lte'] as const) {
                for (const reverse of [false, true]) {
                  for (const limit of [undefined, 0, 1, 3]) {
                    const o: IterateOptions = {
                      ...(lo && { [lowKind]: lo }),
                      ...(hi && { [highKind]: hi }),
                      reverse,
                      ...(limit !== undefined && { limit }),
                    }
                    assert.deepEqual(await keysOf(store, o), expected(EDGE_KEYS, o), JSON.stringify(o))
                    cases++
                  }
                }
              }
            }
          }
        }
        assert.ok(cases > 1000)
      }))

    test('prefix iteration, alone and combined with bounds, reverse and limit', () =>
      withEdgeKeys(async (store) => {
        assert.deepEqual(await keysOf(store, { prefix: b(0x61) }), ['61', '6100', '6162', '61ff', '61ffff'])
        assert.deepEqual(await keysOf(store, { prefix: b(0x61, 0xff) }), ['61ff', '61ffff'])
        assert.deepEqual(await keysOf(store, { prefix: b(0x00) }), ['00', '0000', '00ff'])
        // An all-0xff prefix has no upper bound key: it must still stop at nothing and miss nothing.
        assert.deepEqual(await keysOf(store, { prefix: b(0xff) }), ['ff', 'ff00', 'ffff', 'ffffff'])
        assert.deepEqual(await keysOf(store, { prefix: b(0xff, 0xff) }), ['ffff', 'ffffff'])
        assert.deepEqual(await keysOf(store, { prefix: b(0x63) }), [])
        assert.deepEqual(await keysOf(store, { prefix: new Uint8Array(0) }), expected(EDGE_KEYS, {}))
        for (const o of [
          { prefix: b(0x61), reverse: true },
          { prefix: b(0x61), limit: 2 },
          { prefix: b(0x61), reverse: true, limit: 2 },
          { prefix: b(0x61), gt: b(0x61) },
          { prefix: b(0x61), gte: b(0x61, 0x62), lt: b(0x61, 0xff, 0xff) },
          { prefix: b(0x61), gte: b(0x00), lte: b(0xff) },
          { prefix: b(0x61), lt: b(0x61) },
          { prefix: b(0xff), gt: b(0xff, 0x00), reverse: true },
        ] satisfies IterateOptions[]) {
          assert.deepEqual(await keysOf(store, o), expected(EDGE_KEYS, o), JSON.stringify(o))
        }
      }))

    test('tuple keys from key() iterate per conversation in sequence order', () =>
      withStore(async (store) => {
        const conv = b(0xaa, 0x00, 0xff)
        for (const seq of [300, 2, 1, 256, 0, 2 ** 40]) await store.put(key('msg', conv, seq), b(seq % 256))
        await store.put(key('msg', b(0xaa, 0x00)), b(1)) // a shorter id must not fall in conv's range
        await store.put(key('msg', b(0xaa, 0x00, 0xff, 0x00), 1), b(1))
        await store.put(key('out', conv, 1), b(1))
        const got = (await collect(store.iterate({ prefix: key('msg', conv) }))).map(([k]) => hex(k))
        assert.deepEqual(
          got,
          [0, 1, 2, 256, 300, 2 ** 40].map((s) => hex(key('msg', conv, s))),
        )
        const last = await collect(store.iterate({ prefix: key('msg', conv), reverse: true, limit: 1 }))
        assert.deepEqual(last[0]![0], key('msg', conv, 2 ** 40))
      }))

    test('batch applies puts and deletes in order, atomically', () =>
      withStore(async (store) => {
        await store.put(b(1), b(1))
        await store.put(b(2), b(2))
        await store.batch([
          { type: 'put', key: b(3), value: b(3) },
          { type: 'del', key: b(1) },
          { type: 'put', key: b(4), value: b(4) },
          { type: 'del', key: b(4) },
          { type: 'put', key: b(2), value: b(20) },
          { type: 'put', key: b(2), value: b(22) },
        ])
        assert.deepEqual(await collect(store.iterate()), [
          [b(2), b(22)],
          [b(3), b(3)],
        ])
        await store.batch([])
        assert.equal((await collect(store.iterate())).length, 2)
      }))

    test('a batch with one invalid op applies nothing', () =>
      withStore(async (store) => {
        await store.put(b(1), b(1))
        const before = await collect(store.iterate())
        const good: BatchOp[] = [
          { type: 'del', key: b(1) },
          { type: 'put', key: b(2), value: b(2) },
        ]
        const bad: unknown[] = [
          { type: 'put', key: b(3), value: 'not bytes' },
          { type: 'put', key: 'not bytes', value: b(3) },
          { type: 'put', key: new Uint8Array(0), value: b(3) },
          { type: 'put', key: new Uint8Array(1025), value: b(3) },
          { type: 'del', key: null },
          { type: 'merge', key: b(3), value: b(3) },
          null,
        ]
        for (const op of bad) {
          for (const at of [0, 1, 2]) {
            const ops = [...good]
            ops.splice(at, 0, op as BatchOp)
            await assert.rejects(store.batch(ops), isInputError, JSON.stringify(op))
            assert.deepEqual(await collect(store.iterate()), before)
          }
        }
        await assert.rejects(store.batch('nope' as unknown as BatchOp[]), isInputError)
      }))

    test('bad arguments are InputErrors', () =>
      withStore(async (store) => {
        await assert.rejects(store.get('k' as unknown as Uint8Array), isInputError)
        await assert.rejects(store.get(new Uint8Array(0)), isInputError)
        await assert.rejects(store.put(new Uint8Array(1025), b(1)), isInputError)
        await store.put(new Uint8Array(options.maxKeyBytes ?? 1024).fill(7), b(1)) // the largest key is fine
        await assert.rejects(store.put(b(1), [1] as unknown as Uint8Array), isInputError)
        await assert.rejects(store.del(undefined as unknown as Uint8Array), isInputError)
        const bad: unknown[] = [
          { gt: b(1), gte: b(1) },
          { lt: b(1), lte: b(1) },
          { limit: -1 },
          { limit: 1.5 },
          { gt: 'a' },
          { prefix: [1] },
        ]
        for (const o of bad) {
          await assert.rejects(collect(store.iterate(o as IterateOptions)), isInputError, JSON.stringify(o))
        }
      }))

    test('large values (1 MiB) round-trip through put, batch and iterate', () =>
      withStore(async (store) => {
        const big = new Uint8Array(1024 * 1024)
        for (let i = 0; i < big.length; i += 4096) crypto.getRandomValues(big.subarray(i, i + 4096))
        const big2 = big.map((x) => x ^ 0x5a)
        await store.put(b(1), big)
        await store.batch([{ type: 'put', key: b(2), value: big2 }])
        assert.ok(Buffer.from((await store.get(b(1)))!).equals(big))
        const all = await collect(store.iterate())
        assert.equal(all.length, 2)
        assert.ok(Buffer.from(all[1]![1]).equals(big2))
      }))

    test('10,000 keys: one batch, full scans both ways, ranges and limits', () =>
      withStore(async (store) => {
        const n = 10_000
        const ops: BatchOp[] = []
        // Inserted in a scrambled order (7919 is prime, so i * 7919 mod n visits every index).
        for (let i = 0; i < n; i++) {
          const j = (i * 7919) % n
          ops.push({ type: 'put', key: key('k', j), value: key(j) })
        }
        await store.batch(ops)
        let count = 0
        let prev: Uint8Array | undefined
        for await (const [k, v] of store.iterate({ prefix: key('k') })) {
          if (prev) assert.ok(compareBytes(prev, k) < 0)
          assert.deepEqual(v, key(count))
          prev = k
          count++
        }
        assert.equal(count, n)
        const tail = await collect(store.iterate({ reverse: true, limit: 3 }))
        assert.deepEqual(
          tail.map(([k]) => k),
          [key('k', n - 1), key('k', n - 2), key('k', n - 3)],
        )
        const mid = await collect(store.iterate({ gte: key('k', 4000), lt: key('k', 4100) }))
        assert.equal(mid.length, 100)
        assert.deepEqual(mid[0]![0], key('k', 4000))
        await store.batch(ops.slice(0, 5000).map((op) => ({ type: 'del', key: op.key })))
        assert.equal((await collect(store.iterate())).length, n - 5000)
      }))

    test('writing during an iteration is safe: ordered, no key twice', () =>
      withStore(async (store) => {
        for (let i = 0; i < 50; i += 2) await store.put(key(i), b(i))
        const seen: Uint8Array[] = []
        for await (const [k] of store.iterate()) {
          seen.push(k)
          if (seen.length === 5) {
            for (let i = 1; i < 50; i += 2) await store.put(key(i), b(i))
            await store.del(key(30))
          }
        }
        for (let i = 1; i < seen.length; i++) assert.ok(compareBytes(seen[i - 1]!, seen[i]!) < 0)
        assert.equal((await collect(store.iterate())).length, 49)
      }))

    test('breaking out of an iteration releases it', () =>
      withStore(async (store) => {
        for (let i = 0; i < 100; i++) await store.put(key(i), b(i))
        for (let round = 0; round < 20; round++) {
          for await (const _ of store.iterate()) break
        }
        await store.put(key(1000), b(1))
        assert.equal((await collect(store.iterate())).length, 101)
      }))

    test('a closed store rejects every call with Closed; close is idempotent', () =>
      withStore(async (store) => {
        await store.put(b(1), b(1))
        await store.put(b(2), b(2))
        const running = store.iterate()[Symbol.asyncIterator]()
        assert.equal((await running.next()).done, false)
        await store.close()
        await store.close()
        const closed = isCode('Closed')
        await assert.rejects(store.get(b(1)), closed)
        await assert.rejects(store.put(b(1), b(1)), closed)
        await assert.rejects(store.del(b(1)), closed)
        await assert.rejects(store.batch([{ type: 'del', key: b(1) }]), closed)
        await assert.rejects(collect(store.iterate()), closed)
        await assert.rejects(running.next(), closed, 'an iteration in flight stops with Closed')
      }))

    if (options.persistent)
      test('data survives close and reopen', async () => {
        const harness = await makeStore()
        try {
          assert.ok(harness.reopen, 'a persistent adapter must offer reopen()')
          await harness.store.put(b(1), b(1))
          await harness.store.put(b(3), b(3))
          await harness.store.batch([
            { type: 'put', key: b(2), value: b(2, 2) },
            { type: 'del', key: b(3) },
            { type: 'put', key: b(0xff, 0x00), value: new Uint8Array(70_000).fill(1) },
          ])
          const store = await harness.reopen()
          assert.deepEqual(await keysOf(store), ['01', '02', 'ff00'])
          assert.deepEqual(await store.get(b(2)), b(2, 2))
          assert.equal((await store.get(b(0xff, 0x00)))!.length, 70_000)
          await store.put(b(4), b(4))
          const again = await harness.reopen()
          assert.deepEqual(await keysOf(again), ['01', '02', '04', 'ff00'])
        } finally {
          await harness.dispose()
        }
      })
  })
}
