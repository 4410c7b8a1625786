/**
 * `jiayi start` as a process: the npm-start path (identity created on first run, card printed),
 * one peer per home, the ready line, clean shutdown on SIGINT/SIGTERM, and a restart after
 * kill -9 (the stale lock and socket must not block it), and a peer whose stdout reader goes away
 * (`start --json | head -c 20`) carrying on. Loopback only, no mDNS.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
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
import { TestPeer } from './helpers/peers.js'

after(cleanup)

const LISTEN = [
  '--listen',
  '/ip4/127.0.0.1/tcp/0',
  '--listen',
  '/ip4/127.0.0.1/udp/0/webrtc-direct',
  '--no-mdns',
]
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )
const certhashOf = (addrs: readonly string[]) =>
  addrs.map((a) => /\/certhash\/([^/]+)/.exec(a)?.[1]).find(Boolean)

test('start: first run, lock, ready line, signals, kill -9 and restart', async () => {
  const home = await tempHome()
  const socket = join(home, 'control.sock')
  const lock = join(home, 'peer.lock')

  // What `npm start` runs: the identity is created on the first run and the card is printed.
  const first = spawn(
    process.execPath,
    [BIN, '--home', home, 'start', '--init-if-needed', '--name', 'Zoë 佐伊', '--show-card', ...LISTEN],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  first.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const exited = new Promise<number | null>((resolve) => first.once('exit', resolve))
  await new Promise<void>((resolve, reject) => {
    first.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('Stop it with Ctrl+C')) resolve()
    })
    first.once('exit', (code) => reject(new Error(`start exited ${code}: ${err}`)))
  })
  assert.match(err, /Created a new identity "Zoë 佐伊"/)
  assert.match(out, /jiayi:add\/[A-Z2-7]+/)
  assert.match(out, /[▄▀█]{10}/, 'the QR code is drawn in the terminal')
  assert.equal(await exists(socket), true)

  // One peer per home.
  const second = await jiayi(home, ['start', '--json', ...LISTEN])
  assert.equal(second.code, 1)
  assert.match(second.stderr, /peer \(pid \d+\) is running/)
  assert.equal(JSON.parse(second.stdout).error.code, 'AlreadyRunning')

  // whoami and card ask the running peer.
  const me = await jiayiJson<{ name: string; peerId: string }>(home, ['whoami'])
  assert.equal(me.name, 'Zoë 佐伊')
  const card = await jiayiJson<{ addrs: string[]; live: boolean }>(home, ['card'])
  assert.equal(card.live, true)
  const certhash = certhashOf(card.addrs)
  assert.ok(certhash, 'the card carries a webrtc-direct address with its certhash')

  first.kill('SIGINT')
  assert.equal(await exited, 0)
  assert.match(err, /Stopping \(SIGINT\)…[\s\S]*\nStopped\./, 'a person sees that it stopped')
  assert.equal(await exists(socket), false, 'the socket is removed')
  assert.equal(await exists(lock), false, 'peer.lock is removed')

  // --json: the first line is exactly the ready event. The certificate survived the restart.
  const peer = await PeerProcess.start(home, LISTEN)
  assert.deepEqual(Object.keys(peer.ready).sort(), ['addrs', 'event', 'peerId', 'reach', 'web'])
  assert.equal(peer.ready.event, 'ready')
  // How others reach it: nothing linked yet, and no AutoNAT to say more than "unknown".
  assert.deepEqual((peer.ready as unknown as { reach: unknown }).reach, {
    nat: 'unknown',
    relays: [],
    mapped: [],
    homeNode: null,
  })
  // The web app's URL: loopback, a 256-bit token in the fragment.
  assert.match(
    String((peer.ready as { web?: unknown }).web),
    /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/,
  )
  assert.equal(peer.ready.peerId, me.peerId)
  assert.ok(peer.ready.addrs.length >= 2)
  for (const a of peer.ready.addrs) assert.match(a, /^\/ip4\/127\.0\.0\.1\//)
  assert.equal(certhashOf(peer.ready.addrs), certhash, 'same certhash across restarts')

  // kill -9 leaves the socket and peer.lock behind; neither blocks anything.
  peer.child.kill('SIGKILL')
  await peer.exited
  assert.equal(await exists(socket), true)
  const notRunning = await jiayi(home, ['contacts'])
  assert.equal(notRunning.code, 1)
  assert.ok(notRunning.stderr.includes(`jiayi --home ${home} start`), notRunning.stderr)

  const again = await PeerProcess.start(home, LISTEN)
  assert.equal(again.ready.peerId, me.peerId)
  assert.deepEqual(await jiayiJson(home, ['contacts']), [])
  assert.equal(await again.stop('SIGTERM'), 0)
  assert.deepEqual(again.lines.at(-1), { event: 'stopped' })
  assert.equal(await exists(socket), false)
})

test('start --json | head -c 20: the peer outlives its reader; SIGINT stops it and the store is intact', async () => {
  const bob = await TestPeer.create('Bob')
  const home = await tempHome()
  await jiayiJson(home, ['init', '--name', 'Alice'])
  // A real `head -c 20` reads the start of the ready line and exits: the next line the peer
  // writes (an event) meets a pipe with no reader (EPIPE).
  const head = spawn('head', ['-c', '20'], { stdio: ['pipe', 'pipe', 'ignore'] })
  let headOut = ''
  head.stdout.setEncoding('utf8').on('data', (d: string) => {
    headOut += d
  })
  const headExited = new Promise<number | null>((resolve) => head.once('exit', resolve))
  const alice = spawn(
    process.execPath,
    [BIN, '--home', home, 'start', '--json', ...LOOPBACK, '--no-link-previews'],
    {
      cwd: ROOT,
      stdio: ['ignore', head.stdin, 'pipe'],
    },
  )
  head.stdin.destroy() // our copy of the pipe's write end: the peer holds the only one
  let err = ''
  alice.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const aliceExited = new Promise<number | null>((resolve) => alice.once('exit', resolve))
  try {
    assert.equal(await headExited, 0)
    assert.equal(headOut, '{"event":"ready","pe')
    const me = await eventually(() => jiayiJson<{ peerId: string }>(home, ['whoami']), 20_000, 'whoami')

    // Bob's request is an event line for Alice's stdout: the write fails, the peer carries on.
    const card = await jiayiJson<{ link: string }>(home, ['card'])
    await bob.control.call('addContact', { link: card.link })
    await eventually(
      async () => (await readFile(join(home, 'jiayi.log'), 'utf8')).includes('output closed'),
      15_000,
      'the peer noticing its closed stdout',
    )
    assert.match(
      await readFile(join(home, 'jiayi.log'), 'utf8'),
      /output closed; the peer carries on without it stream=stdout code=EPIPE/,
    )
    assert.equal(alice.exitCode, null, `the peer is still running; stderr: ${err}`)
    assert.equal((await jiayiJson<{ peerId: string }>(home, ['whoami'])).peerId, me.peerId)
    const [request] = await jiayiJson<Array<{ id: string; state: string }>>(home, ['contacts'])
    assert.equal(request?.state, 'pending-in')
    assert.equal((await jiayi(home, ['accept', request.id])).code, 0)
    const bobsId = await eventually(
      async () => (await bob.contact(me.peerId))?.state === 'accepted' && (await bob.contact(me.peerId))?.id,
      15_000,
      'Bob seeing the accept',
    )
    await bob.control.call('send', { contact: bobsId, text: 'still there? 还在吗' })
    const received = () => jiayiJson<Array<{ text: string }>>(home, ['messages', request.id])
    await eventually(async () => (await received()).some((m) => m.text === 'still there? 还在吗'), 15_000)

    // SIGINT: a clean stop, then the store opens again with nothing lost.
    alice.kill('SIGINT')
    assert.equal(await aliceExited, 0, `stderr: ${err}`)
    assert.match(
      await readFile(join(home, 'jiayi.log'), 'utf8'),
      /shutting down signal=SIGINT\n.*\[start\] stopped\n/,
    )
    assert.equal(await exists(join(home, 'peer.lock')), false)
    const again = await PeerProcess.start(home, LOOPBACK)
    try {
      assert.equal(again.ready.peerId, me.peerId)
      assert.equal((again.ready as { store?: unknown }).store, undefined, 'no lost writes found at open')
      assert.deepEqual(
        (await received()).map((m) => m.text),
        ['still there? 还在吗'],
      )
    } finally {
      assert.equal(await again.stop('SIGTERM'), 0)
    }
  } finally {
    alice.kill('SIGKILL')
    await bob.stop()
  }
})
