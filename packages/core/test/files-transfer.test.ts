/**
 * Files between two real peers (libp2p on 127.0.0.1, LevelDB, files on disk): the sizes the issue
 * lists, names from the other side sanitised, thumbnails and voice messages, limits, cancelling,
 * and a restart of either side resuming where the receiver stopped.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { FileError } from '../src/files/errors.js'
import { HASH_FIRST_MAX_BYTES } from '../src/files/limits.js'
import { memorySource } from '../src/files/memory-storage.js'
import { nodeFileSource } from '../src/files/node-fs.js'
import type { FileSource } from '../src/files/storage.js'
import type { FileMessageData } from '../src/files/transfer.js'
import { befriend, type FilePeer, filePeer, newHome, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

const KiB = 1024
const hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')
const random = (n: number) => new Uint8Array(randomBytes(n))

/** A source that waits before each chunk read once armed (not while a small file is hashed before its offer). */
function slowSource(inner: FileSource, ms: number): FileSource & { arm(): void } {
  let armed = false
  return {
    ...inner,
    name: inner.name,
    size: inner.size,
    arm: () => {
      armed = true
    },
    read: async (offset, length) => {
      if (armed) await new Promise((r) => setTimeout(r, ms))
      return inner.read(offset, length)
    },
    close: () => inner.close(),
  }
}

async function fileOnDisk(home: string, name: string, data: Uint8Array): Promise<string> {
  const path = join(home, name)
  await writeFile(path, data)
  return path
}

async function message(peer: FilePeer, contact: string, id: string): Promise<FileMessageData | undefined> {
  return (await peer.messenger.message(contact, id))?.extension?.data as FileMessageData | undefined
}

