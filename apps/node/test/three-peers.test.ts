/**
 * Three `jiayi start` processes on 127.0.0.1 (no mDNS), each with its own home: A–B and B–C swap
 * cards (both add, so both are accepted at once), chat both ways in English and in Chinese with
 * emoji, receipts reach read, and nothing of either conversation leaks to the pair that are not
 * contacts (A–C) or into the other conversation. Then B labels A and C and broadcasts to the
 * label (群发): each gets it as a message of their own. Adds, sends, reads, labels and the
 * broadcast go through the CLI (`jiayi add/send/messages/label/broadcast`), the checks through
 * the control socket.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson } from './helpers/cli.js'
import type { MessageView } from './helpers/control.js'
import { TestPeer } from './helpers/peers.js'

let a: TestPeer
let b: TestPeer
let c: TestPeer

before(async () => {
  ;[a, b, c] = await Promise.all([
    TestPeer.create('Alice'),
    TestPeer.create('小明 Bob'),
    TestPeer.create('Chloé 陈'),
  ])
})

after(async () => {
  const codes = await Promise.all([a?.stop(), b?.stop(), c?.stop()])
  await cleanup()
  assert.deepEqual(codes, [0, 0, 0], 'the three peers shut down cleanly')
})

const add = (p: TestPeer, link: string) => jiayiJson<{ contact: { id: string } }>(p.home, ['add', link])

/** Message texts of one conversation, as [direction, text], oldest first (no read marking). */
async function conversation(p: TestPeer, other: TestPeer): Promise<[string, string][]> {
  const contact = await p.contact(other.peerId)
  assert.ok(contact, `${p.name} has ${other.name} as a contact`)
  return (await p.control.messages(contact.id)).map((m) => [m.direction, m.text])
}

async function statuses(p: TestPeer, other: TestPeer): Promise<MessageView[]> {
  const contact = await p.contact(other.peerId)
  return contact === undefined
    ? []
    : (await p.control.messages(contact.id)).filter((m) => m.direction === 'out')
}

const AB_EN = 'Hi Bob, the invoice is at https://example.com/inv?id=7 — can you check it today?'
const BA_ZH = '好的，Alice！今天下午看 👍🏽📄'
const BC_EN = 'Chloé, lunch tomorrow at noon?'
const CB_ZH = '没问题！明天中午见 🍜😋'

test('A–B and B–C swap cards and chat both ways; receipts reach read', { timeout: 90_000 }, async () => {
  const [cardA, cardB, cardC] = await Promise.all([a.card(), b.card(), c.card()])
  // Both sides of each pair add the other (the QR codes are swapped).
  await Promise.all([add(a, cardB), add(c, cardB)])
  await Promise.all([add(b, cardA), add(b, cardC)])
  await eventually(
    async () => {
      const pairs = [
        [a, b],
        [b, a],
        [b, c],
        [c, b],
      ] as const
      for (const [x, y] of pairs) if ((await x.contact(y.peerId))?.state !== 'accepted') return false
      return true
    },
    20_000,
    'both pairs accepted',
  )

  // Contacts by name, prefix and peer id, through the CLI.
  const sent = await Promise.all([
    jiayiJson<MessageView>(a.home, ['send', 'bob', AB_EN]),
    jiayiJson<MessageView>(b.home, ['send', 'alice', BA_ZH]),
    jiayiJson<MessageView>(b.home, ['send', c.peerId, BC_EN]),
    jiayiJson<MessageView>(c.home, ['send', '小明', CB_ZH]),
  ])
  for (const m of sent) assert.match(m.id, /^[0-9a-f]{32}$/)

  // Each reads its conversations with the CLI (that marks them read and sends read receipts).
  const read = async (p: TestPeer, who: string, expected: [string, string][]) => {
    const list = await eventually(
      async () => {
        const got = await jiayiJson<MessageView[]>(p.home, ['messages', who])
        return got.length === expected.length ? got : undefined
      },
      20_000,
      `${p.name} has the conversation with ${who}`,
    )
    // Both messages are sent at the same moment, so only the set is fixed, not the order.
    assert.deepEqual(list.map((m) => [m.direction, m.text]).sort(), [...expected].sort())
    for (const m of list) if (m.direction === 'in') assert.equal(m.status, 'read')
  }
  await Promise.all([
    read(b, 'alice', [
      ['in', AB_EN],
      ['out', BA_ZH],
    ]),
    read(b, 'chloé', [
      ['out', BC_EN],
      ['in', CB_ZH],
    ]),
    read(a, '小明 bob', [
      ['out', AB_EN],
      ['in', BA_ZH],
    ]),
    read(c, b.peerId, [
      ['out', CB_ZH],
      ['in', BC_EN],
    ]),
  ])

  // Every sender sees its message reach "read".
  await eventually(
    async () => {
      for (const [x, y] of [
        [a, b],
        [b, a],
        [b, c],
        [c, b],
      ] as const) {
        const out = await statuses(x, y)
        if (out.length !== 1 || out[0]!.status !== 'read') return false
      }
      return true
    },
    20_000,
    'all four messages read',
  )
})

