/**
 * Five `jiayi start` processes on 127.0.0.1 in one group (群聊), driven through the CLI's
 * contract (`group create`, `groups`, `send GROUP`, `messages GROUP`, `group remove`): Ann knows
 * everyone, the others know only Ann. Everyone gets everyone's messages once, in each sender's
 * order; a member who was stopped during a burst gets it on return while the burst's sender is
 * stopped; a removed member gets nothing sent after, and comes back by the group's invite link.
 * A file sent to the group (`send-file GROUP PATH`) reaches a member who is no contact of its sender.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson } from './helpers/cli.js'
import { TestPeer } from './helpers/peers.js'

interface GroupJson {
  id: string
  name: string
  members: { id: string; name: string; role: string }[]
  admins: string[]
  unread?: number
}
interface GroupMessageJson {
  id: string
  text: string
  groupId: string
  sender: { id: string; name: string }
  direction: string
  extension?: { kind: string; data?: { status: string; sha256: string; name: string } }
}

let ann: TestPeer
let others: TestPeer[]

before(async () => {
  const peers = await Promise.all(['Ann', 'Bo', '小陈 Cy', 'Di', 'Ed'].map((n) => TestPeer.create(n)))
  ann = peers[0]!
  others = peers.slice(1)
})

after(async () => {
  await Promise.all([ann, ...others].map((p) => p?.stop()))
  await cleanup()
})

/** Polls go through the control socket (a CLI process per poll costs seconds on two cores). */
const messagesAt = async (p: TestPeer) =>
  (await p.control.call<GroupMessageJson[]>('groupMessages', { group: 'Shop', peek: true })).filter(
    (m) => m.extension === undefined,
  )

