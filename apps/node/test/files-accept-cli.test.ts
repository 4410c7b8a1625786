/**
 * `jiayi accept-file ID` between two `jiayi start` processes on 127.0.0.1: Bob asks to be asked
 * about files above 1 MB (the API's setFileSettings, what the web app's settings screen calls);
 * Alice offers 2 MB; `jiayi files` says it waits for Bob and how to take it; `jiayi accept-file`
 * starts it and the file arrives whole. An unknown id is a user error with guidance. A file Alice
 * sends is in her `jiayi files` too; Ctrl+C on `send-file` says the transfer goes on and how to
 * stop it, and `jiayi cancel-file` stops it at both ends.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { BIN, cleanup, eventually, jiayi, jiayiJson, ROOT } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

interface FileEntry {
  id: string
  status: string
  path: string | null
  sha256: string
  direction: 'in' | 'out'
}

let alice: TestPeer
let bob: TestPeer
let bobAtAlice: string

before(async () => {
  ;[alice, bob] = await Promise.all([TestPeer.create('Alice'), TestPeer.create('Bob')])
  ;({ bAtA: bobAtAlice } = await befriend(alice, bob))
})

after(async () => {
  await Promise.all([alice?.stop(), bob?.stop()])
  await cleanup()
})

test('a file above the size Bob set waits for `jiayi accept-file`, then arrives', async () => {
  const settings = await bob.control.call<{ askAboveBytes: number }>('setFileSettings', {
    askAboveBytes: 1_000_000,
  })
  assert.deepEqual(settings, { askAboveBytes: 1_000_000 })
  assert.deepEqual(await bob.control.call('fileSettings'), { askAboveBytes: 1_000_000 })

  const data = randomBytes(2_000_000)
  const path = join(alice.home, 'catalogue.pdf')
  await writeFile(path, data)
  const sent = await alice.control.call<{ id: string }>('sendFile', { contact: bobAtAlice, source: path })

  const waiting = await eventually(async () => {
    const r = await jiayi(bob.home, ['files'])
    return r.stdout.includes(sent.id) ? r.stdout : undefined
  }, 15_000)
  assert.match(waiting, /waits for you: larger than your limit/)
  assert.ok(waiting.includes(`jiayi --home ${bob.home} accept-file ${sent.id}`), waiting)
  const entry = (await jiayiJson<FileEntry[]>(bob.home, ['files'])).find((f) => f.id === sent.id)
  assert.equal(entry?.status, 'incoming')
  assert.equal(entry?.path, null)

  const accepted = await jiayi(bob.home, ['accept-file', sent.id])
  assert.equal(accepted.code, 0, accepted.stderr)
  assert.match(accepted.stdout, /^Downloading catalogue\.pdf \(2\.0 MB\)/)

  const done = await eventually(async () => {
    const f = (await jiayiJson<FileEntry[]>(bob.home, ['files'])).find((x) => x.id === sent.id)
    return f?.status === 'complete' ? f : undefined
  }, 30_000)
  assert.equal(done.sha256, createHash('sha256').update(data).digest('hex'))
  assert.deepEqual(await readFile(done.path!), data)

  const again = await jiayi(bob.home, ['accept-file', sent.id])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /not waiting to be accepted/)
  const unknown = await jiayi(bob.home, ['accept-file', 'f'.repeat(32)])
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /no incoming file with that id/)
})

test('sent files are listed; Ctrl+C on send-file says it goes on; cancel-file stops it at both ends', async () => {
  // Bob asks above 1 MB (the test before), so a 3 MB file stays "sending" at Alice until he says.
  const path = join(alice.home, 'brochure.pdf')
  await writeFile(path, randomBytes(3_000_000))
  const child = spawn(process.execPath, [BIN, '--home', alice.home, 'send-file', 'Bob', path], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const out = await eventually(async () => {
    const list = await jiayiJson<FileEntry[]>(alice.home, ['files'])
    return list.find((f) => f.direction === 'out' && f.status === 'sending')
  }, 15_000)
  child.kill('SIGINT')
  assert.equal(await exited, 130)
  assert.match(err, /Stopped watching\. The peer goes on sending brochure\.pdf/)
  assert.ok(err.includes(`jiayi --home ${alice.home} cancel-file ${out.id}`), err)

  const listed = await jiayi(alice.home, ['files'])
  assert.match(
    listed.stdout,
    /^\[\d{4}-\d\d-\d\d \d\d:\d\d\] sending .* brochure\.pdf {2}to Bob {2}\(sending; jiayi --home \S+ cancel-file [0-9a-f]{32} stops it\)/m,
    'one date format, and the contact by name',
  )
  assert.match(listed.stdout, /complete .* catalogue\.pdf {2}to /, 'the file sent before is listed too')
  await eventually(async () => {
    const atBob = await jiayiJson<FileEntry[]>(bob.home, ['files'])
    return atBob.find((f) => f.id === out.id && f.direction === 'in')
  }, 15_000)

  const cancelled = await jiayiJson<{ id: string; status: string; reason: string }>(alice.home, [
    'cancel-file',
    out.id,
  ])
  assert.equal(cancelled.id, out.id)
  assert.equal(cancelled.status, 'failed')
  assert.equal(cancelled.reason, 'cancelled')
  // Bob's copy waited for him: Alice's peer tells his at once, so it fails there too and there
  // is nothing left to accept.
  await eventually(async () => {
    const atBob = await jiayiJson<FileEntry[]>(bob.home, ['files'])
    return atBob.find((f) => f.id === out.id)?.status === 'failed'
  }, 15_000)
  const late = await jiayi(bob.home, ['accept-file', out.id])
  assert.equal(late.code, 1)
  assert.match(late.stderr, /not waiting to be accepted/)
  const unknown = await jiayi(alice.home, ['cancel-file', 'f'.repeat(32)])
  assert.equal(unknown.code, 1)
})