describe('file transfer between two peers', () => {
  let a: FilePeer
  let b: FilePeer
  let bAtA: string
  let aAtB: string
  before(async () => {
    a = await filePeer('Alice')
    b = await filePeer('Bob')
    ;({ bAtA, aAtB } = await befriend(a, b))
  })
  after(async () => {
    await a?.stop()
    await b?.stop()
    await removeHomes()
  })

  const sizes: [string, number, number?][] = [
    ['0 bytes', 0],
    ['1 byte', 1],
    ['exactly 1 chunk', 256 * KiB],
    ['many chunks with an odd tail', 9 * 256 * KiB + 12_345],
    ['many small chunks with an odd tail (16 KiB)', 150 * 16 * KiB + 1, 16 * KiB],
  ]
  for (const [what, size, chunkBytes] of sizes) {
    it(`${what}: SHA-256 equal, mode 0644, listed, shown complete on both sides`, async () => {
      const data = random(size)
      const path = await fileOnDisk(a.home, `payload-${size}.bin`, data)
      const sent = await a.files.sendFile(bAtA, await nodeFileSource(path), { chunkBytes })
      // A small file's offer carries its hash; a larger one's comes with its last chunk.
      assert.equal(sent.sha256, size <= HASH_FIRST_MAX_BYTES ? hex(data) : '')
      assert.equal(sent.status, 'sending')
      const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(20_000) })
      assert.equal(got.status, 'complete', JSON.stringify(got))
      const onDisk = new Uint8Array(await readFile(got.path!))
      assert.equal(hex(onDisk), hex(data))
      const mode = (await stat(got.path!)).mode & 0o777
      assert.equal(mode, 0o644)
      assert.ok(got.path!.startsWith(join(b.home, 'files')))
      const entry = b.files.files().find((f) => f.id === sent.id)
      assert.deepEqual(entry, {
        id: sent.id,
        contact: aAtB,
        name: `payload-${size}.bin`,
        size,
        mime: 'application/octet-stream',
        sha256: hex(data),
        path: got.path,
        status: 'complete',
        direction: 'in',
        createdAt: entry?.createdAt,
      })
      assert.match(entry?.createdAt ?? '', /^\d{4}-\d\d-\d\dT/)
      const atA = await a.files.waitFor(sent.id)
      assert.equal(atA.status, 'complete')
      assert.equal(atA.sha256, hex(data))
      await eventually(
        async () => (await message(b, aAtB, sent.id))?.status === 'complete',
        5_000,
        'message at Bob',
      )
      await eventually(
        async () => (await message(a, bAtA, sent.id))?.status === 'complete',
        5_000,
        'message at Alice',
      )
      const shown = await b.messenger.message(aAtB, sent.id)
      assert.equal(shown?.direction, 'in')
      assert.match(shown!.text, new RegExp(`payload-${size}\\.bin`))
    })
  }

  it('a large file is offered before a byte of it is read; its hash comes with the last chunk', async () => {
    const data = random(HASH_FIRST_MAX_BYTES + 1)
    const inner = memorySource(data, 'large.bin')
    let reads = 0
    const counted: FileSource = {
      ...inner,
      read: (...args) => {
        reads++
        return inner.read(...args)
      },
    }
    const sent = await a.files.sendFile(bAtA, counted)
    assert.equal(reads, 0, 'no pass over the file before the offer')
    assert.equal(sent.sha256, '')
    const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(20_000) })
    assert.equal(got.status, 'complete', JSON.stringify(got))
    assert.equal(got.sha256, hex(data))
    assert.equal((await a.files.waitFor(sent.id)).sha256, hex(data))
    assert.equal(reads, 5, 'each chunk read once, nothing read again for the hash')
    await eventually(
      async () => (await message(b, aAtB, sent.id))?.sha256 === hex(data),
      5_000,
      'the message at Bob names the file by its hash',
    )
  })

  it('sanitises names from the other side: no traversal, no absolute path, no NUL, no reserved name', async () => {
    const names: [string, string][] = [
      ['../../x', 'x'],
      ['/etc/passwd', 'passwd'],
      ['C:\\Users\\me\\evil.doc', 'evil.doc'],
      ['bad\u0000name.txt', 'badname.txt'],
      ['CON.txt', '_CON.txt'],
      ['aux', '_aux'],
      ['..', 'file'],
    ]
    for (const [offered, safe] of names) {
      const sent = await a.files.sendFile(bAtA, memorySource(random(10), 'ignored'), { name: offered })
      const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(10_000) })
      assert.equal(got.status, 'complete')
      assert.equal(got.name, safe)
      assert.equal(got.path, join(b.home, 'files', safe))
    }
    // Nothing was written anywhere but the files folder.
    const home = (await readdir(b.home)).sort()
    assert.deepEqual(home, ['files', 'store'])
    assert.ok(!(await readdir(join(b.home, 'files'))).some((n) => n.includes('..') || n.includes('\u0000')))
  })

  it('gives duplicate names a suffix and never overwrites', async () => {
    const first = random(100)
    const second = random(200)
    const t1 = await a.files.sendFile(bAtA, memorySource(first, 'contract.pdf'))
    const p1 = (await b.files.waitFor(t1.id)).path!
    const t2 = await a.files.sendFile(bAtA, memorySource(second, 'contract.pdf'))
    const p2 = (await b.files.waitFor(t2.id)).path!
    assert.equal(p1, join(b.home, 'files', 'contract.pdf'))
    assert.equal(p2, join(b.home, 'files', 'contract (1).pdf'))
    assert.deepEqual(new Uint8Array(await readFile(p1)), first)
    assert.deepEqual(new Uint8Array(await readFile(p2)), second)
  })

  it('images: the thumbnail shows before the transfer ends', async () => {
    const thumbnail = { mime: 'image/jpeg', width: 120, height: 90, data: random(19_000) }
    const source = slowSource(memorySource(random(8 * 16 * KiB), 'photo.jpg'), 100)
    const sent = await a.files.sendFile(bAtA, source, { thumbnail, chunkBytes: 16 * KiB })
    source.arm()
    assert.equal(sent.kind, 'image')
    const early = await eventually(() => message(b, aAtB, sent.id), 5_000, 'offer at Bob')
    assert.equal(early.status, 'incoming')
    assert.equal(early.kind, 'image')
    assert.deepEqual(early.thumbnail, {
      mime: 'image/jpeg',
      width: 120,
      height: 90,
      data: Buffer.from(thumbnail.data).toString('base64').replace(/=+$/, ''),
    })
    assert.match((await b.messenger.message(aAtB, sent.id))!.text, /^🖼 photo\.jpg/)
    assert.equal((await b.files.waitFor(sent.id)).status, 'complete')
  })

  it('voice messages carry duration and waveform', async () => {
    const waveform = Uint8Array.from({ length: 48 }, (_, i) => (i * 37) % 256)
    const sent = await a.files.sendFile(bAtA, memorySource(random(3000), 'voice.opus'), {
      voice: { durationMs: 12_400, waveform },
    })
    assert.equal(sent.kind, 'voice')
    assert.equal(sent.mime, 'audio/opus')
    const got = await b.files.waitFor(sent.id)
    assert.equal(got.kind, 'voice')
    assert.deepEqual(got.voice, { durationMs: 12_400, waveform: [...waveform] })
    const shown = await b.messenger.message(aAtB, sent.id)
    assert.equal(shown?.text, '🎤 Voice message (0:12)')
    await assert.rejects(
      a.files.sendFile(bAtA, memorySource(random(10), 'x.bin'), { voice: { durationMs: 0, waveform } }),
      (e: unknown) => FileError.is(e, 'BadOffer'),
    )
  })

  it('cancel by the receiver: failed "cancelled", no partial data, and the sender hears it', async () => {
    const source = slowSource(memorySource(random(40 * 16 * KiB), 'big.bin'), 50)
    const sent = await a.files.sendFile(bAtA, source, { chunkBytes: 16 * KiB })
    source.arm()
    await eventually(() => (b.files.transfer(sent.id)?.bytes ?? 0) > 0, 10_000, 'some bytes')
    const cancelled = await b.files.cancel(sent.id)
    assert.equal(cancelled.status, 'failed')
    assert.equal(cancelled.reason, 'cancelled')
    assert.deepEqual(await readdir(join(b.home, 'files', '.partial')), [])
    assert.equal(b.files.files().find((f) => f.id === sent.id)?.path, null)
    // Told at once over a stream of its own: the sender stops too, with no retry or reconnect.
    const atSender = await a.files.waitFor(sent.id, { signal: AbortSignal.timeout(10_000) })
    assert.equal(atSender.status, 'failed')
    assert.equal(atSender.reason, 'cancelled')
  })

  it('cancel by the sender: the receiver is told and fails with "cancelled"', async () => {
    const source = slowSource(memorySource(random(40 * 16 * KiB), 'big2.bin'), 50)
    const sent = await a.files.sendFile(bAtA, source, { chunkBytes: 16 * KiB })
    source.arm()
    await eventually(() => (b.files.transfer(sent.id)?.bytes ?? 0) > 0, 10_000, 'some bytes')
    await a.files.cancel(sent.id)
    const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(15_000) })
    assert.equal(got.status, 'failed')
    assert.equal(got.reason, 'cancelled')
  })

  it('refuses to send a file over the limit before reading it', async () => {
    const huge: FileSource = {
      name: 'huge.iso',
      size: 4 * 1024 ** 3 + 1,
      read: async () => assert.fail('must not be read'),
      close: async () => {},
    }
    await assert.rejects(a.files.sendFile(bAtA, huge), (e: unknown) => FileError.is(e, 'BadInput'))
  })
})

