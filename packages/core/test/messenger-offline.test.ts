/**
 * Offline delivery and restarts with the real store on disk: a peer that is away gets every queued
 * message exactly once and in order when it comes back, even on new ports.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { randomBytes } from '../src/bytes.js'
import { Conversations } from '../src/messenger/conversations.js'
import { LevelStore } from '../src/store/level.js'
import { openSealedStore } from '../src/store/unlock.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('offline and restart', () => {
  const dirs: string[] = []
  const running = new Set<TestPeer>()
  after(async () => {
    await Promise.all([...running].map((p) => p.stop()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  async function diskPeer(name: string, dir?: string, key = randomBytes(32)) {
    const location = dir ?? (await mkdtemp(join(tmpdir(), 'jiayi-peer-')))
    if (dir === undefined) dirs.push(location)
    const store = await openSealedStore(await LevelStore.open(location), { key })
    const peer = await testPeer(name, store)
    const stop = peer.stop
    const wrapped: TestPeer = {
      ...peer,
      async stop() {
        running.delete(wrapped)
        await stop()
        await store.close()
      },
    }
    running.add(wrapped)
    return { peer: wrapped, dir: location, key }
  }

  it('50 messages queued while the peer is stopped arrive once, in order, after it restarts on new ports', async () => {
    const a = await diskPeer('Alice')
    const b = await diskPeer('Bob')
    const bobAtAlice = await a.peer.messenger.addContact(b.peer.messenger.card().link)
    const aliceAtBob = await b.peer.messenger.addContact(a.peer.messenger.card().link)
    await eventually(() => a.peer.messenger.contact(bobAtAlice.id).state === 'accepted', 10_000, 'accepted')
    await eventually(
      () => b.peer.messenger.contact(aliceAtBob.id).state === 'accepted',
      10_000,
      'accepted at bob',
    )
    await a.peer.messenger.settled()
    await b.peer.messenger.settled()
    await b.peer.stop()

    const ids: string[] = []
    for (let i = 0; i < 50; i++)
      ids.push((await a.peer.messenger.send(bobAtAlice.id, `offline ${i} 离线`)).id)
    assert.ok((await a.peer.messenger.outboxSize(bobAtAlice.id)) >= 50)

    const again = await diskPeer('Bob', b.dir, b.key)
    const got = await eventually(
      async () => {
        const list = await again.peer.messenger.messages(aliceAtBob.id, { limit: 500, peek: true })
        const incoming = list.filter((m) => m.text.startsWith('offline '))
        return incoming.length >= 50 ? incoming : undefined
      },
      30_000,
      '50 messages at Bob',
    )
    assert.deepEqual(
      got.map((m) => m.id),
      ids,
      'each message exactly once, in the order sent',
    )
    await eventually(
      async () => (await a.peer.messenger.outboxSize(bobAtAlice.id)) === 0,
      10_000,
      'outbox drained',
    )

    // Alice's payload numbers never go back, also with an empty outbox and after a restart: the
    // counters were written with the acks (she sent a request or accept, and 50 texts).
    await a.peer.stop()
    const store = await openSealedStore(await LevelStore.open(a.dir), { key: a.key })
    try {
      const next = await new Conversations(store).nextOutboxSeq(bobAtAlice.id)
      assert.ok(next > 51, `numbering goes on after the last payload sent (next is ${next})`)
    } finally {
      await store.close()
    }
  })
})
