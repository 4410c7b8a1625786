/**
 * Sealed reactions (reactions.ts, reaction-reader.ts) on real engines and docs, without a network:
 * who opens what, and that a box cannot be moved to another writer or id, or be tampered with.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomBytes } from '@jiayi/core'
import * as Y from 'yjs'
import { type CommentId, newItemId, type PostId } from '../src/ids.js'
import { ReactionReader } from '../src/reaction-reader.js'
import { type ReactionContent, reactionHint, reactionKeys, sealReaction } from '../src/reactions.js'
import { reactionsOf, writeReaction } from '../src/schema.js'
import { engine, readerOf } from './helpers/owners.js'

const post = newItemId<PostId>()
const comment = (text: string): ReactionContent => ({
  kind: 'comment',
  post,
  text,
  createdAt: 1_700_000_000_000,
})
const like: ReactionContent = { kind: 'like', post, text: '', createdAt: 1_700_000_000_001 }

describe('sealed reactions', () => {
  it('open only with the post owner’s key, bound to their writer and id', async () => {
    const owner = await engine()
    const friend = await readerOf(owner) // holds the owner's key
    const stranger = await engine() // holds no key of the owner
    const writerFeed = (await engine()).self

    const keys = reactionKeys(owner.key(owner.self, 1)!, owner.self, 1)
    const doc = new Y.Doc()
    const [c, l] = [newItemId<CommentId>(), newItemId<CommentId>()]
    writeReaction(doc, c, sealReaction(keys, writerFeed, c, comment('只给共同好友 for friends of both')))
    writeReaction(doc, l, sealReaction(keys, writerFeed, l, like))

    const read = [...new ReactionReader(friend).read(writerFeed, doc)]
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1)
    assert.deepEqual(
      read.sort(byId).map((r) => ({ id: r.id, kind: r.kind, text: r.text, target: r.target })),
      [
        {
          id: c,
          kind: 'comment',
          text: '只给共同好友 for friends of both',
          target: { feed: owner.self, post },
        },
        { id: l, kind: 'like', text: '', target: { feed: owner.self, post } },
      ].sort(byId),
    )
    assert.deepEqual([...new ReactionReader(stranger).read(writerFeed, doc)], [], 'no key, nothing')

    // Copied into another writer's doc, or under another id, a box opens for no one.
    const other = (await engine()).self
    const copied = new Y.Doc()
    const value = reactionsOf(doc).get(c) as { hint: Uint8Array; box: Uint8Array }
    reactionsOf(copied).set(c, value)
    assert.deepEqual([...new ReactionReader(friend).read(other, copied)], [], 'another writer')
    const moved = new Y.Doc()
    reactionsOf(moved).set(newItemId(), value)
    assert.deepEqual([...new ReactionReader(friend).read(writerFeed, moved)], [], 'another id')
    const tampered = new Y.Doc()
    const box = Uint8Array.from(value.box)
    box[30] = box[30]! ^ 1
    reactionsOf(tampered).set(c, { hint: value.hint, box })
    assert.deepEqual([...new ReactionReader(friend).read(writerFeed, tampered)], [], 'tampered')

    // Bad content never gets sealed.
    assert.throws(() => sealReaction(keys, writerFeed, newItemId(), comment('x'.repeat(1001))), {
      code: 'BadInput',
    })
    assert.throws(() => sealReaction(keys, writerFeed, 'not-an-id', like), { code: 'BadInput' })
  })

  it('a key that arrives later opens what was sealed under it; an older epoch opens older ones only', async () => {
    const owner = await engine()
    const writer = (await engine()).self
    const reader = await engine()
    const r = new ReactionReader(reader)
    const doc = new Y.Doc()
    const first = newItemId<CommentId>()
    const keys1 = reactionKeys(owner.key(owner.self, 1)!, owner.self, 1)
    writeReaction(doc, first, sealReaction(keys1, writer, first, comment('in epoch 1')))
    assert.equal([...r.read(writer, doc)].length, 0)

    await reader.addKey(owner.self, 1, owner.key(owner.self, 1)!)
    assert.deepEqual(
      [...r.read(writer, doc)].map((x) => x.text),
      ['in epoch 1'],
    )

    await owner.rotateKey()
    const keys2 = reactionKeys(owner.key(owner.self, 2)!, owner.self, 2)
    const second = newItemId<CommentId>()
    writeReaction(doc, second, sealReaction(keys2, writer, second, comment('in epoch 2')))
    assert.deepEqual(
      [...r.read(writer, doc)].map((x) => x.text),
      ['in epoch 1'],
      'a reader without epoch 2 opens epoch 1 only',
    )
    // Another feed's key arrives: what opened stays open, and epoch 2 still does not.
    await reader.addKey((await engine()).self, 1, randomBytes(32))
    assert.deepEqual(
      [...r.read(writer, doc)].map((x) => x.text),
      ['in epoch 1'],
    )
    await reader.addKey(owner.self, 2, owner.key(owner.self, 2)!)
    assert.deepEqual([...r.read(writer, doc)].map((x) => x.text).sort(), ['in epoch 1', 'in epoch 2'])
  })

  it('hints name no one: each writer’s hint for the same owner differs, and none is a key', async () => {
    const owner = await engine()
    const keys = reactionKeys(owner.key(owner.self, 1)!, owner.self, 1)
    const a = (await engine()).self
    const b = (await engine()).self
    assert.notDeepEqual(reactionHint(keys, a), reactionHint(keys, b))
    assert.deepEqual(reactionHint(keys, a), reactionHint(keys, a))
    const fresh = reactionKeys(randomBytes(32), owner.self, 1)
    assert.notDeepEqual(reactionHint(fresh, a), reactionHint(keys, a), 'another key, another hint')
  })
})
