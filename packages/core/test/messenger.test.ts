/** The messenger between real libp2p nodes on 127.0.0.1, in one process. */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { ContactId } from '../src/messenger/ids.js'
import { Keys } from '../src/messenger/keys.js'
import { decodeRecord, type MessageRecord } from '../src/messenger/records.js'
import { MAX_RUNS } from '../src/messenger/status-runs.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { MemoryStore } from '../src/store/memory.js'
import type { Store } from '../src/store/store.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('messenger', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })
  const peer = async (name: string) => {
    const p = await testPeer(name)
    peers.push(p)
    return p
  }

  it('swapped cards: both sides accepted, chat both ways, receipts reach read', async () => {
    const alice = await peer('Alice')
    const bob = await peer('王小明')
    const [aCard, bCard] = [alice.messenger.card().link, bob.messenger.card().link]
    const [bobAtAlice, aliceAtBob] = await Promise.all([
      alice.messenger.addContact(bCard),
      bob.messenger.addContact(aCard),
    ])
    assert.equal(bobAtAlice.name, '王小明')
    await eventually(
      () => alice.messenger.contact(bobAtAlice.id).state === 'accepted',
      10_000,
      'alice accepted',
    )
    await eventually(() => bob.messenger.contact(aliceAtBob.id).state === 'accepted', 10_000, 'bob accepted')

    const sent = await alice.messenger.send(bobAtAlice.id, '你好 🙂 https://example.com')
    assert.equal(sent.status, 'queued')
    const got = await eventually(async () =>
      (await bob.messenger.messages(aliceAtBob.id, { peek: true })).find((m) => m.id === sent.id),
    )
    assert.equal(got.text, '你好 🙂 https://example.com')
    assert.equal(got.direction, 'in')
    await eventually(
      async () =>
        (await alice.messenger.messages(bobAtAlice.id)).find((m) => m.id === sent.id)?.status === 'delivered',
      10_000,
      'delivered',
    )
    await bob.messenger.messages(aliceAtBob.id) // viewing marks read
    await eventually(
      async () =>
        (await alice.messenger.messages(bobAtAlice.id)).find((m) => m.id === sent.id)?.status === 'read',
      10_000,
      'read',
    )

    const reply = await bob.messenger.send(aliceAtBob.id, 'reply', { replyTo: sent.id })
    const replied = await eventually(async () =>
      (await alice.messenger.messages(bobAtAlice.id)).find((m) => m.id === reply.id),
    )
    assert.equal(replied.replyTo, sent.id)
  })

  it('a one-way add waits as a request; messages sent meanwhile appear on accept', async () => {
    const carol = await peer('Carol')
    const dave = await peer('Dave')
    const daveAtCarol = await carol.messenger.addContact(dave.messenger.card().link)
    assert.equal(daveAtCarol.state, 'pending-out')
    const early = await carol.messenger.send(daveAtCarol.id, 'are you there?')
    const request = await eventually(() => dave.messenger.contactList().find((c) => c.name === 'Carol'))
    assert.equal(request.state, 'pending-in')
    await assert.rejects(dave.messenger.messages(request.id), { code: 'NotAccepted' })
    await assert.rejects(dave.messenger.send(request.id, 'x'), { code: 'NotAccepted' })
    await eventually(
      async () =>
        (await carol.messenger.messages(daveAtCarol.id)).find((m) => m.id === early.id)?.status === 'sent',
      10_000,
      'sent',
    )
    await dave.messenger.accept(request.id)
    const shown = await eventually(async () =>
      (await dave.messenger.messages(request.id, { peek: true })).find((m) => m.id === early.id),
    )
    assert.equal(shown.text, 'are you there?')
    await eventually(
      () => carol.messenger.contact(daveAtCarol.id).state === 'accepted',
      10_000,
      'carol sees accept',
    )
    await eventually(
      async () =>
        (await carol.messenger.messages(daveAtCarol.id)).find((m) => m.id === early.id)?.status ===
        'delivered',
      10_000,
      'delivered after accept',
    )
  })

  it('removed and added again: the side that still has them answers, and both are accepted', async () => {
    const gina = await peer('Gina')
    const hugo = await peer('Hugo')
    const hugoAtGina = await gina.messenger.addContact(hugo.messenger.card().link)
    const ginaAtHugo = await hugo.messenger.addContact(gina.messenger.card().link)
    await eventually(() => gina.messenger.contact(hugoAtGina.id).state === 'accepted', 10_000, 'accepted')
    await eventually(() => hugo.messenger.contact(ginaAtHugo.id).state === 'accepted', 10_000, 'accepted')
    // Gina removes Hugo and later scans his card again; Hugo never removed her, so only her new
    // request travels: his answer to it is what makes her side accepted.
    await gina.messenger.reject(hugoAtGina.id)
    const again = await gina.messenger.addContact(hugo.messenger.card().link)
    assert.equal(again.state, 'pending-out')
    await eventually(() => gina.messenger.contact(again.id).state === 'accepted', 10_000, 'accepted again')
    assert.equal(hugo.messenger.contact(ginaAtHugo.id).state, 'accepted')
    const hi = await gina.messenger.send(again.id, 'sorry, lost you — 又加上了')
    const got = await eventually(async () =>
      (await hugo.messenger.messages(ginaAtHugo.id, { peek: true })).find((m) => m.id === hi.id),
    )
    assert.equal(got.text, 'sorry, lost you — 又加上了')
    const back = await hugo.messenger.send(ginaAtHugo.id, 'welcome back')
    await eventually(async () => (await gina.messenger.messages(again.id)).find((m) => m.id === back.id))
  })

  it('one stream carries a conversation’s bursts; one the peer closed is replaced', async () => {
    const ivy = await peer('Ivy')
    const jack = await peer('Jack')
    const jackAtIvy = await ivy.messenger.addContact(jack.messenger.card().link)
    const ivyAtJack = await jack.messenger.addContact(ivy.messenger.card().link)
    await eventually(() => ivy.messenger.contact(jackAtIvy.id).state === 'accepted', 10_000, 'accepted')
    await eventually(() => jack.messenger.contact(ivyAtJack.id).state === 'accepted', 10_000, 'accepted')
    const msgStreams = () =>
      ivy.messenger.node
        .getConnections(jack.messenger.node.peerId)
        .flatMap((c) => c.streams)
        .filter((s) => s.protocol === PROTOCOL_MSG && s.direction === 'outbound' && s.status === 'open')
    const arrived = (id: string) =>
      eventually(async () =>
        (await jack.messenger.messages(ivyAtJack.id, { peek: true })).some((m) => m.id === id),
      )

    await arrived((await ivy.messenger.send(jackAtIvy.id, 'first')).id)
    await ivy.messenger.settled()
    const kept = msgStreams()
    assert.equal(kept.length, 1, 'the stream stays open once the outbox is empty')
    await arrived((await ivy.messenger.send(jackAtIvy.id, 'second')).id)
    assert.deepEqual(
      msgStreams().map((s) => s.id),
      kept.map((s) => s.id),
      'the next message went on the same stream',
    )

    // Jack's side drops it (as a restart or a network change would): the next message still goes.
    for (const c of jack.messenger.node.getConnections(ivy.messenger.node.peerId))
      for (const s of c.streams) if (s.protocol === PROTOCOL_MSG) s.abort(new Error('dropped by the test'))
    await arrived((await ivy.messenger.send(jackAtIvy.id, 'third')).id)
    assert.notDeepEqual(
      msgStreams().map((s) => s.id),
      kept.map((s) => s.id),
    )
  })

  it('each message records the route it travelled, kept across a restart', async () => {
    const kim = await peer('Kim')
    const store = new MemoryStore()
    let lee = await testPeer('Lee', store)
    const leeAtKim = await kim.messenger.addContact(lee.messenger.card().link)
    const kimAtLee = await lee.messenger.addContact(kim.messenger.card().link)
    await eventually(() => kim.messenger.contact(leeAtKim.id).state === 'accepted', 10_000, 'accepted')
    const sent = await kim.messenger.send(leeAtKim.id, 'over the LAN')
    assert.equal(sent.route, undefined, 'a queued message has not travelled yet')
    const out = await eventually(async () => {
      const m = await kim.messenger.message(leeAtKim.id, sent.id)
      return m?.status === 'delivered' ? m : undefined
    })
    assert.equal(out.route, 'lan', 'the connection on 127.0.0.1 is on the LAN')
    const got = await eventually(() => lee.messenger.message(kimAtLee.id, sent.id))
    assert.equal(got.route, 'lan')
    await lee.messenger.settled()
    await lee.stop()
    lee = await testPeer('Lee', store)
    peers.push(lee)
    assert.equal((await lee.messenger.message(kimAtLee.id, sent.id))?.route, 'lan')
  })

  it('statuses go into runs, not records; kept across a restart; short runs go back into records', async () => {
    const lee = await peer('Lee')
    const store = new MemoryStore()
    let kim = await testPeer('Kim', store)
    const leeAtKim = await kim.messenger.addContact(lee.messenger.card().link)
    const kimAtLee = await lee.messenger.addContact(kim.messenger.card().link)
    await eventually(() => kim.messenger.contact(leeAtKim.id).state === 'accepted', 10_000, 'accepted')
    const delivered = (ids: readonly string[]) => async () => {
      const list = await kim.messenger.messages(leeAtKim.id, { limit: 1000 })
      return ids.every((id) => list.find((m) => m.id === id)?.status === 'delivered')
    }
    // A burst: its statuses make one run.
    const burst: string[] = []
    for (let i = 0; i < 5; i++) burst.push((await kim.messenger.send(leeAtKim.id, `burst ${i}`)).id)
    await eventually(delivered(burst), 10_000, 'the burst delivered')
    // Then a conversation: every message of Kim's sits between two of Lee's, a run of its own.
    const talk: string[] = []
    const rounds = MAX_RUNS + 6
    for (let i = 0; i < rounds; i++) {
      const theirs = await lee.messenger.send(kimAtLee.id, `lee ${i}`)
      await eventually(() => kim.messenger.message(leeAtKim.id, theirs.id), 10_000, `lee ${i}`)
      const mine = await kim.messenger.send(leeAtKim.id, `kim ${i}`)
      talk.push(mine.id)
      await eventually(() => lee.messenger.message(kimAtLee.id, mine.id), 10_000, `kim ${i}`)
    }
    await eventually(delivered(talk), 20_000, 'the conversation delivered')
    await kim.messenger.settled()
    await kim.stop()

    const stored = await storedMessages(store, leeAtKim.id)
    const out = stored.filter((m) => m.direction === 'out')
    assert.equal(out.length, burst.length + rounds)
    const meta = decodeRecord<{ runs?: unknown[] }>((await store.get(Keys.convMeta(leeAtKim.id)))!)
    assert.ok((meta.runs?.length ?? 0) <= MAX_RUNS, 'at most MAX_RUNS runs are kept')
    // The burst's records were written once, when queued: its run says the rest.
    for (const id of burst) assert.equal(out.find((m) => m.id === id)?.status, 'queued')
    // The oldest single-message runs went back into their records; the newest stay runs.
    const folded = out.filter((m) => talk.includes(m.id) && m.status === 'delivered')
    assert.ok(folded.length >= rounds - MAX_RUNS + 1, `${folded.length} records say delivered`)
    assert.equal(out.find((m) => m.id === talk[talk.length - 1])?.status, 'queued')

    kim = await testPeer('Kim', store)
    peers.push(kim)
    const views = await kim.messenger.messages(leeAtKim.id, { limit: 1000, peek: true })
    for (const id of [...burst, ...talk]) {
      const m = views.find((v) => v.id === id)
      assert.equal(m?.status, 'delivered', `after the restart: ${m?.text}`)
      assert.equal(m?.route, 'lan')
    }
  })

  it('edit, delete for everyone, reactions and typing reach the other side', async () => {
    const erin = await peer('Erin')
    const frank = await peer('Frank')
    const frankAtErin = await erin.messenger.addContact(frank.messenger.card().link)
    const erinAtFrank = await frank.messenger.addContact(erin.messenger.card().link)
    await eventually(() => erin.messenger.contact(frankAtErin.id).state === 'accepted', 10_000, 'accepted')
    const typing = new Promise((resolve) =>
      frank.messenger.events.on('typing', (e) => e.active && resolve(e)),
    )
    await eventually(() => erin.messenger.contact(frankAtErin.id).online, 10_000, 'online')
    await erin.messenger.setTyping(frankAtErin.id, true)
    await typing
    const m = await erin.messenger.send(frankAtErin.id, 'helo')
    await eventually(async () => (await frank.messenger.messages(erinAtFrank.id)).find((x) => x.id === m.id))
    await erin.messenger.edit(frankAtErin.id, m.id, 'hello')
    await eventually(async () =>
      (await frank.messenger.messages(erinAtFrank.id)).find(
        (x) => x.id === m.id && x.text === 'hello' && x.edited,
      ),
    )
    await frank.messenger.react(erinAtFrank.id, m.id, '👍')
    await eventually(
      async () =>
        (await erin.messenger.messages(frankAtErin.id)).find((x) => x.id === m.id)?.reactions?.theirs ===
        '👍',
    )
    await assert.rejects(frank.messenger.edit(erinAtFrank.id, m.id, 'forged'), { code: 'UnknownMessage' })
    await erin.messenger.deleteMessage(frankAtErin.id, m.id)
    const gone = await eventually(async () =>
      (await frank.messenger.messages(erinAtFrank.id)).find((x) => x.id === m.id && x.deleted),
    )
    assert.equal(gone.text, '')
  })
})

