/**
 * `jiayi post`, `feed`, `like`, `unlike`, `comment` and `delete-post` between two `jiayi start`
 * processes on 127.0.0.1, with the --json shapes of the moments issue.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { cleanup, eventually, jiayi, jiayiJson, LOOPBACK, PeerProcess, tempHome } from './helpers/cli.js'

interface Author {
  id: string
  name: string
}
interface Post {
  id: string
  author: Author
  text: string
  links: { url: string }[]
  createdAt: string
  likes: { author: Author }[]
  comments: { id: string; author: Author; text: string; createdAt: string }[]
}
interface Contact {
  id: string
  state: string
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
  const bobCard = await jiayiJson<{ link: string }>(hb, ['card'])
  await jiayiJson(ha, ['add', bobCard.link])
  const request = await eventually(async () => (await jiayiJson<Contact[]>(hb, ['contacts']))[0], 15_000)
  await jiayiJson(hb, ['accept', request.id])
  await eventually(
    async () => (await jiayiJson<Contact[]>(ha, ['contacts']))[0]?.state === 'accepted',
    15_000,
  )
})

after(async () => {
  const codes = await Promise.all([alice?.stop('SIGTERM'), bob?.stop('SIGTERM')])
  await cleanup()
  assert.deepEqual(codes, [0, 0], 'both peers shut down cleanly')
})

test('post → {id}; the contact’s feed shows it; like, comment, unlike and delete-post', async () => {
  const made = await jiayiJson<{ id: string }>(ha, [
    'post',
    'New',
    'jasmine',
    'tea',
    '新茶',
    '--link',
    'https://example.com/tea',
  ])
  assert.deepEqual(Object.keys(made), ['id'])
  assert.match(made.id, /^[0-9a-f]{32}$/)

  const seen = await eventually(async () => {
    const posts = await jiayiJson<Post[]>(hb, ['feed'])
    return posts.find((p) => p.id === made.id)
  }, 15_000)
  assert.equal(seen.text, 'New jasmine tea 新茶')
  assert.equal(seen.author.name, 'Alice')
  assert.deepEqual(
    seen.links.map((l) => l.url),
    ['https://example.com/tea'],
  )
  for (const key of ['id', 'author', 'text', 'links', 'createdAt', 'likes', 'comments'])
    assert.ok(key in seen, `feed --json has "${key}"`)
  // The human form dates a post the way `messages` and `files` do.
  const shown = await jiayi(hb, ['feed'])
  assert.match(shown.stdout, /^Alice · \d{4}-\d\d-\d\d \d\d:\d\d {2}\[[0-9a-f]{32}\]$/m)

  // A post id may be given by its first few hex digits, as with contacts.
  assert.deepEqual(await jiayiJson(hb, ['like', made.id.slice(0, 6)]), { post: made.id, liked: true })
  const other = `${made.id[0] === '0' ? '1' : '0'}${made.id.slice(1, 6)}`
  const none = await jiayi(hb, ['like', other, '--json'])
  assert.equal(none.code, 1)
  assert.equal(JSON.parse(none.stdout).error.code, 'UnknownPost')
  const commented = await jiayiJson<{ id: string; post: string }>(hb, ['comment', made.id, 'How', 'much?'])
  assert.equal(commented.post, made.id)
  const atAlice = await eventually(async () => {
    const [p] = await jiayiJson<Post[]>(ha, ['feed', '--limit', '1'])
    return p?.likes.length === 1 && p.comments.length === 1 ? p : undefined
  }, 15_000)
  assert.equal(atAlice.likes[0]!.author.name, 'Bob')
  assert.equal(atAlice.comments[0]!.text, 'How much?')
  assert.equal(atAlice.comments[0]!.id, commented.id)
  // Search finds posts and comments beside messages: ours marked `me`, a comment naming its post.
  const [hit] = await jiayiJson<Record<string, unknown>[]>(ha, ['search', '新茶'])
  assert.deepEqual(hit, {
    kind: 'post',
    id: made.id,
    contactId: atAlice.author.id,
    text: 'New jasmine tea 新茶',
    sentAt: atAlice.createdAt,
    postId: made.id,
    me: true,
  })
  const found = await jiayi(ha, ['search', 'much'])
  assert.match(
    found.stdout,
    new RegExp(`^\\[[-\\d :]+\\] Bob commented: How much\\? {2}\\(post ${made.id.slice(0, 8)}\\)$`, 'm'),
  )

  assert.deepEqual(await jiayiJson(hb, ['unlike', made.id]), { post: made.id, liked: false })
  await eventually(async () => (await jiayiJson<Post[]>(ha, ['feed']))[0]?.likes.length === 0, 15_000)

  assert.deepEqual(await jiayiJson(ha, ['delete-post', made.id]), { post: made.id, deleted: true })
  await eventually(async () => (await jiayiJson<Post[]>(hb, ['feed'])).length === 0, 15_000)

  // Errors are user errors with the --json error shape.
  const bad = await jiayi(hb, ['like', 'not-a-post-id', '--json'])
  assert.equal(bad.code, 1)
  assert.match(bad.stdout, /"error"/)
  const human = await jiayi(ha, ['feed'])
  assert.equal(human.code, 0)
  assert.match(human.stdout, /Nothing in your moments yet/)
})
