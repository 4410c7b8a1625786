/**
 * Reactions, read receipts and delivery lists in a group, between real peers on 127.0.0.1 with
 * real stores on disk: a reaction reaches every member once and can be taken back; a member who
 * was away gets it carried by another; a reaction to a message the group does not hold, or from
 * someone no longer a member, changes nothing and is counted; receipts come in a small group and
 * are neither sent nor shown above the limit; the sender sees who has its message, by name.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { hexToBytes, utf8 } from '../src/bytes.js'
import type { HeldGroup } from '../src/groups/group-store.js'
import { READ_RECEIPTS_UP_TO } from '../src/groups/receipts.js'
import type { GroupMessageView, Groups } from '../src/groups/service.js'
import { newMessageId } from '../src/messenger/ids.js'
import { befriend, type FilePeer, filePeer, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

/** The service's own parts, for the tests that play a hostile member's build. */
interface GroupsInside {
  loaded: Map<string, HeldGroup>
  broadcast(g: HeldGroup, plaintext: Uint8Array): Promise<unknown>
  sendTraffic(cid: string, traffic: unknown, g?: HeldGroup): Promise<void>
  readonly me: string
}
const inside = (p: FilePeer) => p.messenger.groups as unknown as GroupsInside

const byText = async (p: FilePeer, group: string, text: string): Promise<GroupMessageView | undefined> =>
  (await p.messenger.groups.messages(group, { peek: true })).find((m) => m.text === text)
const reactionsAt = async (p: FilePeer, group: string, text: string) =>
  (await byText(p, group, text))?.reactions?.by.map((r) => `${r.name} ${r.emoji}`) ?? []
const refused = (p: FilePeer, reason: string) => p.messenger.stats().refused['/jiayi/msg/1']?.[reason] ?? 0
const receipts = (p: FilePeer) => (p.messenger.groups as Groups).receipts

