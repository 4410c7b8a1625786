/**
 * Pure codecs of the file layer: the offer (every rule, canonical form), the transfer frames,
 * untrusted names and MIME types, and the transfer state machine.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomBytes } from '../src/bytes.js'
import { FileError } from '../src/files/errors.js'
import { FileFrame, FileOffer as WireOffer } from '../src/files/file-wire.pb.js'
import {
  decodeFrame,
  encodeChunkFrame,
  encodeFrame,
  type Frame,
  REJECT_REASONS,
} from '../src/files/frames.js'
import { chunkCount, chunkLength, MAX_OFFER_BYTES, MAX_THUMBNAIL_BYTES } from '../src/files/limits.js'
import { guessMime, isValidMime, numberedName, sanitizeFileName } from '../src/files/names.js'
import { decodeOffer, encodeOffer, type FileOffer } from '../src/files/offer.js'
import {
  applyTransferEvent,
  fileEntry,
  formatBytes,
  messageData,
  messageText,
  newTransferRecord,
} from '../src/files/transfer.js'
import type { ContactId, MessageId } from '../src/messenger/ids.js'

const base: FileOffer = {
  kind: 'file',
  name: 'quote 报价.pdf',
  mime: 'application/pdf',
  size: 1_234_567,
  sha256: randomBytes(32),
  key: randomBytes(32),
  chunkSize: 256 * 1024,
}

function badOffer(change: Partial<FileOffer>, what: RegExp): void {
  assert.throws(
    () => encodeOffer({ ...base, ...change }),
    (e: unknown) => FileError.is(e, 'BadOffer') && what.test((e as Error).message),
  )
}

describe('file offer codec', () => {
  it('round-trips plain files, images with a thumbnail and voice messages', () => {
    const image: FileOffer = {
      ...base,
      kind: 'image',
      name: 'photo.jpg',
      mime: 'image/jpeg',
      thumbnail: { mime: 'image/webp', width: 160, height: 120, data: randomBytes(MAX_THUMBNAIL_BYTES) },
    }
    const voice: FileOffer = {
      ...base,
      kind: 'voice',
      name: 'voice.opus',
      mime: 'audio/opus',
      voice: { durationMs: 7_300, waveform: Uint8Array.from({ length: 64 }, (_, i) => (i * 4) % 256) },
    }
    // A large file's offer without its hash (it comes with the last chunk).
    const streamed: FileOffer = { ...base, sha256: new Uint8Array(0) }
    for (const offer of [base, { ...base, size: 0 }, image, voice, streamed]) {
      const back = decodeOffer(encodeOffer(offer))
      assert.equal(back.kind, offer.kind)
      assert.equal(back.name, offer.name)
      assert.equal(back.mime, offer.mime)
      assert.equal(back.size, offer.size)
      assert.deepEqual(back.sha256, offer.sha256)
      assert.deepEqual(back.key, offer.key)
      assert.equal(back.chunkSize, offer.chunkSize)
      assert.deepEqual(back.thumbnail, offer.thumbnail)
      assert.deepEqual(back.voice, offer.voice)
    }
    assert.ok(encodeOffer(image).length <= MAX_OFFER_BYTES)
  })

  it('refuses every broken rule when encoding, naming the field', () => {
    badOffer({ name: '' }, /name/)
    badOffer({ name: 'x'.repeat(256) }, /name/)
    badOffer({ mime: 'pdf' }, /MIME/)
    badOffer({ mime: 'Application/PDF' }, /MIME/)
    badOffer({ mime: 'text/plain; charset=utf-8' }, /MIME/)
    badOffer({ size: -1 }, /size/)
    badOffer({ size: 1.5 }, /size/)
    badOffer({ size: 2 ** 53 }, /size/)
    badOffer({ sha256: randomBytes(31) }, /SHA-256/)
    // A 0-byte file has no last chunk to bring the hash.
    badOffer({ size: 0, sha256: new Uint8Array(0) }, /SHA-256/)
    badOffer({ key: randomBytes(16) }, /key/)
    badOffer({ chunkSize: 100_000 }, /chunk size/)
    badOffer({ chunkSize: 8 * 1024 }, /chunk size/)
    badOffer({ chunkSize: 512 * 1024 }, /chunk size/)
    const thumb = { mime: 'image/png', width: 10, height: 10, data: randomBytes(100) }
    badOffer({ thumbnail: thumb }, /only images/)
    badOffer(
      { kind: 'image', mime: 'image/png', thumbnail: { ...thumb, data: randomBytes(20_001) } },
      /thumbnail/,
    )
    badOffer(
      { kind: 'image', mime: 'image/png', thumbnail: { ...thumb, mime: 'image/svg+xml' } },
      /thumbnail/,
    )
    badOffer({ kind: 'image', mime: 'image/png', thumbnail: { ...thumb, width: 0 } }, /thumbnail/)
    badOffer({ kind: 'image', mime: 'application/pdf' }, /image/)
    badOffer({ kind: 'voice', mime: 'audio/ogg' }, /duration/)
    badOffer(
      { kind: 'voice', mime: 'video/mp4', voice: { durationMs: 1, waveform: new Uint8Array() } },
      /audio/,
    )
    badOffer({ voice: { durationMs: 1000, waveform: new Uint8Array() } }, /only voice/)
    badOffer(
      { kind: 'voice', mime: 'audio/ogg', voice: { durationMs: 0, waveform: new Uint8Array() } },
      /duration/,
    )
    badOffer(
      { kind: 'voice', mime: 'audio/ogg', voice: { durationMs: 1, waveform: new Uint8Array(257) } },
      /waveform/,
    )
    badOffer({ kind: 'video' as never }, /kind/)
  })

  it('decodes strictly: garbage, unknown versions and ciphers, non-canonical bytes, oversize', () => {
    const good = encodeOffer(base)
    const wire = WireOffer.decode(good)
    const reject = (bytes: Uint8Array, what: RegExp) =>
      assert.throws(
        () => decodeOffer(bytes),
        (e: unknown) => FileError.is(e, 'BadOffer') && what.test((e as Error).message),
      )
    reject(Uint8Array.of(0xff, 0xff, 0xff), /parse/)
    reject(WireOffer.encode({ ...wire, version: 1 }), /version/)
    reject(WireOffer.encode({ ...wire, version: 3 }), /version/)
    reject(WireOffer.encode({ ...wire, cipher: 2 }), /cipher/)
    reject(WireOffer.encode({ ...wire, kind: 3 }), /kind/)
    reject(WireOffer.encode({ ...wire, size: 2n ** 60n }), /size/)
    // An unknown field (tag 15, varint) appended: not the canonical encoding.
    reject(Uint8Array.of(...good, 0x78, 0x01), /canonical/)
    // A repeated scalar (the version again): decodes, but is not canonical.
    reject(Uint8Array.of(...good, 0x08, 0x02), /canonical/)
    reject(new Uint8Array(MAX_OFFER_BYTES + 1), /too large/)
  })
})

describe('file frames', () => {
  const id = randomBytes(16)
  const frames: Frame[] = [
    { type: 'have', fileId: id },
    { type: 'want', fileId: id, nextChunk: 0 },
    { type: 'want', fileId: id, nextChunk: 4095 },
    { type: 'chunk', index: 7, nonce: randomBytes(12), sealed: randomBytes(16 + 1000) },
    { type: 'chunk', index: 8, nonce: randomBytes(12), sealed: randomBytes(16), sha256: randomBytes(32) },
    { type: 'ack', nextChunk: 0 },
    { type: 'ack', nextChunk: 12 },
    { type: 'done', sha256: randomBytes(32) },
    ...Object.keys(REJECT_REASONS).map((reason) => ({ type: 'reject', reason }) as Frame),
    { type: 'reject', reason: 'cancelled', fileId: id },
  ]

  it('round-trips every frame type', () => {
    for (const f of frames) assert.deepEqual(decodeFrame(encodeFrame(f)), f)
  })

  it('refuses malformed frames with BadFrame', () => {
    const bad = (bytes: Uint8Array) =>
      assert.throws(
        () => decodeFrame(bytes),
        (e: unknown) => FileError.is(e, 'BadFrame'),
      )
    bad(new Uint8Array())
    bad(Uint8Array.of(0xff))
    bad(
      FileFrame.encode({
        have: { fileId: randomBytes(16) as Uint8Array<ArrayBuffer> },
        ack: { nextChunk: 1 },
      }),
    )
    bad(encodeFrame({ type: 'have', fileId: randomBytes(15) }))
    bad(encodeFrame({ type: 'want', fileId: randomBytes(17), nextChunk: 0 }))
    bad(encodeFrame({ type: 'chunk', index: 0, nonce: randomBytes(11), sealed: randomBytes(100) }))
    bad(encodeFrame({ type: 'chunk', index: 0, nonce: randomBytes(12), sealed: randomBytes(15) }))
    bad(
      encodeFrame({
        type: 'chunk',
        index: 0,
        nonce: randomBytes(12),
        sealed: new Uint8Array(256 * 1024 + 17),
      }),
    )
    bad(encodeFrame({ type: 'done', sha256: randomBytes(31) }))
    bad(encodeFrame({ type: 'reject', reason: 'cancelled', fileId: randomBytes(15) }))
    bad(
      encodeFrame({
        type: 'chunk',
        index: 1,
        nonce: randomBytes(12),
        sealed: randomBytes(16),
        sha256: randomBytes(31),
      }),
    )
  })

  it('writes a chunk frame in parts that are exactly its encoding, the sealed bytes not copied', () => {
    for (const index of [0, 1, 127, 128, 300_000, 0xffff_ffff]) {
      for (const sealedBytes of [16, 127, 128, 16_384 + 16, 256 * 1024 + 16]) {
        for (const sha256 of [undefined, randomBytes(32)]) {
          const sealed = Uint8Array.from({ length: sealedBytes }, (_, i) => (i * 7) & 0xff)
          const chunk = { index, nonce: randomBytes(12), sealed, sha256 }
          const parts = encodeChunkFrame(chunk)
          const joined = new Uint8Array(Buffer.concat(parts))
          assert.deepEqual(joined, encodeFrame({ type: 'chunk', ...chunk }))
          assert.equal(parts[1], chunk.sealed, "the sealed bytes are the caller's own array")
        }
      }
    }
    assert.throws(() => encodeChunkFrame({ index: -1, nonce: randomBytes(12), sealed: randomBytes(16) }))
    assert.throws(() => encodeChunkFrame({ index: 0, nonce: randomBytes(12), sealed: randomBytes(15) }))
  })

  it('reads a reject reason from a newer version as a protocol failure', () => {
    assert.deepEqual(decodeFrame(FileFrame.encode({ reject: { reason: 999, fileId: new Uint8Array(0) } })), {
      type: 'reject',
      reason: 'protocol',
    })
  })

  it('splits files into chunks with an odd tail', () => {
    assert.equal(chunkCount(0, 16384), 0)
    assert.equal(chunkCount(1, 16384), 1)
    assert.equal(chunkCount(16384, 16384), 1)
    assert.equal(chunkCount(16385, 16384), 2)
    assert.equal(chunkLength(16385, 16384, 0), 16384)
    assert.equal(chunkLength(16385, 16384, 1), 1)
  })
})

describe('untrusted file names', () => {
  const cases: [string, string][] = [
    ['report.pdf', 'report.pdf'],
    ['报价单 2024.xlsx', '报价单 2024.xlsx'],
    ['../../x', 'x'],
    ['../../../etc/passwd', 'passwd'],
    ['/etc/shadow', 'shadow'],
    ['C:\\Windows\\System32\\calc.exe', 'calc.exe'],
    ['\\\\server\\share\\doc.txt', 'doc.txt'],
    ['..', 'file'],
    ['.', 'file'],
    ['', 'file'],
    ['/', 'file'],
    ['../', 'file'],
    ['.bashrc', 'bashrc'],
    ['...hidden', 'hidden'],
    ['evil\u0000.txt', 'evil.txt'],
    ['a\u0000/../../b', 'b'],
    ['tab\there\nnew', 'tabherenew'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['zero\u200Bwidth.txt', 'zerowidth.txt'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['nul', '_nul'],
    ['Aux.tar.gz', '_Aux.tar.gz'],
    ['COM1', '_COM1'],
    ['lpt9.doc', '_lpt9.doc'],
    ['COM¹', '_COM¹'],
    ['console.txt', 'console.txt'],
    ['what?<>:"|*.txt', 'what_______.txt'],
    ['trailing. . ', 'trailing'],
    ['  spaced  ', 'spaced'],
  ]
  for (const [offered, safe] of cases) {
    it(`${JSON.stringify(offered)} -> ${JSON.stringify(safe)}`, () =>
      assert.equal(sanitizeFileName(offered), safe))
  }

  it('never yields a separator, NUL, control character, reserved or dot name (fuzz)', () => {
    const alphabet = [
      'a',
      '.',
      '/',
      '\\',
      '\u0000',
      '\u001f',
      ':',
      ' ',
      'é',
      '文',
      '\u202e',
      'C',
      'O',
      'N',
      '1',
    ]
    for (let i = 0; i < 5_000; i++) {
      const n = 1 + (i % 24)
      let name = ''
      for (let j = 0; j < n; j++) name += alphabet[Math.floor(Math.random() * alphabet.length)]
      const safe = sanitizeFileName(name)
      assert.ok(safe.length > 0)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      assert.ok(!/[/\\\u0000-\u001f<>:"|?*\u202e]/.test(safe), JSON.stringify(safe))
      assert.ok(!safe.startsWith('.') && !safe.endsWith('.') && !safe.endsWith(' '), JSON.stringify(safe))
      assert.ok(!/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(safe), JSON.stringify(safe))
      assert.equal(sanitizeFileName(safe), safe, 'idempotent')
    }
  })

  it('cuts long names to 200 bytes, keeping the extension and whole characters', () => {
    const safe = sanitizeFileName(`${'长'.repeat(300)}.docx`)
    assert.ok(new TextEncoder().encode(safe).length <= 200)
    assert.ok(safe.endsWith('.docx'))
    assert.ok(safe.startsWith('长'))
  })

  it('numbers duplicates before the extension', () => {
    assert.equal(numberedName('a.pdf', 0), 'a.pdf')
    assert.equal(numberedName('a.pdf', 2), 'a (2).pdf')
    assert.equal(numberedName('README', 1), 'README (1)')
    assert.equal(numberedName('x.tar.gz', 1), 'x.tar (1).gz')
  })

  it('knows MIME syntax and common types', () => {
    assert.ok(isValidMime('application/vnd.openxmlformats-officedocument.wordprocessingml.document'))
    assert.ok(!isValidMime('text/html; charset=utf-8'))
    assert.ok(!isValidMime('TEXT/HTML'))
    assert.ok(!isValidMime('a/'))
    assert.equal(guessMime('Quote.PDF'), 'application/pdf')
    assert.equal(guessMime('voice.opus'), 'audio/opus')
    assert.equal(guessMime('run.exe'), 'application/octet-stream')
    assert.equal(guessMime('noext'), 'application/octet-stream')
  })
})

describe('transfer state machine', () => {
  const record = newTransferRecord({
    id: 'a'.repeat(32) as MessageId,
    direction: 'in',
    contactId: 'b'.repeat(16) as ContactId,
    offer: base,
    name: 'quote.pdf',
    status: 'incoming',
  })

  it('moves incoming -> complete and keeps final states final', () => {
    const p = applyTransferEvent(record, { type: 'progress', bytes: 1000 })
    assert.equal(p.bytes, 1000)
    const noted = applyTransferEvent(p, { type: 'note', note: 'offline' })
    assert.equal(noted.note, 'offline')
    assert.equal(applyTransferEvent(noted, { type: 'progress', bytes: 2000 }).note, undefined)
    const done = applyTransferEvent(noted, { type: 'complete', path: '/home/files/quote.pdf' })
    assert.equal(done.status, 'complete')
    assert.equal(done.bytes, base.size)
    assert.equal(done.path, '/home/files/quote.pdf')
    for (const e of [
      { type: 'fail', reason: 'hash-mismatch' },
      { type: 'progress', bytes: 1 },
      { type: 'note', note: 'offline' },
    ] as const) {
      assert.equal(applyTransferEvent(done, e), done)
    }
    const failed = applyTransferEvent(record, { type: 'fail', reason: 'hash-mismatch' })
    assert.equal(failed.status, 'failed')
    assert.equal(failed.reason, 'hash-mismatch')
    assert.equal(applyTransferEvent(failed, { type: 'complete', path: '/x' }), failed)
  })

  it('keeps the first digest it hears of, and none before the offer or the last chunk says it', () => {
    const unknown = newTransferRecord({
      id: 'c'.repeat(32) as MessageId,
      direction: 'in',
      contactId: 'b'.repeat(16) as ContactId,
      offer: { ...base, sha256: new Uint8Array(0) },
      name: 'big.bin',
      status: 'incoming',
    })
    assert.equal(unknown.sha256, '')
    const known = applyTransferEvent(unknown, { type: 'digest', sha256: 'ab'.repeat(32) })
    assert.equal(known.sha256, 'ab'.repeat(32))
    assert.equal(applyTransferEvent(known, { type: 'digest', sha256: 'cd'.repeat(32) }), known)
    assert.equal(applyTransferEvent(record, { type: 'digest', sha256: 'cd'.repeat(32) }), record)
  })

  it('lists received files with exactly the CLI fields, and never shows a path before completion', () => {
    const entry = fileEntry(applyTransferEvent(record, { type: 'progress', bytes: 5 }))
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
    assert.equal(entry.status, 'incoming')
    assert.equal(entry.direction, 'in')
    assert.equal(entry.path, null)
    assert.equal(fileEntry(applyTransferEvent(record, { type: 'fail', reason: 'bad-chunk' })).path, null)
  })

  it('keeps the key out of message data and views', () => {
    const data = JSON.stringify(messageData(record))
    assert.ok(!data.includes(record.key))
    assert.equal(messageText(record), '📎 quote.pdf (1.2 MB)')
    assert.equal(
      messageText({ kind: 'voice', name: 'v', size: 1, voice: { durationMs: 67_000, waveform: [] } }),
      '🎤 Voice message (1:07)',
    )
    assert.equal(formatBytes(999), '999 B')
    assert.equal(formatBytes(4 * 1024 ** 3), '4.3 GB')
  })
})
