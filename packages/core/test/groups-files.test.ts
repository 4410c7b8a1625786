/**
 * Files and pictures in a group between real peers on 127.0.0.1 (real LevelDB, files on disk): a
 * picture Bo sends to a group of four reaches Ann and Cy, who is no contact of Bo's, with the
 * SHA-256 Bo offered; at Fay, whose limit it passes, it waits for her accept (the auto-download
 * rules apply as to a contact's file). A file message whose offer breaks the rules is dropped and
 * counted. Then the attacker's side of /jiayi/file/1: a stranger, a member of another group of
 * Bo's, and a member removed from the group all ask for the file and are refused, and counted.
 * Last, with Bo gone, Fay accepts and gets the picture from Ann, who holds it.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { hexToBytes, randomBytes } from '../src/bytes.js'
import { decodeFrame, encodeFrame } from '../src/files/frames.js'
import type { FileMessageData } from '../src/files/transfer.js'
import { openFramed } from '../src/net/framed-handler.js'
import { PROTOCOL_FILE } from '../src/net/protocols.js'
import { befriend, type FilePeer, filePeer, removeHomes } from './helpers/files-peers.js'
import { eventually } from './helpers/messenger-peer.js'

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('files in a group', () => {
  let ann: FilePeer
  let bo: FilePeer
  let cy: FilePeer
  let dan: FilePeer
  let eve: FilePeer
  let fay: FilePeer
  let shop: string
  let fileId: string
  const picture = new Uint8Array(nodeRandomBytes(300 * 1024 + 17))

  before(async () => {
    ;[ann, bo, cy, dan, eve, fay] = (await Promise.all(
      // Fay asks before anything over 200 kB downloads.
      ['Ann', 'Bo', 'Cy', 'Dan', 'Eve', 'Fay'].map((n) =>
        filePeer(n, n === 'Fay' ? { autoDownload: { askAboveBytes: 200_000 } } : {}),
      ),
    )) as [FilePeer, FilePeer, FilePeer, FilePeer, FilePeer, FilePeer]
    // Ann knows everyone but Eve; Bo, Cy, Dan and Fay know only Ann.
    await Promise.all([befriend(ann, bo), befriend(ann, cy), befriend(ann, dan), befriend(ann, fay)])
  })
  const stopped = new Set<FilePeer>()
  after(async () => {
    await Promise.all(
      [ann, bo, cy, dan, eve, fay].map((p) => (p === undefined || stopped.has(p) ? undefined : p.stop())),
    )
    await removeHomes()
  })

  /** Asks `from` for file `id` as a receiver would (Want from chunk 0); its first answer. */
  async function ask(asker: FilePeer, from: FilePeer, id: string) {
    await asker.messenger.node.peerStore.merge(from.messenger.node.peerId, {
      multiaddrs: from.messenger.node.getMultiaddrs(),
    })
    const s = await openFramed(asker.messenger.node, from.messenger.node.peerId, PROTOCOL_FILE)
    try {
      await s.write(encodeFrame({ type: 'want', fileId: hexToBytes(id), nextChunk: 0 }))
      return await s.read({ timeoutMs: 5_000 })
    } finally {
      s.abort(new Error('asked enough'))
    }
  }

  it('a picture sent to the group arrives at every member, contacts of the sender or not, with its SHA-256', async () => {
    shop = (await ann.messenger.groups.create('Shop', ['Bo', 'Cy', 'Fay'])).id
    for (const p of [bo, cy, fay])
      await eventually(() => p.messenger.groups.list().length === 1, 15_000, `the group at ${p.name}`)
    const thumbnail = { mime: 'image/jpeg', width: 32, height: 24, data: randomBytes(900) }
    // From a file on disk: Bo serves it again after a restart (the last test).
    const path = join(bo.home, 'photo.jpg')
    await writeFile(path, picture)
    const sent = await bo.files.sendFile('Shop', await bo.storage.openSource(path), { thumbnail })
    fileId = sent.id
    assert.equal(sent.groupId, shop)
    assert.deepEqual(sent.sender?.name, 'Bo')
    assert.equal(sent.kind, 'image')
    assert.equal(sent.sha256, sha256Hex(picture), 'the offer carries the digest')

    for (const p of [ann, cy]) {
      const done = await eventually(
        () => {
          const t = p.files.transfer(fileId)
          return t?.status === 'complete' ? t : undefined
        },
        20_000,
        `the picture at ${p.name}`,
      )
      assert.equal(done.groupId, shop)
      assert.equal(done.sha256, sha256Hex(picture))
      assert.equal(sha256Hex(await readFile(done.path!)), sha256Hex(picture), `the bytes at ${p.name}`)
      // The group's conversation shows it as a 1:1 chat does: a picture with its thumbnail.
      const shown = (await p.messenger.groups.messages(shop, { peek: true })).find((m) => m.id === fileId)
      assert.equal(shown?.sender.name, 'Bo')
      assert.equal(shown?.extension?.kind, 'file-offer')
      const data = shown?.extension?.data as FileMessageData
      assert.equal(data.status, 'complete')
      assert.equal(data.kind, 'image')
      assert.equal(data.thumbnail?.width, 32)
      assert.match(shown!.text, /^🖼 photo\.jpg \(307 kB\)$/)
      assert.deepEqual(
        p.files
          .files()
          .filter((f) => f.id === fileId)
          .map((f) => [f.groupId, f.direction]),
        [[shop, 'in']],
      )
    }
    // Cy fetched it from Bo though neither is the other's contact.
    assert.deepEqual(
      cy.messenger.contactList().map((c) => c.name),
      ['Ann'],
    )
    const ours = (await bo.messenger.groups.messages(shop, { peek: true })).find((m) => m.id === fileId)
    assert.equal(ours?.direction, 'out')
    assert.equal(ours?.extension?.kind, 'file-offer')
    assert.equal(bo.files.transfer(fileId)?.status, 'complete')
    // Over Fay's limit: it waits for her, as a contact's file would, until she accepts it.
    const waiting = await eventually(
      () => {
        const t = fay.files.transfer(fileId)
        return t?.note === 'needs-accept' ? t : undefined
      },
      15_000,
      'the picture waiting at Fay',
    )
    assert.equal(waiting.hold, 'large')
    const asked = (await fay.messenger.groups.messages(shop, { peek: true })).find((m) => m.id === fileId)
    assert.equal(
      (asked?.extension?.data as FileMessageData | undefined)?.hold,
      'large',
      'the group message says why',
    )
  })

  it('a file message whose offer breaks the rules is dropped and counted', async () => {
    const refused = () => ann.messenger.stats().refused['/jiayi/msg/1']?.['bad-payload'] ?? 0
    const before = refused()
    // Bo's peer misbehaves: group content with a `file` that is no offer.
    const bad = await bo.messenger.groups.send(shop, '', { file: 'AAAA' })
    await eventually(() => refused() > before, 15_000, 'counted at Ann')
    assert.equal(
      (await ann.messenger.groups.messages(shop, { peek: true })).some((m) => m.id === bad.id),
      false,
      'not shown',
    )
    assert.equal(ann.files.transfer(bad.id), undefined, 'no transfer')
  })

  it('a stranger cannot fetch it: the stream is reset before a byte is read, counted', async () => {
    const before = bo.files.stats().refused['not-a-contact'] ?? 0
    await assert.rejects(ask(eve, bo, fileId))
    await eventually(() => (bo.files.stats().refused['not-a-contact'] ?? 0) > before, 5_000, 'counted')
  })

  it('a member of another group of the sender cannot fetch a file of this group: refused, counted', async () => {
    // Dan shares a group with Bo, not Shop: a member record at Bo, allowed group files only.
    const other = (await ann.messenger.groups.create('Other', ['Bo', 'Dan'])).id
    await eventually(() => dan.messenger.groups.list().length === 1, 15_000, 'Other at Dan')
    await dan.messenger.groups.send(other, 'hi Bo')
    await eventually(
      async () => (await bo.messenger.groups.messages(other, { peek: true })).some((m) => m.text === 'hi Bo'),
      15_000,
      "Dan's message at Bo",
    )
    const before = bo.files.stats().refused['not-a-member'] ?? 0
    const answer = await ask(dan, bo, fileId)
    assert.deepEqual(decodeFrame(answer!), { type: 'reject', reason: 'unknown-file' })
    assert.equal(bo.files.stats().refused['not-a-member'], before + 1)
  })

  it('a member removed from the group cannot fetch its file any more: refused, counted', async () => {
    await ann.messenger.groups.remove(shop, 'Cy')
    await eventually(
      () => !bo.messenger.groups.get(shop).members.some((m) => m.name === 'Cy'),
      15_000,
      'the removal at Bo',
    )
    const before = bo.files.stats().refused['not-a-member'] ?? 0
    const answer = await ask(cy, bo, fileId)
    assert.deepEqual(decodeFrame(answer!), { type: 'reject', reason: 'unknown-file' })
    assert.equal(bo.files.stats().refused['not-a-member'], before + 1)
    // Nor from Ann, who holds it too and serves it to members only.
    const atAnn = ann.files.stats().refused['not-a-member'] ?? 0
    assert.deepEqual(decodeFrame((await ask(cy, ann, fileId))!), { type: 'reject', reason: 'unknown-file' })
    assert.equal(ann.files.stats().refused['not-a-member'], atAnn + 1)
    // Ann, still a member, may (her first frame back is a chunk).
    const chunk = decodeFrame((await ask(ann, bo, fileId))!)
    assert.equal(chunk.type, 'chunk')
  })

  it('with its sender gone, a member gets the file from another member who holds it, checked by its SHA-256', async () => {
    await bo.stop()
    stopped.add(bo)
    const served = ann.files.stats().chunksSent
    await fay.files.accept(fileId)
    const done = await eventually(
      () => {
        const t = fay.files.transfer(fileId)
        return t?.status === 'complete' ? t : undefined
      },
      20_000,
      'the picture at Fay, from Ann',
    )
    assert.equal(sha256Hex(await readFile(done.path!)), sha256Hex(picture))
    assert.equal(ann.files.stats().chunksSent - served, 2, 'both chunks came from Ann')
  })

  it('a member who serves other bytes (they authenticate: members hold the key) fails the check; the file then comes from its sender', async () => {
    // A second picture, over Fay's limit: it waits for her accept while Bo goes away.
    const home = bo.home
    const key = bo.key
    bo = await filePeer('Bo', { home, key })
    stopped.delete(bo)
    const second = new Uint8Array(nodeRandomBytes(300 * 1024))
    const path = join(home, 'second.jpg')
    await writeFile(path, second)
    const sent = await bo.files.sendFile(shop, await bo.storage.openSource(path))
    // Bo has just restarted: his first delivery may wait for an outbox retry on a loaded machine.
    await eventually(() => ann.files.transfer(sent.id)?.status === 'complete', 45_000, 'the second at Ann')
    await eventually(() => fay.files.transfer(sent.id)?.note === 'needs-accept', 20_000, 'waiting at Fay')
    await bo.stop()
    stopped.add(bo)
    // Ann's copy is not what Bo offered any more: as a member who lies would serve it.
    const atAnn = ann.files.transfer(sent.id)!
    await writeFile(atAnn.path!, new Uint8Array(nodeRandomBytes(second.length)))
    const served = ann.files.stats().chunksSent
    await fay.files.accept(sent.id)
    await eventually(() => ann.files.stats().chunksSent - served >= 2, 20_000, "Ann's bytes tried")
    // Stored nothing of it, still waiting: not failed, and not from Ann again.
    await eventually(() => fay.files.transfer(sent.id)?.bytes === 0, 10_000, 'what came from Ann dropped')
    assert.equal(fay.files.transfer(sent.id)?.status, 'incoming')
    bo = await filePeer('Bo', { home, key })
    stopped.delete(bo)
    // Fay finds Bo's new address as a LAN peer would (mDNS is off in tests).
    await fay.messenger.node.peerStore.merge(bo.messenger.node.peerId, {
      multiaddrs: bo.messenger.node.getMultiaddrs(),
    })
    const done = await eventually(
      () => {
        const t = fay.files.transfer(sent.id)
        return t?.status === 'complete' ? t : undefined
      },
      30_000,
      'the second picture at Fay, from Bo',
    )
    assert.equal(sha256Hex(await readFile(done.path!)), sha256Hex(second))
    assert.equal(ann.files.stats().chunksSent - served, 2, 'nothing more from Ann')
  })
})
