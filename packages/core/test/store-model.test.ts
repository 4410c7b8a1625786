/**
 * Property test: random sequences of puts, deletes and batches (some of them invalid) applied to
 * a plain Map model and to every adapter must leave them all answering every range query alike.
 * Keys come from a tiny alphabet of edge bytes so that prefixes, 0x00 and 0xff collide often.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { randomBytes } from '../src/bytes.js'
import { InputError } from '../src/errors.js'
import { LevelStore } from '../src/store/level.js'
import { MemoryStore } from '../src/store/memory.js'
import { compareBytes } from '../src/store/range.js'
import { SealedStore } from '../src/store/sealed.js'
import type { BatchOp, IterateOptions, Store } from '../src/store/store.js'
import { WriteBehindStore } from '../src/store/write-behind.js'
import { collect } from './store-compliance.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const byte = fc.constantFrom(0x00, 0x01, 0x61, 0x7f, 0x80, 0xfe, 0xff)
const storeKey = fc.array(byte, { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a))
const bound = fc.array(byte, { minLength: 0, maxLength: 3 }).map((a) => Uint8Array.from(a))
const value = fc.uint8Array({ maxLength: 8 })

const putOp = fc.record({ type: fc.constant('put' as const), key: storeKey, value })
const delOp = fc.record({ type: fc.constant('del' as const), key: storeKey })
const batchOp = fc.oneof(putOp, delOp)

type Step =
  | { kind: 'op'; op: BatchOp }
  | { kind: 'batch'; ops: BatchOp[] }
  | { kind: 'badBatch'; ops: BatchOp[]; at: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  batchOp.map((op) => ({ kind: 'op' as const, op })),
  fc.array(batchOp, { maxLength: 6 }).map((ops) => ({ kind: 'batch' as const, ops })),
  fc
    .tuple(fc.array(batchOp, { maxLength: 4 }), fc.nat())
    .map(([ops, at]) => ({ kind: 'badBatch' as const, ops, at: at % (ops.length + 1) })),
)

const query: fc.Arbitrary<IterateOptions> = fc
  .record(
    {
      low: fc.option(fc.tuple(fc.constantFrom('gt', 'gte'), bound), { nil: undefined }),
      high: fc.option(fc.tuple(fc.constantFrom('lt', 'lte'), bound), { nil: undefined }),
      prefix: fc.option(bound, { nil: undefined }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat({ max: 5 }), { nil: undefined }),
    },
    { requiredKeys: [] },
  )
  .map(({ low, high, prefix, reverse, limit }) => ({
    ...(low && { [low[0]]: low[1] }),
    ...(high && { [high[0]]: high[1] }),
    ...(prefix && { prefix }),
    ...(reverse !== undefined && { reverse }),
    ...(limit !== undefined && { limit }),
  }))

/** The model: a Map from hex key to value, answering ranges by sorting and filtering. */
class Model {
  readonly map = new Map<string, Uint8Array>()
  apply(op: BatchOp): void {
    if (op.type === 'put') this.map.set(hex(op.key), op.value)
    else this.map.delete(hex(op.key))
  }
  query(o: IterateOptions): [string, string][] {
    const keys = [...this.map.keys()].map((h) => Buffer.from(h, 'hex')).sort(compareBytes)
    const ok = (k: Uint8Array) =>
      (!o.gt || compareBytes(k, o.gt) > 0) &&
      (!o.gte || compareBytes(k, o.gte) >= 0) &&
      (!o.lt || compareBytes(k, o.lt) < 0) &&
      (!o.lte || compareBytes(k, o.lte) <= 0) &&
      (!o.prefix || (k.length >= o.prefix.length && o.prefix.every((x, i) => k[i] === x)))
    const out = keys.filter(ok)
    if (o.reverse) out.reverse()
    return out.slice(0, o.limit ?? out.length).map((k) => [hex(k), hex(this.map.get(hex(k))!)])
  }
}

async function answer(store: Store, o: IterateOptions): Promise<[string, string][]> {
  return (await collect(store.iterate(o))).map(([k, v]) => [hex(k), hex(v)])
}

async function clear(store: Store): Promise<void> {
  const entries = await collect(store.iterate())
  await store.batch(entries.map(([k]) => ({ type: 'del', key: k })))
}

let dir: string
let level: LevelStore
let sealedLevel: LevelStore

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jiayi-model-'))
  level = await LevelStore.open(join(dir, 'plain'))
  sealedLevel = await LevelStore.open(join(dir, 'sealed'))
})

after(async () => {
  await level.close()
  await sealedLevel.close()
  await rm(dir, { recursive: true, force: true })
})

test('every adapter agrees with the model on random op sequences and range queries', async () => {
  const dataKey = randomBytes(32)
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { maxLength: 25 }),
      fc.array(query, { minLength: 1, maxLength: 8 }),
      // Not deferred, deferred, or deferred at most a few ms (so some go while others are written).
      fc.array(fc.oneof(fc.boolean(), fc.integer({ min: 0, max: 3 })), { minLength: 25, maxLength: 25 }),
      async (steps, queries, defer) => {
        await clear(level)
        await clear(sealedLevel)
        const model = new Model()
        const stores: [string, Store][] = [
          ['memory', new MemoryStore()],
          ['level', level],
          ['sealed(memory)', new SealedStore(new MemoryStore(), dataKey)],
          ['sealed(level)', new SealedStore(sealedLevel, dataKey)],
        ]
        // Group commit, driven without waiting for durability between steps; some writes deferred.
        const behindInner = new MemoryStore()
        const behind = new WriteBehindStore(behindInner)
        const inFlight: Promise<void>[] = []
        for (const [i, s] of steps.entries()) {
          if (s.kind === 'op') model.apply(s.op)
          if (s.kind === 'batch') for (const op of s.ops) model.apply(op)
          for (const [name, store] of stores) {
            if (s.kind === 'op') {
              if (s.op.type === 'put') await store.put(s.op.key, s.op.value)
              else await store.del(s.op.key)
            } else if (s.kind === 'batch') {
              await store.batch(s.ops)
            } else {
              const ops = [...s.ops]
              ops.splice(s.at, 0, { type: 'put', key: new Uint8Array(0), value: new Uint8Array(1) })
              await assert.rejects(store.batch(ops), (e) => e instanceof InputError, name)
            }
          }
          if (s.kind === 'op') inFlight.push(behind.write([s.op], { defer: defer[i] }))
          else if (s.kind === 'batch') inFlight.push(behind.write(s.ops, { defer: defer[i] }))
          else {
            const ops = [...s.ops]
            ops.splice(s.at, 0, { type: 'put', key: new Uint8Array(0), value: new Uint8Array(1) })
            await assert.rejects(behind.write(ops), (e) => e instanceof InputError)
          }
        }
        // Reads see every write at once, deferred or not, before anything waits for the disk.
        for (const [h, v] of model.map)
          assert.deepEqual(hex((await behind.get(Buffer.from(h, 'hex')))!), hex(v))
        stores.push(['write-behind(memory)', behind])
        for (const o of [{}, ...queries]) {
          const want = model.query(o)
          for (const [name, store] of stores) {
            assert.deepEqual(await answer(store, o), want, `${name} ${JSON.stringify(o)}`)
          }
        }
        await Promise.all(inFlight)
        // And once everything is durable, the disk holds exactly the model.
        assert.deepEqual(await answer(behindInner, {}), model.query({}))
      },
    ),
    { numRuns: 300 },
  )
})
