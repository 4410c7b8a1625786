/**
 * The transport-independent control protocol, in process against a fake Messenger: request
 * parsing, parameter checks, error bodies and subscriptions.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ControlDispatcher,
  ControlError,
  ControlSession,
  MESSENGER_METHODS,
  type MessengerApi,
  parseRequest,
} from '../src/index.js'

type Handler = (event: unknown) => void

function fakeMessenger() {
  const calls: [string, unknown[]][] = []
  const handlers = new Map<string, Set<Handler>>()
  const record =
    (name: string, result: unknown = null) =>
    (...args: unknown[]) => {
      calls.push([name, args])
      if (result instanceof Error) throw result
      return result
    }
  const unknown = Object.assign(new Error('no contact matches "x"'), {
    code: 'UnknownContact',
    name: 'MessengerError',
  })
  const messenger = {
    whoami: record('whoami', { name: 'A', identityKey: '00', peerId: 'p' }),
    card: record('card', { link: 'jiayi:add/X', qr: 'JIAYI:ADD/X', name: 'A', peerId: 'p', addrs: [] }),
    stats: record('stats', { contacts: 0, refusedTotal: 0, refused: {} }),
    contactList: record('contactList', []),
    contact: (ref: string) => {
      calls.push(['contact', [ref]])
      if (ref === 'x') throw unknown
      return { id: ref }
    },
    addContact: record('addContact', { id: 'c' }),
    accept: record('accept', { id: 'c' }),
    reject: record('reject', undefined),
    send: record('send', { id: 'm', status: 'queued' }),
    // Every name here is a contact's (groups have their own test: groups-network, groups-cli).
    conversationOf: (ref: string) => ({ kind: 'contact', id: ref, name: ref }),
    messages: record('messages', []),
    message: record('message', undefined),
    markRead: record('markRead', undefined),
    unreadCount: record('unreadCount', 0),
    react: record('react', {}),
    edit: record('edit', {}),
    deleteMessage: record('deleteMessage', {}),
    setTyping: record('setTyping', undefined),
    verify: record('verify', { safetyNumber: '1', verified: false }),
    safetyNumberCode: record('safetyNumberCode', 'ab'),
    setRemark: record('setRemark', { id: 'c' }),
    search: record('search', []),
    // No picture is undefined, as the Messenger answers (record's default is null).
    profilePicture: (...args: unknown[]) => void calls.push(['profilePicture', args]),
    setProfilePicture: (...args: unknown[]) => void calls.push(['setProfilePicture', args]),
    contactPicture: (...args: unknown[]) => void calls.push(['contactPicture', args]),
    outboxSize: record('outboxSize', 0),
    settled: record('settled', undefined),
    homeNode: record('homeNode', null),
    addHomeNode: record('addHomeNode', { peerId: 'h', addrs: [] }),
    devices: record('devices', []),
    linkDevice: record('linkDevice', { link: 'jiayi:link/X', qr: 'JIAYI:LINK/X', expiresAt: '', code: null }),
    linkStatus: record('linkStatus', { state: 'waiting', seq: 0 }),
    confirmLink: record('confirmLink', { state: 'waiting', seq: 0 }),
    removeDevice: record('removeDevice', []),
    crash: record('crash', new TypeError('secret text here')),
    events: {
      on(type: string, h: Handler) {
        let set = handlers.get(type)
        if (!set) {
          set = new Set()
          handlers.set(type, set)
        }
        set.add(h)
        return () => set.delete(h)
      },
      emit(type: string, e: unknown) {
        for (const h of handlers.get(type) ?? []) h(e)
      },
    },
  }
  return { messenger: messenger as unknown as MessengerApi & typeof messenger, calls, handlers }
}

test('parseRequest: ids, methods and params are checked; bad JSON is never echoed', () => {
  assert.deepEqual(parseRequest('{"id":1,"method":"whoami"}'), { id: 1, method: 'whoami' })
  assert.deepEqual(parseRequest('{"id":"a","method":"send","params":{"contact":"b"}}'), {
    id: 'a',
    method: 'send',
    params: { contact: 'b' },
  })
  for (const bad of [
    'private words',
    '[]',
    'null',
    '{"method":"x"}',
    '{"id":1.5,"method":"x"}',
    '{"id":1}',
  ]) {
    const r = parseRequest(bad)
    assert.ok('reject' in r, bad)
    assert.doesNotMatch(JSON.stringify(r), /private words/)
  }
  const params = parseRequest('{"id":2,"method":"x","params":[1]}')
  assert.ok('reject' in params && 'error' in params.reject && params.reject.error.code === 'BadParams')
})

test('dispatcher: every method checks its params and calls the Messenger', async () => {
  const { messenger, calls } = fakeMessenger()
  const d = new ControlDispatcher(messenger)
  assert.deepEqual(await d.call('send', { contact: 'bob', text: 'hi' }), { id: 'm', status: 'queued' })
  assert.deepEqual(calls.at(-1), ['send', ['bob', 'hi', {}]])
  await d.call('messages', { contact: 'bob', limit: 5, peek: true })
  assert.deepEqual(calls.at(-1), ['messages', ['bob', { limit: 5, peek: true }]])
  await d.call('verify', { contact: 'bob' })
  assert.deepEqual(calls.at(-1), ['verify', ['bob', false]])
  await d.call('search', { query: '绿茶 ship', contact: 'bob', limit: 5 })
  assert.deepEqual(calls.at(-1), ['search', ['绿茶 ship', { contact: 'bob', limit: 5 }]])
  assert.equal(await d.call('profilePicture', {}), null, 'no picture travels as null')
  assert.equal(await d.call('reject', { contact: 'bob' }), null, 'undefined travels as null')

  const rejects = async (method: string, params: Record<string, unknown> | undefined, code: string) => {
    await assert.rejects(d.call(method, params), (e: unknown) => ControlError.is(e) && e.code === code)
  }
  await rejects('nope', {}, 'UnknownMethod')
  await rejects('toString', {}, 'UnknownMethod')
  await rejects('__proto__', {}, 'UnknownMethod')
  await rejects('send', { contact: 'bob' }, 'BadParams')
  await rejects('send', { contact: 'bob', text: 5 }, 'BadParams')
  await rejects('send', { contact: 'bob', text: 'x', more: 1 }, 'BadParams')
  await rejects('messages', { contact: 'bob', limit: 0 }, 'BadParams')
  await rejects('messages', { contact: 'bob', limit: 1.5 }, 'BadParams')
  await rejects('setTyping', { contact: 'bob', active: 'yes' }, 'BadParams')
  await rejects('whoami', { extra: true }, 'BadParams')
  await rejects('search', { query: '' }, 'BadParams')
  await rejects('setProfilePicture', { mime: 'image/svg+xml', data: 'AAAA' }, 'BadParams')
  await rejects('setProfilePicture', { mime: 'image/png' }, 'BadParams')
  await d.call('linkDevice', { ttlMs: 1_000 })
  assert.deepEqual(calls.at(-1), ['linkDevice', [1_000]])
  await rejects('linkDevice', { ttlMs: 10 * 60_000 }, 'BadParams')
  await d.call('confirmLink', { code: '123456' })
  assert.deepEqual(calls.at(-1), ['confirmLink', ['123456']])
  await rejects('removeDevice', {}, 'BadParams')
  // Every Messenger method in the table exists on the Messenger-shaped fake (and the real class, by type).
  for (const name of Object.keys(MESSENGER_METHODS).filter((n) => n !== 'chats' && n !== 'connection'))
    assert.equal(typeof (messenger as unknown as Record<string, unknown>)[name], 'function', name)
})

test('dispatcher: Messenger errors keep their code; unexpected ones become Internal without their message', async () => {
  const { messenger } = fakeMessenger()
  const d = new ControlDispatcher(messenger)
  const r = await d.handle({ id: 1, method: 'contact', params: { contact: 'x' } })
  assert.deepEqual(r, {
    id: 1,
    error: { code: 'UnknownContact', message: 'no contact matches "x"', type: 'MessengerError' },
  })
  const body = d.errorBody('send', new TypeError('secret text here'))
  assert.equal(body.code, 'Internal')
  assert.doesNotMatch(JSON.stringify(body), /secret/)
})

test('session: subscribe forwards events until unsubscribe or close', async () => {
  const { messenger, handlers } = fakeMessenger()
  const sent: unknown[] = []
  const session = new ControlSession(new ControlDispatcher(messenger), (m) => sent.push(m))
  await session.receive('{"id":1,"method":"subscribe","params":{"events":["message"]}}')
  assert.deepEqual(sent.shift(), { id: 1, result: { events: ['message'] } })
  messenger.events.emit('message', { contactId: 'c', change: 'new', message: { id: 'm' } })
  messenger.events.emit('typing', { contactId: 'c', active: true })
  assert.deepEqual(sent.splice(0), [
    { event: 'message', contactId: 'c', change: 'new', message: { id: 'm' } },
  ])
  await session.receive('{"id":2,"method":"subscribe","params":{"events":["bogus"]}}')
  assert.equal((sent.shift() as { error: { code: string } }).error.code, 'BadParams')
  await session.receive('{"id":3,"method":"subscribe"}')
  assert.deepEqual(sent.shift(), {
    id: 3,
    result: { events: ['message', 'contact', 'typing', 'read', 'group', 'group-message', 'reach'] },
  })
  const reach = { nat: 'public', relays: [], mapped: ['/ip4/203.0.113.7/tcp/4101'], homeNode: null }
  messenger.events.emit('reach', reach)
  assert.deepEqual(sent.splice(0), [{ event: 'reach', reach }])
  session.close()
  messenger.events.emit('typing', { contactId: 'c', active: true })
  assert.deepEqual(sent, [])
  assert.equal(
    [...handlers.values()].reduce((n, s) => n + s.size, 0),
    0,
    'no listener left behind',
  )
})
