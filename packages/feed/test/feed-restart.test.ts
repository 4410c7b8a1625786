/** Restart: feeds reload from a real (sealed) LevelDB store without re-syncing from scratch. */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { openSealedStore, randomBytes } from '@jiayi/core'
import type { PostView } from '../src/index.js'
import { befriend, eventually, feedPeer, levelDir } from './helpers/peers.js'

describe('feed restart', () => {
  const cleanup: (() => Promise<void>)[] = []
  after(async () => {
    for (const c of cleanup.reverse()) await c()
  })

  it('a restarted peer loads its own and its contacts’ feeds from the store', async () => {
    const dir = await levelDir()
    const secret = { key: randomBytes(32) }
    const openStore = async () => openSealedStore(await dir.open(), secret)
    const store1 = await openStore()
    const a1 = await feedPeer('Amy', store1, { snapshotEveryUpdates: 3 })
    const b = await feedPeer('Bo')
    cleanup.push(dir.dispose, () => b.stop())
    await befriend(a1, b)

    for (let i = 0; i < 4; i++) await a1.feed.post(`Amy ${i}`)
    const bos: PostView[] = []
    for (let i = 0; i < 5; i++) bos.push(await b.feed.post(`Bo ${i}`))
    await eventually(() => a1.feed.timeline().length === 9, 10_000, 'A holds B’s posts')
    await a1.feed.like(bos[0]!.id)
    await a1.feed.comment(bos[1]!.id, '好')
    await eventually(() => b.feed.get(bos[1]!.id)?.comments.length === 1, 10_000, 'B sees A’s comment')
    const before = a1.feed.timeline()
    const vvBefore = a1.feed.engine.versionVector(b.feed.id)
    await a1.stop()
    await store1.close()

    const store2 = await openStore()
    const t0 = performance.now()
    const a2 = await feedPeer('Amy', store2, { snapshotEveryUpdates: 3 })
    const openMs = performance.now() - t0
    cleanup.push(async () => {
      await a2.stop()
      await store2.close()
    })
    // Straight from the store: nothing arrived from the network yet.
    const stats = a2.feed.stats()
    assert.equal(stats.entriesApplied + stats.snapshotsApplied, 0)
    assert.deepEqual(a2.feed.timeline(), before)
    assert.deepEqual(a2.feed.engine.versionVector(b.feed.id), vvBefore)
    assert.ok(openMs < 5_000)

    // And it carries on: its log continues, and sync picks up only what is new.
    const later = await b.feed.post('Bo after the restart')
    const mine = await a2.feed.post('Amy after the restart')
    await eventually(() => a2.feed.get(later.id) && b.feed.get(mine.id), 15_000, 'both sides sync again')
    await a2.feed.settled() // visible in the doc first, then stored and counted
    assert.equal(a2.feed.stats().entriesApplied, 1, 'only the new update was fetched')
    assert.equal(a2.feed.timeline().length, 11)
  })
})
