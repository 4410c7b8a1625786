/**
 * `jiayi messages --limit N` for any N: the command reads the history in pages (each answer one
 * control line of at most 1 MiB) and prints every message; an answer that would not fit a line is
 * the typed error ReplyTooLarge and the connection and the peer carry on. Two real `jiayi start`
 * processes on loopback, 5,100 messages sent over the network.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson } from './helpers/cli.js'
import { ControlError, type MessageView, sendMany } from './helpers/control.js'
import { befriend, TestPeer } from './helpers/peers.js'

after(cleanup)

const COUNT = 5_100
/** Long enough that 5,000 of them are well over a control line (~1.6 MiB as JSON). */
const text = (i: number) => `history ${String(i).padStart(5, '0')} 历史 ${'·'.repeat(100)}`

test('messages --limit 5000 prints all 5,000 of a longer history; one answer too large is a typed error', {
  timeout: 240_000,
}, async () => {
  const alice = await TestPeer.create('Alice')
  const bob = await TestPeer.create('Bob')
  try {
    const { bAtA, aAtB } = await befriend(alice, bob)
    const texts = Array.from({ length: COUNT }, (_, i) => text(i))
    const { error } = await sendMany(alice.control, bAtA, texts)
    assert.equal(error, undefined)
    await eventually(
      async () => (await bob.control.call<number>('unreadCount', { contact: aAtB })) === COUNT,
      120_000,
      `${COUNT} unread at Bob`,
    )

    // All of it in one answer does not fit a line: a typed error, and the connection goes on.
    await assert.rejects(
      bob.control.call('messages', { contact: aAtB, limit: 10_000, peek: true }),
      (e: unknown) => e instanceof ControlError && e.code === 'ReplyTooLarge',
    )
    assert.equal((await bob.control.call<{ name: string }>('whoami')).name, 'Bob')

    const list = await jiayiJson<MessageView[]>(bob.home, ['messages', aAtB, '--limit', '5000'], {
      timeoutMs: 120_000,
    })
    assert.equal(list.length, 5_000)
    assert.deepEqual(
      list.map((m) => m.text),
      texts.slice(-5_000),
    )
    assert.equal(new Set(list.map((m) => m.id)).size, 5_000)
    assert.ok(list.every((m) => m.status === 'read' && m.direction === 'in'))
    assert.equal(await bob.control.call<number>('unreadCount', { contact: aAtB }), 0)

    // For people: one line per message, every one of the history when the limit is above it.
    const lines = await jiayi(bob.home, ['messages', aAtB, '--limit', '6000', '--peek'], {
      timeoutMs: 120_000,
    })
    assert.equal(lines.code, 0, lines.stderr)
    const shown = lines.stdout.split('\n').filter((l) => l.includes('history '))
    assert.equal(shown.length, COUNT)
    assert.ok(shown[0]!.includes('history 00000'), shown[0])
    assert.ok(shown.at(-1)!.includes(`history ${String(COUNT - 1).padStart(5, '0')}`), shown.at(-1))
    assert.equal((await bob.control.call<{ name: string }>('whoami')).name, 'Bob', 'the peer runs on')
  } finally {
    await Promise.all([alice.stop(), bob.stop()])
  }
})
