/**
 * @jiayi/api in process, against fakes: the typed client over a ControlSession (localClient),
 * notifications that carry an `id` of their own, opaque file sources, Moments posts with
 * attachments (handed to the feed as sources to open; what the feed calls a picture kept out of
 * the chat), message routes, and 'Unsupported' for what a host does not offer.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { Emitter } from '@jiayi/core'
import type { NewAttachment } from '@jiayi/feed'
import {
  ApiCallError,
  ControlDispatcher,
  type FeedApi,
  type FileHost,
  isNotification,
  isResponse,
  localClient,
  type MessengerApi,
} from '../src/index.js'

/** The real emitter the Messenger and Feed use, untyped for the fakes below. */
const emitter = () => new Emitter<Record<string, unknown>>()

const CONTACTS = [
  { id: 'c1', name: 'Bob', peerId: 'p1', state: 'accepted' },
  { id: 'c2', name: 'Carol', peerId: 'p2', state: 'accepted' },
  { id: 'c3', name: 'Dan', peerId: 'p3', state: 'pending-in' },
]

function fakeMessenger(messages: Record<string, unknown>[] = []) {
  const events = emitter()
  const m = {
    events,
    whoami: () => ({ name: 'Alice', identityKey: '00', peerId: 'p0' }),
    contactList: () => CONTACTS,
    contact: (ref: string) => {
      const c = CONTACTS.find((x) => x.id === ref || x.name === ref)
      if (!c) throw Object.assign(new Error('no contact'), { name: 'MessengerError', code: 'UnknownContact' })
      return c
    },
    messages: async () => messages,
    unreadCount: async () => 2,
    send: async (contact: string, text: string) => ({ id: 'm9', contactId: contact, text, status: 'queued' }),
    conversationOf: (ref: string) => {
      const c = CONTACTS.find((x) => x.id === ref || x.name === ref)
      if (!c) throw Object.assign(new Error('no contact'), { name: 'MessengerError', code: 'UnknownContact' })
      return { kind: 'contact', id: c.id, name: c.name }
    },
  }
  return m as unknown as MessengerApi & typeof m
}

test('notifications may carry an id of their own (a contact event) and are still notifications', () => {
  const contact = { event: 'contact', id: 'c1', change: 'update', contact: { id: 'c1' } }
  assert.equal(isNotification(contact), true)
  assert.equal(isResponse(contact), false)
  assert.equal(isNotification({ id: 1, result: null }), false)
  assert.equal(isNotification({ id: 1, error: { code: 'x' } }), false)
})

test('localClient: typed calls through JSON and the same checks; events arrive; errors keep their code', async () => {
  const messenger = fakeMessenger()
  const client = localClient(new ControlDispatcher(messenger))
  try {
    const me = await client.call('whoami')
    assert.equal(me.name, 'Alice')
    const sent = await client.call('send', { contact: 'c1', text: 'hi' })
    assert.equal(sent.status, 'queued')
    await assert.rejects(client.call('send', { contact: 'c1', text: 5 } as never), (e: unknown) =>
      ApiCallError.is(e, 'BadParams'),
    )
    await assert.rejects(client.call('contact', { contact: 'nobody' }), (e: unknown) =>
      ApiCallError.is(e, 'UnknownContact'),
    )
    await assert.rejects(client.call('timeline'), (e: unknown) => ApiCallError.is(e, 'Unsupported'))
    const got: unknown[] = []
    client.on('contact', (e) => got.push(e))
    await new Promise((r) => setTimeout(r, 10))
    messenger.events.emit('contact', { id: 'c1', change: 'update', contact: CONTACTS[0] })
    await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(got, [{ id: 'c1', change: 'update', contact: CONTACTS[0] }])
  } finally {
    client.close()
  }
})

function memorySource(bytes: Uint8Array, name: string) {
  let closed = false
  return {
    name,
    mime: 'image/png',
    size: bytes.length,
    async read(offset: number, length: number) {
      assert.equal(closed, false)
      return bytes.slice(offset, offset + length)
    },
    async close() {
      closed = true
    },
  }
}

test('files: sendFile resolves its opaque source through the host; unknown handles are the host’s to refuse', async () => {
  const bytes = new Uint8Array([1, 2, 3])
  const offered: unknown[] = []
  const files: FileHost = {
    files: {
      sendFile: async (contact, source, options) => {
        offered.push({ contact, name: source.name, size: source.size, options })
        return { id: 't1' } as never
      },
      files: () => [],
      transfer: () => undefined,
      transfers: () => [],
      cancel: async () => ({}) as never,
      forward: async (id, contact) => {
        if (id !== 't1')
          throw Object.assign(new Error('this peer does not keep that file'), {
            name: 'FileError',
            code: 'SourceGone',
          })
        return { id: 't2', contact } as never
      },
    },
    openSource: async (handle) => {
      if (handle !== 'upload-1')
        throw Object.assign(new Error('no such upload'), { name: 'FileError', code: 'SourceGone' })
      return memorySource(bytes, 'pic.png')
    },
  }
  const d = new ControlDispatcher(fakeMessenger(), { files })
  assert.deepEqual(
    await d.call('sendFile', {
      contact: 'c1',
      source: 'upload-1',
      kind: 'voice',
      mime: 'audio/webm',
      voice: { durationMs: 1200, waveform: [0, 128, 255] },
    }),
    { id: 't1' },
  )
  const [o] = offered as { options: { voice: { waveform: Uint8Array } } }[]
  assert.deepEqual([...o!.options.voice.waveform], [0, 128, 255])
  await assert.rejects(d.call('sendFile', { contact: 'c1', source: 'elsewhere' }), /no such upload/)
  await assert.rejects(d.call('sendFile', { contact: 'c1', source: 'upload-1', kind: 'movie' }), /one of/)
  await assert.rejects(
    d.call('sendFile', { contact: 'c1', source: 'upload-1', voice: { durationMs: 1, waveform: [256] } }),
    /integer from 0 to 255/,
  )
  assert.ok(d.methods.includes('sendFile'))
  assert.ok(!new ControlDispatcher(fakeMessenger()).methods.includes('sendFile'))
  // forwardFile: the files layer's own errors keep their code, so a UI can say why.
  assert.deepEqual(await d.call('forwardFile', { id: 't1', contact: 'c2' }), { id: 't2', contact: 'c2' })
  await assert.rejects(d.call('forwardFile', { id: 'gone', contact: 'c2' }), { code: 'SourceGone' })
  await assert.rejects(d.call('forwardFile', { id: 't1' }), /contact/)
})

