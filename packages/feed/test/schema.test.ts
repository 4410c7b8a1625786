/** What a post may hold, how a hostile doc is read, and link previews made by the poster. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as Y from 'yjs'
import { newItemId } from '../src/ids.js'
import { extractPreview, limits, type PostId } from '../src/index.js'
import { checkPostInput, postsOf, reactionsOf, readPosts, readReactions, writePost } from '../src/schema.js'
import { buildTimeline } from '../src/timeline.js'

const me = { id: '0011223344556677' as never, name: 'Me', me: true }

describe('feed schema', () => {
  it('post text: up to 5,000 characters (code points, so emoji count once)', () => {
    assert.equal(checkPostInput({ text: 'a'.repeat(5000) }).text.length, 5000)
    assert.equal([...checkPostInput({ text: '🙂'.repeat(5000) }).text].length, 5000)
    assert.throws(() => checkPostInput({ text: 'a'.repeat(5001) }), { code: 'BadInput' })
    assert.throws(() => checkPostInput({ text: '   ' }), { code: 'BadInput' })
    assert.throws(() => checkPostInput({ text: '\uD800 lone surrogate' }), { code: 'BadInput' })
    // A post of only a link needs no text.
    assert.equal(checkPostInput({ text: '', links: ['https://example.com'] }).links.length, 1)
  })

  it('links: http(s) only, bounded previews with small images', () => {
    const image = { type: 'image/png', bytes: new Uint8Array(100) }
    const ok = checkPostInput({
      text: 'x',
      links: [{ url: 'https://example.com/a', title: 'T', description: 'D', image }],
    })
    assert.equal(ok.links[0]!.image!.bytes.length, 100)
    for (const url of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'not a url',
      `https://e.com/${'a'.repeat(3000)}`,
    ]) {
      assert.throws(() => checkPostInput({ text: 'x', links: [url] }), { code: 'BadInput' }, url)
    }
    const big = { type: 'image/png', bytes: new Uint8Array(limits.MAX_PREVIEW_IMAGE_BYTES + 1) }
    assert.throws(() => checkPostInput({ text: 'x', links: [{ url: 'https://e.com', image: big }] }), {
      code: 'BadInput',
    })
    const svg = { type: 'image/svg+xml', bytes: new Uint8Array(10) }
    assert.throws(() => checkPostInput({ text: 'x', links: [{ url: 'https://e.com', image: svg }] }), {
      code: 'BadInput',
    })
    assert.throws(
      () => checkPostInput({ text: 'x', links: Array(limits.MAX_LINKS + 1).fill('https://e.com') }),
      {
        code: 'BadInput',
      },
    )
    assert.throws(
      () =>
        checkPostInput({
          text: 'x',
          links: [{ url: 'https://e.com', title: 't'.repeat(limits.MAX_TITLE_CHARS + 1) }],
        }),
      { code: 'BadInput' },
    )
  })

  it('reading skips whatever a hostile owner wrote that does not fit', () => {
    const doc = new Y.Doc()
    const good = newItemId<PostId>()
    writePost(doc, good, { text: 'fine', links: [], attachments: [], createdAt: 5 })
    const posts = postsOf(doc)
    posts.set(newItemId(), { text: 'x'.repeat(5001), links: [], attachments: [], createdAt: 1 })
    posts.set(newItemId(), { text: 'no time', links: [], attachments: [] })
    posts.set(newItemId(), {
      text: 'bad link',
      links: [{ url: 'javascript:x' }],
      attachments: [],
      createdAt: 1,
    })
    posts.set('not-an-id', { text: 'bad id', links: [], attachments: [], createdAt: 1 })
    posts.set(newItemId(), 'a string')
    posts.set(newItemId(), new Y.Map())
    const reactions = reactionsOf(doc)
    reactions.set('garbage', { hint: new Uint8Array(16), box: new Uint8Array(60) })
    reactions.set(newItemId(), { hint: new Uint8Array(15), box: new Uint8Array(60) })
    reactions.set(newItemId(), { hint: new Uint8Array(16), box: 'not bytes' })
    reactions.set(newItemId(), {
      hint: new Uint8Array(16),
      box: new Uint8Array(limits.MAX_REACTION_BOX_BYTES + 1),
    })
    reactions.set(newItemId(), 'a string')
    reactions.set(newItemId(), null)
    // Only the shape is checked here; whether it opens is reactions.ts's question.
    const shaped = newItemId()
    reactions.set(shaped, { hint: new Uint8Array(16), box: new Uint8Array(60) })
    assert.deepEqual(
      [...readPosts(doc)].map(([id]) => id),
      [good],
    )
    assert.deepEqual(
      [...readReactions(doc)].map(([id]) => id),
      [shaped],
    )
    const timeline = buildTimeline([{ feed: 'b'.repeat(64) as never, doc, author: me }])
    assert.deepEqual(
      timeline.map((p) => p.text),
      ['fine'],
    )
    // A doc whose 'posts' root is not even a map does not take the timeline down.
    const weird = new Y.Doc()
    weird.getArray('posts').push([1, 2, 3])
    assert.deepEqual(buildTimeline([{ feed: 'c'.repeat(64) as never, doc: weird, author: me }]), [])
  })

  it('link previews come from the page the poster fetched (Open Graph first)', () => {
    const html = `<!doctype html><html><head>
      <title>Fallback &amp; title</title>
      <meta name="description" content="plain description">
      <meta property="og:title" content="加一 &#x2014; news">
      <meta property='og:image' content='/img/cover.png'>
      <meta property="og:description" content="The &quot;real&quot; description">
      </head><body>…</body></html>`
    assert.deepEqual(extractPreview(html, 'https://jiayi.example/post/1'), {
      title: '加一 — news',
      description: 'The "real" description',
      imageUrl: 'https://jiayi.example/img/cover.png',
    })
    assert.deepEqual(extractPreview('<title> Just a title </title>', 'https://e.com'), {
      title: 'Just a title',
    })
    assert.deepEqual(
      extractPreview('<meta property="og:image" content="javascript:alert(1)">', 'https://e.com'),
      {},
    )
    const long = extractPreview(`<title>${'长'.repeat(500)}</title>`, 'https://e.com').title!
    assert.equal([...long].length, limits.MAX_TITLE_CHARS)
  })
})
