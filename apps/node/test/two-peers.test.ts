/**
 * Two `jiayi start` processes on 127.0.0.1 (no mDNS) driven only through the CLI: a one-way add
 * waits as a request until accepted, messages both ways in English and Chinese with emoji,
 * receipts reach `read`, `chat` sends and shows live messages, errors map to exit codes, and the
 * control socket survives garbage.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import {
  BIN,
  cleanup,
  eventually,
  jiayi,
  jiayiJson,
  LOOPBACK,
  PeerProcess,
  ROOT,
  tempHome,
} from './helpers/cli.js'
import { Control, type Notification } from './helpers/control.js'

interface Contact {
  id: string
  name: string
  peerId: string
  state: string
  verified: boolean
  identityChanged: boolean
  remark?: string
  postQuantum: boolean
}
interface Message {
  id: string
  direction: 'in' | 'out'
  text: string
  sentAt: string
  status: string
}

let alice: PeerProcess
let bob: PeerProcess
let ha: string
let hb: string

before(async () => {
  ha = await tempHome()
  hb = await tempHome()
  await Promise.all([
    jiayiJson(ha, ['init', '--name', 'Alice']),
    jiayiJson(hb, ['init', '--name', '小明 Bob']),
  ])
  ;[alice, bob] = await Promise.all([PeerProcess.start(ha, LOOPBACK), PeerProcess.start(hb, LOOPBACK)])
})

after(async () => {
  const codes = await Promise.all([alice?.stop('SIGTERM'), bob?.stop('SIGINT')])
  await cleanup()
  assert.deepEqual(codes, [0, 0], 'both peers shut down cleanly')
})

const contactsOf = (home: string) => jiayiJson<Contact[]>(home, ['contacts'])
const messagesOf = (home: string, who: string, ...extra: string[]) =>
  jiayiJson<Message[]>(home, ['messages', who, ...extra])

test('one-way add, accept, messages both ways, receipts reach read', async () => {
  const aliceCard = await jiayiJson<{ link: string; addrs: string[] }>(ha, ['card'])
  assert.deepEqual(aliceCard.addrs, [alice.ready.addrs[0]!.replace(/\/p2p\/.*$/, '')])

  // Bob adds Alice; Alice has not added Bob: a request.
  const added = await jiayiJson<{ contact: Contact }>(hb, ['add', aliceCard.link])
  assert.equal(added.contact.name, 'Alice')
  assert.equal(added.contact.peerId, alice.ready.peerId)
  assert.match(added.contact.id, /^[0-9a-f]{16}$/)
  assert.equal(added.contact.state, 'pending-out')
  assert.equal((added as { alreadyAdded?: boolean }).alreadyAdded, undefined)
  // The same card again: the same contact, and no talk of a new request.
  const again = await jiayi(hb, ['add', aliceCard.link])
  assert.equal(again.code, 0)
  assert.match(again.stdout, /You added Alice before .*not accepted yet/)
  assert.doesNotMatch(again.stdout, /on its way/)
  const againJson = await jiayiJson<{ contact: Contact; alreadyAdded?: boolean }>(hb, ['add', aliceCard.link])
  assert.equal(againJson.alreadyAdded, true)
  assert.equal(againJson.contact.id, added.contact.id)
  const early = await jiayiJson<Message>(hb, ['send', 'alice', 'Hello Alice, it is Bob'])
  assert.deepEqual(Object.keys(early).slice(0, 2), ['id', 'contactId'])
  assert.match(early.id, /^[0-9a-f]{32}$/)
  assert.equal(early.status, 'queued')

  const request = await eventually(
    async () => (await contactsOf(ha)).find((c) => c.state === 'pending-in'),
    10_000,
    'the request',
  )
  assert.equal(request.name, '小明 Bob')
  const blocked = await jiayi(ha, ['send', request.id, 'too early'])
  assert.equal(blocked.code, 1)
  assert.match(blocked.stderr, /accept/)

  const accepted = await jiayiJson<{ contact: Contact }>(ha, ['accept', request.id])
  assert.equal(accepted.contact.state, 'accepted')
  await eventually(async () => (await contactsOf(hb))[0]?.state === 'accepted', 10_000, 'Bob sees the accept')
  // Added while Alice was online: the session was agreed with ML-KEM (PQXDH), and says so.
  for (const home of [ha, hb]) {
    const [c] = await contactsOf(home)
    assert.equal(c?.postQuantum, true)
    assert.equal(c?.identityChanged, false)
  }
  assert.match((await jiayi(hb, ['contacts'])).stdout, /SESSION[\s\S]*post-quantum/)

  const english = 'Hi Bob! The plan is at https://example.com/plan?id=42 — see you at 10.'
  const chinese = '你好，Alice！明天见 🌏👋🏽'
  const sent = await jiayiJson<Message>(ha, ['send', '小明 bob', english])
  assert.equal(sent.direction, 'out')
  await jiayiJson(hb, ['send', alice.ready.peerId, chinese])

  // Bob reads: everything in order, oldest first; that sends read receipts to Alice.
  const atBob = await eventually(async () => {
    const list = await messagesOf(hb, 'Alice')
    return list.length === 3 && list.some((m) => m.direction === 'in') ? list : undefined
  })
  assert.deepEqual(
    atBob.map((m) => [m.direction, m.text]),
    [
      ['out', 'Hello Alice, it is Bob'],
      ['in', english],
      ['out', chinese],
    ],
  )
  for (const m of atBob) assert.equal(new Date(m.sentAt).toISOString(), m.sentAt)
  assert.ok(atBob.every((m, i) => i === 0 || atBob[i - 1]!.sentAt <= m.sentAt))

  const readAtAlice = await eventually(
    async () => {
      const list = await messagesOf(ha, request.id, '--peek')
      return list.find((m) => m.id === sent.id)?.status === 'read' ? list : undefined
    },
    10_000,
    'the read receipt',
  )
  assert.deepEqual(
    readAtAlice.map((m) => [m.direction, m.text]),
    [
      ['in', 'Hello Alice, it is Bob'],
      ['out', english],
      ['in', chinese],
    ],
    'the message sent before the accept is shown after it',
  )
  const limited = await messagesOf(ha, request.id, '--limit', '1')
  assert.deepEqual(
    limited.map((m) => m.text),
    [chinese],
  )
  // Alice read Bob's messages too: Bob's statuses reach read.
  await eventually(
    async () =>
      (await messagesOf(hb, 'Alice', '--peek'))
        .filter((m) => m.direction === 'out')
        .every((m) => m.status === 'read'),
    10_000,
    "Bob's read receipts",
  )
})

test('chat: lines typed are sent, incoming messages show live and are read', {
  timeout: 30_000,
}, async () => {
  const child = spawn(process.execPath, [BIN, '--home', hb, 'chat', 'Alice', '--json'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const events: Record<string, unknown>[] = []
  let waiter: (() => void) | undefined
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(JSON.parse(line))
    waiter?.()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const see = (match: (e: Record<string, unknown>) => boolean) =>
    eventually(() => events.find(match), 10_000, 'a chat event')
  const text = (e: Record<string, unknown>) => (e.message as Message | undefined)?.text
  // The history comes first.
  await see((e) => e.change === 'history' && text(e) === 'Hello Alice, it is Bob')

  child.stdin.write('typed in chat ✍️\n')
  const mine = await see((e) => e.change === 'new' && text(e) === 'typed in chat ✍️')
  await jiayiJson(ha, ['send', '小明 bob', 'live 直播'])
  const live = await see((e) => e.change === 'new' && text(e) === 'live 直播')
  assert.equal((live.message as Message).direction, 'in')
  // Alice reads the chat message: Bob's chat shows the status change.
  await eventually(async () => (await messagesOf(ha, '小明 Bob')).some((m) => m.text === 'typed in chat ✍️'))
  await see((e) => e.event === 'status' && e.id === (mine.message as Message).id && e.status === 'read')
  child.stdin.write('/quit\n')
  assert.equal(await exited, 0)
  // What chat showed, it marked read (Alice gets the receipt).
  await eventually(
    async () =>
      (await messagesOf(ha, '小明 Bob', '--peek')).find((m) => m.text === 'live 直播')?.status === 'read',
    10_000,
    'chat marks read',
  )
})

test('chat in a terminal: typing is announced, /quit is not', { timeout: 60_000 }, async () => {
  const control = await Control.open(ha)
  const typing: Notification[] = []
  await control.subscribe(
    (n) => {
      if (n.event === 'typing' && n.active === true) typing.push(n)
    },
    ['typing'],
  )
  /** Bob's `jiayi chat` in a real terminal (util-linux `script` gives it a pty), keys one by one. */
  const chatInTerminal = async (keys: string) => {
    const command = [process.execPath, BIN, '--home', hb, 'chat', 'Alice'].map((w) => `'${w}'`).join(' ')
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    await eventually(() => out.includes('/quit to leave'), 15_000, 'the chat prompt')
    for (const key of keys) {
      child.stdin.write(key)
      await new Promise((r) => setTimeout(r, 30))
    }
    return { child, exited }
  }
  try {
    const quitting = await chatInTerminal('/quit\r')
    assert.equal(await quitting.exited, 0)
    await new Promise((r) => setTimeout(r, 1_500))
    assert.deepEqual(typing, [], 'typing /quit announces nothing')

    // The same terminal announces a message being typed (so the silence above means something).
    const writing = await chatInTerminal('hi')
    await eventually(() => typing.length > 0, 10_000, 'Alice hears Bob typing')
    for (const key of '\u0015/quit\r') writing.child.stdin.write(key)
    assert.equal(await writing.exited, 0)
  } finally {
    control.close()
  }
})

