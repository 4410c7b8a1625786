/** The README's code examples run and print what the README says they print. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { it } from 'node:test'

it('examples/core-session.ts: Bob reads what Alice sent', () => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--import', './polyfill.mjs', 'examples/core-session.ts'],
    {
      encoding: 'utf8',
    },
  )
  assert.equal(out.trim(), 'Bob 小明 reads: 你好, Bob!')
})
