/**
 * The commands jiayi suggests (`start one with: …`, `Next: …`) keep the home the user is using,
 * so that they run as printed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultHome, jiayiCommand } from '../src/cli/home.js'

test('a suggested command names --home unless jiayi finds that home by itself', () => {
  const env = { HOME: '/home/me', XDG_DATA_HOME: '/home/me/.local/share' }
  assert.equal(jiayiCommand(defaultHome(env, 'linux', '/home/me'), 'start', env), 'jiayi start')
  assert.equal(jiayiCommand('/tmp/alice', 'start', env), 'jiayi --home /tmp/alice start')
  assert.equal(jiayiCommand('/tmp/a b/it’s', 'card', env), `jiayi --home '/tmp/a b/it’s' card`)
  assert.equal(jiayiCommand("/tmp/o'k", 'card', env), `jiayi --home '/tmp/o'\\''k' card`)
  // $JIAYI_HOME is found by itself, as the default is.
  assert.equal(jiayiCommand('/srv/jiayi', 'start', { ...env, JIAYI_HOME: '/srv/jiayi' }), 'jiayi start')
})