test('verify, stats, and errors with their exit codes', async () => {
  const a = await jiayiJson<{ safetyNumber: string; verified: boolean }>(ha, ['verify', '小明 Bob'])
  const b = await jiayiJson<{ safetyNumber: string; verified: boolean }>(hb, ['verify', 'alice'])
  assert.match(a.safetyNumber, /^(\d{5} ){11}\d{5}$/)
  assert.equal(a.safetyNumber, b.safetyNumber, 'both sides see the same number')
  assert.equal(a.verified, false)
  assert.deepEqual(await jiayiJson(ha, ['verify', '小明 Bob', '--mark']), { ...a, verified: true })
  assert.equal((await contactsOf(ha))[0]!.verified, true)

  const stats = await jiayiJson<{ contacts: number; refusedTotal: number }>(ha, ['stats'])
  assert.equal(stats.contacts, 1)
  assert.equal(typeof stats.refusedTotal, 'number')

  const badLink = await jiayi(ha, ['add', 'jiayi:add/NOTACARD', '--json'])
  assert.equal(badLink.code, 1)
  assert.match(badLink.stderr, /^jiayi: /)
  assert.match(JSON.parse(badLink.stdout).error.code, /^Bad/)
  const notALink = await jiayi(ha, ['add', 'hello'])
  assert.equal(notALink.code, 1)
  assert.match(notALink.stderr, /not a Jiayi card link/)
  const unknown = await jiayi(ha, ['send', 'nobody', 'hi', '--json'])
  assert.equal(unknown.code, 1)
  assert.equal(JSON.parse(unknown.stdout).error.code, 'UnknownContact')
  assert.doesNotMatch(unknown.stderr, /\bhi\b/, 'message text is never in an error')
})

