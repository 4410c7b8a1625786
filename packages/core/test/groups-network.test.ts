/**
 * Groups between real peers on 127.0.0.1 with real stores on disk: members who are not each
 * other's contacts talk through the group only; every message arrives once; a member who was
 * away gets a burst from another member while its sender is offline; a removed member gets
 * nothing more; a member that is no contact cannot use its session for anything but the group.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { GroupError } from '../src/groups/errors.js'
import type { MessengerCore } from '../src/messenger/core.js'
import type { ContactId } from '../src/messenger/ids.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { Tx } from '../src/messenger/tx.js'
import { befriend, type FilePeer, filePeer, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core
/** What members said (the group's own change lines left out). */
const texts = async (p: FilePeer, group: string) =>
  (await p.messenger.groups.messages(group, { peek: true }))
    .filter((m) => m.extension === undefined)
    .map((m) => m.text)

describe('groups between peers', () => {
  let ann: FilePeer
  let bo: FilePeer
  let cy: FilePeer
  let groupId: string

  before(async () => {
    ;[ann, bo, cy] = await Promise.all([
      filePeer('Ann', { withFiles: false }),
      filePeer('Bo', { withFiles: false }),
      filePeer('Cy', { withFiles: false }),
    ])
    await befriend(ann, bo)
    await befriend(ann, cy)
  })
  after(async () => {
    await Promise.all([ann, bo, cy].map((p) => p?.stop()))
    await removeHomes()
  })

  it("members who are not contacts get the group and each other's messages, once each, in order", async () => {
    const group = await ann.messenger.groups.create('Shop 店', ['Bo', 'Cy'])
    groupId = group.id
    assert.deepEqual(group.members.map((m) => [m.name, m.role]).sort(), [
      ['Ann', 'owner'],
      ['Bo', 'member'],
      ['Cy', 'member'],
    ])
    for (const p of [bo, cy])
      await eventually(() => p.messenger.groups.list().length === 1, 15_000, `the group at ${p.name}`)
    await ann.messenger.groups.send(groupId, 'welcome')
    await bo.messenger.groups.send(groupId, 'bo 1')
    await bo.messenger.groups.send(groupId, 'bo 2')
    await cy.messenger.groups.send(groupId, 'cy 1')
    await eventually(async () => (await texts(cy, groupId)).length === 4, 15_000, "Bo's messages at Cy")
    await eventually(async () => (await texts(bo, groupId)).length === 4, 15_000, "Cy's message at Bo")
    await eventually(async () => (await texts(ann, groupId)).length === 4, 15_000, 'all at Ann')
    for (const p of [ann, bo, cy]) {
      const got = await texts(p, groupId)
      assert.deepEqual(
        got.filter((t) => t.startsWith('bo')),
        ['bo 1', 'bo 2'],
        `Bo's order at ${p.name}`,
      )
      assert.equal(new Set(got).size, 4, `each once at ${p.name}`)
    }
    const atCy = await cy.messenger.groups.messages(groupId)
    assert.deepEqual(atCy.find((m) => m.text === 'bo 1')?.sender.name, 'Bo')
    // Ann sees who has her message: both members' peers acknowledged it.
    await eventually(
      async () => {
        const welcome = (await ann.messenger.groups.messages(groupId, { peek: true })).find(
          (m) => m.text === 'welcome',
        )
        return welcome?.delivery?.deliveredTo.length === 2 && welcome.delivery.of === 2
      },
      15_000,
      "'delivered to 2 of 2' at Ann",
    )
    // The group's own changes are lines among the messages, in words and as data.
    const lines = atCy.filter((m) => m.extension?.kind === 'group-change')
    assert.deepEqual(
      lines.map((m) => m.text),
      ['Ann created the group "Shop 店"', 'Ann added Bo, Cy'],
    )
    // An @mention of Cy is hers alone, counted apart until she reads the group.
    await bo.messenger.groups.send(groupId, '@Cy can you take the 3pm delivery?')
    await eventually(() => cy.messenger.groups.get(groupId).mentions === 1, 15_000, 'the mention at Cy')
    const mention = (await cy.messenger.groups.messages(groupId, { peek: true })).at(-1)!
    assert.equal(mention.mentionsMe, true)
    await eventually(async () => (await texts(ann, groupId)).length === 5, 15_000, 'the mention at Ann')
    assert.equal(ann.messenger.groups.get(groupId).mentions, 0)
    await cy.messenger.groups.messages(groupId)
    assert.equal(cy.messenger.groups.get(groupId).mentions, 0)
    assert.equal(cy.messenger.groups.get(groupId).unread, 0)
    // Bo and Cy are still no contacts of each other.
    assert.deepEqual(
      bo.messenger.contactList().map((c) => c.name),
      ['Ann'],
    )
    assert.deepEqual(
      cy.messenger.contactList().map((c) => c.name),
      ['Ann'],
    )
  })

  it('a member who is no contact can send group traffic and nothing else', async () => {
    const boAtCy = coreOf(cy.messenger)
      .contacts.everyone()
      .find((c) => c.name === 'Bo')!
    assert.equal(boAtCy.state, 'member')
    const refusedBefore = bo.messenger.stats().refused['/jiayi/msg/1']?.['not-allowed'] ?? 0
    // Cy runs her own build: a 1:1 text straight into her session with Bo.
    const core = coreOf(cy.messenger)
    await core.queue.run(boAtCy.id, async () => {
      const tx = new Tx()
      await core.encryptToOutbox(tx, boAtCy.id as ContactId, { kind: 'text', text: 'buy my stuff' })
      await core.commit(tx)
    })
    await eventually(
      () => (bo.messenger.stats().refused['/jiayi/msg/1']?.['not-allowed'] ?? 0) > refusedBefore,
      15_000,
      'the text refused at Bo',
    )
    assert.deepEqual(
      bo.messenger.contactList().map((c) => c.name),
      ['Ann'],
    )
  })

  it('a member away during a burst gets it from another member while the sender is offline', async () => {
    const cyHome = cy.home
    const cyKey = cy.key
    await cy.stop()
    for (const t of ['burst 1', 'burst 2', 'burst 3']) await bo.messenger.groups.send(groupId, t)
    await eventually(async () => (await texts(ann, groupId)).includes('burst 3'), 15_000, 'the burst at Ann')
    await bo.stop()
    cy = await filePeer('Cy', { withFiles: false, home: cyHome, key: cyKey })
    // Cy is back and meets Ann (Bo, the sender, is gone).
    await cy.messenger.node.dial(multiaddr(`${ann.messenger.node.getMultiaddrs()[0]}`))
    await eventually(
      async () => (await texts(cy, groupId)).includes('burst 3'),
      20_000,
      'the burst at Cy, from Ann',
    )
    const got = await texts(cy, groupId)
    assert.deepEqual(
      got.filter((t) => t.startsWith('burst')),
      ['burst 1', 'burst 2', 'burst 3'],
    )
  })

  it('a removed member gets nothing sent after, and the others stop taking from it', async () => {
    await ann.messenger.groups.remove(groupId, 'Cy')
    await eventually(() => cy.messenger.groups.list().length === 0, 15_000, 'Cy hears she was removed')
    assert.deepEqual(
      ann.messenger.groups
        .get(groupId)
        .members.map((m) => m.name)
        .sort(),
      ['Ann', 'Bo'],
    )
    await ann.messenger.groups.send(groupId, 'after Cy')
    await assert.rejects(cy.messenger.groups.send(groupId, 'still here'), /no group matches/)
    // Time for anything in flight to land: nothing of it is at Cy.
    await new Promise((r) => setTimeout(r, 500))
    assert.ok(
      !(await cy.messenger.groups.messages(groupId, { peek: true }).catch(() => [])).some(
        (m) => m.text === 'after Cy',
      ),
    )
  })

  it('a stranger joins by invite: held for approval, approved, then reads; expired and revoked invites are refused', async () => {
    const di = await filePeer('Di', { withFiles: false })
    try {
      const invite = await ann.messenger.groups.invite(groupId)
      assert.match(invite.link, /^jiayi:group\//)
      assert.equal(invite.qr, invite.link.toUpperCase())
      // Approval is on (the default): the request waits at Ann.
      const asked = await di.messenger.groups.join(invite.link)
      assert.equal(asked.state, 'pending')
      await eventually(
        () => ann.messenger.groups.get(groupId).requests.length === 1,
        15_000,
        'the request at Ann',
      )
      assert.deepEqual(di.messenger.contactList(), [], 'joining makes no contact')
      assert.deepEqual(
        ann.messenger
          .contactList()
          .map((c) => c.name)
          .sort(),
        ['Bo', 'Cy'],
      )
      await ann.messenger.groups.approve(groupId, 'Di')
      await eventually(() => di.messenger.groups.list().length === 1, 15_000, 'Di is in')
      await ann.messenger.groups.send(groupId, 'welcome Di')
      await eventually(async () => (await texts(di, groupId)).includes('welcome Di'), 15_000, 'Di reads')
      assert.ok(!(await texts(di, groupId)).includes('burst 1'), 'a new member reads from its joining on')

      // Approval off: a join is answered at once. Expired and revoked invites are refused clearly.
      await ann.messenger.groups.settings(groupId, { joinApproval: false, adminsOnly: false })
      const expired = await ann.messenger.groups.invite(groupId, 1)
      await new Promise((r) => setTimeout(r, 5))
      await assert.rejects(di.messenger.groups.join(expired.link), (e) => GroupError.is(e, 'Expired'))
      const revoked = await ann.messenger.groups.invite(groupId)
      await ann.messenger.groups.revokeInvite(groupId, revoked.link)
      const eve = await filePeer('Eve', { withFiles: false })
      try {
        await assert.rejects(eve.messenger.groups.join(revoked.link), (e) => GroupError.is(e, 'Revoked'))
        assert.equal(eve.messenger.groups.list().length, 0)
        const open = await ann.messenger.groups.invite(groupId)
        const joined = await eve.messenger.groups.join(open.link)
        assert.equal(joined.state, 'joined')
        assert.ok(joined.group.members.some((m) => m.name === 'Eve'))
      } finally {
        await eve.stop()
      }
    } finally {
      await di.stop()
    }
  })

  it('an admin refuses a join request: the joiner is told and not added; a member may not refuse', async () => {
    await ann.messenger.groups.settings(groupId, { joinApproval: true, adminsOnly: false })
    const fay = await filePeer('Fay', { withFiles: false })
    try {
      const told: string[] = []
      coreOf(fay.messenger).events.on('group', (e) => {
        if (e.groupId === groupId && e.change === 'refused') told.push(e.refused ?? '')
      })
      const invite = await ann.messenger.groups.invite(groupId)
      assert.equal((await fay.messenger.groups.join(invite.link)).state, 'pending')
      await eventually(() => ann.messenger.groups.get(groupId).requests.length === 1, 15_000, 'the request')
      // Bo is a plain member: core says no, whatever the page shows.
      await assert.rejects(bo.messenger.groups.refuse(groupId, 'Fay'), (e) => GroupError.is(e, 'NotAllowed'))
      await assert.rejects(ann.messenger.groups.refuse(groupId, 'nobody'), (e) =>
        GroupError.is(e, 'NotFound'),
      )
      const after = await ann.messenger.groups.refuse(groupId, 'Fay')
      assert.deepEqual(after.requests, [])
      assert.deepEqual(ann.messenger.groups.get(groupId).requests, [])
      await eventually(() => told.length === 1, 15_000, 'the refusal at Fay')
      assert.deepEqual(told, ['Refused'])
      assert.equal(fay.messenger.groups.list().length, 0)
      assert.ok(!ann.messenger.groups.get(groupId).members.some((m) => m.name === 'Fay'))
      await assert.rejects(ann.messenger.groups.approve(groupId, 'Fay'), (e) => GroupError.is(e, 'NotFound'))
    } finally {
      await fay.stop()
    }
  })
})
