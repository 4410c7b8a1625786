import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BackupError, decodeBackup, encodeBackup } from '../src/backup/backup.js'
import { concatBytes, randomBytes, utf8 } from '../src/bytes.js'

const FAST = { params: { m: 64, t: 1, p: 1 } }

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

function sampleEntries(): [Uint8Array, Uint8Array][] {
  const entries: [Uint8Array, Uint8Array][] = []
  for (let i = 0; i < 300; i++) entries.push([utf8(`k${String(i).padStart(4, '0')}`), randomBytes(i * 13)])
  // Larger than a frame on its own, and an empty value.
  entries.push([utf8('big'), new Uint8Array(1_300_000).fill(7)], [utf8('empty'), new Uint8Array(0)])
  return entries
}

/** Cuts bytes into pieces of awkward sizes, as a Blob stream might. */
function* cut(bytes: Uint8Array, sizes = [1, 7, 4096, 65_537]): Generator<Uint8Array> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!
    yield bytes.subarray(at, at + n)
    at += n
  }
}

test('backup: round trip over arbitrary chunking, several frames, in order', async () => {
  const entries = sampleEntries()
  const pieces = await collect(encodeBackup(entries, '备份 passphrase', FAST))
  assert.ok(pieces.length >= 3, 'header and more than one frame')
  const file = concatBytes(...pieces)
  for (const e of entries) {
    if (e[1].length >= 16) assert.ok(!Buffer.from(file).includes(Buffer.from(e[1])), 'no value in the clear')
  }
  const back = await collect(decodeBackup(cut(file), '备份 passphrase'))
  assert.deepEqual(back, entries)
  // NFC: the same passphrase typed decomposed opens it too.
  const nfc = await collect(encodeBackup([[utf8('a'), utf8('b')]], 'caf\u00e9', FAST))
  assert.equal((await collect(decodeBackup(nfc, 'cafe\u0301'))).length, 1)
})

test('backup: wrong passphrase, not a backup, tampering and truncation are typed errors', async () => {
  const file = concatBytes(...(await collect(encodeBackup(sampleEntries(), 'pw', FAST))))
  const code = (c: string) => (e: unknown) => BackupError.is(e, c as 'BadFormat')
  await assert.rejects(collect(decodeBackup([file], 'pW')), code('BadPassphrase'))
  await assert.rejects(collect(decodeBackup([file], '')), code('BadPassphrase'))
  await assert.rejects(
    collect(decodeBackup([utf8('hello, world, not a backup at all')], 'pw')),
    code('BadFormat'),
  )
  await assert.rejects(collect(decodeBackup([], 'pw')), code('BadFormat'))
  const version = file.slice()
  version[12] = 2
  await assert.rejects(collect(decodeBackup([version], 'pw')), code('BadFormat'))
  const greedy = file.slice()
  new DataView(greedy.buffer).setUint32(13, 4 * 1024 * 1024, false)
  await assert.rejects(collect(decodeBackup([greedy], 'pw')), code('BadFormat'))
  // A flipped bit anywhere after the header check breaks a frame: BadFormat, never wrong data.
  for (const at of [100, 5_000, file.length - 20, file.length - 1]) {
    const bad = file.slice()
    bad[at]! ^= 0x40
    await assert.rejects(collect(decodeBackup([bad], 'pw')), code('BadFormat'), `byte ${at}`)
  }
  // Cut at a frame boundary or mid-frame: refused, not a silently shorter history.
  for (const n of [file.length - 1, Math.floor(file.length / 2), 200]) {
    await assert.rejects(collect(decodeBackup([file.subarray(0, n)], 'pw')), code('BadFormat'), `first ${n}`)
  }
  await assert.rejects(collect(decodeBackup([file, Uint8Array.of(0)], 'pw')), code('BadFormat'))
  // Frames from another backup with the same passphrase do not fit (the header is in the AD).
  const other = concatBytes(...(await collect(encodeBackup(sampleEntries(), 'pw', FAST))))
  const mixed = concatBytes(file.subarray(0, 81), other.subarray(81))
  await assert.rejects(collect(decodeBackup([mixed], 'pw')), code('BadFormat'))
})
