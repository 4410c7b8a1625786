/**
 * Files between two peer processes (files-child.ts): 200 MiB end to end, and kill -9 of the
 * receiver, of the sender, and of both, mid-transfer: each restart resumes from the last chunk the
 * receiver stored (at most 2 chunks fetched again) and the file completes with the right SHA-256.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type ChildEvent, ChildPeer, type ChildPeerInit } from './helpers/files-process.js'

const MiB = 1024 * 1024
const CHUNK = 256 * 1024
const dirs: string[] = []
const peers = new Set<ChildPeer>()

after(async () => {
  await Promise.all([...peers].map((p) => p.kill9()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-files-proc-'))
  dirs.push(dir)
  return dir
}

/** A file of `mib` MiB of random bytes; returns its path and SHA-256. */
async function randomFile(
  dir: string,
  name: string,
  bytes: number,
): Promise<{ path: string; sha256: string }> {
  const path = join(dir, name)
  const fh = await open(path, 'w')
  const hash = createHash('sha256')
  for (let done = 0; done < bytes; ) {
    const block = randomBytes(Math.min(4 * MiB, bytes - done))
    hash.update(block)
    await fh.write(block)
    done += block.length
  }
  await fh.close()
  return { path, sha256: hash.digest('hex') }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk)
  return hash.digest('hex')
}

function start(init: ChildPeerInit): ChildPeer {
  const peer = ChildPeer.spawn(init)
  peers.add(peer)
  return peer
}

async function befriend(a: ChildPeer, b: ChildPeer): Promise<{ bAtA: string; aAtB: string }> {
  const [ra, rb] = await Promise.all([a.ready, b.ready])
  const bAtA = String((await a.request({ cmd: 'add', link: rb.link }, 'added')).id)
  const aAtB = String((await b.request({ cmd: 'add', link: ra.link }, 'added')).id)
  await a.request({ cmd: 'wait-accepted', contact: bAtA }, 'accepted')
  await b.request({ cmd: 'wait-accepted', contact: aAtB }, 'accepted')
  return { bAtA, aAtB }
}

const portOf = (ready: ChildEvent) => Number(String(ready.addr).split('/')[4])
const complete = (id: string) => (e: ChildEvent) =>
  e.event === 'transfer' && e.id === id && e.status === 'complete'

/** Chunks the receiver has stored, as it last reported. */
function storedChunks(peer: ChildPeer, id: string): number {
  const last = peer.events.filter((e) => e.event === 'progress' && e.id === id).at(-1)
  return last === undefined ? 0 : Math.floor(Number(last.bytes) / CHUNK)
}