describe('contact references', () => {
  it('resolve by id, id prefix, whole name, one word of the name or its start; ambiguity is explained', async () => {
    const { ContactBook } = await import('../src/messenger/contact-book.js')
    const book = new ContactBook()
    const base = {
      identityKey: '',
      agreementKey: '',
      addrs: [],
      state: 'accepted' as const,
      verified: false,
      card: '',
      addedAt: 0,
      updatedAt: 0,
    }
    book.set({ ...base, id: '0123456789abcdef' as never, name: '小明 Bob', peerId: 'p1' })
    book.set({ ...base, id: 'fedcba9876543210' as never, name: 'Bobby Tables', peerId: 'p2' })
    assert.equal(book.resolve('0123456789abcdef').peerId, 'p1')
    assert.equal(book.resolve('fedc').peerId, 'p2')
    assert.equal(book.resolve('小明 bob').peerId, 'p1')
    assert.equal(book.resolve('bob').peerId, 'p1', 'a whole word beats a prefix of another name')
    assert.equal(book.resolve('小明').peerId, 'p1')
    assert.equal(book.resolve('p2').peerId, 'p2')
    book.set({ ...base, id: '1111111111111111' as never, name: 'Bob', peerId: 'p3' })
    assert.equal(book.resolve('bob').peerId, 'p3', 'the whole name wins')
    assert.throws(() => book.resolve('bo'), { code: 'AmbiguousContact' })
    assert.throws(() => book.resolve('nobody'), { code: 'UnknownContact' })
  })
})

describe('renaming', () => {
  it('a new name reaches accepted contacts and goes on the next card', async () => {
    const { testPeer, eventually } = await import('./helpers/messenger-peer.js')
    const a = await testPeer('Old Name')
    const b = await testPeer('Friend')
    try {
      const bAtA = await a.messenger.addContact(b.messenger.card().link)
      const aAtB = await b.messenger.addContact(a.messenger.card().link)
      await eventually(() => b.messenger.contact(aAtB.id).state === 'accepted', 10_000, 'accepted')
      await eventually(() => a.messenger.contact(bAtA.id).state === 'accepted', 10_000, 'accepted at a')
      assert.equal((await a.messenger.setName('新名字 New')).name, '新名字 New')
      assert.equal(a.messenger.card().name, '新名字 New')
      await eventually(
        () => b.messenger.contact(aAtB.id).name === '新名字 New',
        10_000,
        'the new name at the contact',
      )
      await assert.rejects(a.messenger.setName(''), { code: 'BadInput' })
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})

async function storedMessages(store: Store, cid: ContactId): Promise<MessageRecord[]> {
  const out: MessageRecord[] = []
  for await (const [, v] of store.iterate({ prefix: Keys.msgPrefix(cid) })) out.push(decodeRecord(v))
  return out
}