/** Sends raw lines to the control socket and collects the replies. */
function raw(home: string, payload: string | Buffer, replies: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(home, 'control.sock'))
    const got: Record<string, unknown>[] = []
    createInterface({ input: socket }).on('line', (line) => {
      got.push(JSON.parse(line))
      if (got.length === replies) {
        socket.destroy()
        resolve(got)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(got))
    socket.write(payload)
  })
}

test('the control socket answers garbage with errors and keeps running', async () => {
  const replies = await raw(
    ha,
    [
      'not json',
      '[1,2]',
      '{"method":"whoami"}',
      '{"id":1,"method":"nope"}',
      '{"id":2,"method":"send","params":{"contact":"bob"}}',
      '{"id":3,"method":"send","params":{"contact":"bob","text":"x","extra":1}}',
      '{"id":4,"method":"messages","params":{"contact":"bob","limit":-1}}',
      '{"id":5,"method":"contact","params":{"contact":"nobody"}}',
      '{"id":6,"method":"whoami"}',
      '',
    ].join('\n'),
    9,
  )
  const byId = new Map(replies.map((r) => [r.id, r]))
  const code = (id: number | null) =>
    replies.filter((r) => r.id === id).map((r) => (r.error as { code: string } | undefined)?.code)
  assert.deepEqual(code(null), ['BadRequest', 'BadRequest', 'BadRequest'])
  assert.deepEqual(code(1), ['UnknownMethod'])
  assert.deepEqual(code(2), ['BadParams'])
  assert.deepEqual(code(3), ['BadParams'])
  assert.deepEqual(code(4), ['BadParams'])
  assert.deepEqual(code(5), ['UnknownContact'])
  assert.equal((byId.get(6)!.result as { name: string }).name, 'Alice')
  for (const r of replies) assert.doesNotMatch(JSON.stringify(r), /not json/, 'input is never echoed')

  // A line over the limit: an error, and that connection is closed.
  const huge = await raw(ha, Buffer.alloc(1024 * 1024 + 10, 0x61), 1)
  assert.equal((huge[0]!.error as { code: string }).code, 'TooLarge')
  // The peer is fine.
  assert.equal((await jiayiJson<{ name: string }>(ha, ['whoami'])).name, 'Alice')
})