describe('files between two processes', () => {
  it('200 MiB: SHA-256 equal, mode 0644, listed at the receiver', async () => {
    const dir = await tempDir()
    const file = await randomFile(dir, 'archive 2024.tar', 200 * MiB)
    const key = () => randomBytes(32).toString('hex')
    const a = start({ home: join(dir, 'a'), key: key(), name: 'Alice', quiet: true })
    const b = start({ home: join(dir, 'b'), key: key(), name: 'Bob', quiet: true })
    try {
      const { bAtA, aAtB } = await befriend(a, b)
      const t0 = performance.now()
      const offered = await a.request({ cmd: 'send', contact: bAtA, path: file.path }, 'offered', 60_000)
      assert.equal(offered.sha256, '', 'offered before any pass over the file; the hash follows')
      const id = String(offered.id)
      await b.waitFor(complete(id), 120_000)
      const seconds = (performance.now() - t0) / 1000
      await a.waitFor(complete(id), 30_000)
      const list = (await b.request({ cmd: 'files' }, 'files')).files as Record<string, unknown>[]
      const entry = list.find((f) => f.id === id)!
      assert.deepEqual(Object.keys(entry).sort(), [
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
      assert.equal(entry.contact, aAtB)
      assert.equal(entry.name, 'archive 2024.tar')
      assert.equal(entry.mime, 'application/x-tar')
      assert.equal(entry.size, 200 * MiB)
      assert.equal(entry.status, 'complete')
      assert.equal(entry.sha256, file.sha256)
      assert.equal(entry.path, join(dir, 'b', 'files', 'archive 2024.tar'))
      assert.equal(await sha256Of(String(entry.path)), file.sha256)
      assert.equal((await stat(String(entry.path))).mode & 0o777, 0o644)
      console.log(
        `# 200 MiB in ${seconds.toFixed(1)} s (${((200 * MiB) / 1e6 / seconds).toFixed(0)} MB/s, hashed on the way)`,
      )
    } finally {
      await Promise.all([a.exit(), b.exit()])
    }
  })

  it('kill -9 the receiver, then the sender, then both, mid-transfer: each restart resumes (≤ 2 chunks again) and completes', async () => {
    const dir = await tempDir()
    const size = 48 * MiB + 12_345
    const chunks = Math.ceil(size / CHUNK)
    const file = await randomFile(dir, 'contract.pdf', size)
    const aInit = {
      home: join(dir, 'a'),
      key: randomBytes(32).toString('hex'),
      name: 'Alice',
      throttleMs: 15,
    }
    const bInit = { home: join(dir, 'b'), key: randomBytes(32).toString('hex'), name: 'Bob' }
    let a = start(aInit)
    let b = start(bInit)
    const aPort = portOf(await a.ready)
    const bPort = portOf(await b.ready)
    const sentBy: ChildPeer[] = []
    const resumes: { who: string; storedBefore: number; from: number }[] = []

    /** Waits until the receiver reported `fraction` of the chunks stored. */
    const until = (peer: ChildPeer, id: string, fraction: number) =>
      peer.waitFor((e) => e.event === 'progress' && e.id === id && Number(e.bytes) >= fraction * size, 60_000)
    /** After a restart, the receiver's next attempt must start where it stopped. */
    const resumed = async (peer: ChildPeer, id: string, who: string, storedBefore: number, from = 0) => {
      const e = await peer.waitFor(
        (x) => x.event === 'resume' && x.id === id && x.direction === 'in',
        60_000,
        from,
      )
      resumes.push({ who, storedBefore, from: Number(e.fromChunk) })
    }

    try {
      const { bAtA } = await befriend(a, b)
      sentBy.push(a)
      const id = String(
        (await a.request({ cmd: 'send', contact: bAtA, path: file.path }, 'offered', 60_000)).id,
      )

      // 1. The receiver dies at ~25%.
      await until(b, id, 0.25)
      await b.kill9()
      const storedAtKill1 = storedChunks(b, id)
      b = start({ ...bInit, port: bPort })
      await resumed(b, id, 'receiver killed', storedAtKill1)

      // 2. The sender dies at ~50%; the receiver lives on.
      await until(b, id, 0.5)
      await a.kill9()
      const storedAtKill2 = storedChunks(b, id)
      const fromHere = b.events.length
      a = start({ ...aInit, port: aPort })
      sentBy.push(a)
      await resumed(b, id, 'sender killed', storedAtKill2, fromHere)

      // 3. Both die at ~75%: the receiver first, then the sender.
      await until(b, id, 0.75)
      await b.kill9()
      await a.kill9()
      const storedAtKill3 = storedChunks(b, id)
      a = start({ ...aInit, port: aPort })
      b = start({ ...bInit, port: bPort })
      sentBy.push(a)
      await resumed(b, id, 'both killed', storedAtKill3)

      await b.waitFor(complete(id), 120_000)
      await a.waitFor(complete(id), 30_000)
      const entry = ((await b.request({ cmd: 'files' }, 'files')).files as Record<string, unknown>[]).find(
        (f) => f.id === id,
      )!
      assert.equal(entry.status, 'complete')
      assert.equal(await sha256Of(String(entry.path)), file.sha256)
      assert.equal((await stat(String(entry.path))).mode & 0o111, 0, 'not executable')

      for (const r of resumes) {
        assert.ok(r.from > 0, `${r.who}: resumed at chunk ${r.from}, not from the start`)
        assert.ok(
          r.storedBefore - r.from <= 2,
          `${r.who}: had ${r.storedBefore} chunks, resumed at ${r.from}`,
        )
      }
      const sent = sentBy.flatMap((p) => p.events.filter((e) => e.event === 'sent' && e.id === id)).length
      console.log(
        `# resumes ${JSON.stringify(resumes)}; chunks sent ${sent} for ${chunks} (${sent - chunks} again over 3 interruptions)`,
      )
      assert.ok(sent - chunks <= 3 * 8, 'no more than the window in flight was lost per interruption')
    } finally {
      await Promise.all([a.exit(), b.exit()])
    }
  })
})
