/**
 * `jiayi send-file` and `jiayi files` between two `jiayi start` processes on 127.0.0.1: the file
 * lands in the receiver's home under files/, with a suffix when the name is taken, mode 0644;
 * --json prints {"id","status"}; errors are user errors.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson, LOOPBACK, PeerProcess, tempHome } from './helpers/cli.js'

interface Contact {
  id: string
  state: string
}
interface FileEntry {
  id: string
  contact: string
  name: string
  size: number
  mime: string
  sha256: string
  path: string | null
  status: string
}

let alice: PeerProcess
let bob: PeerProcess
let ha: string
let hb: string

before(async () => {
  ha = await tempHome()
  hb = await tempHome()
  await Promise.all([jiayiJson(ha, ['init', '--name', 'Alice']), jiayiJson(hb, ['init', '--name', 'Bob'])])
  ;[alice, bob] = await Promise.all([PeerProcess.start(ha, LOOPBACK), PeerProcess.start(hb, LOOPBACK)])
  const aliceCard = await jiayiJson<{ link: string }>(ha, ['card'])
  const bobCard = await jiayiJson<{ link: string }>(hb, ['card'])
  await jiayiJson(ha, ['add', bobCard.link])
  await jiayiJson(hb, ['add', aliceCard.link])
  await eventually(
    async () => (await jiayiJson<Contact[]>(ha, ['contacts']))[0]?.state === 'accepted',
    15_000,
  )
  await eventually(
    async () => (await jiayiJson<Contact[]>(hb, ['contacts']))[0]?.state === 'accepted',
    15_000,
  )
})

after(async () => {
  const codes = await Promise.all([alice?.stop('SIGTERM'), bob?.stop('SIGTERM')])
  await cleanup()
  assert.deepEqual(codes, [0, 0], 'both peers shut down cleanly')
})

test('send-file --json prints {id, status}; files lists it at the receiver; same name gets a suffix', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17)
  const path = join(ha, 'Quote 报价.pdf')
  await writeFile(path, data)
  const sent = await jiayiJson<{ id: string; status: string }>(ha, ['send-file', 'bob', path], {
    timeoutMs: 60_000,
  })
  assert.deepEqual(Object.keys(sent), ['id', 'status'])
  assert.equal(sent.status, 'complete')
  assert.match(sent.id, /^[0-9a-f]{32}$/)

  const list = await eventually(async () => {
    const files = await jiayiJson<FileEntry[]>(hb, ['files'])
    return files.find((f) => f.id === sent.id && f.status === 'complete')
  })
  assert.deepEqual(Object.keys(list).sort(), [
    'contact',
    'createdAt',
    'direction',
    'id',
    'mime',
    'name',
    'path',
    'sha256',
    'size',
    'status',
  ])
  assert.equal(list.name, 'Quote 报价.pdf')
  assert.equal(list.mime, 'application/pdf')
  assert.equal(list.size, data.length)
  assert.equal(list.sha256, createHash('sha256').update(data).digest('hex'))
  assert.equal(list.path, join(hb, 'files', 'Quote 报价.pdf'))
  assert.deepEqual(await readFile(list.path!), data)
  assert.equal((await stat(list.path!)).mode & 0o777, 0o644)

  // The same name again: a suffix, never an overwrite.
  const again = await jiayiJson<{ id: string; status: string }>(ha, [
    'send-file',
    'bob',
    path,
    '--name',
    'Quote 报价.pdf',
  ])
  assert.equal(again.status, 'complete')
  const second = await eventually(async () =>
    (await jiayiJson<FileEntry[]>(hb, ['files'])).find((f) => f.id === again.id && f.status === 'complete'),
  )
  assert.equal(second.path, join(hb, 'files', 'Quote 报价 (1).pdf'))

  // For people: one line per file.
  const human = await jiayi(hb, ['files'])
  assert.equal(human.code, 0)
  assert.match(human.stdout, /complete .*Quote 报价\.pdf/)
})

test('send-file errors: a missing file and an unknown contact are user errors (exit 1)', async () => {
  const missing = await jiayi(ha, ['send-file', 'bob', join(ha, 'nope.bin')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /no such file/)
  const path = join(ha, 'x.txt')
  await writeFile(path, 'x')
  const nobody = await jiayi(ha, ['send-file', 'carol', path, '--json'])
  assert.equal(nobody.code, 1)
  assert.equal(JSON.parse(nobody.stdout).error.code, 'UnknownContact')
  const usage = await jiayi(ha, ['send-file', 'bob'])
  assert.equal(usage.code, 1)
})
