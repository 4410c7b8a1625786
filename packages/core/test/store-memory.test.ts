import { randomBytes } from '../src/bytes.js'
import { MAX_RAW_KEY_BYTES } from '../src/store/layout.js'
import { MemoryStore } from '../src/store/memory.js'
import { SealedStore } from '../src/store/sealed.js'
import { openSealedStore } from '../src/store/unlock.js'
import { WriteBehindStore } from '../src/store/write-behind.js'
import { runStoreCompliance } from './store-compliance.js'

runStoreCompliance('MemoryStore', async () => {
  const store = new MemoryStore()
  return { store, dispose: () => store.close() }
})

runStoreCompliance(
  'SealedStore over MemoryStore (bare data key)',
  async () => {
    const store = new SealedStore(new MemoryStore(), randomBytes(32))
    return { store, dispose: () => store.close() }
  },
  { maxKeyBytes: MAX_RAW_KEY_BYTES },
)

// Through openSealedStore the inner store also holds the hidden key header (its key starts with
// 0x00, among the suite's edge keys), so this run checks that it never shows or counts.
runStoreCompliance(
  'SealedStore over MemoryStore (key header)',
  async () => {
    const store = await openSealedStore(new MemoryStore(), { key: randomBytes(32) })
    return { store, dispose: () => store.close() }
  },
  { maxKeyBytes: MAX_RAW_KEY_BYTES },
)

runStoreCompliance('WriteBehindStore over MemoryStore', async () => {
  const store = new WriteBehindStore(new MemoryStore())
  return { store, dispose: () => store.close() }
})
