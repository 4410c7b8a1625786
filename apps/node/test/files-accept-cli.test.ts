/**
 * `jiayi accept-file ID` between two `jiayi start` processes on 127.0.0.1: Bob asks to be asked
 * about files above 1 MB (the API's setFileSettings, what the web app's settings screen calls);
 * Alice offers 2 MB; `jiayi files` says it waits for Bob and how to take it; `jiayi accept-file`
 * starts it and the file arrives whole. An unknown id is a user error with guidance.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

interface FileEntry {
  id: string
  status: string
  path: string | null
  sha256: string
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
  assert.ok(waiting.includes(`jiayi accept-file ${sent.id}`), waiting)
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
