/**
 * A conversation's counters are loaded from the store once, however many callers ask at the same
 * moment: a send (in the conversation's queue) and the delivery (outside it) both ask right after
 * a start. Two loads used to hand out numbers from two copies, so two messages got one number and
 * the later overwrote the earlier on disk (issue: "a message `send` acknowledged is lost").
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { Conversations } from '../src/messenger/conversations.js'
import type { ContactId, MessageId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { encodeOutboxRecord } from '../src/messenger/outbox-record.js'
import { encodeRecord, type MessageRecord } from '../src/messenger/records.js'
import { LevelStore } from '../src/store/level.js'

const cid = 'c0ffee0000000001' as ContactId
const dirs: string[] = []

after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** A real LevelDB store holding `messages` messages and `outbox` outbox entries of one conversation. */
async function storeWith(messages: number, outbox: number): Promise<LevelStore> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-counters-'))
  dirs.push(dir)
  const store = await LevelStore.open(dir)
  for (let seq = 1; seq <= messages; seq++) {
    const m: MessageRecord = {
      id: seq.toString(16).padStart(32, '0') as MessageId,
      contactId: cid,
      seq,
      direction: 'out',
      text: `m${seq}`,
      sentAt: seq,
      at: seq,
      status: 'queued',
    }
    await store.put(Keys.msg(cid, seq), encodeRecord(m))
  }
  for (let seq = 1; seq <= outbox; seq++) {
    const entry = { seq, type: 'message' as const, envelope: new Uint8Array(8), createdAt: seq }
    await store.put(Keys.outbox(cid, seq), encodeOutboxRecord(entry))
  }
  return store
}

type Call = 'nextMessageSeq' | 'nextOutboxSeq' | 'outbox' | 'runs' | 'mayBeKnown'

/** One first-time caller of the counters, as the messenger's parts make them. */
function call(c: Conversations, kind: Call): Promise<unknown> {
  switch (kind) {
    case 'nextMessageSeq':
      return c.nextMessageSeq(cid)
    case 'nextOutboxSeq':
      return c.nextOutboxSeq(cid)
    case 'outbox':
      return c.outbox(cid, 16, 1_000)
    case 'runs':
      return c.runs(cid)
    case 'mayBeKnown':
      return c.mayBeKnown(cid, 1, '0'.repeat(32) as MessageId)
  }
}

describe('a conversation’s counters', () => {
  it('a send and the delivery asking at once get one copy: numbers go on from the store', async () => {
    const store = await storeWith(200, 200)
    try {
      const c = new Conversations(store)
      const [first] = await Promise.all([c.nextMessageSeq(cid), c.outbox(cid, 16, 1_000)])
      assert.equal(first, 201)
      assert.equal(await c.nextMessageSeq(cid), 202, 'the next number, not the same one again')
    } finally {
      await store.close()
    }
  })

  it('any mix of first callers at once hands out every number once (property)', async () => {
    const store = await storeWith(5, 3)
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom<Call>('nextMessageSeq', 'nextOutboxSeq', 'outbox', 'runs', 'mayBeKnown'), {
            minLength: 2,
            maxLength: 12,
          }),
          async (calls) => {
            const c = new Conversations(store)
            const results = await Promise.all(calls.map((k) => call(c, k)))
            const msgSeqs = results.filter((_, i) => calls[i] === 'nextMessageSeq') as number[]
            const outSeqs = results.filter((_, i) => calls[i] === 'nextOutboxSeq') as number[]
            msgSeqs.push(await c.nextMessageSeq(cid))
            outSeqs.push(await c.nextOutboxSeq(cid))
            assert.deepEqual(
              msgSeqs,
              msgSeqs.map((_, i) => 6 + i),
              'message numbers 6, 7, … once each',
            )
            assert.deepEqual(
              outSeqs,
              outSeqs.map((_, i) => 4 + i),
              'outbox numbers 4, 5, … once each',
            )
          },
        ),
        { numRuns: 200 },
      )
    } finally {
      await store.close()
    }
  })

  it('a conversation forgotten while its counters load starts again from the store', async () => {
    const store = await storeWith(3, 0)
    try {
      const c = new Conversations(store)
      const loading = c.nextMessageSeq(cid)
      c.forget(cid)
      await store.put(Keys.msg(cid, 10), encodeRecord({ id: 'x', seq: 10 }))
      await loading
      assert.equal(await c.nextMessageSeq(cid), 11, 'loaded again, not the forgotten copy')
    } finally {
      await store.close()
    }
  })
})