describe('forwarding a file this peer holds', () => {
  it('a received picture goes on to a third contact: same bytes, name and thumbnail', async () => {
    const [a, b, c] = await Promise.all([filePeer('Alice'), filePeer('Bob'), filePeer('Chloé')])
    try {
      const { bAtA } = await befriend(a, b)
      const { bAtA: cAtB, aAtB: bAtC } = await befriend(b, c)
      const data = random(3 * 16 * KiB + 5)
      const thumbnail = { mime: 'image/webp', width: 64, height: 48, data: random(2_000) }
      const path = await fileOnDisk(await newHome(), '合同.png', data)
      const sent = await a.files.sendFile(bAtA, await nodeFileSource(path), {
        thumbnail,
        chunkBytes: 16 * KiB,
      })
      assert.equal((await b.files.waitFor(sent.id)).status, 'complete')

      const forwarded = await b.files.forward(sent.id, cAtB)
      assert.notEqual(forwarded.id, sent.id)
      assert.equal(forwarded.direction, 'out')
      assert.equal(forwarded.sha256, hex(data))
      const got = await c.files.waitFor(forwarded.id, { signal: AbortSignal.timeout(20_000) })
      assert.equal(got.status, 'complete')
      assert.equal(got.contactId, bAtC)
      assert.equal(got.name, '合同.png')
      assert.equal(got.kind, 'image')
      assert.equal(got.thumbnail?.width, 64)
      assert.equal(hex(new Uint8Array(await readFile(got.path!))), hex(data))

      // The sender forwards from its own source, as long as the file is unchanged.
      const again = await a.files.forward(sent.id, bAtA)
      assert.equal(
        (await b.files.waitFor(again.id, { signal: AbortSignal.timeout(20_000) })).status,
        'complete',
      )
      await writeFile(path, random(100))
      const handlesBefore = await openHandles(path)
      await assert.rejects(a.files.forward(sent.id, bAtA), (e: unknown) => FileError.is(e, 'SourceChanged'))
      assert.equal(await openHandles(path), handlesBefore, 'a refused forward keeps no file handle')
      await assert.rejects(a.files.forward('f'.repeat(32), bAtA), (e: unknown) => FileError.is(e, 'BadInput'))
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()])
    }
  })
})

/** How many of this process's file descriptors point at `path` (Linux: /proc/self/fd). */
async function openHandles(path: string): Promise<number> {
  let n = 0
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === path) n++
  }
  return n
}

