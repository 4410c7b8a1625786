/** The one-time prekey pool: each key handed out once, even to peers asking at the same moment. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIdentity } from '../src/identity/identity.js'
import { PreKeyStore } from '../src/messenger/prekey-store.js'
import { MemoryStore } from '../src/store/memory.js'

describe('PreKeyStore', () => {
  it('concurrent hand-outs never give two peers the same one-time prekey', async () => {
    const store = new MemoryStore()
    const keys = await PreKeyStore.open(store, generateIdentity())
    // More than one refill's worth, all at once, as a crowd scanning one QR code would ask.
    const bundles = await Promise.all(Array.from({ length: 250 }, () => keys.handOut()))
    const ids = bundles.map((b) => b.oneTimePreKey?.id)
    assert.ok(
      ids.every((id) => id !== undefined),
      'every request got a one-time prekey',
    )
    assert.equal(new Set(ids).size, ids.length, 'no one-time prekey was handed out twice')
    const keyHex = new Set(bundles.map((b) => Buffer.from(b.oneTimePreKey!.publicKey).toString('hex')))
    assert.equal(keyHex.size, ids.length, 'no public key was handed out twice')
  })

  it('the pool position survives a reopen: no key is handed out again', async () => {
    const store = new MemoryStore()
    const identity = generateIdentity()
    const first = await PreKeyStore.open(store, identity)
    const before = await Promise.all([first.handOut(), first.handOut(), first.handOut()])
    const reopened = await PreKeyStore.open(store, identity)
    const next = await reopened.handOut()
    const seen = new Set(before.map((b) => b.oneTimePreKey!.id))
    assert.equal(seen.size, 3)
    assert.ok(!seen.has(next.oneTimePreKey!.id), 'the reopened store continues after the handed-out keys')
  })

  it('a reopened store derives the same last-resort KEM prekey from its seed when first asked', async () => {
    const store = new MemoryStore()
    const identity = generateIdentity()
    const first = await PreKeyStore.open(store, identity)
    const reopened = await PreKeyStore.open(store, identity)
    assert.equal(reopened.kemPreKeyId, first.kemPreKeyId)
    assert.deepEqual(reopened.kemPreKey.publicKey, first.kemPreKey.publicKey)
    assert.deepEqual(reopened.kemPreKey.secretKey, first.kemPreKey.secretKey)
    assert.deepEqual(reopened.kemPreKey.signature, first.kemPreKey.signature)
  })
})
