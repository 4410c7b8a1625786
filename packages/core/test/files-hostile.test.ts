/**
 * What a hostile or broken peer may try on /jiayi/file/1, against an honest receiver: a flipped
 * bit in a chunk, a truncated stream, a lying size or hash in the offer, a lying, swapped or
 * missing hash in the last chunk, chunks out of order, chunks for a file never offered, and
 * pushing files without being a contact. Each is refused with a clear status; nothing partial is
 * ever shown complete.
 *
 * The rogue is a real peer (messenger, session, libp2p) without a FileService: it sends offers it
 * crafts itself and serves /jiayi/file/1 with a handler of its own.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { bytesToHex, hexToBytes } from '../src/bytes.js'
import { ChunkCipher } from '../src/files/chunk-cipher.js'
import { decodeFrame, encodeFrame, type Frame } from '../src/files/frames.js'
import { chunkCount, chunkLength } from '../src/files/limits.js'
import { memorySource } from '../src/files/memory-storage.js'
import { encodeOffer, type FileOffer } from '../src/files/offer.js'
import { FILE_OFFER_EXTENSION } from '../src/files/service.js'
import { newMessageId } from '../src/messenger/ids.js'
import { framedHandler, openFramed } from '../src/net/framed-handler.js'
import type { FramedStream } from '../src/net/framing.js'
import { PROTOCOL_FILE } from '../src/net/protocols.js'
import { befriend, type FilePeer, filePeer, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

const CHUNK = 16 * 1024
const random = (n: number) => new Uint8Array(randomBytes(n))
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest())

interface RogueFile {
  readonly id: string
  readonly data: Uint8Array
  readonly offer: FileOffer
  readonly cipher: ChunkCipher
  /** The SHA-256 the last chunk says the file has (sealed into it). */
  readonly claim: Uint8Array
}

/** What the rogue does when the receiver asks for a file (Want), frame by frame. */
type Behaviour = (framed: FramedStream, file: RogueFile, from: number) => Promise<void>

async function sendChunks(
  framed: FramedStream,
  file: RogueFile,
  from: number,
  to: number,
  tamper?: (i: number, sealed: Uint8Array) => void,
) {
  const last = chunkCount(file.offer.size, CHUNK) - 1
  for (let i = from; i < to; i++) {
    const plain = file.data.subarray(i * CHUNK, Math.min(file.data.length, (i + 1) * CHUNK))
    const sha256 = i === last ? file.claim : undefined
    const { nonce, sealed } = await file.cipher.seal(i, plain, sha256)
    tamper?.(i, sealed)
    await framed.write(encodeFrame({ type: 'chunk', index: i, nonce, sealed, sha256 }))
  }
}

/** Reads frames until the receiver ends the stream; returns them (its Acks, Done or Reject). */
async function drain(framed: FramedStream): Promise<Frame[]> {
  const frames: Frame[] = []
  try {
    for (;;) {
      const bytes = await framed.read({ timeoutMs: 10_000 })
      if (bytes === null) return frames
      frames.push(decodeFrame(bytes))
    }
  } catch {
    return frames
  }
}

class Rogue {
  readonly files = new Map<string, RogueFile>()
  readonly wants: { id: string; from: number }[] = []
  /** What the receiver said on each stream, by file id (once the stream ended). */
  readonly replies = new Map<string, Frame[]>()
  behaviour: Behaviour = async () => {}

  constructor(readonly peer: FilePeer) {}

  async serve(): Promise<void> {
    await this.peer.messenger.node.handle(
      PROTOCOL_FILE,
      framedHandler(PROTOCOL_FILE, async (framed) => {
        const first = await framed.read({ timeoutMs: 5_000 })
        if (first === null) return
        const want = decodeFrame(first)
        if (want.type !== 'want') return framed.abort(new Error('rogue expects Want'))
        const id = bytesToHex(want.fileId)
        this.wants.push({ id, from: want.nextChunk })
        const file = this.files.get(id)
        if (file === undefined) return framed.abort(new Error('unknown'))
        const replies = drain(framed)
        // The receiver may reset the stream while the rogue still writes: keep what it said.
        await this.behaviour(framed, file, want.nextChunk).catch(() => undefined)
        this.replies.set(id, await replies)
      }),
    )
  }

