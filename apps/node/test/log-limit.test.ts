/**
 * The log never floods: the same line at most SAME_LINE_MAX times a window, then one line with
 * the count; written to a real file in a temp home.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { LineLimiter, openLog, SAME_LINE_MAX } from '../src/cli/log.js'
import { cleanup, tempHome } from './helpers/cli.js'

after(cleanup)

test('the same line a thousand times: a few written, the rest counted; other lines unaffected', async () => {
  const path = join(await tempHome(), 'jiayi.log')
  const log = await openLog(path, { verbose: false, component: 'test' })
  for (let i = 0; i < 1000; i++) log.warn('could not write', { attempt: i })
  log.info('something else')
  await log.close()
  const lines = (await readFile(path, 'utf8')).trim().split('\n')
  assert.equal(lines.filter((l) => l.includes('could not write')).length, SAME_LINE_MAX)
  assert.equal(lines.filter((l) => l.includes('something else')).length, 1)
})

test('a new window says how many were held back, then lets the line through again', () => {
  let now = 0
  const limiter = new LineLimiter(2, 1000, () => now)
  const verdicts = Array.from({ length: 5 }, () => limiter.take('k'))
  assert.deepEqual(
    verdicts.map((v) => v.allowed),
    [true, true, false, false, false],
  )
  now = 1000
  assert.deepEqual(limiter.take('k'), { allowed: true, say: 3 })
  assert.deepEqual(limiter.take('other'), { allowed: true })
})