test('nothing leaks between the conversations or to the pair that are not contacts', async () => {
  // A and C know only B.
  assert.deepEqual(
    (await a.control.contacts()).map((x) => x.peerId),
    [b.peerId],
  )
  assert.deepEqual(
    (await c.control.contacts()).map((x) => x.peerId),
    [b.peerId],
  )
  assert.deepEqual((await b.control.contacts()).map((x) => x.peerId).sort(), [a.peerId, c.peerId].sort())
  // Each conversation holds exactly its own two messages.
  assert.deepEqual((await conversation(a, b)).sort(), [
    ['in', BA_ZH],
    ['out', AB_EN],
  ])
  assert.deepEqual((await conversation(c, b)).sort(), [
    ['in', BC_EN],
    ['out', CB_ZH],
  ])
  const bWithA = JSON.stringify(await conversation(b, a))
  const bWithC = JSON.stringify(await conversation(b, c))
  for (const t of [BC_EN, CB_ZH]) assert.ok(!bWithA.includes(t), 'B–C text is not in B–A')
  for (const t of [AB_EN, BA_ZH]) assert.ok(!bWithC.includes(t), 'B–A text is not in B–C')

  // A cannot address C: there is no such contact (by name or by peer id).
  const r = await jiayi(a.home, ['send', 'chloé', 'hello stranger', '--json'])
  assert.equal(r.code, 1)
  assert.equal(JSON.parse(r.stdout).error.code, 'UnknownContact')
  await assert.rejects(a.control.send(c.peerId, 'hello stranger'), { code: 'UnknownContact' })
  // Nothing of the other pair ever reached A or C: no refusals counted, no requests pending.
  for (const p of [a, c]) {
    const stats = await p.control.stats()
    assert.equal(stats.contacts, 1)
    assert.equal(stats.refusedTotal, 0, `${p.name} refused nothing (nobody else tried)`)
  }
})

const BROADCAST = '本周新品 New this week: green tea 绿茶 🍵'

test('B labels A and C and broadcasts to the label: each gets it as a message of their own', async () => {
  const added = await jiayiJson<{ name: string; contacts: { id: string }[] }>(b.home, [
    'label',
    'add',
    ' 客户  VIP ',
    'alice',
    'chloé',
  ])
  assert.equal(added.name, '客户 VIP')
  const [aAtB, cAtB] = [await b.contact(a.peerId), await b.contact(c.peerId)]
  assert.ok(aAtB && cAtB)
  assert.deepEqual(await jiayiJson(b.home, ['labels']), [
    { name: '客户 VIP', contacts: [aAtB, cAtB].map((x) => ({ id: x.id, name: x.name, state: 'accepted' })) },
  ])
  const listed = await jiayiJson<{ id: string; labels: string[] }[]>(b.home, ['contacts'])
  for (const x of listed) assert.deepEqual(x.labels, ['客户 VIP'])

  // Another case is the same label.
  const result = await jiayiJson<{ sent: number; ids: string[]; skipped: unknown[] }>(b.home, [
    'broadcast',
    '客户 vip',
    BROADCAST,
  ])
  assert.equal(result.sent, 2)
  assert.equal(new Set(result.ids).size, 2)
  assert.deepEqual(result.skipped, [])
  for (const p of [a, c]) {
    const got = await eventually(
      async () => {
        const list = (await conversation(p, b)).filter(([, text]) => text === BROADCAST)
        return list.length > 0 ? list : undefined
      },
      20_000,
      `the broadcast at ${p.name}`,
    )
    assert.deepEqual(got, [['in', BROADCAST]])
  }

  const unknown = await jiayi(b.home, ['broadcast', 'nobody', 'hi', '--json'])
  assert.equal(unknown.code, 1)
  assert.equal(JSON.parse(unknown.stdout).error.code, 'UnknownLabel')
  const empty = await jiayi(b.home, ['label', 'add', '  ', 'alice', '--json'])
  assert.equal(empty.code, 1)
  assert.equal(JSON.parse(empty.stdout).error.code, 'EmptyLabel')
})
