/**
 * `jiayi start` as a process: the npm-start path (identity created on first run, card printed),
 * one peer per home, the ready line, clean shutdown on SIGINT/SIGTERM, and a restart after
 * kill -9 (the stale lock and socket must not block it). Loopback only, no mDNS.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { BIN, cleanup, jiayi, jiayiJson, PeerProcess, ROOT, tempHome } from './helpers/cli.js'

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
  assert.deepEqual(Object.keys(peer.ready).sort(), ['addrs', 'event', 'peerId', 'web'])
  assert.equal(peer.ready.event, 'ready')
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