  /**
   * Sends an offer through the real ratchet session; `lie` changes what the offer claims, and
   * `claim` what the last chunk says the file hashes to (default: the offer's, else the truth).
   */
  async offer(
    contact: string,
    data: Uint8Array,
    lie: Partial<FileOffer> = {},
    claim?: Uint8Array,
  ): Promise<RogueFile> {
    const id = newMessageId()
    const offer: FileOffer = {
      kind: 'file',
      name: 'rogue.bin',
      mime: 'application/octet-stream',
      size: data.length,
      sha256: sha256(data),
      key: random(32),
      chunkSize: CHUNK,
      ...lie,
    }
    const file = {
      id,
      data,
      offer,
      cipher: await ChunkCipher.create(offer.key, hexToBytes(id)),
      claim: claim ?? (offer.sha256.length > 0 ? offer.sha256 : sha256(data)),
    }
    this.files.set(id, file)
    await this.peer.messenger.sendExtension(contact, FILE_OFFER_EXTENSION, encodeOffer(offer), {
      id,
      record: { text: 'a file', data: {} },
    })
    return file
  }
}

describe('a hostile sender', () => {
  let honest: FilePeer
  let rogue: Rogue
  let rogueAtHonest: string
  let honestAtRogue: string
  before(async () => {
    honest = await filePeer('Honest')
    rogue = new Rogue(await filePeer('Rogue', { withFiles: false }))
    await rogue.serve()
    ;({ bAtA: honestAtRogue, aAtB: rogueAtHonest } = await befriend(rogue.peer, honest))
  })
  after(async () => {
    await honest?.stop()
    await rogue?.peer.stop()
    await removeHomes()
  })

  async function expectFailed(id: string, reason: string): Promise<void> {
    const t = await honest.files.waitFor(id, { signal: AbortSignal.timeout(15_000) })
    assert.equal(t.status, 'failed', JSON.stringify(t))
    assert.equal(t.reason, reason)
    assert.equal(t.path, null)
    const entry = honest.files.files().find((f) => f.id === id)
    assert.equal(entry?.status, 'failed')
    assert.equal(entry?.path, null)
    // The conversation says so too (the message is updated right after the transfer).
    const data = await eventually(
      async () => {
        const d = (await honest.messenger.message(rogueAtHonest, id))?.extension?.data as
          | { status: string; reason?: string }
          | undefined
        return d?.status === 'failed' ? d : undefined
      },
      5_000,
      'message shows failed',
    )
    assert.equal(data.reason, reason)
    await eventually(() => nothingPlaced().then(() => true), 5_000, 'no partial data')
  }

  async function nothingPlaced(): Promise<void> {
    const folder = join(honest.home, 'files')
    const names = await readdir(folder).catch(() => [] as string[])
    assert.deepEqual(
      names.filter((n) => n !== '.partial'),
      [],
      'no file shown',
    )
    assert.deepEqual(await readdir(join(folder, '.partial')).catch(() => []), [], 'no partial data kept')
  }

  it('a flipped bit in a chunk: failed "bad-chunk", the partial data deleted', async () => {
    rogue.behaviour = async (framed, file, from) => {
      await sendChunks(framed, file, from, chunkCount(file.data.length, CHUNK), (i, sealed) => {
        if (i === 5) sealed[1234]! ^= 0x10
      })
    }
    const file = await rogue.offer(honestAtRogue, random(10 * CHUNK + 99))
    await expectFailed(file.id, 'bad-chunk')
    const reply = await eventually(() => rogue.replies.get(file.id), 5_000, 'stream end')
    assert.deepEqual(reply.at(-1), { type: 'reject', reason: 'bad-chunk' }, 'the sender is told why')
    assert.ok(!reply.some((f) => f.type === 'ack' && f.nextChunk > 5), 'nothing after the bad chunk stored')
  })

  it('a lying hash in the offer: failed "hash-mismatch", never shown', async () => {
    rogue.behaviour = async (framed, file, from) =>
      sendChunks(framed, file, from, chunkCount(file.data.length, CHUNK))
    const data = random(6 * CHUNK + 1)
    const file = await rogue.offer(honestAtRogue, data, { sha256: sha256(random(10)) })
    await expectFailed(file.id, 'hash-mismatch')
    const reply = await eventually(() => rogue.replies.get(file.id), 5_000, 'stream end')
    assert.deepEqual(reply.at(-1), { type: 'reject', reason: 'hash-mismatch' })
  })

  it('a lying hash in the last chunk, the offer without one: failed "hash-mismatch", never shown', async () => {
    rogue.behaviour = async (framed, file, from) =>
      sendChunks(framed, file, from, chunkCount(file.data.length, CHUNK))
    const data = random(5 * CHUNK + 3)
    const file = await rogue.offer(honestAtRogue, data, { sha256: new Uint8Array(0) }, sha256(random(10)))
    assert.equal(honest.files.transfer(file.id)?.sha256 ?? '', '', 'no hash known before the last chunk')
    await expectFailed(file.id, 'hash-mismatch')
    const reply = await eventually(() => rogue.replies.get(file.id), 5_000, 'stream end')
    assert.deepEqual(reply.at(-1), { type: 'reject', reason: 'hash-mismatch' })
  })

  it('a last chunk whose hash is not the offer\'s: failed "hash-mismatch" before it is stored', async () => {
    rogue.behaviour = async (framed, file, from) =>
      sendChunks(framed, file, from, chunkCount(file.data.length, CHUNK))
    const data = random(3 * CHUNK + 3)
    const file = await rogue.offer(honestAtRogue, data, {}, sha256(random(10)))
    await expectFailed(file.id, 'hash-mismatch')
    const reply = await eventually(() => rogue.replies.get(file.id), 5_000, 'stream end')
    assert.ok(!reply.some((f) => f.type === 'ack' && f.nextChunk === 4), 'the last chunk is not stored')
  })

  it('a hash swapped in the last chunk\'s frame (not the one sealed with it): failed "bad-chunk"', async () => {
    rogue.behaviour = async (framed, file, from) => {
      const total = chunkCount(file.data.length, CHUNK)
      await sendChunks(framed, file, from, total - 1)
      const plain = file.data.subarray((total - 1) * CHUNK)
      const { nonce, sealed } = await file.cipher.seal(total - 1, plain, file.claim)
      const swapped = sha256(random(10))
      await framed.write(encodeFrame({ type: 'chunk', index: total - 1, nonce, sealed, sha256: swapped }))
    }
    const file = await rogue.offer(honestAtRogue, random(2 * CHUNK + 1), { sha256: new Uint8Array(0) })
    await expectFailed(file.id, 'bad-chunk')
  })

  it('a last chunk without the hash, or a hash on another chunk: failed "protocol"', async () => {
    rogue.behaviour = async (framed, file, from) => {
      const total = chunkCount(file.data.length, CHUNK)
      for (let i = from; i < total; i++) {
        const plain = file.data.subarray(i * CHUNK, Math.min(file.data.length, (i + 1) * CHUNK))
        const { nonce, sealed } = await file.cipher.seal(i, plain)
        await framed.write(encodeFrame({ type: 'chunk', index: i, nonce, sealed }))
      }
    }
    const bare = await rogue.offer(honestAtRogue, random(2 * CHUNK + 1))
    await expectFailed(bare.id, 'protocol')
    rogue.behaviour = async (framed, file, from) => {
      const plain = file.data.subarray(from * CHUNK, (from + 1) * CHUNK)
      const { nonce, sealed } = await file.cipher.seal(from, plain, file.claim)
      await framed.write(encodeFrame({ type: 'chunk', index: from, nonce, sealed, sha256: file.claim }))
    }
    const early = await rogue.offer(honestAtRogue, random(2 * CHUNK + 1))
    await expectFailed(early.id, 'protocol')
  })

  it('a lying size in the offer (bigger than the file): failed "size-mismatch"', async () => {
    rogue.behaviour = async (framed, file, from) => {
      // The real file ends early: its last chunk is short for the offered size.
      const real = chunkCount(file.data.length, CHUNK)
      await sendChunks(framed, file, from, real)
    }
    const data = random(4 * CHUNK + 10)
    const file = await rogue.offer(honestAtRogue, data, { size: data.length + 5000 })
    await expectFailed(file.id, 'size-mismatch')
  })

  it('a lying size in the offer (smaller than the file): failed "size-mismatch"', async () => {
    rogue.behaviour = async (framed, file, from) => {
      const claimed = chunkCount(file.offer.size, CHUNK)
      for (let i = from; i < claimed; i++) {
        // Sends whole chunks of the real, longer file: the last one is too long for the offer.
        const plain = file.data.subarray(i * CHUNK, (i + 1) * CHUNK)
        const sha256 = i === claimed - 1 ? file.claim : undefined
        const { nonce, sealed } = await file.cipher.seal(i, plain, sha256)
        await framed.write(encodeFrame({ type: 'chunk', index: i, nonce, sealed, sha256 }))
      }
    }
    const data = random(4 * CHUNK)
    const file = await rogue.offer(honestAtRogue, data, { size: 3 * CHUNK + 1 })
    assert.notEqual(chunkLength(file.offer.size, CHUNK, 3), CHUNK)
    await expectFailed(file.id, 'size-mismatch')
  })

  it('chunks out of order: failed "protocol"', async () => {
    rogue.behaviour = async (framed, file, from) => {
      await sendChunks(framed, file, from, from + 2)
      await sendChunks(framed, file, from + 3, from + 4)
    }
    const file = await rogue.offer(honestAtRogue, random(8 * CHUNK))
    await expectFailed(file.id, 'protocol')
  })

  it('a truncated stream: stays incoming ("truncated"), resumes from the last stored chunk, completes', async () => {
    let attempt = 0
    rogue.behaviour = async (framed, file, from) => {
      attempt++
      if (attempt === 1) {
        await sendChunks(framed, file, from, 4)
        // Give the receiver time to store and acknowledge them, then end the stream early.
        await new Promise((r) => setTimeout(r, 300))
        await framed.close()
        return
      }
      await sendChunks(framed, file, from, chunkCount(file.data.length, CHUNK))
    }
    const data = random(9 * CHUNK + 5)
    const file = await rogue.offer(honestAtRogue, data)
    const noted = await eventually(
      () => {
        const t = honest.files.transfer(file.id)
        return t?.note === 'truncated' ? t : undefined
      },
      10_000,
      'truncated note',
    )
    assert.equal(noted.status, 'incoming')
    assert.equal(honest.files.files().find((f) => f.id === file.id)?.path, null, 'not shown while incomplete')
    const done = await honest.files.waitFor(file.id, { signal: AbortSignal.timeout(20_000) })
    assert.equal(done.status, 'complete')
    const wants = rogue.wants.filter((w) => w.id === file.id)
    assert.deepEqual(
      wants.map((w) => w.from),
      [0, 4],
      'the second attempt starts after the 4 stored chunks',
    )
  })
})

