/**
 * When our other devices were last heard from, on a real store on disk: kept across a restart
 * (a new SeenDevices on the same store), written at most once a minute per device while they
 * keep being heard from, the newest time written at stop, and forgotten with a removed device.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fromUtf8 } from '../src/bytes.js'
import { ownDeviceSeenKey, SEEN_WRITE_MS, SeenDevices } from '../src/devices/seen.js'
import { LevelStore } from '../src/store/level.js'

const dirs: string[] = []
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

test('seen times: kept across a restart, written at most once a minute per device', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-seen-'))
  dirs.push(dir)
  const store = await LevelStore.open(dir)
  const stored = async () => {
    const bytes = await store.get(ownDeviceSeenKey())
    return bytes === undefined ? {} : (JSON.parse(fromUtf8(bytes)) as Record<string, number>)
  }
  const seen = new SeenDevices(store)
  const t0 = 1_800_000_000_000
  seen.heard('phone', t0)
  seen.heard('tablet', t0 + 5)
  seen.heard('phone', t0 + 30_000) // within the minute: in memory only
  await seen.flushWrites()
  assert.deepEqual(await stored(), { phone: t0, tablet: t0 + 5 })
  assert.equal(seen.map.get('phone'), t0 + 30_000)
  seen.heard('phone', t0 + SEEN_WRITE_MS)
  await seen.flushWrites()
  assert.deepEqual(await stored(), { phone: t0 + SEEN_WRITE_MS, tablet: t0 + 5 })
  seen.heard('tablet', t0 + 10_000)
  await seen.flush() // at stop: what is newer than the store is written
  assert.deepEqual(await stored(), { phone: t0 + SEEN_WRITE_MS, tablet: t0 + 10_000 })

  // A restart: the times come back, but only for devices still on the list.
  const again = new SeenDevices(store)
  await again.load((peer) => peer !== 'tablet')
  assert.deepEqual([...again.map], [['phone', t0 + SEEN_WRITE_MS]])
  again.forget('phone')
  await again.flush()
  assert.deepEqual(await stored(), {})
  await store.close()
})