describe('size limit at the receiver', () => {
  after(removeHomes)
  it('an offer over the limit shows as failed "too-large", nothing is fetched, the sender hears "refused"', async () => {
    const a = await filePeer('Alice')
    const b = await filePeer('Bob', { maxFileBytes: 64 * KiB })
    try {
      const { bAtA } = await befriend(a, b)
      const sent = await a.files.sendFile(bAtA, memorySource(random(64 * KiB + 1), 'big.iso'))
      const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(30_000) })
      assert.equal(got.status, 'failed')
      assert.equal(got.reason, 'too-large')
      assert.equal(got.bytes, 0)
      assert.equal(b.files.stats().chunksReceived, 0)
      const atA = await a.files.waitFor(sent.id, { signal: AbortSignal.timeout(30_000) })
      assert.equal(atA.status, 'failed')
      assert.equal(atA.reason, 'refused')
      assert.equal(a.files.stats().chunksSent, 0)
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})

describe('restarts', () => {
  after(removeHomes)

  it('receiver restarts mid-transfer: resumes from its last stored chunk and completes', async () => {
    const a = await filePeer('Alice', { windowChunks: 2 })
    let b = await filePeer('Bob')
    try {
      const { bAtA } = await befriend(a, b)
      // Over HASH_FIRST_MAX_BYTES: the hash goes on with the transfer, across the restart.
      const data = random(70 * 16 * KiB + 7)
      const source = slowSource(memorySource(data, 'resume.bin'), 20)
      const sent = await a.files.sendFile(bAtA, source, { chunkBytes: 16 * KiB })
      source.arm()
      await eventually(() => (b.files.transfer(sent.id)?.bytes ?? 0) >= 20 * 16 * KiB, 20_000, '20 chunks')
      const storedBefore = Math.floor(b.files.transfer(sent.id)!.bytes / (16 * KiB))
      const sentBefore = a.files.stats().chunksSent
      await b.stop()
      b = await filePeer('Bob', { home: b.home, key: b.key })
      const resumed = await new Promise<number>((resolve) => {
        const off = b.files.events.on('resume', (e) => {
          if (e.id === sent.id) {
            off()
            resolve(e.fromChunk)
          }
        })
      })
      assert.ok(resumed >= storedBefore, `resumed at ${resumed}, had stored ${storedBefore}`)
      const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(30_000) })
      assert.equal(got.status, 'complete')
      assert.equal(hex(new Uint8Array(await readFile(got.path!))), hex(data))
      // Everything was sent once, plus at most what was in flight when Bob went away.
      const total = 71
      assert.ok(a.files.stats().chunksSent - total <= 2, `sent ${a.files.stats().chunksSent} for ${total}`)
      assert.ok(sentBefore >= storedBefore)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('sender restarts mid-transfer: it reopens the file by path and the transfer completes', async () => {
    let a = await filePeer('Alice')
    const b = await filePeer('Bob')
    try {
      const { bAtA } = await befriend(a, b)
      // Over HASH_FIRST_MAX_BYTES: the restarted sender hashes what it sent before from the file.
      const data = random(70 * 16 * KiB + 3)
      const path = await fileOnDisk(await newHome(), 'report.pdf', data)
      const source = slowSource(await nodeFileSource(path), 25)
      const sent = await a.files.sendFile(bAtA, source, { chunkBytes: 16 * KiB })
      source.arm()
      await eventually(() => (b.files.transfer(sent.id)?.bytes ?? 0) >= 10 * 16 * KiB, 20_000, '10 chunks')
      await a.stop()
      a = await filePeer('Alice', { home: a.home, key: a.key })
      const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(30_000) })
      assert.equal(got.status, 'complete', JSON.stringify(got))
      assert.equal(got.sha256, hex(data))
      assert.equal(hex(new Uint8Array(await readFile(got.path!))), hex(data))
      const atA = await a.files.waitFor(sent.id, { signal: AbortSignal.timeout(10_000) })
      assert.equal(atA.status, 'complete')
      assert.equal(atA.sha256, hex(data))
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('a file offered while the receiver is offline arrives when it comes back', async () => {
    const a = await filePeer('Alice')
    let b = await filePeer('Bob')
    try {
      const { bAtA } = await befriend(a, b)
      await a.messenger.settled()
      await b.messenger.settled()
      await b.stop()
      const data = random(5 * 256 * KiB + 1)
      const sent = await a.files.sendFile(bAtA, memorySource(data, 'later.bin'))
      b = await filePeer('Bob', { home: b.home, key: b.key })
      const got = await b.files.waitFor(sent.id, { signal: AbortSignal.timeout(30_000) })
      assert.equal(got.status, 'complete')
      assert.equal(hex(new Uint8Array(await readFile(got.path!))), hex(data))
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})