describe('who may push files', () => {
  after(removeHomes)

  it('a stranger cannot open /jiayi/file/1 at all; chunks for a never-offered file are refused', async () => {
    const receiver = await filePeer('Receiver')
    const stranger = await filePeer('Stranger')
    const friend = await filePeer('Friend', { withFiles: false })
    try {
      const { aAtB: friendAtReceiver } = await befriend(friend, receiver)
      await stranger.messenger.node.peerStore.merge(receiver.messenger.node.peerId, {
        multiaddrs: receiver.messenger.node.getMultiaddrs(),
      })
      // A stranger: the stream is reset before a byte is read.
      const before = receiver.files.stats().refused['not-a-contact'] ?? 0
      const s = await openFramed(stranger.messenger.node, receiver.messenger.node.peerId, PROTOCOL_FILE)
      await s.write(encodeFrame({ type: 'have', fileId: random(16) })).catch(() => undefined)
      const fake = await ChunkCipher.create(random(32), random(16))
      const sealed = await fake.seal(0, random(100))
      await s.write(encodeFrame({ type: 'chunk', index: 0, ...sealed })).catch(() => undefined)
      await assert.rejects(s.read({ timeoutMs: 5_000 }))
      await eventually(
        () => (receiver.files.stats().refused['not-a-contact'] ?? 0) > before,
        5_000,
        'counted',
      )

      // A contact pushing chunks for a file it never offered: Reject "unknown-file", counted.
      const f = await openFramed(friend.messenger.node, receiver.messenger.node.peerId, PROTOCOL_FILE)
      await f.write(encodeFrame({ type: 'have', fileId: random(16) }))
      await f.write(encodeFrame({ type: 'chunk', index: 0, ...sealed })).catch(() => undefined)
      const answer = await f.read({ timeoutMs: 5_000 })
      assert.deepEqual(decodeFrame(answer!), { type: 'reject', reason: 'unknown-file' })
      assert.equal(receiver.files.stats().refused['unknown-file'], 1)
      // Asking for a file the receiver never sent is refused the same way.
      const w = await openFramed(friend.messenger.node, receiver.messenger.node.peerId, PROTOCOL_FILE)
      await w.write(encodeFrame({ type: 'want', fileId: random(16), nextChunk: 0 }))
      assert.deepEqual(decodeFrame((await w.read({ timeoutMs: 5_000 }))!), {
        type: 'reject',
        reason: 'unknown-file',
      })
      assert.ok(friendAtReceiver)
      assert.deepEqual(receiver.files.files(), [])
      assert.deepEqual(await readdir(join(receiver.home, 'files')).catch(() => []), [])
    } finally {
      await receiver.stop()
      await stranger.stop()
      await friend.stop()
    }
  })

  it('a contact cannot cancel someone else\'s transfer: Reject "unknown-file", counted, the file arrives', async () => {
    const receiver = await filePeer('Receiver')
    const sender = await filePeer('Sender')
    const meddler = await filePeer('Meddler')
    try {
      const { bAtA: receiverAtSender } = await befriend(sender, receiver)
      await befriend(meddler, receiver)
      // Held (over the size to ask above), so the transfer waits while the meddler tries.
      await receiver.files.setSettings({ askAboveBytes: CHUNK })
      const data = random(3 * CHUNK)
      const sent = await sender.files.sendFile(receiverAtSender, memorySource(data, 'order.pdf'))
      await eventually(() => receiver.files.transfer(sent.id)?.note === 'needs-accept', 10_000, 'held')
      const before = receiver.files.stats().refused['unknown-file'] ?? 0
      const s = await openFramed(meddler.messenger.node, receiver.messenger.node.peerId, PROTOCOL_FILE)
      await s.write(encodeFrame({ type: 'reject', reason: 'cancelled', fileId: hexToBytes(sent.id) }))
      assert.deepEqual(decodeFrame((await s.read({ timeoutMs: 5_000 }))!), {
        type: 'reject',
        reason: 'unknown-file',
      })
      assert.equal(receiver.files.stats().refused['unknown-file'], before + 1)
      assert.equal(receiver.files.transfer(sent.id)?.status, 'incoming')
      await receiver.files.accept(sent.id)
      const done = await receiver.files.waitFor(sent.id, { signal: AbortSignal.timeout(15_000) })
      assert.equal(done.status, 'complete')
      assert.equal(
        (await sender.files.waitFor(sent.id, { signal: AbortSignal.timeout(15_000) })).status,
        'complete',
      )
    } finally {
      await receiver.stop()
      await sender.stop()
      await meddler.stop()
    }
  })

  it('someone who only asked to be a contact cannot push; their file comes only after accepting', async () => {
    const receiver = await filePeer('Receiver')
    const asker = await filePeer('Asker')
    try {
      const atAsker = await asker.messenger.addContact(receiver.messenger.card().link)
      const pending = await eventually(
        () => receiver.messenger.contactList().find((c) => c.state === 'pending-in'),
        10_000,
        'request',
      )
      const data = random(3 * CHUNK)
      const sent = await asker.files.sendFile(atAsker.id, memorySource(data, 'unsolicited.exe'))
      const t = await eventually(() => receiver.files.transfer(sent.id), 10_000, 'offer stored')
      assert.equal(t.status, 'incoming')
      assert.equal(t.note, 'waiting-for-accept')
      // The asker pushes (Have): refused before a byte is read, because it is not accepted.
      const s = await openFramed(asker.messenger.node, receiver.messenger.node.peerId, PROTOCOL_FILE)
      await s.write(encodeFrame({ type: 'have', fileId: hexToBytes(sent.id) })).catch(() => undefined)
      await assert.rejects(s.read({ timeoutMs: 5_000 }))
      assert.ok((receiver.files.stats().refused['not-a-contact'] ?? 0) >= 1)
      await new Promise((r) => setTimeout(r, 300))
      assert.equal(receiver.files.stats().chunksReceived, 0)
      assert.equal(receiver.files.transfer(sent.id)?.status, 'incoming')
      // Accepting lets it through.
      await receiver.messenger.accept(pending.id)
      const done = await receiver.files.waitFor(sent.id, { signal: AbortSignal.timeout(15_000) })
      assert.equal(done.status, 'complete')
    } finally {
      await receiver.stop()
      await asker.stop()
    }
  })
})
