/**
 * A full disk that clears, on a real `jiayi start` whose home is on a small tmpfs this test
 * mounts (and removes): the peer says the disk is full (an event line, one log line), keeps
 * answering, acknowledges nothing it could not store (the sender keeps its messages), refuses
 * new sends with a clear error, and once space is freed carries on by itself: the messages
 * arrive, once each. Needs root (mount); loopback only.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, open, readFile, rm, rmdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson } from './helpers/cli.js'
import { befriend, numbered, TestPeer } from './helpers/peers.js'

let mnt: string

before(async () => {
  assert.equal(process.getuid?.(), 0, 'this test mounts a tmpfs: run it as root')
  mnt = await mkdtemp(join(tmpdir(), 'jy-full-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mnt])
})

after(async () => {
  await cleanup()
  execFileSync('umount', ['-l', mnt])
  await rmdir(mnt)
})

/** Writes zeros into `path` until the disk has no room left. */
async function fill(path: string): Promise<void> {
  const handle = await open(path, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) await handle.write(chunk)
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC')
  } finally {
    await handle.close().catch(() => undefined)
  }
  // The last partial pages too.
  const small = await open(path, 'a')
  try {
    for (;;) await small.write(Buffer.alloc(512))
  } catch {
    // full
  } finally {
    await small.close().catch(() => undefined)
  }
}

test('a full disk: the peer waits it out without losing or flooding anything, and recovers by itself', async () => {
  const bobHome = join(mnt, 'bob')
  await jiayiJson(bobHome, ['init', '--name', 'Bob'])
  const bob = await TestPeer.startOn('Bob', bobHome)
  const alice = await TestPeer.create('Alice')
  try {
    const { bAtA, aAtB } = await befriend(alice, bob)
    await alice.control.send(bAtA, 'before')
    await eventually(async () => (await bob.control.messages(aAtB)).some((m) => m.text === 'before'))

    const filler = join(mnt, 'filler')
    await fill(filler)
    const texts = numbered(`while full ${'x'.repeat(1500)}`, 10)
    for (const t of texts) await alice.control.send(bAtA, t)
    await bob.proc.waitFor((l) => l.event === 'storage' && l.state === 'full', 20_000)

    // Full: nothing Bob could not store is acknowledged, so Alice keeps her messages...
    await new Promise((r) => setTimeout(r, 2_000))
    const mine = (await alice.control.messages(bAtA)).filter((m) => m.text.startsWith('while full'))
    assert.ok(
      mine.some((m) => m.status === 'queued'),
      `some of Alice's messages wait to be acknowledged: ${mine.map((m) => m.status).join(' ')}`,
    )
    // ... Bob still answers, and a send says why it cannot be done now.
    assert.equal((await bob.control.contacts()).length, 1)
    const refused = await jiayi(bobHome, ['send', aAtB, 'not now', '--json'])
    assert.equal(refused.code, 1, refused.stderr)
    assert.equal(JSON.parse(refused.stdout).error.code, 'Full')
    assert.match(refused.stderr, /the disk is full: free some space/)

    // Space comes back: the peer notices by itself and carries on.
    await rm(filler)
    await bob.proc.waitFor((l) => l.event === 'storage' && l.state === 'ok', 30_000)
    await eventually(
      async () => {
        const got = (await bob.control.messages(aAtB)).filter((m) => m.text.startsWith('while full'))
        return got.length === texts.length ? got : undefined
      },
      60_000,
      "Alice's messages at Bob",
    )
    const got = (await bob.control.messages(aAtB)).filter((m) => m.text.startsWith('while full'))
    assert.deepEqual(got.map((m) => m.text).sort(), [...texts].sort(), 'each once')
    await eventually(
      async () =>
        (await alice.control.messages(bAtA))
          .filter((m) => m.text.startsWith('while full'))
          .every((m) => m.status === 'delivered' || m.status === 'read'),
      30_000,
      'delivered',
    )
    const sent = await bob.control.send(aAtB, 'room again')
    await eventually(async () => (await alice.control.messages(bAtA)).some((m) => m.id === sent.id))

    // One line when it filled (lost with the others the full disk refused: the log says how
    // many), one when it cleared: no flood however long it lasted.
    const log = await readFile(join(bobHome, 'jiayi.log'), 'utf8')
    assert.ok((log.match(/the disk is full/g)?.length ?? 0) <= 1, 'the full disk is logged once at most')
    assert.equal(log.match(/the disk has room again/g)?.length ?? 0, 1)
    const lost = [...log.matchAll(/log lines lost while the log could not be written lines=(\d+)/g)]
    const lostLines = lost.reduce((n, m) => n + Number(m[1]), 0)
    console.log(`# log lines the full disk refused: ${lostLines}`)
    assert.ok(lostLines < 50, `a few lines tried while full, not a flood (${lostLines})`)
    assert.equal(bob.proc.lines.filter((l) => l.event === 'storage').length, 2)
  } finally {
    await Promise.all([alice.stop(), bob.stop()])
  }
})

test('start on a full disk says so and what to do (exit 1), and starts once there is room', async () => {
  const home = join(mnt, 'carol')
  await jiayiJson(home, ['init', '--name', 'Carol'])
  const carol = await TestPeer.startOn('Carol', home)
  assert.equal(await carol.stop(), 0)
  const filler = join(mnt, 'filler2')
  await fill(filler)
  const refused = await jiayi(home, ['start', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'])
  assert.equal(refused.code, 1, refused.stderr)
  assert.equal(JSON.parse(refused.stdout).error.code, 'DiskFull')
  assert.match(refused.stderr, /is full: free some space on it, then try again/)
  await rm(filler)
  await carol.restart()
  assert.equal((await carol.control.call<{ name: string }>('whoami')).name, 'Carol')
  await carol.stop()
})