describe('group reactions, read receipts and delivery lists', () => {
  let ann: FilePeer
  let bo: FilePeer
  let cy: FilePeer
  let gid: string

  before(async () => {
    ;[ann, bo, cy] = await Promise.all([
      filePeer('Ann', { withFiles: false }),
      filePeer('Bo', { withFiles: false }),
      filePeer('Cy', { withFiles: false }),
    ])
    await befriend(ann, bo)
    await befriend(ann, cy)
    gid = (await ann.messenger.groups.create('Tea 茶', ['Bo', 'Cy'])).id
    for (const p of [bo, cy])
      await eventually(() => p.messenger.groups.list().length === 1, 15_000, `the group at ${p.name}`)
  })
  after(async () => {
    await Promise.all([ann, bo, cy].map((p) => p?.stop()))
    await removeHomes()
  })

  it('a reaction reaches every member once, is no chat line and nothing unread, and can be changed and taken back', async () => {
    const hi = await ann.messenger.groups.send(gid, 'hi all')
    for (const p of [bo, cy])
      await eventually(async () => (await byText(p, gid, 'hi all')) !== undefined, 15_000, `hi at ${p.name}`)
    await cy.messenger.groups.messages(gid)
    const linesAtCy = (await cy.messenger.groups.messages(gid, { peek: true })).length

    const mine = await bo.messenger.groups.react(gid, hi.id, '👍')
    assert.equal(mine.reactions?.mine, '👍')
    for (const p of [ann, cy])
      await eventually(
        async () => (await reactionsAt(p, gid, 'hi all')).join() === 'Bo 👍',
        15_000,
        `the reaction at ${p.name}`,
      )
    const atAnn = await byText(ann, gid, 'hi all')
    assert.equal(atAnn?.reactions?.theirs, '👍')
    assert.equal(atAnn?.reactions?.mine, undefined)
    assert.equal((await cy.messenger.groups.messages(gid, { peek: true })).length, linesAtCy, 'no new line')
    assert.equal(cy.messenger.groups.get(gid).unread, 0, 'nothing unread')

    // Cy reacts too; Bo changes his mind: one reaction each, the latest.
    await cy.messenger.groups.react(gid, hi.id, '😂')
    await bo.messenger.groups.react(gid, hi.id, '❤️')
    for (const p of [ann, bo, cy])
      await eventually(
        async () => (await reactionsAt(p, gid, 'hi all')).sort().join() === 'Bo ❤️,Cy 😂',
        15_000,
        `both reactions at ${p.name}`,
      )
    // Bo takes his back.
    await bo.messenger.groups.react(gid, hi.id, '')
    for (const p of [ann, bo, cy])
      await eventually(
        async () => (await reactionsAt(p, gid, 'hi all')).join() === 'Cy 😂',
        15_000,
        `Bo's reaction gone at ${p.name}`,
      )
    assert.equal((await byText(bo, gid, 'hi all'))?.reactions?.mine, undefined)
    await assert.rejects(bo.messenger.groups.react(gid, newMessageId(), '👍'), /no message with that id/)
    await assert.rejects(bo.messenger.groups.react(gid, hi.id, 'x'.repeat(40)), /one emoji/)
  })

  it('the sender sees who has its message by name, and who read it in a small group', async () => {
    assert.ok(READ_RECEIPTS_UP_TO === 20)
    const m = await ann.messenger.groups.send(gid, 'tea at 3?')
    await eventually(
      async () => (await byText(ann, gid, 'tea at 3?'))?.deliveredTo?.length === 2,
      15_000,
      'delivered to both',
    )
    const shown = await byText(ann, gid, 'tea at 3?')
    assert.deepEqual(shown?.deliveredTo?.map((w) => w.name).sort(), ['Bo', 'Cy'])
    assert.deepEqual(shown?.delivery, { deliveredTo: shown?.deliveredTo?.map((w) => w.id), of: 2 })
    assert.deepEqual(shown?.readBy, [])
    // A peek is no reading; opening the group is.
    await eventually(async () => (await byText(cy, gid, 'tea at 3?')) !== undefined, 15_000, 'at Cy')
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual((await byText(ann, gid, 'tea at 3?'))?.readBy, [])
    await cy.messenger.groups.messages(gid)
    await eventually(
      async () => (await byText(ann, gid, 'tea at 3?'))?.readBy?.map((w) => w.name).join() === 'Cy',
      15_000,
      'read by Cy',
    )
    await eventually(async () => (await byText(bo, gid, 'tea at 3?')) !== undefined, 15_000, 'at Bo')
    await bo.messenger.groups.messages(gid)
    await eventually(
      async () => (await byText(ann, gid, 'tea at 3?'))?.readBy?.length === 2,
      15_000,
      'read by both',
    )
    assert.equal(m.readBy?.length, 0)
  })

  it('above the limit no receipt is sent and none is shown', async () => {
    // A 3-member group stands for one of 21: the readers' limit is 2.
    receipts(bo).upTo = 2
    receipts(cy).upTo = 2
    try {
      await ann.messenger.groups.send(gid, 'big group now')
      for (const p of [bo, cy]) {
        await eventually(async () => (await byText(p, gid, 'big group now')) !== undefined, 15_000, p.name)
        await p.messenger.groups.messages(gid)
      }
      // Time for a receipt to land, were one sent: Ann's own limit (20) would show it.
      await new Promise((r) => setTimeout(r, 500))
      assert.deepEqual((await byText(ann, gid, 'big group now'))?.readBy, [])
      receipts(ann).upTo = 2
      const atAnn = await byText(ann, gid, 'big group now')
      assert.equal(atAnn?.readBy, undefined, 'not shown above the limit')
      assert.equal(atAnn?.deliveredTo?.length, 2, 'the delivery list still is')
    } finally {
      for (const p of [ann, bo, cy]) receipts(p).upTo = READ_RECEIPTS_UP_TO
    }
  })

  it('a reaction to a message the group does not hold changes nothing and is counted', async () => {
    const g = inside(bo).loaded.get(gid)!
    const before = refused(ann, 'not-allowed')
    const badBefore = refused(ann, 'bad-payload')
    const linesBefore = (await ann.messenger.groups.messages(gid, { peek: true })).map((m) => m.reactions)
    // Bo's build seals reactions to a made-up id, and one that is no emoji, under his real key.
    const sealed = (content: object) => inside(bo).broadcast(g, utf8(JSON.stringify(content)))
    await sealed({ kind: 'reaction', target: newMessageId(), emoji: '👍', sentAt: Date.now() })
    await sealed({ kind: 'reaction', target: newMessageId(), emoji: 'x'.repeat(40), sentAt: Date.now() })
    await eventually(() => refused(ann, 'not-allowed') > before, 15_000, 'the made-up target counted')
    await eventually(() => refused(ann, 'bad-payload') > badBefore, 15_000, 'the long emoji counted')
    assert.deepEqual(
      (await ann.messenger.groups.messages(gid, { peek: true })).map((m) => m.reactions),
      linesBefore,
    )
    // A reaction carried ahead of its message counts once the message comes.
    const late = newMessageId()
    await sealed({ kind: 'reaction', target: late, emoji: '🍵', sentAt: Date.now() })
    await sealed({ id: late, text: 'came late', sentAt: Date.now(), mentions: [] })
    await eventually(
      async () => (await reactionsAt(ann, gid, 'came late')).join() === 'Bo 🍵',
      15_000,
      'the waiting reaction at Ann',
    )
  })

  it('a member who was away gets a reaction carried by another while its sender is offline', async () => {
    await ann.messenger.groups.send(gid, 'carried')
    for (const p of [bo, cy])
      await eventually(async () => (await byText(p, gid, 'carried')) !== undefined, 15_000, p.name)
    const target = (await byText(bo, gid, 'carried'))!.id
    const cyHome = cy.home
    const cyKey = cy.key
    await cy.stop()
    await bo.messenger.groups.react(gid, target, '🙏')
    await eventually(
      async () => (await reactionsAt(ann, gid, 'carried')).join() === 'Bo 🙏',
      15_000,
      'at Ann',
    )
    const boHome = bo.home
    const boKey = bo.key
    await bo.stop()
    // Ann restarts too: what she carries is read back from her store.
    const annHome = ann.home
    const annKey = ann.key
    await ann.stop()
    ann = await filePeer('Ann', { withFiles: false, home: annHome, key: annKey })
    assert.equal((await reactionsAt(ann, gid, 'carried')).join(), 'Bo 🙏', 'kept across a restart')
    cy = await filePeer('Cy', { withFiles: false, home: cyHome, key: cyKey })
    await cy.messenger.node.dial(multiaddr(`${ann.messenger.node.getMultiaddrs()[0]}`))
    await eventually(
      async () => (await reactionsAt(cy, gid, 'carried')).join() === 'Bo 🙏',
      20_000,
      'the reaction at Cy, from Ann',
    )
    bo = await filePeer('Bo', { withFiles: false, home: boHome, key: boKey })
  })

  it('a removed member’s reaction changes nothing and is counted', async () => {
    const target = (await byText(ann, gid, 'carried'))!.id
    const g = inside(cy).loaded.get(gid)!
    // Cy seals a reaction while still a member, and sends it once she is not.
    const state = g.log.state()
    const { message } = g.channel.encrypt(
      state,
      utf8(JSON.stringify({ kind: 'reaction', target, emoji: '👎', sentAt: Date.now() })),
    )
    await ann.messenger.groups.remove(gid, 'Cy')
    await eventually(() => cy.messenger.groups.list().length === 0, 15_000, 'Cy hears she was removed')
    const before = refused(ann, 'not-allowed')
    const annId = cy.messenger.contactList().find((c) => c.name === 'Ann')!.id
    await inside(cy).sendTraffic(annId, {
      groupId: hexToBytes(gid),
      messages: [{ sender: hexToBytes(inside(cy).me), message: message.bytes }],
    })
    await eventually(() => refused(ann, 'not-allowed') > before, 15_000, 'counted at Ann')
    assert.equal((await reactionsAt(ann, gid, 'carried')).join(), 'Bo 🙏')
    // Nor does she say she read Ann's message any more.
    const ours = (await byText(ann, gid, 'carried'))!
    const counted = refused(ann, 'not-allowed')
    await inside(cy).sendTraffic(annId, { groupId: hexToBytes(gid), read: [hexToBytes(ours.id)] })
    await eventually(() => refused(ann, 'not-allowed') > counted, 15_000, 'her receipt counted at Ann')
    assert.deepEqual(
      (await byText(ann, gid, 'carried'))?.readBy?.map((w) => w.name),
      ours.readBy?.map((w) => w.name),
    )
  })

  it("a receipt for a message that is not the author's own is counted and changes nothing", async () => {
    const annAtBo = bo.messenger.contactList().find((c) => c.name === 'Ann')!.id
    // Both restarted on new ports since they last met.
    await bo.messenger.node.dial(multiaddr(`${ann.messenger.node.getMultiaddrs()[0]}`))
    const before = refused(ann, 'not-allowed')
    const bad = refused(ann, 'bad-payload')
    // Bo's build says he read a made-up message, and sends ids of the wrong length.
    await inside(bo).sendTraffic(annAtBo, { groupId: hexToBytes(gid), read: [hexToBytes(newMessageId())] })
    await inside(bo).sendTraffic(annAtBo, { groupId: hexToBytes(gid), read: [new Uint8Array(3)] })
    await eventually(() => refused(ann, 'not-allowed') > before, 15_000, 'the made-up id counted')
    await eventually(() => refused(ann, 'bad-payload') > bad, 15_000, 'the short id counted')
  })
})
