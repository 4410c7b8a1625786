/**
 * A post's pictures are the feed's business (Feed.post with `{ open }` attachments), between real
 * peers on 127.0.0.1: each picture is hashed once however many contacts get it, offered to
 * accepted contacts only, as a post's attachment (no chat message, nothing unread at either end),
 * and to a contact accepted after the post. A file sent in the chat before the post referred to
 * it is then counted as the post's (`isAttachmentMessage`).
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import {
  createAccount,
  type FileSource,
  MemoryFileStorage,
  MemoryStore,
  type Sha256Hasher,
} from '@jiayi/core'
import { Feed, FeedError, type NewAttachment } from '../src/index.js'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

/** File storage in memory that counts the bytes its SHA-256 hashers see. */
class CountingStorage extends MemoryFileStorage {
  hashed = 0
  override createHasher(): Sha256Hasher {
    const inner = super.createHasher()
    return {
      update: (data) => {
        this.hashed += data.length
        inner.update(data)
      },
      digest: () => inner.digest(),
    }
  }
}

function picture(storage: MemoryFileStorage, ref: string, size: number) {
  const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, ...randomBytes(size - 4)])
  storage.addSource(ref, bytes, `${ref}.png`, 'image/png')
  const attachment: NewAttachment = { open: () => storage.openSource(ref) }
  return { bytes, sha: createHash('sha256').update(bytes).digest('hex'), attachment }
}

const incoming = (p: FeedPeer, sha: string) =>
  p.files.transfers().filter((t) => t.direction === 'in' && t.sha256 === sha)

describe('a post’s pictures', () => {
  const peers: FeedPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('are hashed once, offered to accepted contacts as attachments, and follow a later friend', async () => {
    const storage = new CountingStorage()
    const amy = await feedPeer('Amy', undefined, {}, storage)
    const [ben, cai, dee, eve] = await Promise.all(['Ben', 'Cai', 'Dee', 'Eve'].map((n) => feedPeer(n)))
    peers.push(amy, ben!, cai!, dee!, eve!)
    await befriend(amy, ben!)
    await befriend(cai!, amy)
    // Eve only asks: a pending request gets nothing.
    await eve!.messenger.addContact(amy.messenger.card().link)
    await eventually(() => amy.messenger.contactList().some((c) => c.name === 'Eve'), 10_000, 'Eve asks')

    const tea = picture(storage, 'tea', 300_000)
    const cup = picture(storage, 'cup', 70_000)
    const post = await amy.feed.post({
      text: 'New tea 新茶',
      attachments: [tea.attachment, { ...cup.attachment, name: '杯.png', type: 'image/webp' }],
    })
    assert.deepEqual(post.attachments, [
      { ref: `sha256:${tea.sha}`, name: 'tea.png', type: 'image/png', size: 300_000 },
      { ref: `sha256:${cup.sha}`, name: '杯.png', type: 'image/webp', size: 70_000 },
    ])
    assert.equal(storage.hashed, 370_000, 'each picture hashed once for the post and both offers')

    for (const friend of [ben!, cai!]) {
      for (const sha of [tea.sha, cup.sha]) {
        const got = await eventually(
          () => incoming(friend, sha).find((t) => t.status === 'complete'),
          20_000,
          `${friend.name} has a picture`,
        )
        assert.equal(got.purpose, 'post-attachment')
      }
      const amyThere = friend.messenger.contactList().find((c) => c.name === 'Amy')!
      assert.deepEqual(await friend.messenger.messages(amyThere.id, { peek: true }), [], 'no chat message')
      assert.equal(await friend.messenger.unreadCount(amyThere.id), 0, 'nothing unread')
      const there = amy.messenger.contactList().find((c) => c.name === friend.name)!
      assert.deepEqual(await amy.messenger.messages(there.id, { peek: true }), [], 'none at Amy either')
    }
    assert.deepEqual(eve!.files.transfers(), [], 'a stranger is offered nothing')

    // Dee becomes a friend after the post: she sees it, and its pictures follow.
    await befriend(dee!, amy)
    await eventually(() => dee!.feed.get(post.id), 20_000, 'Dee sees the post')
    for (const sha of [tea.sha, cup.sha]) {
      const got = await eventually(
        () => incoming(dee!, sha).find((t) => t.status === 'complete'),
        20_000,
        'Dee has a picture',
      )
      assert.equal(got.purpose, 'post-attachment')
    }
    const offered = amy.files.transfers().filter((t) => t.direction === 'out')
    assert.equal(offered.length, 6, 'two pictures to each of three friends, once each')
    assert.ok(offered.every((t) => t.purpose === 'post-attachment'))
  })

  it('sent earlier as a chat file, is then the post’s, not the chat’s', async () => {
    const [fay, gus] = await Promise.all([feedPeer('Fay'), feedPeer('Gus')])
    peers.push(fay, gus)
    const { bAtA: gusAtFay, aAtB: fayAtGus } = await befriend(fay, gus)
    const storage = fay.storage as MemoryFileStorage
    const shot = picture(storage, 'shot', 5_000)
    await fay.files.sendFile(gusAtFay.id, await storage.openSource('shot'))
    const message = await eventually(
      async () => (await gus.messenger.messages(fayAtGus.id, { peek: true }))[0],
      10_000,
      'the chat file',
    )
    assert.equal(gus.feed.isAttachmentMessage(message), false, 'a chat file, for now')
    await fay.feed.post({ text: 'the shot', attachments: [shot.attachment] })
    await eventually(() => gus.feed.isAttachmentMessage(message), 20_000, 'the post refers to it')
  })

  it('need the files service, and stay below the size limit', async () => {
    // A feed made by hand without the files service takes references only.
    const store = new MemoryStore()
    const hal = await Feed.create({ store, identity: (await createAccount(store, 'Hal')).identity })
    const storage = new MemoryFileStorage()
    const { attachment } = picture(storage, 'x', 100)
    await assert.rejects(hal.post({ text: 'x', attachments: [attachment] }), (e: unknown) =>
      FeedError.is(e, 'NoFiles'),
    )
    await hal.stop()
    const ivy = await feedPeer('Ivy')
    peers.push(ivy)
    let closed = false
    const huge: FileSource = {
      name: 'huge.bin',
      size: 64 * 1024 * 1024 + 1,
      read: () => Promise.reject(new Error('never read')),
      close: async () => {
        closed = true
      },
    }
    await assert.rejects(
      ivy.feed.post({ text: 'x', attachments: [{ open: async () => huge }] }),
      (e: unknown) => FeedError.is(e, 'BadInput'),
    )
    assert.ok(closed, 'the source is closed again')
    assert.deepEqual(ivy.feed.timeline(), [], 'nothing posted')
  })
})
