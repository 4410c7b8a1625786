/**
 * Search at 100,000 messages, against the same at 1,000 (one run, one machine):
 *   search.query_100k_ms   median time of a query (a rare word, a common pair of words, Chinese)
 *                          on a sealed LevelDB store with 100,000 messages; goal ≤ 50 ms
 *   search.index_100k_ms   building the index of 100,000 messages at start (a store from before
 *                          search), against 1,000
 * The messages are written straight into the store (no network): what is measured is the index.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BatchOp, LevelStore, MemoryStore, openSealedStore, randomBytes } from '@jiayi/core'
import { seqBytes } from '../../packages/core/src/messenger/conversations.js'
import type { ContactId, MessageId } from '../../packages/core/src/messenger/ids.js'
import { newMessageId } from '../../packages/core/src/messenger/ids.js'
import { Keys } from '../../packages/core/src/messenger/keys.js'
import { encodeRecord, type MessageRecord } from '../../packages/core/src/messenger/records.js'
import { median, startPeer } from './bench-peer.js'
import { report } from './report.js'

const WORDS = (
  'tea jasmine oolong green black white samples price order ship invoice Friday Monday tins box ' +
  'carton pallet Shanghai Fujian Hangzhou quality discount payment bank transfer receipt photo'
).split(' ')
const PHRASES = ['新茶到了', '明天发货', '请确认订单', '价格不变', '样品已寄出', '谢谢', '好的']

function log(message: string): void {
  process.stderr.write(`# ${message}\n`)
}

function text(i: number): string {
  const pick = (n: number) => WORDS[(i * 7 + n * 13) % WORDS.length]!
  const words = Array.from({ length: 8 }, (_, n) => pick(n))
  // One message in 10,000 says something rare.
  if (i % 10_000 === 5_000) words.push('zanzibar')
  return `${words.join(' ')} ${PHRASES[i % PHRASES.length]}`
}

async function measure(count: number): Promise<{ indexMs: number; queryMs: number; hits: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-search-bench-'))
  try {
    const store = await openSealedStore(await LevelStore.open(dir), { key: randomBytes(32) })
    const bob = await startPeer(new MemoryStore(), 'Bob')
    const alice = await startPeer(store, 'Alice')
    const cid = (await alice.messenger.addContact(bob.messenger.card().link)).id as ContactId
    await bob.stop()
    await alice.messenger.settled()
    await alice.stop()

    // A history from before search: records only.
    const t0 = Date.now() - count * 1000
    for (let from = 1; from <= count; from += 2000) {
      const ops: BatchOp[] = []
      for (let seq = from; seq < from + 2000 && seq <= count; seq++) {
        const id = newMessageId() as MessageId
        const record: MessageRecord = {
          id,
          contactId: cid,
          seq: seq + 10,
          direction: seq % 2 === 0 ? 'out' : 'in',
          text: text(seq),
          sentAt: t0 + seq * 1000,
          at: t0 + seq * 1000,
          status: seq % 2 === 0 ? 'read' : 'received',
        }
        ops.push({ type: 'put', key: Keys.msg(cid, record.seq), value: encodeRecord(record) })
        ops.push({ type: 'put', key: Keys.msgId(cid, id), value: seqBytes(record.seq) })
      }
      await store.batch(ops)
    }

    const started = performance.now()
    const reopened = await startPeer(store, 'Alice')
    // The first query waits for the index to catch up.
    await reopened.messenger.search('zanzibar')
    const indexMs = performance.now() - started
    const queries = ['zanzibar', 'oolong Shanghai', '明天发货', 'jasmine samples Friday']
    const times: number[] = []
    let hits = 0
    for (let round = 0; round < 5; round++)
      for (const q of queries) {
        const t = performance.now()
        hits = (await reopened.messenger.search(q, { limit: 50 })).length
        times.push(performance.now() - t)
      }
    await reopened.stop()
    await store.close()
    return { indexMs, queryMs: median(times), hits }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const small = await measure(1_000)
log(`1,000 messages: index ${small.indexMs.toFixed(0)} ms, query ${small.queryMs.toFixed(2)} ms`)
const large = await measure(100_000)
log(`100,000 messages: index ${large.indexMs.toFixed(0)} ms, query ${large.queryMs.toFixed(2)} ms`)
report({
  bench: 'search.query_100k_ms',
  value: large.queryMs,
  unit: 'ms',
  baseline: 'search.query_1k_ms',
  baselineValue: small.queryMs,
  goal: '≤ 50 ms',
})
report({
  bench: 'search.index_100k_ms',
  value: large.indexMs,
  unit: 'ms',
  baseline: 'search.index_1k_ms',
  baselineValue: small.indexMs,
})
process.exit(0)
