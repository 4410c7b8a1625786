/**
 * A home whose store has the previous layout (contact and message ids in record keys, the id
 * index, unread markers and ratchet envelopes in the clear) opens with the current `jiayi`: the
 * store is moved to keyed names under a new data key as it opens, the conversation is all there,
 * and afterwards no file of the store (tables, log, manifest, LevelDB's own LOG) holds a contact
 * id or the old key header.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import {
  aeadSeal,
  concatBytes,
  createKeyHeader,
  decodeStoreKey,
  LevelStore,
  openSealedStore,
  utf8,
} from '@jiayi/core'
import { cleanup, eventually, jiayiJson } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

after(cleanup)

const HEADER_KEY = Uint8Array.of(0x00, ...utf8('jiayi/store-header'))
/** Families whose values the previous layout kept in the clear (after a %x00). */
const PLAIN_FAMILIES = new Set(['msgid', 'unread'])

async function filesWith(dir: string, needle: Uint8Array): Promise<string[]> {
  const hits: string[] = []
  for (const name of await readdir(dir))
    if ((await readFile(join(dir, name))).includes(Buffer.from(needle))) hits.push(name)
  return hits
}

/** Rewrites a stopped home's store in the previous layout, record for record. */
async function toLegacy(home: string): Promise<{ header: Uint8Array; records: number }> {
  const dir = join(home, 'store')
  const key = new Uint8Array(await readFile(join(home, 'storage.key')))
  const store = await openSealedStore(await LevelStore.open(dir), { key })
  const entries: [Uint8Array, Uint8Array][] = []
  for await (const entry of store.iterate()) entries.push(entry)
  await store.close()
  await rm(dir, { recursive: true })
  const { header, dataKey } = await createKeyHeader({ key })
  const legacy = await LevelStore.open(dir)
  await legacy.batch([
    { type: 'put', key: HEADER_KEY, value: header },
    ...entries.map(([k, v]) => ({
      type: 'put' as const,
      key: k,
      value: PLAIN_FAMILIES.has(String(decodeStoreKey(k)[0]))
        ? concatBytes(Uint8Array.of(0x00), v)
        : concatBytes(Uint8Array.of(0x01), aeadSeal(dataKey, v, k)),
    })),
  ])
  await legacy.close()
  return { header, records: entries.length }
}

test('a store of the previous layout opens, whole, and its ids and old header leave the disk', {
  timeout: 120_000,
}, async () => {
  const [a, b] = await Promise.all([TestPeer.create('Old Ann'), TestPeer.create('Old Ben')])
  const { bAtA } = await befriend(a, b)
  await a.control.send(bAtA, 'written before the upgrade 升级前')
  await eventually(
    async () => (await a.control.messages(bAtA)).some((m) => m.status !== 'queued'),
    15_000,
    'sent',
  )
  const before = (await a.control.messages(bAtA)).map((m) => [m.id, m.text])
  assert.equal(await a.stop(), 0)
  const { header, records } = await toLegacy(a.home)
  const dir = join(a.home, 'store')
  assert.ok((await filesWith(dir, utf8(bAtA))).length > 0, 'the legacy store shows the contact id')

  await a.restart()
  assert.deepEqual(
    (await a.control.messages(bAtA)).map((m) => [m.id, m.text]),
    before,
    'the conversation is all there',
  )
  assert.equal(await a.stop(), 0)

  const files = await readdir(dir)
  assert.ok(files.some((f) => f.endsWith('.ldb')) && files.includes('LOG'), `the store's files: ${files}`)
  for (const [what, needle] of [
    ['contact id', utf8(bAtA)],
    ['old header', header],
  ] as const)
    assert.deepEqual(await filesWith(dir, needle), [], `no ${what} in any file of the store`)
  const who = await jiayiJson<{ name: string }>(a.home, ['whoami'])
  assert.equal(who.name, 'Old Ann')
  assert.ok(records > 10)
  await b.stop()
})