test('moments: post hands the feed each attachment to open from the host; chats leave out what the feed calls a picture', async () => {
  const bytes = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => i % 251)
  const hex = createHash('sha256').update(bytes).digest('hex')
  const opened: string[] = []
  const posted: { text: string; links: unknown; attachments: NewAttachment[] }[] = []
  const feed = {
    events: emitter(),
    timeline: () => [],
    get: () => undefined,
    post: async (input: (typeof posted)[number]) => {
      posted.push(input)
      return { id: 'p1' }
    },
    // The feed's rule (which file messages belong to Moments), as a fake.
    isAttachmentMessage: (m: { extension?: { data?: { sha256?: string } } }) =>
      m.extension?.data?.sha256 === hex,
  } as unknown as FeedApi
  const files: FileHost = {
    files: {
      sendFile: async () => ({}) as never,
      files: () => [],
      transfer: () => undefined,
      transfers: () => [],
      cancel: async () => ({}) as never,
      forward: async () => ({}) as never,
    },
    openSource: async (handle) => {
      opened.push(handle)
      return memorySource(bytes, 'shop.png')
    },
  }
  const picture = {
    id: 'm1',
    contactId: 'c1',
    direction: 'in',
    text: '🖼',
    extension: { kind: 'file-offer', data: { sha256: hex } },
  }
  const chat = { id: 'm2', contactId: 'c1', direction: 'in', text: 'hello', sentAt: '2026-01-01T00:00:01Z' }
  const d = new ControlDispatcher(fakeMessenger([chat, picture]), { files, feed })
  await d.call('post', {
    text: 'new shop',
    links: ['https://example.com'],
    attachments: [
      { source: 'u1', mime: 'image/png' },
      { source: 'u2', name: 'menu.pdf' },
    ],
  })
  const [input] = posted
  assert.equal(input?.text, 'new shop')
  assert.deepEqual(input?.links, ['https://example.com'])
  assert.deepEqual(
    input?.attachments.map((a) => [a.name, a.type]),
    [
      [undefined, 'image/png'],
      ['menu.pdf', undefined],
    ],
  )
  assert.deepEqual(opened, [], 'the feed opens the sources when it needs them')
  const source = await input!.attachments[1]!.open()
  assert.equal(source.size, bytes.length)
  assert.deepEqual(opened, ['u2'])

  assert.deepEqual(await d.call('messages', { contact: 'c1' }), [chat])
  const chats = (await d.call('chats')) as {
    contact: { id: string }
    last: { id: string } | null
    unread: number
  }[]
  assert.deepEqual(
    chats.map((c) => [c.contact.id, c.last?.id ?? null]),
    [
      ['c1', 'm2'],
      ['c2', 'm2'],
      ['c3', null],
    ],
  )
  await assert.rejects(
    d.call('post', { text: 'x', attachments: new Array(10).fill({ source: 'u' }) }),
    /more than 9/,
  )
  const noFiles = new ControlDispatcher(fakeMessenger(), { feed })
  await assert.rejects(noFiles.call('post', { text: 'x', attachments: [{ source: 'u1' }] }), {
    code: 'Unsupported',
  })
})

test('routes: messages carry the route the Messenger recorded; connection describes the link', async () => {
  const messenger = fakeMessenger()
  const d = new ControlDispatcher(messenger, {
    connection: (peerId) =>
      peerId === 'p1'
        ? {
            route: 'lan',
            transport: 'tcp',
            limited: false,
            direction: 'outbound',
            remoteAddr: '/ip4/10.0.0.2/tcp/1',
          }
        : undefined,
  })
  const seen: unknown[] = []
  const off = d.subscribe(['message'], (n) => seen.push(n))
  messenger.events.emit('message', {
    contactId: 'c1',
    change: 'update',
    message: { id: 'm1', direction: 'out', status: 'sent', route: 'lan' },
  })
  messenger.events.emit('message', {
    contactId: 'c2',
    change: 'new',
    message: { id: 'm2', direction: 'in', status: 'received' },
  })
  off()
  assert.deepEqual(
    seen.map((n) => (n as { message: { route?: string } }).message.route),
    ['lan', undefined],
  )
  assert.deepEqual(await d.call('connection', { contact: 'Bob' }), {
    route: 'lan',
    transport: 'tcp',
    limited: false,
    direction: 'outbound',
    remoteAddr: '/ip4/10.0.0.2/tcp/1',
  })
  assert.equal(await d.call('connection', { contact: 'Carol' }), null)
})
