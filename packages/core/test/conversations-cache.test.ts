/**
 * Conversations keeps recently written messages at hand for the acks and receipts that follow
 * them. A status change refreshes a cached message where it is, without making it the newest,
 * and never brings in one that is not cached (it would take the place of one still waiting).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Conversations } from '../src/messenger/conversations.js'
import type { ContactId, MessageId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { encodeRecord, type MessageRecord } from '../src/messenger/records.js'
import { MemoryStore } from '../src/store/memory.js'

const cid = 'c1' as ContactId
const message = (n: number): MessageRecord => ({
  id: n.toString(16).padStart(32, '0') as MessageId,
  contactId: cid,
  seq: n,
  direction: 'out',
  text: `m${n}`,
  sentAt: n,
  at: n,
  status: 'queued',
})

describe('Conversations’ recent messages', () => {
  it('a refresh replaces a cached message and leaves an uncached one to the store', async () => {
    const store = new MemoryStore()
    const conversations = new Conversations(store)
    const cached = message(1)
    const stored = message(2)
    await store.put(Keys.msg(cid, 2), encodeRecord(stored))
    await store.put(Keys.msgId(cid, stored.id), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2]))

    conversations.remember(cached)
    conversations.refresh({ ...cached, status: 'sent' })
    assert.equal((await conversations.message(cid, cached.id))?.status, 'sent')

    conversations.refresh({ ...stored, status: 'delivered' })
    assert.equal((await conversations.message(cid, stored.id))?.status, 'queued', 'read from the store')
    conversations.refresh({ ...message(3), status: 'sent' })
    assert.equal(await conversations.message(cid, message(3).id), undefined, 'not brought in')
  })
})
