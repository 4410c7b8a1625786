/**
 * Bounded work per client, on a real `jiayi start` and real sockets: a thousand full-history
 * requests at once on one control connection are each answered (the history, or 'Busy' at once)
 * while the peer's memory stays bounded and a contact's messages keep arriving; and 64 idle
 * control connections do not lock the CLI out. Loopback only.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { cleanup, eventually, jiayi } from './helpers/cli.js'
import { sendMany } from './helpers/control.js'
import { befriend, numbered, TestPeer } from './helpers/peers.js'

after(cleanup)

/** Peak resident memory of a process (VmHWM), in MB. */
async function peakMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024
}

function rawConnection(home: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(home, 'control.sock'))
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

test('a thousand full-history requests at once: each answered, memory bounded, the contact still gets through', async () => {
  const alice = await TestPeer.create('Alice')
  const bob = await TestPeer.create('Bob')
  try {
    const { bAtA, aAtB } = await befriend(alice, bob)
    const history = numbered('history', 500)
    const { error } = await sendMany(alice.control, bAtA, history)
    assert.equal(error, undefined)
    await eventually(
      async () => (await bob.control.messages(aAtB)).length === history.length,
      60_000,
      'history',
    )
    const before = await peakMb(bob.pid)

    // One client (a script, a page) asks for the whole history a thousand times at once.
    const socket = await rawConnection(bob.home)
    const answers = new Map<number, { result?: unknown[]; error?: { code: string } }>()
    let buffered = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const value = JSON.parse(buffered.slice(0, nl)) as {
          id: number
          result?: unknown[]
          error?: { code: string }
        }
        buffered = buffered.slice(nl + 1)
        answers.set(value.id, value)
      }
    })
    const N = 1000
    const requests = Array.from({ length: N }, (_, id) =>
      JSON.stringify({ id, method: 'messages', params: { contact: aAtB, limit: 10_000, peek: true } }),
    )
    socket.write(`${requests.join('\n')}\n`)
    // Meanwhile Alice keeps writing to Bob.
    const during = numbered('during', 10)
    const sentAt = new Map<string, number>()
    const arrivedAt = new Map<string, number>()
    await bob.control.subscribe((n) => {
      const m = n.message as { text?: string; direction?: string } | undefined
      if (n.event === 'message' && m?.direction === 'in' && m.text !== undefined && sentAt.has(m.text))
        arrivedAt.set(m.text, Date.now())
    })
    for (const t of during) {
      sentAt.set(t, Date.now())
      await alice.control.send(bAtA, t)
    }

    await eventually(() => answers.size === N, 120_000, 'every request answered')
    const full = [...answers.values()].filter((a) => a.result !== undefined)
    const busy = [...answers.values()].filter((a) => a.error?.code === 'Busy')
    await eventually(() => arrivedAt.size === during.length, 60_000, "Alice's messages during the flood")
    const grew = (await peakMb(bob.pid)) - before
    const latencies = during.map((t) => arrivedAt.get(t)! - sentAt.get(t)!).sort((a, b) => a - b)
    // Figures, for the record (timing never fails a test).
    console.log(
      `# ${N} history requests: ${full.length} served, ${busy.length} Busy; peak RSS +${grew.toFixed(0)} MB; ` +
        `contact's messages meanwhile: median ${latencies[latencies.length >> 1]} ms, max ${latencies.at(-1)} ms`,
    )
    assert.equal(full.length + busy.length, N, 'each is the history or Busy, nothing else')
    for (const a of full) assert.ok(a.result!.length >= history.length, 'the whole history')
    assert.ok(busy.length > 0, 'past the queue, requests are refused at once')
    assert.ok(full.length >= 2 + 32, 'the ones that fit in the queue are all served')
    // Bounded: a few histories in memory at a time, not a thousand (500 messages are ~0.5 MB).
    assert.ok(grew < 200, `peak memory grew ${grew.toFixed(0)} MB`)
    socket.destroy()

    // The client can ask again once answered: nothing is stuck.
    const again = await bob.control.messages(aAtB)
    assert.equal(again.filter((m) => m.direction === 'in').length, history.length + during.length)
  } finally {
    await Promise.all([alice.stop(), bob.stop()])
  }
})

test('64 idle control connections do not lock out the CLI: the one idle longest makes room', async () => {
  const peer = await TestPeer.create('Idle')
  const idle: Socket[] = []
  try {
    const closed: string[] = []
    for (let i = 0; i < 64; i++) {
      const s = await rawConnection(peer.home)
      s.setEncoding('utf8').on('data', (line: string) => closed.push(`${i} ${line}`))
      idle.push(s)
    }
    const r = await jiayi(peer.home, ['contacts', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), [])
    // The test's own control connection (opened first) was the one idle longest.
    await eventually(
      async () => {
        try {
          await peer.control.call('whoami')
          return false
        } catch {
          return true
        }
      },
      5_000,
      'the oldest idle connection closed',
    )
    // And again, as often as commands come.
    for (let i = 0; i < 3; i++) assert.equal((await jiayi(peer.home, ['whoami', '--json'])).code, 0)
    assert.ok(
      closed.some((l) => l.includes('"Closed"')),
      'an idle client is told why it was closed',
    )
  } finally {
    for (const s of idle) s.destroy()
    await peer.stop()
  }
})
