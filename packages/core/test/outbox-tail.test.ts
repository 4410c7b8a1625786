/**
 * The outbox tail: a running delivery takes the entries just committed from memory, in order and
 * only once durable; whatever the tail cannot answer exactly goes to the real store.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Conversations } from '../src/messenger/conversations.js'
import type { ContactId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { encodeOutboxRecord } from '../src/messenger/outbox-record.js'
import {
  MAX_TAIL_BYTES,
  MAX_TAIL_ENTRIES,
  MAX_TOTAL_TAIL_BYTES,
  OutboxTail,
} from '../src/messenger/outbox-tail.js'
import type { OutboxRecord } from '../src/messenger/records.js'
import { MemoryStore } from '../src/store/memory.js'
import type { IterateOptions } from '../src/store/store.js'
import { WriteBehindStore } from '../src/store/write-behind.js'

const cid = 'c0ffee' as ContactId
const entry = (seq: number): OutboxRecord => ({
  seq,
  type: 'message',
  envelope: Uint8Array.of(seq),
  createdAt: seq,
})
const seqs = (entries: readonly OutboxRecord[] | undefined) => entries?.map((e) => e.seq)
const done = Promise.resolve()

describe('OutboxTail', () => {
  it('hands out the unbroken run right after `after`, up to the limit, each entry once', async () => {
    const tail = new OutboxTail()
    for (const seq of [5, 6, 7, 8]) tail.add(cid, entry(seq), done)
    assert.deepEqual(seqs(await tail.take(cid, 2, 4)), [5, 6])
    assert.deepEqual(seqs(await tail.take(cid, 10, 6)), [7, 8])
    assert.equal(tail.take(cid, 10, 8), undefined, 'nothing left: ask the store')
  })

  it('refuses to answer across a gap or from the wrong place', () => {
    const tail = new OutboxTail()
    assert.equal(tail.take(cid, 10, 0), undefined, 'an unknown conversation')
    for (const seq of [3, 4, 6]) tail.add(cid, entry(seq), done)
    assert.equal(tail.take(cid, 10, 0), undefined, 'seq 1 and 2 are not here')
    assert.equal(tail.size(cid), 3)
  })

  it('stops at a gap, and drops what a delivery has already passed', async () => {
    const tail = new OutboxTail()
    for (const seq of [1, 2, 3, 5]) tail.add(cid, entry(seq), done)
    assert.deepEqual(seqs(await tail.take(cid, 10, 1)), [2, 3], 'seq 1 was sent already')
    assert.equal(tail.take(cid, 10, 3), undefined, 'seq 4 is missing')
    tail.dropThrough(cid, 5)
    assert.equal(tail.size(cid), 0)
  })

  it('answers only once the entries are durable', async () => {
    const tail = new OutboxTail()
    let makeDurable!: () => void
    tail.add(
      cid,
      entry(1),
      new Promise<void>((resolve) => {
        makeDurable = resolve
      }),
    )
    let answered = false
    const taken = tail.take(cid, 10, 0)!.then((e) => {
      answered = true
      return e
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(answered, false)
    makeDurable()
    assert.deepEqual(seqs(await taken), [1])
  })

  it("takes the rest of the first entry's group commit too, but nothing still on its way", async () => {
    const tail = new OutboxTail()
    const resolvers: (() => void)[] = []
    const write = () => new Promise<void>((resolve) => resolvers.push(resolve))
    tail.add(cid, entry(1), write())
    const taken = tail.take(cid, 10, 0)!
    tail.add(cid, entry(2), write()) // committed after the pull asked, in the same batch
    tail.add(cid, entry(3), write()) // the next batch
    // WriteBehindStore resolves one batch's writes in one synchronous loop.
    resolvers[0]!()
    resolvers[1]!()
    assert.deepEqual(seqs(await taken), [1, 2])
    assert.equal(tail.size(cid), 1)
  })

  it('a failed write fails the take', async () => {
    const tail = new OutboxTail()
    const failed = Promise.reject(new Error('disk gone'))
    failed.catch(() => undefined)
    tail.add(cid, entry(1), failed)
    await assert.rejects(tail.take(cid, 10, 0)!, /disk gone/)
  })

  it('keeps entries in number order, stays bounded, and forgets a removed conversation', async () => {
    const tail = new OutboxTail()
    for (const seq of [2, 1, 3]) tail.add(cid, entry(seq), done)
    assert.deepEqual(seqs(await tail.take(cid, 10, 0)), [1, 2, 3])
    for (let seq = 1; seq <= MAX_TAIL_ENTRIES + 10; seq++) tail.add(cid, entry(seq), done)
    assert.equal(tail.size(cid), MAX_TAIL_ENTRIES)
    assert.equal(tail.take(cid, 10, 0), undefined, 'the oldest were let go: the store has them')
    tail.forget(cid)
    assert.equal(tail.size(cid), 0)
    assert.equal(tail.heldBytes(cid), 0)
  })

  it('holds at most MAX_TAIL_BYTES of envelopes per conversation, and counts them back down', async () => {
    const tail = new OutboxTail()
    const big = (seq: number): OutboxRecord => ({
      ...entry(seq),
      envelope: new Uint8Array(100_000),
    })
    const n = Math.ceil(MAX_TAIL_BYTES / 100_000) + 10
    for (let seq = 1; seq <= n; seq++) tail.add(cid, big(seq), done)
    assert.ok(tail.heldBytes(cid) <= MAX_TAIL_BYTES)
    assert.ok(tail.size(cid) < n, 'the oldest were let go')
    assert.equal(tail.heldBytes(cid), tail.size(cid) * 100_000)
    const first = n + 1 - tail.size(cid)
    assert.equal((await tail.take(cid, 2, first - 1))?.length, 2)
    assert.equal(tail.heldBytes(cid), tail.size(cid) * 100_000)
    tail.dropThrough(cid, n)
    assert.equal(tail.heldBytes(cid), 0)
    assert.equal(tail.heldBytes(), 0)
  })

  it('holds at most MAX_TOTAL_TAIL_BYTES in all, letting the least recently written go first', async () => {
    const tail = new OutboxTail()
    const envelope = new Uint8Array(1_000_000)
    const conversations = Math.ceil(MAX_TOTAL_TAIL_BYTES / MAX_TAIL_BYTES) + 2
    const cids = Array.from({ length: conversations }, (_, i) => `c${i}` as ContactId)
    // Each conversation fills up to its own bound; the first one is written to again at the end.
    for (const c of cids) for (let seq = 1; seq <= 4; seq++) tail.add(c, { ...entry(seq), envelope }, done)
    tail.add(cids[0]!, { ...entry(5), envelope }, done)
    assert.ok(tail.heldBytes() <= MAX_TOTAL_TAIL_BYTES)
    assert.equal(tail.size(cids[1]!), 0, 'the least recently written conversation went first')
    assert.ok(tail.size(cids[0]!) > 0, 'the one just written to stays')
    assert.ok(tail.size(cids[conversations - 1]!) > 0)
    assert.equal(
      tail.heldBytes(),
      cids.reduce((sum, c) => sum + tail.heldBytes(c), 0),
      'the total is the sum of the parts',
    )
    // The first conversation had been let go before its last write; that write is kept.
    assert.deepEqual(seqs(await tail.take(cids[0]!, 10, 4)), [5])
  })
})

describe('Conversations.outbox with the tail', () => {
  /** A real store that counts the reads of outbox entries it serves (not the counters' lookups). */
  class CountingStore extends WriteBehindStore {
    iterations = 0
    override iterate(options?: IterateOptions) {
      if (options?.reverse !== true) this.iterations++
      return super.iterate(options)
    }
  }

  it('reads the store for a first pull, then takes new entries from memory', async () => {
    const store = new CountingStore(new MemoryStore())
    // Entries from before a restart: only the store has them.
    for (const seq of [1, 2]) await store.put(Keys.outbox(cid, seq), encodeOutboxRecord(entry(seq)))
    const conversations = new Conversations(store)
    /** What encryptToOutbox does: number the entry, write it, hand it to the tail. */
    const commit = async () => {
      const seq = await conversations.nextOutboxSeq(cid)
      const durable = store.write([
        { type: 'put', key: Keys.outbox(cid, seq), value: encodeOutboxRecord(entry(seq)) },
      ])
      conversations.outboxTail.add(cid, entry(seq), durable)
    }
    assert.deepEqual(seqs(await conversations.outbox(cid, 256)), [1, 2])
    assert.equal(store.iterations, 1)

    await commit()
    await commit()
    assert.deepEqual(seqs(await conversations.outbox(cid, 256, 2)), [3, 4])
    assert.equal(store.iterations, 1, 'no read-back')
    assert.deepEqual(seqs(await conversations.outbox(cid, 256, 4)), [], 'nothing numbered after 4')
    assert.equal(store.iterations, 1, 'known without asking the store')

    // A change that took number 5 and failed leaves a gap: the store is asked, and is right.
    await conversations.nextOutboxSeq(cid)
    await commit()
    assert.deepEqual(seqs(await conversations.outbox(cid, 256, 4)), [6])
    assert.equal(store.iterations, 2)
    assert.equal(conversations.outboxTail.size(cid), 0, 'what the store returned is dropped from the tail')

    await commit()
    conversations.forget(cid)
    assert.equal(conversations.outboxTail.size(cid), 0, 'a removed contact leaves nothing behind')
  })
})
