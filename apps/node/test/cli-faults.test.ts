/**
 * The small faults of issue 21 as a user meets them, on real `jiayi` processes (loopback only):
 * a busy port or a bad address in --listen, a --home that is a file, `--web ""`, a control socket
 * someone deleted, and a file transfer cut short by the contact going away. Each is a clear
 * message with exit 1 (never "internal error", exit 2), or recovers by itself.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson, LOOPBACK, tempHome } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

after(cleanup)

async function homeWithIdentity(): Promise<string> {
  const home = await tempHome()
  await jiayiJson(home, ['init', '--name', 'Tess'])
  return home
}

test('start --listen: a busy port, a bad address and garbage are user errors naming the address', async () => {
  const home = await homeWithIdentity()
  const busy: Server = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  const port = (busy.address() as { port: number }).port
  try {
    const taken = await jiayi(home, [
      'start',
      '--json',
      '--no-mdns',
      '--listen',
      `/ip4/127.0.0.1/tcp/${port}`,
    ])
    assert.equal(taken.code, 1, taken.stderr)
    assert.equal(JSON.parse(taken.stdout).error.code, 'Listen')
    assert.match(taken.stderr, new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/${port}: port ${port} is in use`))
    assert.match(taken.stderr, /leave --listen out/)
  } finally {
    busy.close()
  }
  const badIp = await jiayi(home, ['start', '--no-mdns', '--listen', '/ip4/999.1.1.1/tcp/0'])
  assert.equal(badIp.code, 1, badIp.stderr)
  assert.match(badIp.stderr, /999\.1\.1\.1 is not an IPv4 address/)
  const notOurs = await jiayi(home, ['start', '--no-mdns', '--listen', '/ip4/192.0.2.77/tcp/0'])
  assert.equal(notOurs.code, 1, notOurs.stderr)
  assert.match(notOurs.stderr, /192\.0\.2\.77 is not an address of this machine/)
  const garbage = await jiayi(home, ['start', '--no-mdns', '--listen', 'localhost:4001'])
  assert.equal(garbage.code, 1, garbage.stderr)
  assert.match(garbage.stderr, /localhost:4001: it is not a multiaddr/)
  for (const r of [badIp, notOurs, garbage]) assert.doesNotMatch(r.stderr, /internal error/)
})

test('--home pointing at a file is a user error for every command', async () => {
  const dir = await tempHome()
  const file = join(dir, 'not-a-home')
  await writeFile(file, 'x')
  for (const args of [['start', ...LOOPBACK], ['contacts'], ['init', '--name', 'X'], ['whoami']]) {
    const r = await jiayi(file, [...args, '--json'])
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`)
    assert.match(r.stderr, /is a file, not a directory/, args[0])
    assert.equal(JSON.parse(r.stdout).error.code, 'Usage')
  }
  const inside = await jiayi(join(file, 'sub'), ['contacts'])
  assert.equal(inside.code, 1, inside.stderr)
  assert.match(inside.stderr, /inside a file/)
})

test('--web "" is a usage error, not "any port"', async () => {
  const home = await homeWithIdentity()
  const r = await jiayi(home, ['start', '--web', '', ...LOOPBACK], { timeoutMs: 15_000 })
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /--web must be a port number/)
})

test('a deleted control.sock: commands wait for the peer to make a new one, and say what is up', async () => {
  const peer = await TestPeer.create('Sock')
  try {
    const { rm, lstat } = await import('node:fs/promises')
    const socket = join(peer.home, 'control.sock')
    await rm(socket)
    // The next command does not say "no peer is running" (start would say one is): it gets through.
    const contacts = await jiayi(peer.home, ['contacts', '--json'])
    assert.equal(contacts.code, 0, contacts.stderr)
    assert.deepEqual(JSON.parse(contacts.stdout), [])
    assert.ok((await lstat(socket)).isSocket(), 'a new socket file')
    // The connection made before the file went keeps working.
    assert.equal((await peer.control.call<{ name: string }>('whoami')).name, 'Sock')
  } finally {
    await peer.stop()
  }
})

test('send-file: when the contact goes away mid-transfer, it says the transfer resumes, and it does', async () => {
  const alice = await TestPeer.create('Alice')
  const bob = await TestPeer.create('Bob')
  try {
    const { bAtA } = await befriend(alice, bob)
    // Bob takes files of this size without asking (the default asks above 100 MB).
    await bob.control.call('setFileSettings', { askAboveBytes: 200 * 1024 * 1024 })
    const path = join(alice.home, 'big.bin')
    await writeFile(path, randomBytes(96 * 1024 * 1024))
    const sending = jiayi(alice.home, ['send-file', bAtA, path], { timeoutMs: 120_000 })
    await eventually(
      async () =>
        (await alice.control.call<{ bytes: number; direction: string }[]>('transfers')).some(
          (t) => t.direction === 'out' && t.bytes > 0,
        ),
      60_000,
      'the transfer under way',
    )
    await bob.kill()
    await new Promise((r) => setTimeout(r, 3_000))
    await bob.restart()
    const done = await sending
    assert.equal(done.code, 0, done.stderr)
    assert.match(done.stderr, /the transfer resumes where it stopped once they are back/)
    assert.match(done.stdout, /Sent big\.bin/)
  } finally {
    await Promise.all([alice.stop(), bob.stop()])
  }
})
