/**
 * How a group is stored (group-store.ts): a message read writes its sender's sender-key record
 * and the counters, never the op log that names every member's card; a store in the first layout
 * (everything in one record) still loads, and is written in the new one from then on.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { fromUtf8, utf8 } from '../src/bytes.js'
import { GroupKeys } from '../src/groups/group-store.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { decodeKey } from '../src/store/keys.js'
import { MemoryStore } from '../src/store/memory.js'
import type { BatchOp } from '../src/store/store.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

/** A real in-memory store that also tells which kinds of record (a key's first part) it wrote. */
class WatchedStore extends MemoryStore {
  readonly written = new Map<string, number>()
  override async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.count(key)
    return super.put(key, value)
  }
  override async batch(ops: readonly BatchOp[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.count(op.key)
    return super.batch(ops)
  }
  private count(key: Uint8Array): void {
    const kind = String(decodeKey(key)[0])
    this.written.set(kind, (this.written.get(kind) ?? 0) + 1)
  }
}

async function befriend(a: Messenger, b: Messenger): Promise<string> {
  const bAtA = (await a.addContact(b.card().link)).id
  const aAtB = (await b.addContact(a.card().link)).id
  await eventually(
    () => a.contact(bAtA).state === 'accepted' && b.contact(aAtB).state === 'accepted',
    15_000,
    'accepted both ways',
  )
  return bAtA
}

async function texts(m: Messenger, gid: string): Promise<string[]> {
  return (await m.groups.messages(gid, { peek: true })).map((x) => x.text)
}

describe('group storage', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('a message read writes no op log; a store in the first layout loads and moves to the new one', async () => {
    const ann = await testPeer('Ann')
    const boStore = new WatchedStore()
    let bo = await testPeer('Bo', boStore)
    const cy = await testPeer('Cy')
    peers.push(ann, cy)
    const boAtAnn = await befriend(ann.messenger, bo.messenger)
    const cyAtAnn = await befriend(ann.messenger, cy.messenger)
    const group = await ann.messenger.groups.create('Stall 摊位', [boAtAnn, cyAtAnn])
    await eventually(
      () => bo.messenger.groups.find(group.id)?.members.length === 3,
      15_000,
      'Bo in the group',
    )
    await ann.messenger.groups.send(group.id, 'first')
    await eventually(async () => (await texts(bo.messenger, group.id)).includes('first'), 15_000, 'first')

    boStore.written.clear()
    for (let i = 0; i < 5; i++) await ann.messenger.groups.send(group.id, `n${i}`)
    await eventually(async () => (await texts(bo.messenger, group.id)).includes('n4'), 15_000, 'all five')
    await new Promise((r) => setTimeout(r, 300)) // the write-behind's last batch
    assert.equal(boStore.written.get('grp') ?? 0, 0, 'the op log is not written per message')
    assert.ok((boStore.written.get('grpr') ?? 0) >= 1, "Ann's sender-key record is")
    assert.ok((boStore.written.get('gmsg') ?? 0) >= 5, 'and the messages')

    // Bo stops; his store is turned into the first layout: one record with everything in it.
    await bo.stop()
    const gid = group.id as Parameters<typeof GroupKeys.group>[0]
    const structure = JSON.parse(fromUtf8((await boStore.get(GroupKeys.group(gid)))!)) as Record<
      string,
      unknown
    >
    assert.equal(structure.v, 2)
    const counters = JSON.parse(fromUtf8((await boStore.get(GroupKeys.counters(gid)))!)) as Record<
      string,
      unknown
    >
    const records: [string, string][] = []
    for await (const [k, v] of boStore.iterate({ prefix: GroupKeys.senderKeys(gid) })) {
      const r = JSON.parse(fromUtf8(v)) as { member: string; record: string }
      records.push([r.member, r.record])
      await boStore.del(k)
    }
    const ownBytes = await boStore.get(GroupKeys.ownKey(gid))
    await boStore.del(GroupKeys.ownKey(gid))
    await boStore.del(GroupKeys.counters(gid))
    const { v: _v, ...rest } = structure
    await boStore.put(
      GroupKeys.group(gid),
      utf8(
        JSON.stringify({
          ...rest,
          ...counters,
          channel: { ...(ownBytes === undefined ? {} : { own: JSON.parse(fromUtf8(ownBytes)) }), records },
        }),
      ),
    )
    assert.ok(records.length >= 1)

    // It loads: the history, and Ann's chain, which reads her next message with no new handout.
    bo = await testPeer('Bo', boStore)
    peers.push(bo)
    assert.deepEqual((await texts(bo.messenger, group.id)).slice(-2), ['n3', 'n4'])
    await ann.messenger.groups.send(group.id, 'after the upgrade')
    await eventually(
      async () => (await texts(bo.messenger, group.id)).includes('after the upgrade'),
      20_000,
      'read after the restart',
    )
    await new Promise((r) => setTimeout(r, 300))
    const now = JSON.parse(fromUtf8((await boStore.get(GroupKeys.group(gid)))!)) as Record<string, unknown>
    assert.equal(now.v, 2, 'written in the new layout')
    assert.equal(now.channel, undefined)
    const held = new Set<string>()
    for await (const [, v] of boStore.iterate({ prefix: GroupKeys.senderKeys(gid) }))
      held.add((JSON.parse(fromUtf8(v)) as { member: string }).member)
    for (const [member] of records) assert.ok(held.has(member), 'every sender-key record moved to its own')
  })
})
