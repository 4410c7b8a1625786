/**
 * Auto-download limits (files/auto-download.ts) between real peers (libp2p on 127.0.0.1,
 * LevelDB, files on disk): an offer above the user's size waits for their accept, per-contact
 * and total quotas make further offers wait, a file that would leave too little free disk space
 * (statfs of the real files folder) waits, and a contact accepted later is held to the same rules.
 * What waits downloads when the user accepts it, whatever the limits; nothing is pulled before.
 *
 * The byte sizes are small here (the limits are per FileService); the default sizes are checked
 * as numbers.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { DEFAULT_AUTO_DOWNLOAD } from '../src/files/auto-download.js'
import { memorySource } from '../src/files/memory-storage.js'
import { befriend, type FilePeer, filePeer, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

const KB = 1000
const MB = 1000 * KB
const hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')
const random = (n: number) => new Uint8Array(randomBytes(n))
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

const LIMITS = { askAboveBytes: 1 * MB, perContactBytes: 3 * MB, totalBytes: 5 * MB }

/** `from` offers `bytes` to the contact `to`; resolves with the receiver's view once it is known there. */
async function offer(from: FilePeer, toId: string, at: FilePeer, bytes: Uint8Array, name: string) {
  const sent = await from.files.sendFile(toId, memorySource(bytes, name))
  return eventually(() => at.files.transfer(sent.id), 10_000, `the offer of ${name}`)
}

async function partials(peer: FilePeer): Promise<string[]> {
  return readdir(join(peer.home, 'files', '.partial')).catch(() => [])
}

after(removeHomes)