test('jiayi name: a new name, at once here and soon at the contact; a bad one is a user error', async () => {
  const me = await jiayiJson<{ name: string; identityKey: string; peerId: string }>(hb, [
    'name',
    '小明',
    'Bob',
    'Wang',
  ])
  assert.deepEqual(Object.keys(me).sort(), ['devices', 'identityKey', 'name', 'peerId'])
  assert.equal(me.name, '小明 Bob Wang')
  assert.equal((await jiayiJson<{ name: string }>(hb, ['whoami'])).name, '小明 Bob Wang')
  await eventually(
    async () => (await jiayiJson<Contact[]>(ha, ['contacts'])).some((c) => c.name === '小明 Bob Wang'),
    15_000,
    'the new name at Alice',
  )
  const human = await jiayi(hb, ['name', 'Bob'])
  assert.equal(human.code, 0)
  assert.match(human.stdout, /Your name is now "Bob"/)
  const bad = await jiayi(hb, ['name', 'a\u202eb', '--json'])
  assert.equal(bad.code, 1, bad.stderr)
  assert.equal(JSON.parse(bad.stdout).error.code, 'BadInput')
})

test('jiayi remark: a private name for a contact, used to find them and shown in place of theirs', async () => {
  const bob = (await jiayiJson<Contact[]>(ha, ['contacts']))[0]!
  const set = await jiayiJson<{ id: string; name: string; remark?: string }>(ha, [
    'remark',
    bob.id,
    '老王',
    '供应商',
  ])
  assert.equal(set.id, bob.id)
  assert.equal(set.remark, '老王 供应商')
  assert.equal(set.name, bob.name, 'their own name is kept')
  const table = await jiayi(ha, ['contacts'])
  assert.ok(table.stdout.includes(`老王 供应商 (${bob.name})`), table.stdout)
  // The remark finds them wherever a name does.
  await jiayi(ha, ['send', '供应商', 'Remark test'])
  const shown = await jiayi(ha, ['messages', '老王'])
  assert.equal(shown.code, 0, shown.stderr)
  assert.match(shown.stdout, /you: Remark test/)
  const atBob = await jiayi(hb, ['messages', 'Alice'])
  assert.match(atBob.stdout, /Alice: Remark test/)
  assert.ok(!atBob.stdout.includes('老王'), 'Bob never learns the remark')
  const cleared = await jiayi(ha, ['remark', bob.id])
  assert.equal(cleared.code, 0)
  assert.match(cleared.stdout, /is shown by their own name again/)
  assert.equal((await jiayiJson<Contact[]>(ha, ['contacts']))[0]!.remark, undefined)
})

test('jiayi search: --json results with the contract fields; the human form names and dates them', async () => {
  const bob = (await jiayiJson<Contact[]>(ha, ['contacts']))[0]!
  await jiayi(ha, ['send', bob.id, 'Jasmine 茉莉花茶 samples ship Friday'])
  const hits = await jiayiJson<Record<string, unknown>[]>(ha, [
    'search',
    '茉莉',
    'samples',
    '--contact',
    bob.id,
  ])
  assert.equal(hits.length, 1, JSON.stringify(hits))
  assert.deepEqual(Object.keys(hits[0]!).sort(), ['contactId', 'id', 'kind', 'sentAt', 'text'])
  assert.equal(hits[0]!.kind, 'message')
  assert.equal(hits[0]!.contactId, bob.id)
  assert.equal(hits[0]!.text, 'Jasmine 茉莉花茶 samples ship Friday')
  const human = await jiayi(ha, ['search', 'jasmine'])
  assert.match(
    human.stdout,
    /^\[\d{4}-\d\d-\d\d \d\d:\d\d\] .+: Jasmine 茉莉花茶 samples ship Friday {2}\([0-9a-f]{8}\)$/m,
  )
  const none = await jiayi(ha, ['search', 'zzzqqq'])
  assert.match(none.stdout, /Nothing matches "zzzqqq"/)
})
