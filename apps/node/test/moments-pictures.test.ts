/**
 * Pictures of Moments posts between `jiayi start` processes on 127.0.0.1: a contact accepted
 * after the post still gets its picture (forwarded from the file the poster sent), it stays out
 * of the chat at both ends (no message, nothing unread: the offer says it is a post's attachment),
 * and a restart of the poster offers nothing twice.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { cleanup, eventually, tempHome } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

interface Transfer {
  id: string
  direction: 'in' | 'out'
  contactId: string
  sha256: string
  status: string
  path: string | null
  purpose?: string
}
interface Post {
  id: string
  text: string
  attachments: { ref: string; name: string; type: string }[]
}

let alice: TestPeer
let bob: TestPeer
let chloe: TestPeer | undefined

before(async () => {
  ;[alice, bob] = await Promise.all([TestPeer.create('Alice'), TestPeer.create('Bob')])
})

after(async () => {
  const codes = await Promise.all([alice?.stop(), bob?.stop(), chloe?.stop()])
  await cleanup()
  assert.deepEqual(codes, [0, 0, 0], 'the peers shut down cleanly')
})

const transfers = (p: TestPeer) => p.control.call<Transfer[]>('transfers')
const withSha = (list: Transfer[], sha: string, direction: 'in' | 'out') =>
  list.filter((t) => t.sha256 === sha && t.direction === direction)

test('a contact accepted after a post gets its picture; nothing is offered twice', {
  timeout: 90_000,
}, async () => {
  await befriend(alice, bob)
  // A picture: PNG signature + random bytes (nothing decodes it; type and hash are what matter).
  const picture = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(300_000)])
  const sha = createHash('sha256').update(picture).digest('hex')
  const path = join(await tempHome(), '茶园.png')
  await writeFile(path, picture)
  const post = await alice.control.call<Post>('post', {
    text: 'New tea from the garden 新茶',
    attachments: [{ source: path }],
  })
  assert.equal(post.attachments[0]?.ref, `sha256:${sha}`)
  await eventually(
    async () => withSha(await transfers(bob), sha, 'in')[0]?.status === 'complete',
    20_000,
    'Bob has the picture',
  )
  // Not a chat message, and nothing unread, at either end.
  const aliceAtBob = withSha(await transfers(bob), sha, 'in')[0]!.contactId
  const bobAtAlice = withSha(await transfers(alice), sha, 'out')[0]!.contactId
  assert.equal(withSha(await transfers(bob), sha, 'in')[0]!.purpose, 'post-attachment')
  assert.equal(
    await bob.control.call<number>('unreadCount', { contact: aliceAtBob }),
    0,
    'nothing unread at Bob',
  )
  const chats = await bob.control.call<{ contact: { id: string }; unread: number; last: unknown }[]>('chats')
  assert.deepEqual(
    chats.filter((c) => c.contact.id === aliceAtBob).map((c) => [c.unread, c.last]),
    [[0, null]],
    "no unread and no last message in Bob's chat list",
  )
  assert.deepEqual(await bob.control.messages(aliceAtBob, { peek: true }), [], 'no message at Bob')
  assert.deepEqual(await alice.control.messages(bobAtAlice, { peek: true }), [], 'no message at Alice')

  // Chloé arrives later: she sees the post, and its picture follows.
  chloe = await TestPeer.create('Chloé')
  const { bAtA: aliceAtChloe } = await befriend(chloe, alice)
  await eventually(
    async () => (await chloe!.control.call<Post[]>('timeline', {})).some((p) => p.id === post.id),
    20_000,
    'Chloé sees the post',
  )
  const got = await eventually(
    async () => withSha(await transfers(chloe!), sha, 'in').find((t) => t.status === 'complete'),
    20_000,
    'Chloé has the picture',
  )
  assert.equal(got.contactId, aliceAtChloe)
  assert.ok(got.path !== null)
  const stored = createHash('sha256')
    .update(await readFile(got.path!))
    .digest('hex')
  assert.equal(stored, sha, 'the file Chloé holds is the picture')
  // A Moments picture is not something said in the chat.
  const chat = await chloe.control.messages(aliceAtChloe)
  assert.deepEqual(
    chat.filter((m) => (m as { extension?: { kind: string } }).extension?.kind === 'file-offer'),
    [],
  )

  // Alice restarts: her start-up pass finds every contact already offered the picture.
  const codes = await alice.stop()
  assert.equal(codes, 0)
  await alice.restart()
  await eventually(async () => (await alice.contact(chloe!.peerId))?.online === true, 20_000, 'reconnected')
  await new Promise((r) => setTimeout(r, 1_500))
  const offered = withSha(await transfers(alice), sha, 'out')
  assert.equal(offered.length, 2, 'one offer to Bob and one to Chloé')
  assert.deepEqual(new Set(offered.map((t) => t.contactId)).size, 2)
  assert.equal(withSha(await transfers(bob), sha, 'in').length, 1)
  assert.equal(withSha(await transfers(chloe), sha, 'in').length, 1)
})