test('five processes: a group made by the CLI, messages both ways, catch-up, removal', {
  timeout: 120_000,
}, async () => {
  const annCard = await ann.card()
  const cards = await Promise.all(others.map((p) => p.card()))
  // Ann and each other peer swap cards; the others are no contacts of each other.
  await Promise.all(others.map((p) => jiayiJson(p.home, ['add', annCard])))
  await Promise.all(cards.map((card) => jiayiJson(ann.home, ['add', card])))
  await eventually(
    async () => (await ann.control.contacts()).filter((c) => c.state === 'accepted').length === 4,
    20_000,
    'Ann has four contacts',
  )

  const made = await jiayiJson<{ group: GroupJson }>(ann.home, [
    'group',
    'create',
    'Shop',
    'Bo',
    '小陈',
    'Di',
    'Ed',
  ])
  assert.equal(made.group.name, 'Shop')
  assert.match(made.group.id, /^[0-9a-f]{32}$/)
  assert.deepEqual(made.group.members.map((m) => [m.name, m.role]).sort(), [
    ['Ann', 'owner'],
    ['Bo', 'member'],
    ['Di', 'member'],
    ['Ed', 'member'],
    ['小陈 Cy', 'member'],
  ])
  assert.deepEqual(Object.keys(made.group).slice(0, 4), ['id', 'name', 'members', 'admins'])
  assert.deepEqual(made.group.admins, [made.group.members.find((m) => m.role === 'owner')!.id])
  await Promise.all(
    others.map((p) =>
      eventually(
        async () => {
          const list = await p.control.call<GroupJson[]>('groups')
          return list.length === 1 && list[0]!.members.length === 5
        },
        20_000,
        `the group at ${p.name}`,
      ),
    ),
  )

  const listed = await jiayiJson<GroupJson[]>(others[0]!.home, ['groups'])
  assert.deepEqual(Object.keys(listed[0]!).slice(0, 4), ['id', 'name', 'members', 'admins'])
  assert.equal(typeof listed[0]!.unread, 'number')
  const [bo, cy, di, ed] = others as [TestPeer, TestPeer, TestPeer, TestPeer]
  await jiayiJson(bo.home, ['send', 'Shop', 'bo 1'])
  await jiayiJson(cy.home, ['send', 'Shop', '陈 1 🍜'])
  await jiayiJson(bo.home, ['send', 'Shop', 'bo 2'])
  for (const p of [ann, ...others]) {
    const got = await eventually(
      async () => {
        const list = await messagesAt(p)
        return list.length === 3 ? list : undefined
      },
      20_000,
      `three messages at ${p.name}`,
    )
    assert.deepEqual(
      got.filter((m) => m.sender.name === 'Bo').map((m) => m.text),
      ['bo 1', 'bo 2'],
    )
    assert.ok(got.every((m) => m.groupId === made.group.id))
  }
  // A document to the group: Di, no contact of Bo's, fetches it from Bo.
  const doc = join(bo.home, 'price-list.pdf')
  const bytes = Buffer.from('%PDF-1.4 price list 价目表\n'.repeat(2_000))
  await writeFile(doc, bytes)
  const offered = await jiayiJson<{ id: string; status: string; groupId: string; sender: { name: string } }>(
    bo.home,
    ['send-file', 'Shop', doc],
  )
  assert.equal(offered.groupId, made.group.id)
  assert.equal(offered.sender.name, 'Bo')
  await eventually(
    async () =>
      (await di.control.call<GroupMessageJson[]>('groupMessages', { group: 'Shop', peek: true })).some(
        (m) => m.id === offered.id && m.extension?.data?.status === 'complete',
      ),
    20_000,
    "Bo's document at Di",
  )
  // The CLI's own reading of a group: the sender on each message, and the group's change lines.
  const shown = await jiayiJson<GroupMessageJson[]>(di.home, ['messages', 'Shop'])
  const file = shown.find((m) => m.id === offered.id)
  assert.equal(file?.groupId, made.group.id)
  assert.equal(file?.sender.name, 'Bo')
  assert.equal(file?.extension?.kind, 'file-offer')
  assert.equal(file?.extension?.data?.sha256, createHash('sha256').update(bytes).digest('hex'))
  assert.equal(file?.text, '📎 price-list.pdf (60 kB)')
  assert.ok(shown.some((m) => m.extension?.kind === 'group-change' && m.text.startsWith('Ann added')))
  assert.deepEqual(
    shown
      .filter((m) => m.extension === undefined && m.sender.name !== 'Bo')
      .map((m) => [m.sender.name, m.text]),
    [['小陈 Cy', '陈 1 🍜']],
  )

  // Ed is away during Di's burst; Di is gone by the time Ed is back.
  const edHome = ed.home
  await ed.stop()
  for (const t of ['di 1', 'di 2', 'di 3']) await jiayiJson(di.home, ['send', 'Shop', t])
  await eventually(
    async () => (await messagesAt(ann)).some((m) => m.text === 'di 3'),
    20_000,
    'the burst at Ann',
  )
  await di.stop()
  const back = await TestPeer.startOn('Ed', edHome)
  others[3] = back
  const atEd = await eventually(
    async () => {
      const list = await messagesAt(back)
      return list.some((m) => m.text === 'di 3') ? list : undefined
    },
    30_000,
    'the burst at Ed, carried by another member',
  )
  assert.deepEqual(
    atEd.filter((m) => m.sender.name === 'Di').map((m) => m.text),
    ['di 1', 'di 2', 'di 3'],
  )

  // Bo is removed; what Ann sends after reaches Cy and not Bo.
  await jiayiJson(ann.home, ['group', 'remove', 'Shop', 'Bo'])
  await eventually(
    async () => (await jiayiJson<GroupJson[]>(bo.home, ['groups'])).length === 0,
    20_000,
    'Bo hears',
  )
  await jiayiJson(ann.home, ['send', 'Shop', 'after Bo'])
  await eventually(async () => (await messagesAt(cy)).some((m) => m.text === 'after Bo'), 20_000, 'at Cy')
  const refused = await jiayi(bo.home, ['send', 'Shop', 'still here?'])
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /no contact or group matches/)

  // Asked with approval on (the default), a join waits for an admin, who may turn it down.
  const first = await ann.control.call<{ link: string }>('groupInvite', { group: 'Shop' })
  const asked = await bo.control.call<{ state: string }>('groupJoin', { link: first.link })
  assert.equal(asked.state, 'pending')
  await eventually(
    async () =>
      (await ann.control.call<{ requests: unknown[] }>('group', { group: 'Shop' })).requests.length === 1,
    20_000,
    "Bo's request at Ann",
  )
  const turnedDown = await jiayiJson<{ group: GroupJson & { requests: unknown[] } }>(ann.home, [
    'group',
    'refuse',
    'Shop',
    'Bo',
  ])
  assert.deepEqual(turnedDown.group.requests ?? [], [])
  assert.ok(!turnedDown.group.members.some((m) => m.name === 'Bo'))

  // Back by the group's QR: an invite, and a join the admin's peer answers at once.
  await jiayiJson(ann.home, ['group', 'settings', 'Shop', '--join-approval', 'off'])
  const invite = await jiayiJson<{ link: string; qr: string; expiresAt: string }>(ann.home, [
    'group',
    'invite',
    'Shop',
    '--expires',
    '1h',
  ])
  assert.match(invite.link, /^jiayi:group\/[A-Z2-7]+$/)
  assert.equal(invite.qr, invite.link.toUpperCase())
  const hours = (Date.parse(invite.expiresAt) - Date.now()) / 3_600_000
  assert.ok(hours > 0.9 && hours <= 1, `expires in an hour (${hours})`)
  const joined = await jiayiJson<{ group: GroupJson; state: string }>(bo.home, ['group', 'join', invite.link])
  assert.equal(joined.state, 'joined')
  assert.ok(joined.group.members.some((m) => m.name === 'Bo'))
})
