/**
 * Labels (标签) and broadcasts (群发) between real peers on 127.0.0.1 with real sealed LevelDB
 * stores: a label's name is made one spelling, bad names and unknown contacts change nothing,
 * labels survive a restart and go with a removed contact; a broadcast (a text, then a file)
 * reaches each accepted contact with the label as a separate 1:1 message that names no one else,
 * and a contact who has not accepted is skipped and said so.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { utf8 } from '../src/bytes.js'
import { memorySource } from '../src/files/memory-storage.js'
import { broadcastFile } from '../src/labels/broadcast.js'
import { befriend, type FilePeer, filePeer, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

const TEXT = '新品到货 New arrivals: 20% off this week only 🎉'

describe('labels and broadcasts', () => {
  let alice: FilePeer
  let bob: FilePeer
  let carol: FilePeer
  let dave: FilePeer
  let bobId: string
  let carolId: string
  let daveId: string

  before(async () => {
    ;[alice, bob, carol, dave] = await Promise.all([
      filePeer('Alice Shop'),
      filePeer('Bob'),
      filePeer('陈 Carol'),
      filePeer('Dave'),
    ])
    ;({ bAtA: bobId } = await befriend(alice, bob))
    ;({ bAtA: carolId } = await befriend(alice, carol))
    // Dave has not answered Alice's request: a pending contact at Alice.
    daveId = (await alice.messenger.addContact(dave.messenger.card().link)).id
    await eventually(() => dave.messenger.contactList().length === 1, 10_000, "Alice's request at Dave")
  })
  after(async () => {
    await Promise.all([alice, bob, carol, dave].map((p) => p?.stop()))
    await removeHomes()
  })

  it('labels contacts under one spelling, case kept and ignored, and lists them', async () => {
    const view = await alice.messenger.addLabel('  VIP \u3000 客户 ', [bobId, '陈 carol', daveId])
    assert.equal(view.name, 'VIP 客户')
    assert.deepEqual(
      view.contacts.map((c) => [c.name, c.state]),
      [
        ['Bob', 'accepted'],
        ['Dave', 'pending-out'],
        ['陈 Carol', 'accepted'],
      ],
    )
    // Another case is the same label, in the spelling it has.
    const again = await alice.messenger.addLabel('vip 客户', [bobId])
    assert.equal(again.name, 'VIP 客户')
    assert.equal(again.contacts.length, 3)
    await alice.messenger.addLabel('供应商', [bobId])
    assert.deepEqual(
      alice.messenger.labels().map((l) => [l.name, l.contacts.length]),
      [
        ['VIP 客户', 3],
        ['供应商', 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    )
    assert.deepEqual(
      alice.messenger.contact(bobId).labels,
      ['VIP 客户', '供应商'].sort((a, b) => a.localeCompare(b)),
    )
    assert.deepEqual(alice.messenger.contact(carolId).labels, ['VIP 客户'])
    // Private: the labelled contacts see nothing of it.
    assert.deepEqual(bob.messenger.contactList()[0]?.labels, [])
  })

  it('refuses empty and bad names, unknown labels and unknown contacts, changing nothing', async () => {
    await assert.rejects(alice.messenger.addLabel('   ', [bobId]), { name: 'LabelError', code: 'EmptyLabel' })
    await assert.rejects(alice.messenger.addLabel('x'.repeat(33), [bobId]), { code: 'BadLabel' })
    await assert.rejects(alice.messenger.addLabel('a\tb', [bobId]), { code: 'BadLabel' })
    await assert.rejects(alice.messenger.addLabel('Bank\u202eof', [bobId]), { code: 'BadLabel' })
    await assert.rejects(alice.messenger.addLabel('Friends', [bobId, 'nobody at all']), {
      code: 'UnknownContact',
    })
    await assert.rejects(alice.messenger.addLabel('Friends', []), { code: 'UnknownContact' })
    assert.ok(!alice.messenger.labels().some((l) => l.name === 'Friends'), 'a typo labels no one')
    await assert.rejects(alice.messenger.removeLabel('Friends', [bobId]), { code: 'UnknownLabel' })
    await assert.rejects(alice.messenger.broadcast('Friends', 'hi'), { code: 'UnknownLabel' })
    await assert.rejects(alice.messenger.broadcast('VIP 客户', ''), { code: 'BadInput' })
    assert.equal(alice.messenger.labelAudience('vip 客户').label, 'VIP 客户')
  })

  it('a broadcast reaches each accepted contact as its own 1:1 message; a pending one is skipped', async () => {
    const result = await alice.messenger.broadcast('VIP 客户', TEXT)
    assert.equal(result.sent, 2)
    assert.equal(result.ids.length, 2)
    assert.notEqual(result.ids[0], result.ids[1], 'a message per contact')
    assert.deepEqual(
      result.skipped.map((c) => [c.id, c.state]),
      [[daveId, 'pending-out']],
    )
    // Alice's side: one message in each conversation, none in Dave's.
    for (const cid of [bobId, carolId]) {
      const mine = await alice.messenger.messages(cid, { peek: true })
      assert.equal(mine.length, 1)
      assert.equal(mine[0]!.text, TEXT)
      assert.ok(result.ids.includes(mine[0]!.id))
    }
    assert.equal((await alice.messenger.messages(daveId, { peek: true })).length, 0)
    // Each recipient has it from Alice alone, a plain text naming no one else.
    for (const [peer, other] of [
      [bob, carol],
      [carol, bob],
    ] as const) {
      const [aliceThere] = peer.messenger.contactList()
      assert.ok(aliceThere)
      const got = await eventually(async () => {
        const list = await peer.messenger.messages(aliceThere.id, { peek: true })
        return list.length === 1 ? list : undefined
      }, 15_000)
      const m = got[0]!
      assert.equal(m.direction, 'in')
      assert.equal(m.text, TEXT)
      assert.equal(m.extension, undefined)
      assert.ok(result.ids.includes(m.id), 'the id Alice was told')
      const seen = JSON.stringify(got)
      for (const word of [other.messenger.whoami().name, other.messenger.whoami().peerId, 'VIP'])
        assert.ok(!seen.includes(word), `${peer.name} sees nothing of ${word}`)
      assert.deepEqual(
        peer.messenger.contactList().map((c) => c.id),
        [aliceThere.id],
        'no new contact either',
      )
    }
    await eventually(
      async () => {
        for (const cid of [bobId, carolId]) {
          const [m] = await alice.messenger.messages(cid, { peek: true })
          if (m?.status !== 'delivered' && m?.status !== 'read') return false
        }
        return true
      },
      15_000,
      'both delivered',
    )
  })

  it('a file broadcast offers the file to each accepted contact separately', async () => {
    const bytes = utf8('price list 价目表\n'.repeat(1000))
    const result = await broadcastFile(alice.messenger, alice.files, 'VIP 客户', async () =>
      memorySource(bytes, 'prices.txt', 'text/plain'),
    )
    assert.equal(result.sent, 2)
    assert.deepEqual(
      result.skipped.map((c) => c.id),
      [daveId],
    )
    for (const peer of [bob, carol])
      await eventually(
        () => peer.files.transfers().find((t) => t.direction === 'in' && t.status === 'complete'),
        20_000,
        `the file at ${peer.name}`,
      )
    assert.equal(dave.files.transfers().length, 0)
  })

  it('a label is taken from some contacts, or from everyone', async () => {
    const view = await alice.messenger.removeLabel('VIP 客户', [carolId])
    assert.deepEqual(view.contacts.map((c) => c.id).sort(), [bobId, daveId].sort())
    assert.deepEqual(alice.messenger.contact(carolId).labels, [])
    await alice.messenger.addLabel('Temp', [carolId])
    await alice.messenger.deleteLabel('temp')
    assert.ok(!alice.messenger.labels().some((l) => l.name === 'Temp'))
  })

  it('survives a restart', async () => {
    const before = alice.messenger.labels()
    await alice.stop()
    alice = await filePeer('Alice Shop', { home: alice.home, key: alice.key })
    assert.deepEqual(alice.messenger.labels(), before)
    assert.deepEqual(alice.messenger.labelAudience('VIP 客户').to, [bobId])
  })

  it("a removed contact's labels are forgotten, also when they are added again", async () => {
    await alice.messenger.reject(bobId)
    assert.deepEqual(
      alice.messenger.labels().map((l) => [l.name, l.contacts.map((c) => c.id)]),
      [['VIP 客户', [daveId]]],
      "供应商 was only Bob's: it is gone",
    )
    const readded = await alice.messenger.addContact(bob.messenger.card().link)
    assert.deepEqual(readded.labels, [])
  })
})
