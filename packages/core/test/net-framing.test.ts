// Length-prefixed framing: the varint prefix codec, and framed streams over an in-memory libp2p
// stream pair (real libp2p AbstractStream code, no sockets). Real nodes: net-echo.test.ts.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { streamPair } from '@libp2p/utils'
import { NetError } from '../src/net/errors.js'
import { framedStream, framedStreamFor } from '../src/net/framing.js'
import { MAX_FRAME_BYTES, PROTOCOL_MSG, PROTOCOL_PREKEYS } from '../src/net/protocols.js'
import { decodeLengthPrefix, encodeLengthPrefix, lengthPrefixBytes } from '../src/net/varint.js'

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

function expectNetError(code: NetError['code']) {
  return (err: unknown) => {
    assert.ok(NetError.is(err), `expected NetError ${code}, got ${String(err)}`)
    assert.equal(err.code, code)
    return true
  }
}

describe('length prefix (unsigned varint)', () => {
  test('encodes the multiformats unsigned-varint vectors', () => {
    // From https://github.com/multiformats/unsigned-varint (README examples).
    const vectors: Array<[number, number[]]> = [
      [0, [0x00]],
      [1, [0x01]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [255, [0xff, 0x01]],
      [300, [0xac, 0x02]],
      [16384, [0x80, 0x80, 0x01]],
    ]
    for (const [value, encoded] of vectors) {
      assert.deepEqual([...encodeLengthPrefix(value)], encoded, `encode ${value}`)
      assert.equal(decodeLengthPrefix(bytes(...encoded), 1 << 20), value, `decode ${value}`)
      assert.equal(lengthPrefixBytes(value), encoded.length)
    }
  })

  test('round-trips every protocol maximum exactly', () => {
    for (const max of Object.values(MAX_FRAME_BYTES)) {
      assert.equal(decodeLengthPrefix(encodeLengthPrefix(max), max), max)
    }
  })

  test('asks for more bytes while incomplete', () => {
    assert.throws(() => decodeLengthPrefix(bytes(0x80), 1000), RangeError)
    assert.throws(() => decodeLengthPrefix(bytes(), 1000), RangeError)
  })

  test('refuses a length over the maximum', () => {
    assert.throws(() => decodeLengthPrefix(encodeLengthPrefix(1001), 1000), expectNetError('FrameTooLarge'))
  })

  test('refuses as soon as the prefix runs longer than the maximum needs', () => {
    // max 1000 needs 2 bytes; a third byte can only mean a bigger (or padded) number.
    assert.throws(() => decodeLengthPrefix(bytes(0x81, 0x81), 1000), expectNetError('FrameTooLarge'))
    assert.throws(
      () => decodeLengthPrefix(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0x0f), 1 << 30),
      (err) => NetError.is(err, 'FrameTooLarge'),
    )
  })

  test('refuses a non-minimal encoding', () => {
    assert.throws(() => decodeLengthPrefix(bytes(0x81, 0x00), 1000), expectNetError('MalformedFrame'))
  })

  test('refuses bad lengths to encode', () => {
    assert.throws(() => encodeLengthPrefix(-1), expectNetError('BadOptions'))
    assert.throws(() => encodeLengthPrefix(1.5), expectNetError('BadOptions'))
  })
})

