/**
 * The in-page peer's FileStorage (apps/web/src/peer/file-storage.ts) runs over any core Store,
 * so core's FileStorage compliance suite runs against it here in Node, over a SealedStore on a
 * MemoryStore as in the browser (there: on browser-level). Plus what only it promises: chunks are
 * sealed records, a source survives a restart of the storage, names stay out of record keys.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStore, openSealedStore, randomBytes } from '@jiayi/core'
import { random, storageCompliance } from '../../../packages/core/test/helpers/files-storage-compliance.js'
import { StoreFileStorage } from '../src/peer/file-storage.js'

async function sealedMemory() {
  const inner = new MemoryStore()
  const store = await openSealedStore(inner, { key: randomBytes(32) })
  return { inner, store }
}

storageCompliance('in-page peer (sealed store)', async () => {
  const { store } = await sealedMemory()
  const storage = new StoreFileStorage(store)
  return {
    storage,
    readFinished: async (location) => new Uint8Array(await (await storage.blob(location)).arrayBuffer()),
    addSource: async (bytes, name) =>
      (await storage.importBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]), name)).ref!,
  }
})

describe('in-page peer file storage', () => {
  it('imports a Blob chunk by chunk (progress), reopens it by ref after a restart, seals every byte', async () => {
    const { inner, store } = await sealedMemory()
    const data = random(700_000)
    const progress: number[] = []
    const source = await new StoreFileStorage(store).importBlob(
      new Blob([data as Uint8Array<ArrayBuffer>]),
      'secret-plan 计划.pdf',
      'application/pdf',
      (p) => progress.push(p.loaded),
    )
    assert.deepEqual(progress, [262_144, 524_288, 700_000])
    assert.equal(source.mime, 'application/pdf')
    const again = await new StoreFileStorage(store).openSource(source.ref!)
    assert.deepEqual(await again.read(262_000, 1_000), data.subarray(262_000, 263_000))
    const blob = await new StoreFileStorage(store).blob(source.ref!)
    assert.equal(blob.type, 'application/pdf')
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), data)
    // The raw records: no plaintext chunk, and the name is in no key.
    const raw: Buffer[] = []
    for await (const [k, v] of inner.iterate()) raw.push(Buffer.from(k), Buffer.from(v))
    const all = Buffer.concat(raw)
    assert.ok(!all.includes(Buffer.from(data.subarray(300_000, 300_064))), 'plaintext bytes at rest')
    assert.ok(!all.includes(Buffer.from('secret-plan')), 'the file name at rest')
    await new StoreFileStorage(store).remove(source.ref!)
    await assert.rejects(new StoreFileStorage(store).openSource(source.ref!))
  })

  it('file records are told apart for backups', async () => {
    const { store } = await sealedMemory()
    const source = await new StoreFileStorage(store).importBlob(
      new Blob([random(10) as Uint8Array<ArrayBuffer>]),
      'x',
    )
    assert.ok(source.ref)
    let files = 0
    for await (const [k] of store.iterate()) if (StoreFileStorage.isFileRecord(k)) files++
    assert.equal(files, 2)
  })
})
