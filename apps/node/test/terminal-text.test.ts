/**
 * What a peer writes never drives the reader's terminal: Bob (a real `jiayi start` process) sends
 * Alice a message, a post and a comment full of escape sequences (OSC title, clear screen, a
 * carriage return that rewrites the line, an 8-bit CSI, bidi overrides and isolates), and every
 * `jiayi` view Alice runs (messages, chat, feed) prints the words without a single control
 * character; with --json the text comes back exact, its risky characters as \u escapes.
 *
 * Names with escapes cannot reach a CLI any more (cards and names we set refuse them; see
 * packages/core/test/display-names.test.ts), so the views' handling of names is checked on the
 * formatting functions themselves.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { ContactView, MessageView } from '@jiayi/core'
import { shownLine, shownText } from '../src/cli/terminal-text.js'
import { formatContacts, formatMessage } from '../src/commands/format.js'
import { cleanup, eventually, jiayi } from './helpers/cli.js'
import { befriend, TestPeer } from './helpers/peers.js'

const HOSTILE =
  'hi \u001b]0;owned\u0007\u001b[2J\rBank: pay now\u009b31m \u202eevil\u202c \u2066iso\u2069 \u200fmark\u0000\u007f\nline two\tend'

// Everything a terminal acts on, except the newline and tab a multi-line view keeps.
const TERMINAL_CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u

function assertInert(output: string, what: string): void {
  const found = TERMINAL_CONTROL.exec(output)
  assert.equal(found, null, `${what} printed U+${found?.[0].codePointAt(0)?.toString(16).padStart(4, '0')}`)
}

let alice: TestPeer
let bob: TestPeer
let bobAtAlice: string

describe('peers’ text on the terminal', () => {
  before(async () => {
    ;[alice, bob] = await Promise.all([TestPeer.create('Alice'), TestPeer.create('Bob')])
    const { bAtA, aAtB } = await befriend(alice, bob)
    bobAtAlice = bAtA
    await bob.control.call('send', { contact: aAtB, text: HOSTILE })
    const post = await bob.control.call<{ id: string }>('post', { text: HOSTILE })
    await bob.control.call('comment', { postId: post.id, text: HOSTILE })
    await eventually(
      async () =>
        (await alice.control.messages(bobAtAlice)).some((m) => m.text === HOSTILE) &&
        (await alice.control.call<{ comments: unknown[] }[]>('timeline')).some((p) => p.comments.length > 0),
      20_000,
      "Bob's message, post and comment at Alice",
    )
  })
  after(async () => {
    await Promise.all([alice?.stop(), bob?.stop()])
    await cleanup()
  })

  test('jiayi messages shows the words, not the escapes; lines after the first are indented', async () => {
    const r = await jiayi(alice.home, ['messages', bobAtAlice])
    assert.equal(r.code, 0, r.stderr)
    assertInert(r.stdout, 'jiayi messages')
    assert.match(r.stdout, /Bank: pay now/)
    assert.match(r.stdout, /evil/)
    assert.match(r.stdout, /\n {2}line two\tend/, 'the second line cannot pose as a message of its own')
  })

  test('jiayi chat shows the history the same way', async () => {
    const r = await jiayi(alice.home, ['chat', bobAtAlice], { input: '/quit\n' })
    assert.equal(r.code, 0, r.stderr)
    assertInert(r.stdout, 'jiayi chat')
    assert.match(r.stdout, /Bank: pay now/)
  })

  test('jiayi feed shows the post and the comment the same way', async () => {
    const r = await jiayi(alice.home, ['feed'])
    assert.equal(r.code, 0, r.stderr)
    assertInert(r.stdout, 'jiayi feed')
    assert.equal(r.stdout.match(/Bank: pay now/g)?.length, 2, 'the post and the comment')
  })

  test('--json keeps the exact text, with what a terminal acts on escaped', async () => {
    const r = await jiayi(alice.home, ['messages', bobAtAlice, '--json'])
    assert.equal(r.code, 0, r.stderr)
    assertInert(r.stdout.trimEnd(), 'jiayi messages --json')
    const list = JSON.parse(r.stdout) as MessageView[]
    assert.equal(list.find((m) => m.direction === 'in')?.text, HOSTILE)
  })
})

describe('names in the views', () => {
  const evil = 'Bob\u001b[2J\r\u202eknaB\n[12:00] Alice'
  const message = {
    id: 'm1',
    direction: 'in',
    text: 'hello',
    status: 'received',
    sentAt: new Date().toISOString(),
  } as unknown as MessageView
  const contact = {
    id: 'c1',
    name: evil,
    state: 'accepted',
    online: true,
    verified: false,
  } as unknown as ContactView

  test('a name is one inert line in a message and in the contact list', () => {
    const line = formatMessage(message, evil)
    assertInert(line, 'formatMessage')
    assert.ok(!line.includes('\n'), 'a name cannot start a new line')
    for (const row of formatContacts([contact])) {
      assertInert(row, 'formatContacts')
      assert.ok(!row.includes('\n'))
    }
  })

  test('shownLine and shownText', () => {
    assert.equal(shownLine('a\u001b[31mb\tc\r\nd\u202e'), 'a[31mb c d')
    assert.equal(shownText('a\u001b[31mb\tc\r\nd\u009b'), 'a[31mb\tc\nd')
  })
})