describe('auto-download limits', () => {
  it('the defaults: ask above 100 MB, 1 GB a day per contact, 4 GB a day in all, 1 GB kept free', () => {
    assert.deepEqual(DEFAULT_AUTO_DOWNLOAD, {
      askAboveBytes: 100_000_000,
      perContactBytes: 1_000_000_000,
      totalBytes: 4_000_000_000,
      windowMs: 86_400_000,
      minFreeBytes: 1_000_000_000,
    })
  })

  it('an offer above the ask size waits, even when the sender pushes; accepting downloads it', async () => {
    const alice = await filePeer('Alice')
    const bob = await filePeer('Bob', { autoDownload: LIMITS })
    try {
      const { bAtA } = await befriend(alice, bob)
      const data = random(1.5 * MB)
      const held = await offer(alice, bAtA, bob, data, 'big.bin')
      assert.equal(held.note, 'needs-accept')
      assert.equal(held.hold, 'large')
      assert.equal(bob.files.settings().askAboveBytes, 1 * MB)
      // The sender pushes (after the ack, and again ~2 s later): the receiver still takes nothing.
      await pause(3_000)
      assert.equal(bob.files.transfer(held.id)?.bytes, 0)
      assert.equal(bob.files.stats().chunksReceived, 0)
      assert.deepEqual(await partials(bob), [], 'no partial data on disk')

      const accepted = await bob.files.accept(held.id)
      assert.equal(accepted.note, undefined)
      assert.equal(accepted.hold, undefined)
      const done = await eventually(() => {
        const t = bob.files.transfer(held.id)
        return t?.status === 'complete' ? t : undefined
      }, 20_000)
      assert.equal(done.sha256, hex(data))
      await assert.rejects(bob.files.accept(held.id), { name: 'FileError', code: 'BadInput' })
    } finally {
      await Promise.all([alice.stop(), bob.stop()])
    }
  })

  it('per-contact and total quotas make further offers wait, each for its own reason', async () => {
    const alice = await filePeer('Alice')
    const carol = await filePeer('Carol')
    const bob = await filePeer('Bob', { autoDownload: LIMITS })
    try {
      const { bAtA } = await befriend(alice, bob)
      const { bAtA: bAtC } = await befriend(carol, bob)
      const piece = () => random(900 * KB)
      const complete = async (id: string) =>
        eventually(() => bob.files.transfer(id)?.status === 'complete', 20_000, 'downloaded')
      // Alice: 3 × 0.9 MB fit her 3 MB; the fourth does not.
      for (let i = 0; i < 3; i++) {
        const t = await offer(alice, bAtA, bob, piece(), `a${i}.bin`)
        assert.equal(t.hold, undefined, `a${i} downloads`)
        await complete(t.id)
      }
      const overAlice = await offer(alice, bAtA, bob, piece(), 'a3.bin')
      assert.equal(overAlice.hold, 'contact-quota')
      // Carol has her own 3 MB, but all contacts share 5 MB: 2.7 + 0.9 + 0.9 fit, the next does not.
      for (let i = 0; i < 2; i++) {
        const t = await offer(carol, bAtC, bob, piece(), `c${i}.bin`)
        assert.equal(t.hold, undefined, `c${i} downloads`)
        await complete(t.id)
      }
      const overAll = await offer(carol, bAtC, bob, piece(), 'c2.bin')
      assert.equal(overAll.hold, 'total-quota')
      assert.equal(bob.files.transfer(overAlice.id)?.bytes, 0)
      // The user can still take both.
      await bob.files.accept(overAlice.id)
      await bob.files.accept(overAll.id)
      await complete(overAlice.id)
      await complete(overAll.id)
    } finally {
      await Promise.all([alice.stop(), carol.stop(), bob.stop()])
    }
  })

  it('a file that would leave too little free space waits (statfs of the real files folder)', async () => {
    const alice = await filePeer('Alice')
    const probe = await filePeer('Probe')
    const free = await probe.storage.freeBytes?.()
    await probe.stop()
    assert.ok(free !== undefined && free > 0, 'statfs answers on this machine')
    // A reserve far above what is free now (other tests running beside this one write and delete
    // large files): any file would cut into it.
    const bob = await filePeer('Bob', { autoDownload: { ...LIMITS, minFreeBytes: 2 * free + 2 ** 30 } })
    try {
      const { bAtA } = await befriend(alice, bob)
      const t = await offer(alice, bAtA, bob, random(10 * KB), 'small.txt')
      assert.equal(t.hold, 'disk-space')
      await bob.files.accept(t.id)
      await eventually(() => bob.files.transfer(t.id)?.status === 'complete', 20_000, 'downloaded')
    } finally {
      await Promise.all([alice.stop(), bob.stop()])
    }
  })

  it('an offer made before the sender was a contact is held to the rules once they are', async () => {
    const dave = await filePeer('Dave')
    const bob = await filePeer('Bob', { autoDownload: LIMITS })
    try {
      // Dave asks; Bob has not answered yet, so Dave's file only waits for that.
      const bAtD = (await dave.messenger.addContact(bob.messenger.card().link)).id
      const dAtB = await eventually(() => bob.messenger.contactList()[0]?.id, 10_000, 'the request')
      const pending = await offer(dave, bAtD, bob, random(1.5 * MB), 'early.bin')
      assert.equal(pending.note, 'waiting-for-accept')
      await bob.messenger.accept(dAtB)
      const held = await eventually(
        () => (bob.files.transfer(pending.id)?.hold === 'large' ? bob.files.transfer(pending.id) : undefined),
        10_000,
        'held once Dave is a contact',
      )
      assert.equal(held.note, 'needs-accept')
      assert.equal(held.bytes, 0)
    } finally {
      await Promise.all([dave.stop(), bob.stop()])
    }
  })

  it('the size to ask above is the user’s setting, kept across restarts', async () => {
    const alice = await filePeer('Alice')
    let bob = await filePeer('Bob', { autoDownload: LIMITS })
    try {
      const { bAtA } = await befriend(alice, bob)
      await assert.rejects(bob.files.setSettings({ askAboveBytes: -1 }), { code: 'BadInput' })
      assert.deepEqual(await bob.files.setSettings({ askAboveBytes: 2 * MB }), { askAboveBytes: 2 * MB })
      const t = await offer(alice, bAtA, bob, random(1.5 * MB), 'fits.bin')
      assert.equal(t.hold, undefined)
      await eventually(() => bob.files.transfer(t.id)?.status === 'complete', 20_000, 'downloaded')
      const { home, key } = bob
      await bob.stop()
      bob = await filePeer('Bob', { home, key, autoDownload: LIMITS })
      assert.equal(bob.files.settings().askAboveBytes, 2 * MB)
    } finally {
      await Promise.all([alice.stop(), bob.stop()])
    }
  })
})
