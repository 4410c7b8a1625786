/**
 * A damaged store, as a disk or a crash leaves it, on real `jiayi` processes and real LevelDB:
 * - a log cut short while the peer was stopped loses the last writes (the ratchet among them):
 *   start says so, and the conversation heals both ways (a session reset, a notice on both sides,
 *   the failed messages sent again);
 * - a damaged table file or a missing MANIFEST stops start with what to do; `jiayi repair` keeps
 *   every record that can still be read, and the conversation goes on.
 * Loopback only, no mDNS.
 */
import assert from 'node:assert/strict'
import { open, readdir, rm, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { cleanup, eventually, jiayi, LOOPBACK } from './helpers/cli.js'
import type { MessageView } from './helpers/control.js'
import { befriend, numbered, TestPeer } from './helpers/peers.js'

after(cleanup)

const storeOf = (p: TestPeer) => join(p.home, 'store')

async function filesOf(p: TestPeer, ending: string): Promise<string[]> {
  return (await readdir(storeOf(p))).filter((f) => f.endsWith(ending)).sort()
}

async function logOf(p: TestPeer): Promise<string> {
  const logs = await filesOf(p, '.log')
  assert.equal(logs.length, 1, 'one LevelDB log')
  return join(storeOf(p), logs[0]!)
}

type Message = MessageView & { readonly extension?: { kind: string; data: unknown } }

const texts = async (p: TestPeer, contact: string, direction: 'in' | 'out') =>
  ((await p.control.messages(contact)) as Message[])
    .filter((m) => m.direction === direction && m.extension === undefined)
    .map((m) => m.text)

const notices = async (p: TestPeer, contact: string) =>
  ((await p.control.messages(contact)) as Message[]).filter((m) => m.extension?.kind === 'session-reset')

/** Every text of `expected` is in the conversation as `direction`, and ours are all delivered. */
async function arrived(p: TestPeer, contact: string, direction: 'in' | 'out', expected: readonly string[]) {
  const all = (await p.control.messages(contact)) as Message[]
  const have = all.filter((m) => m.direction === direction)
  const ok = expected.every((t) =>
    have.some((m) => m.text === t && (direction === 'in' || ['delivered', 'read'].includes(m.status))),
  )
  return ok ? have : undefined
}

test('a log cut short while the peer was stopped: start says so, the sessions reset, both ways work again', async () => {
  const a = await TestPeer.create('Alice')
  const b = await TestPeer.create('Bob')
  try {
    const { bAtA, aAtB } = await befriend(a, b)
    await a.control.send(bAtA, 'before 1')
    await eventually(() => arrived(b, aAtB, 'in', ['before 1']), 10_000, 'the first message')
    // A restart moves everything so far into a table: from here the log holds only what follows.
    assert.equal(await b.stop(), 0)
    await b.restart()
    const logBefore = (await stat(await logOf(b))).size

    // One round trip that moves both ratchets on, then lost on Bob's side with the log's tail.
    await a.control.send(bAtA, 'lost at Bob 1')
    await eventually(() => arrived(b, aAtB, 'in', ['lost at Bob 1']), 10_000, 'Alice → Bob')
    await b.control.send(aAtB, 'lost at Bob 2')
    await eventually(() => arrived(a, bAtA, 'in', ['lost at Bob 2']), 10_000, 'Bob → Alice')
    await eventually(() => arrived(b, aAtB, 'out', ['lost at Bob 2']), 10_000, 'delivered to Alice')
    assert.equal(await b.stop(), 0)
    await truncate(await logOf(b), logBefore)

    await b.restart()
    const ready = b.proc.ready as unknown as {
      store?: { lostWrites: boolean; files: { file: string; kind: string; change: string }[] }
    }
    assert.equal(ready.store?.lostWrites, true, 'the ready line says the store lost writes')
    assert.deepEqual(
      ready.store.files.map((f) => [f.kind, f.change]),
      [['log', 'shorter']],
      'and which file: the log, cut short',
    )
    assert.deepEqual(await texts(b, aAtB, 'in'), ['before 1'], 'what the cut log held is gone')

    // Both ways at once, as two people who notice nothing would write.
    const fromA = numbered('after, Alice', 3)
    const fromB = numbered('after, Bob', 3)
    for (let i = 0; i < 3; i++) {
      await a.control.send(bAtA, fromA[i]!)
      await b.control.send(aAtB, fromB[i]!)
    }
    await eventually(() => arrived(b, aAtB, 'in', fromA), 30_000, "Alice's messages at Bob")
    await eventually(() => arrived(a, bAtA, 'in', fromB), 30_000, "Bob's messages at Alice").catch(
      async (e) => {
        console.log(
          'A',
          (await a.control.messages(bAtA)).map((m) => `${m.direction} ${m.text} ${m.status}`),
        )
        console.log(
          'B',
          (await b.control.messages(aAtB)).map((m) => `${m.direction} ${m.text} ${m.status}`),
        )
        console.log(
          'A',
          JSON.stringify((await a.control.stats()).refused),
          'B',
          JSON.stringify((await b.control.stats()).refused),
        )
        console.log(
          'A lines',
          JSON.stringify(a.proc.lines.filter((l) => l.event !== 'message')),
          'B lines',
          JSON.stringify(b.proc.lines.filter((l) => l.event !== 'message')),
        )
        throw e
      },
    )
    await eventually(() => arrived(a, bAtA, 'out', fromA), 30_000, "Alice's messages delivered")
    await eventually(() => arrived(b, aAtB, 'out', fromB), 30_000, "Bob's messages delivered")
    // Each message once, whatever was sent again.
    assert.deepEqual((await texts(b, aAtB, 'in')).filter((t) => t.startsWith('after')).sort(), fromA)
    assert.deepEqual((await texts(a, bAtA, 'in')).filter((t) => t.startsWith('after')).sort(), fromB)
    // Both sides show that the session was reset, and the peers said so on their event lines.
    assert.ok((await notices(a, bAtA)).length >= 1, "a notice in Alice's conversation")
    assert.ok((await notices(b, aAtB)).length >= 1, "a notice in Bob's conversation")
    const sessionLine = (l: Record<string, unknown>) => l.event === 'session' && l.change === 'reset'
    await a.proc.waitFor(sessionLine)
    await b.proc.waitFor(sessionLine)

    // Later messages need no further reset.
    const countBefore = (await notices(a, bAtA)).length + (await notices(b, aAtB)).length
    await a.control.send(bAtA, 'all well')
    await b.control.send(aAtB, 'all well too')
    await eventually(() => arrived(b, aAtB, 'in', ['all well']), 10_000, 'a later message')
    await eventually(() => arrived(a, bAtA, 'in', ['all well too']), 10_000, 'a later reply')
    assert.equal((await notices(a, bAtA)).length + (await notices(b, aAtB)).length, countBefore)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('a damaged table file: start names it and what to do; repair keeps the rest of the conversation', async () => {
  const a = await TestPeer.create('Alice')
  const b = await TestPeer.create('Bob')
  try {
    const { bAtA, aAtB } = await befriend(a, b)
    const early = numbered('early', 10)
    for (const t of early) await a.control.send(bAtA, t)
    await eventually(() => arrived(b, aAtB, 'in', early), 15_000, 'the early messages')
    assert.equal(await b.stop(), 0)
    await b.restart() // the early messages now sit in a table of their own
    const oldTables = await filesOf(b, '.ldb')
    const late = numbered('late', 10)
    for (const t of late) await a.control.send(bAtA, t)
    await eventually(() => arrived(b, aAtB, 'in', late), 15_000, 'the late messages')
    assert.equal(await b.stop(), 0)
    await b.restart() // ... and the late ones (with the newest ratchet state) in a new one
    assert.equal(await b.stop(), 0)
    const newTables = (await filesOf(b, '.ldb')).filter((f) => !oldTables.includes(f))
    assert.equal(newTables.length, 1, 'one new table')
    const damaged = newTables[0]!
    // The disk garbles the middle of the newest table.
    const path = join(storeOf(b), damaged)
    const size = (await stat(path)).size
    const handle = await open(path, 'r+')
    await handle.write(
      Buffer.alloc(Math.floor(size / 2), 0xa5),
      0,
      Math.floor(size / 2),
      Math.floor(size / 4),
    )
    await handle.close()

    const refused = await jiayi(b.home, ['start', '--json', ...LOOPBACK])
    assert.equal(refused.code, 1, `start refuses with a user error: ${refused.stderr}`)
    assert.equal(JSON.parse(refused.stdout).error.code, 'Damaged')
    assert.match(refused.stderr, new RegExp(`table file ${damaged.replace('.', '\\.')}`))
    assert.match(refused.stderr, /jiayi --home '[^']+' repair/, 'it says what to do')

    const repaired = await jiayi(b.home, ['repair', '--json'])
    assert.equal(repaired.code, 0, repaired.stderr)
    const report = JSON.parse(repaired.stdout) as { repaired: boolean; damagedFiles: { file: string }[] }
    assert.equal(report.repaired, true)

    await b.restart()
    // Everything outside the damaged table is still there: the early messages, in order.
    assert.deepEqual((await texts(b, aAtB, 'in')).slice(0, early.length), early)
    // And the conversation goes on both ways (the ratchet state in the damaged table heals).
    await a.control.send(bAtA, 'after repair, Alice')
    await b.control.send(aAtB, 'after repair, Bob')
    await eventually(() => arrived(b, aAtB, 'in', ['after repair, Alice']), 30_000, 'Alice → Bob')
    await eventually(() => arrived(a, bAtA, 'in', ['after repair, Bob']), 30_000, 'Bob → Alice')
    await eventually(() => arrived(a, bAtA, 'out', ['after repair, Alice']), 30_000, 'delivered to Bob')
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('a missing MANIFEST: start names it and what to do; repair rebuilds it and nothing is lost', async () => {
  const a = await TestPeer.create('Alice')
  const b = await TestPeer.create('Bob')
  try {
    const { bAtA, aAtB } = await befriend(a, b)
    const sent = numbered('kept', 5)
    for (const t of sent) await a.control.send(bAtA, t)
    await eventually(() => arrived(b, aAtB, 'in', sent), 15_000, 'the messages')
    assert.equal(await b.stop(), 0)
    for (const f of await filesOf(b, '')) if (f.startsWith('MANIFEST-')) await rm(join(storeOf(b), f))

    const refused = await jiayi(b.home, ['start', ...LOOPBACK])
    assert.equal(refused.code, 1, refused.stderr)
    assert.match(refused.stderr, /MANIFEST/)
    assert.match(refused.stderr, /repair/)
    assert.doesNotMatch(refused.stderr, /internal error/)

    const repaired = await jiayi(b.home, ['repair'])
    assert.equal(repaired.code, 0, repaired.stderr)
    assert.match(repaired.stdout, /Repaired the store/)
    await b.restart()
    assert.deepEqual(await texts(b, aAtB, 'in'), sent)
    await a.control.send(bAtA, 'still here')
    await eventually(() => arrived(b, aAtB, 'in', ['still here']), 15_000, 'a new message')
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})
