/**
 * Local search: the tokenizer (English words, Chinese by characters and pairs, full-width
 * folded), and between real peers on 127.0.0.1: messages both ways found by every word of a
 * query, in one conversation or all; an edit or a delete takes the old words out; an index lost
 * (a store from before search) is rebuilt at start; a removed contact's messages are gone from
 * it; contacts are found by name and remark.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ContactId } from '../src/messenger/ids.js'
import { queryTokens, tokensOf } from '../src/search/tokens.js'
import { key } from '../src/store/keys.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

describe('search tokens', () => {
  it('words in English, characters and pairs in Chinese, full-width folded', () => {
    assert.deepEqual([...tokensOf('Ship the SAMPLES today!')].sort(), ['samples', 'ship', 'the', 'today'])
    const zh = tokensOf('今天的绿茶很好')
    for (const t of ['绿茶', '茶', '今天', '很好']) assert.ok(zh.has(t), t)
    assert.deepEqual(queryTokens('绿茶'), ['绿茶'])
    assert.deepEqual(queryTokens('茶'), ['茶'])
    assert.deepEqual(queryTokens('ＡＢＣ 123'), ['abc', '123'])
    assert.deepEqual(queryTokens('  , . !'), [])
  })
})

describe('search between two peers', () => {
  let alice: TestPeer
  let bob: TestPeer
  let carol: TestPeer
  let bobAtAlice: ContactId
  let carolAtAlice: ContactId

  async function befriend(a: TestPeer, b: TestPeer): Promise<{ bAtA: ContactId; aAtB: ContactId }> {
    const bAtA = (await a.messenger.addContact(b.messenger.card().link)).id
    const aAtB = await eventually(
      () => b.messenger.contactList().find((c) => c.state === 'pending-in')?.id,
      10_000,
      'request',
    )
    await b.messenger.accept(aAtB)
    await eventually(() => a.messenger.contact(bAtA).state === 'accepted', 10_000, 'accepted')
    return { bAtA, aAtB }
  }

  before(async () => {
    alice = await testPeer('Alice')
    bob = await testPeer('Bob')
    carol = await testPeer('Carol')
    const ab = await befriend(alice, bob)
    const ac = await befriend(alice, carol)
    bobAtAlice = ab.bAtA
    carolAtAlice = ac.bAtA
    await alice.messenger.send(bobAtAlice, 'The jasmine tea samples ship on Friday')
    await bob.messenger.send(ab.aAtB, '今天的绿茶很好，明天发货')
    await carol.messenger.send(ac.aAtB, 'Do you ship green tea to Shanghai?')
    await eventually(
      async () => (await alice.messenger.messages(carolAtAlice, { peek: true })).length === 1,
      10_000,
      "Carol's message",
    )
    await eventually(
      async () => (await alice.messenger.messages(bobAtAlice, { peek: true })).length === 2,
      10_000,
      "Bob's message",
    )
  })
  after(async () => {
    await Promise.all([alice?.stop(), bob?.stop(), carol?.stop()])
  })

  const texts = async (query: string, options: { contact?: string } = {}) =>
    (await alice.messenger.search(query, options)).filter((r) => r.kind === 'message').map((r) => r.text)

  it('finds messages both ways by every word, newest first, in all conversations or one', async () => {
    assert.deepEqual(await texts('ship tea'), [
      'Do you ship green tea to Shanghai?',
      'The jasmine tea samples ship on Friday',
    ])
    assert.deepEqual(await texts('ship', { contact: 'Bob' }), ['The jasmine tea samples ship on Friday'])
    assert.deepEqual(await texts('绿茶'), ['今天的绿茶很好，明天发货'])
    assert.deepEqual(await texts('发货'), ['今天的绿茶很好，明天发货'])
    assert.deepEqual(await texts('SHIP Friday'), ['The jasmine tea samples ship on Friday'])
    assert.deepEqual(await texts('ship coffee'), [], 'every word must be there')
    const [hit] = await alice.messenger.search('jasmine')
    assert.equal(hit?.contactId, bobAtAlice)
    assert.match(hit?.sentAt ?? '', /^\d{4}-\d\d-\d\dT/)
  })

  it('finds contacts by name and remark', async () => {
    await alice.messenger.setRemark(carolAtAlice, '上海 buyer')
    const found = (await alice.messenger.search('buyer')).filter((r) => r.kind === 'contact')
    assert.deepEqual(
      found.map((r) => [r.id, r.text]),
      [[carolAtAlice, '上海 buyer']],
    )
    assert.equal((await alice.messenger.search('Carol')).filter((r) => r.kind === 'contact').length, 1)
  })

  it('an edit takes the old words out and puts the new in; a delete takes them out', async () => {
    const [m] = (await alice.messenger.messages(bobAtAlice, { peek: true })).filter(
      (x) => x.direction === 'out',
    )
    await alice.messenger.edit(bobAtAlice, m!.id, 'The oolong samples ship on Monday')
    assert.deepEqual(await texts('jasmine'), [])
    assert.deepEqual(await texts('oolong Monday'), ['The oolong samples ship on Monday'])
    await alice.messenger.deleteMessage(bobAtAlice, m!.id)
    assert.deepEqual(await texts('oolong'), [])
  })

  it('an index that is gone (a store from before search) is built again at start', async () => {
    const store = alice.store
    await alice.stop()
    const lost: Uint8Array[] = []
    for (const family of ['sxb', 'sxref', 'sxdoc', 'sxmark', 'sxnext'])
      for await (const [k] of store.iterate({ prefix: key(family) })) lost.push(k)
    assert.ok(lost.length > 10, 'the index was in the store')
    await store.batch(lost.map((k) => ({ type: 'del' as const, key: k })))
    alice = await testPeer('Alice', store)
    assert.deepEqual(await texts('green tea'), ['Do you ship green tea to Shanghai?'])
    assert.deepEqual(await texts('绿茶'), ['今天的绿茶很好，明天发货'])
  })

  it("a removed contact's messages are gone from the index", async () => {
    await alice.messenger.reject(carolAtAlice)
    assert.deepEqual(await texts('Shanghai'), [])
    let left = 0
    for await (const [, v] of alice.store.iterate({ prefix: key('sxref') }))
      if (new TextDecoder().decode(v).startsWith(`${carolAtAlice}:`)) left++
    assert.equal(left, 0, 'no message of hers is named by the index')
  })
})