describe('framed stream', () => {
  test('carries frames both ways and returns null on a clean end', async () => {
    const [a, b] = await streamPair()
    const fa = framedStream(a, { maxFrameBytes: 1000 })
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    const frames = [bytes(), bytes(1), new Uint8Array(1000).fill(7), new TextEncoder().encode('你好 👋')]
    for (const f of frames) await fa.write(f)
    await fa.close()
    for (const f of frames) assert.deepEqual(await fb.read(), f)
    assert.equal(await fb.read(), null)
    await fb.write(bytes(9, 9))
    assert.deepEqual(await fa.read(), bytes(9, 9))
  })

  test('writes a frame given in parts as one frame, and several frames in one write', async () => {
    const [a, b] = await streamPair()
    const fa = framedStream(a, { maxFrameBytes: 1000 })
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    await fa.write([bytes(1, 2), bytes(), bytes(3)])
    await fa.writeMany([bytes(4), [bytes(5), bytes(6, 7)], []])
    assert.deepEqual(await fb.read(), bytes(1, 2, 3))
    assert.deepEqual(await fb.read(), bytes(4))
    assert.deepEqual(await fb.read(), bytes(5, 6, 7))
    assert.deepEqual(await fb.read(), bytes())
    await assert.rejects(
      fa.write([new Uint8Array(600), new Uint8Array(401)]),
      expectNetError('FrameTooLarge'),
    )
    await assert.rejects(fa.write(['x' as unknown as Uint8Array]), expectNetError('BadOptions'))
    await fa.write(bytes(8))
    assert.deepEqual(await fb.read(), bytes(8), 'a refused frame sent nothing')
  })

  test('reads into a buffer the caller lends when the frame fits, else into a new one', async () => {
    const [a, b] = await streamPair()
    const fa = framedStream(a, { maxFrameBytes: 1000 })
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    const into = new Uint8Array(4)
    await fa.writeMany([bytes(1, 2, 3), bytes(4, 5, 6, 7, 8)])
    const first = await fb.read({ into })
    assert.deepEqual(first, bytes(1, 2, 3))
    assert.equal(first?.buffer, into.buffer)
    const second = await fb.read({ into })
    assert.deepEqual(second, bytes(4, 5, 6, 7, 8))
    assert.notEqual(second?.buffer, into.buffer)
  })

  test('uses the per-protocol maximum', async () => {
    const [a] = await streamPair()
    assert.equal(framedStreamFor(a, PROTOCOL_MSG).maxFrameBytes, MAX_FRAME_BYTES[PROTOCOL_MSG])
    assert.equal(framedStreamFor(a, PROTOCOL_PREKEYS).maxFrameBytes, 8 * 1024)
  })

  test('refuses to send an oversized frame and stays usable', async () => {
    const [a, b] = await streamPair()
    const fa = framedStream(a, { maxFrameBytes: 10 })
    const fb = framedStream(b, { maxFrameBytes: 10 })
    await assert.rejects(fa.write(new Uint8Array(11)), expectNetError('FrameTooLarge'))
    await fa.write(bytes(1, 2, 3))
    assert.deepEqual(await fb.read(), bytes(1, 2, 3))
  })

  test('refuses an oversized incoming frame from its prefix and aborts the stream', async () => {
    const [a, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 10 })
    // Only the prefix arrives: the refusal must not wait for (or buffer) the announced payload.
    a.send(encodeLengthPrefix(1_000_000))
    await assert.rejects(fb.read({ timeoutMs: 2000 }), expectNetError('FrameTooLarge'))
    assert.equal(b.status, 'aborted')
    await assert.rejects(fb.read(), expectNetError('FrameTooLarge'))
  })

  test('refuses a malformed prefix', async () => {
    const [a, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    a.send(bytes(0x81, 0x00))
    await assert.rejects(fb.read(), expectNetError('MalformedFrame'))
  })

  test('reports a frame cut short by the end of the stream', async () => {
    const [a, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    a.send(bytes(5, 1, 2))
    await a.close()
    await assert.rejects(fb.read(), expectNetError('TruncatedFrame'))
  })

  test('reports a prefix cut short by the end of the stream', async () => {
    const [a, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    a.send(bytes(0x80))
    await a.close()
    await assert.rejects(fb.read(), expectNetError('TruncatedFrame'))
  })

  test('times out a read and aborts the stream', async () => {
    const [, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    const started = performance.now()
    await assert.rejects(fb.read({ timeoutMs: 50 }), expectNetError('Timeout'))
    assert.ok(performance.now() - started < 1000)
    assert.equal(b.status, 'aborted')
  })

  test('honours the caller abort signal', async () => {
    const [, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)
    await assert.rejects(fb.read({ signal: controller.signal }), expectNetError('Aborted'))
    const [, c] = await streamPair()
    await assert.rejects(
      framedStream(c, { maxFrameBytes: 10 }).read({ signal: AbortSignal.abort() }),
      expectNetError('Aborted'),
    )
    // A caller's signal alone is passed through as it is; its abort is still named Aborted.
    const [d] = await streamPair()
    await assert.rejects(
      framedStream(d, { maxFrameBytes: 10 }).write(bytes(1, 2), {
        signal: AbortSignal.abort(new Error('x')),
      }),
      expectNetError('Aborted'),
    )
  })

  test('reports a remote reset as StreamError', async () => {
    const [a, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    const pending = fb.read()
    a.abort(new Error('gone'))
    await assert.rejects(pending, expectNetError('StreamError'))
  })

  test('reports a reset that happened before the read as StreamError, not as the end', async () => {
    const [a, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    a.abort(new Error('gone'))
    await new Promise((r) => setTimeout(r, 20))
    await assert.rejects(fb.read(), expectNetError('StreamError'))
  })

  test('refuses concurrent reads and bad options', async () => {
    const [a, b] = await streamPair()
    const fb = framedStream(b, { maxFrameBytes: 1000 })
    const first = fb.read()
    await assert.rejects(fb.read(), expectNetError('BadOptions'))
    await framedStream(a, { maxFrameBytes: 1000 }).write(bytes(4))
    assert.deepEqual(await first, bytes(4))
    assert.throws(() => framedStream(a, { maxFrameBytes: 0 }), expectNetError('BadOptions'))
    assert.throws(() => framedStream(a, { maxFrameBytes: Number.NaN }), expectNetError('BadOptions'))
  })

  test('never throws anything but NetError on random input', async () => {
    // Deterministic pseudo-random junk (xorshift), a few hundred streams.
    let seed = 0x1234567
    const next = () => {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      return seed >>> 0
    }
    for (let i = 0; i < 300; i++) {
      const [a, b] = await streamPair()
      const fb = framedStream(b, { maxFrameBytes: 64 })
      const junk = Uint8Array.from({ length: 1 + (next() % 80) }, () => next() & 0xff)
      a.send(junk)
      await a.close()
      try {
        while ((await fb.read({ timeoutMs: 1000 })) !== null) {
          // keep reading until the end or a refusal
        }
      } catch (err) {
        assert.ok(NetError.is(err), `non-NetError ${String(err)}`)
        assert.notEqual(err.code, 'Timeout')
      }
    }
  })
})
