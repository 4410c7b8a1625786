import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { randomBytes } from '../src/bytes.js'
import { InputError } from '../src/errors.js'
import { StoreError } from '../src/store/errors.js'
import { MAX_RAW_KEY_BYTES } from '../src/store/layout.js'
import { LevelStore } from '../src/store/level.js'
import type { Store } from '../src/store/store.js'
import { openSealedStore } from '../src/store/unlock.js'
import { WriteBehindStore } from '../src/store/write-behind.js'
import { runStoreCompliance, type StoreHarness } from './store-compliance.js'

/** A real LevelDB in a fresh temp dir; `wrap` layers an adapter on top (and on every reopen). */
async function levelHarness(
  wrap: (level: LevelStore) => Promise<Store> = async (l) => l,
): Promise<StoreHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-store-'))
  let current = await wrap(await LevelStore.open(dir))
  return {
    store: current,
    reopen: async () => {
      await current.close()
      current = await wrap(await LevelStore.open(dir))
      return current
    },
    dispose: async () => {
      await current.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

runStoreCompliance('LevelStore', () => levelHarness(), { persistent: true })

const fileKey = randomBytes(32)
runStoreCompliance(
  'SealedStore over LevelStore',
  () => levelHarness((level) => openSealedStore(level, { key: fileKey })),
  { persistent: true, maxKeyBytes: MAX_RAW_KEY_BYTES },
)

runStoreCompliance(
  'WriteBehindStore over SealedStore over LevelStore',
  () => levelHarness(async (level) => new WriteBehindStore(await openSealedStore(level, { key: fileKey }))),
  { persistent: true, maxKeyBytes: MAX_RAW_KEY_BYTES },
)

test('LevelStore: a second handle on the same location is Locked, and works once the first closes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-store-'))
  try {
    const first = await LevelStore.open(dir)
    await first.put(Uint8Array.of(1), Uint8Array.of(1))
    await assert.rejects(LevelStore.open(dir), (e) => StoreError.is(e, 'Locked'))
    // Without waiting for ready(), the failure surfaces on the first call instead.
    const lazy = new LevelStore(dir)
    await assert.rejects(lazy.get(Uint8Array.of(1)), (e) => StoreError.is(e, 'Locked'))
    await lazy.close()
    await first.close()
    const second = await LevelStore.open(dir)
    assert.deepEqual(await second.get(Uint8Array.of(1)), Uint8Array.of(1))
    assert.equal(second.location, dir)
    await second.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('LevelStore: a location that cannot be created is Io, not a crash; an empty one is an InputError', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-store-'))
  try {
    const blocker = join(dir, 'file')
    await writeFile(blocker, 'x')
    await assert.rejects(LevelStore.open(join(blocker, 'db')), (e) => StoreError.is(e, 'Io'))
    assert.throws(
      () => new LevelStore(''),
      (e) => e instanceof InputError,
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('LevelStore: results are plain Uint8Array, not Node Buffers', async () => {
  const h = await levelHarness()
  try {
    await h.store.put(Uint8Array.of(1), Uint8Array.of(2))
    assert.equal((await h.store.get(Uint8Array.of(1)))!.constructor, Uint8Array)
    for await (const [k, v] of h.store.iterate()) {
      assert.equal(k.constructor, Uint8Array)
      assert.equal(v.constructor, Uint8Array)
    }
  } finally {
    await h.dispose()
  }
})
