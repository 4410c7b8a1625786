/**
 * The labels and broadcast methods over a Messenger-shaped fake: parameters are checked before
 * the Messenger is called, what it is called with, and a LabelError keeps its code and class.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ControlDispatcher, ControlError, LABEL_METHODS, type MessengerApi } from '../src/index.js'

function fakeMessenger() {
  const calls: [string, unknown[]][] = []
  const record =
    (name: string, result: unknown = null) =>
    (...args: unknown[]) => {
      calls.push([name, args])
      if (result instanceof Error) throw result
      return result
    }
  const unknownLabel = Object.assign(new Error('no contact has that label'), {
    code: 'UnknownLabel',
    name: 'LabelError',
  })
  const messenger = {
    labels: record('labels', []),
    addLabel: record('addLabel', { name: 'VIP', contacts: [] }),
    removeLabel: record('removeLabel', { name: 'VIP', contacts: [] }),
    deleteLabel: record('deleteLabel', undefined),
    labelAudience: record('labelAudience', unknownLabel),
    broadcast: (label: string, text: string) => {
      calls.push(['broadcast', [label, text]])
      if (label === 'nobody') throw unknownLabel
      return { label, sent: 2, ids: ['a', 'b'], skipped: [] }
    },
    events: { on: () => () => {} },
  }
  return { messenger: messenger as unknown as MessengerApi & typeof messenger, calls }
}

test('label methods: params are checked, then the Messenger is called', async () => {
  const { messenger, calls } = fakeMessenger()
  const d = new ControlDispatcher(messenger)
  await d.call('addLabel', { label: '客户', contacts: ['bob', 'carol'] })
  assert.deepEqual(calls.at(-1), ['addLabel', ['客户', ['bob', 'carol']]])
  await d.call('removeLabel', { label: '客户', contacts: ['bob'] })
  assert.deepEqual(calls.at(-1), ['removeLabel', ['客户', ['bob']]])
  assert.equal(await d.call('deleteLabel', { label: '客户' }), null)
  assert.deepEqual(await d.call('broadcast', { label: 'VIP', text: 'hi' }), {
    label: 'VIP',
    sent: 2,
    ids: ['a', 'b'],
    skipped: [],
  })
  const before = calls.length
  const rejects = (method: string, params: Record<string, unknown>) =>
    assert.rejects(d.call(method, params), (e: unknown) => ControlError.is(e) && e.code === 'BadParams')
  await rejects('addLabel', { label: 'VIP', contacts: 'bob' })
  await rejects('addLabel', { label: 'VIP', contacts: [''] })
  await rejects('addLabel', { contacts: ['bob'] })
  await rejects('broadcast', { label: 'VIP', text: '' })
  await rejects('broadcast', { label: 'VIP', text: 'hi', to: ['bob'] })
  assert.equal(calls.length, before, 'a bad request reaches no Messenger method')
  // Every method of the table exists on the Messenger (broadcastFile needs the files layer).
  for (const name of Object.keys(LABEL_METHODS).filter((n) => n !== 'broadcastFile'))
    assert.equal(typeof (messenger as unknown as Record<string, unknown>)[name], 'function', name)
})

test('label methods: a LabelError keeps its code; broadcastFile needs a files layer', async () => {
  const { messenger } = fakeMessenger()
  const d = new ControlDispatcher(messenger)
  const r = await d.handle({ id: 1, method: 'broadcast', params: { label: 'nobody', text: 'hi' } })
  assert.deepEqual(r, {
    id: 1,
    error: { code: 'UnknownLabel', message: 'no contact has that label', type: 'LabelError' },
  })
  const f = await d.handle({ id: 2, method: 'broadcastFile', params: { label: 'VIP', source: '/x' } })
  assert.equal((f as { error: { code: string } }).error.code, 'Unsupported')
})
