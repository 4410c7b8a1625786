/** Line framing of the control socket: lines across chunks, UTF-8 split mid-character, size limit. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ControlError } from '@jiayi/api'
import { LineSplitter } from '../src/control/lines.js'

test('LineSplitter: lines across chunks, UTF-8 split mid-character, size limit', () => {
  const s = new LineSplitter(64)
  const bytes = Buffer.from('{"t":"你好 🌏"}\n{"t":"2"}\n')
  const out: string[] = []
  for (let i = 0; i < bytes.length; i += 3) out.push(...s.push(bytes.subarray(i, i + 3)))
  assert.deepEqual(out, ['{"t":"你好 🌏"}', '{"t":"2"}'])
  assert.throws(
    () => s.push(Buffer.alloc(65, 0x61)),
    (e: unknown) => ControlError.is(e, 'TooLarge'),
  )
  assert.deepEqual(new LineSplitter(64).push(Buffer.from('\n\n  \n{"a":1}\n')), ['{"a":1}'])
})
