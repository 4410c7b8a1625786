// A framed protocol between two real Node peers on 127.0.0.1: echo works on every transport, and
// oversized, malformed, stalled or crashing exchanges are refused (and counted) while the node
// keeps serving.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { NetError } from '../src/net/errors.js'
import { framedHandler, openFramed, type RefusedStream } from '../src/net/framed-handler.js'
import { framedStream } from '../src/net/framing.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { encodeLengthPrefix } from '../src/net/varint.js'
import { addrFor, type LoopbackTransport, startTestNode, stopAll, waitFor } from './net-helpers.js'

const ECHO = '/jiayi-test/echo/1'
const CRASH = '/jiayi-test/crash/1'
const GUARDED = '/jiayi-test/guarded/1'
const MAX = 1024

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))

describe('framed echo between two Node peers', () => {
  let server: JiayiNode
  let client: JiayiNode
  const refused: RefusedStream[] = []
  const allowed = new Set<string>()

  before(async () => {
    ;[server, client] = await Promise.all([startTestNode(), startTestNode()])
    const onRefused = (r: RefusedStream) => refused.push(r)
    await server.handle(
      ECHO,
      framedHandler(
        ECHO,
        async (framed) => {
          // Echo every frame until the client closes its side; a silent client times out.
          for (let frame = await framed.read({ timeoutMs: 1000 }); frame !== null; ) {
            await framed.write(frame)
            frame = await framed.read({ timeoutMs: 1000 })
          }
          await framed.close()
        },
        { maxFrameBytes: MAX, onRefused },
      ),
    )
    await server.handle(
      GUARDED,
      framedHandler(GUARDED, async (framed) => framed.write(Uint8Array.of(42)), {
        maxFrameBytes: MAX,
        // Only peers on the allow list (in Jiayi: contacts and pending requests).
        allow: (peer) => allowed.has(peer.toString()),
        onRefused,
      }),
    )
    await server.handle(
      CRASH,
      framedHandler(
        CRASH,
        async () => {
          throw new TypeError('a bug in protocol code')
        },
        { maxFrameBytes: MAX, onRefused },
      ),
    )
  })
  after(async () => {
    await stopAll(server, client)
    assert.deepEqual(unhandled, [], 'no unhandled rejections')
  })

  async function echoOnce(transport: LoopbackTransport, payloads: Uint8Array[]): Promise<Uint8Array[]> {
    const framed = await openFramed(client, addrFor(server, transport), ECHO, { maxFrameBytes: MAX })
    for (const p of payloads) await framed.write(p)
    await framed.close()
    const back: Uint8Array[] = []
    for (
      let f = await framed.read({ timeoutMs: 5000 });
      f !== null;
      f = await framed.read({ timeoutMs: 5000 })
    ) {
      back.push(f)
    }
    return back
  }

  for (const transport of ['tcp', 'websockets', 'webrtcDirect'] as const) {
    test(`echoes frames over ${transport}`, async () => {
      const payloads = [
        new Uint8Array(0),
        new TextEncoder().encode('加一 👋'),
        new Uint8Array(MAX).fill(0xab),
      ]
      assert.deepEqual(await echoOnce(transport, payloads), payloads)
    })
  }

  test('refuses an oversized frame with FrameTooLarge and keeps serving', async () => {
    const before = refused.length
    // The client's own limit is higher, so the bytes do go out; the server must refuse them.
    const stream = await client.dialProtocol(addrFor(server, 'tcp'), ECHO)
    const loose = framedStream(stream, { maxFrameBytes: MAX * 4 })
    await loose.write(new Uint8Array(MAX + 1))
    await assert.rejects(loose.read({ timeoutMs: 5000 }), (err) => NetError.is(err, 'StreamError'))

    await waitFor(() => refused.length > before)
    assert.equal(refused.at(-1)?.code, 'FrameTooLarge')
    assert.equal(refused.at(-1)?.protocol, ECHO)
    assert.equal(refused.at(-1)?.remotePeer.toString(), client.peerId.toString())
    assert.ok(NetError.is(refused.at(-1)?.error, 'FrameTooLarge'))

    // Same connection, new stream: still served.
    const ok = [Uint8Array.of(1, 2, 3)]
    assert.deepEqual(await echoOnce('tcp', ok), ok)
  })

  test('refuses a huge length prefix without waiting for the payload', async () => {
    const before = refused.length
    const stream = await client.dialProtocol(addrFor(server, 'tcp'), ECHO)
    stream.send(encodeLengthPrefix(2 ** 31))
    await waitFor(() => refused.length > before)
    assert.equal(refused.at(-1)?.code, 'FrameTooLarge')
    assert.deepEqual(await echoOnce('tcp', [Uint8Array.of(4)]), [Uint8Array.of(4)])
  })

  test('refuses a stalled client with Timeout', async () => {
    const before = refused.length
    await client.dialProtocol(addrFor(server, 'tcp'), ECHO, { negotiateFully: true })
    await waitFor(() => refused.length > before, 5000)
    assert.equal(refused.at(-1)?.code, 'Timeout')
  })

  test('survives a handler that throws', async () => {
    const before = refused.length
    const framed = await openFramed(client, addrFor(server, 'websockets'), CRASH, { maxFrameBytes: MAX })
    // The reset may arrive before our write or before our read: either fails, never hangs.
    const exchange = async () => {
      await framed.write(Uint8Array.of(1))
      await framed.read({ timeoutMs: 5000 })
    }
    await assert.rejects(exchange(), (err) => NetError.is(err, 'StreamError'))
    await waitFor(() => refused.length > before)
    assert.equal(refused.at(-1)?.code, 'Unknown')
    assert.deepEqual(await echoOnce('websockets', [Uint8Array.of(5)]), [Uint8Array.of(5)])
  })

  test('refuses peers that are not allowed, before reading anything', async () => {
    const before = refused.length
    const denied = await openFramed(client, addrFor(server, 'tcp'), GUARDED, { maxFrameBytes: MAX })
    await assert.rejects(denied.read({ timeoutMs: 5000 }), (err) => NetError.is(err, 'StreamError'))
    await waitFor(() => refused.length > before)
    assert.equal(refused.at(-1)?.code, 'NotAllowed')

    allowed.add(client.peerId.toString())
    const admitted = await openFramed(client, addrFor(server, 'tcp'), GUARDED, { maxFrameBytes: MAX })
    assert.deepEqual(await admitted.read({ timeoutMs: 5000 }), Uint8Array.of(42))
  })

  test('serves many streams at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        echoOnce(i % 2 === 0 ? 'tcp' : 'webrtcDirect', [Uint8Array.of(i)]),
      ),
    )
    for (const [i, r] of results.entries()) assert.deepEqual(r, [Uint8Array.of(i)])
  })
})
