// A framed handler that returns without closing its stream (the remote sent nothing and closed,
// as /jiayi/prekeys/1 and /jiayi/file/1 do on an empty stream) still ends the stream: the remote
// reads a clean end at once instead of holding a half-open stream, and the handler's protocol
// keeps accepting new streams on that connection. Found by the jiayi process fuzz test.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { framedHandler, openFramed } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { addrFor, startTestNode, stopAll } from './net-helpers.js'

const QUIET = '/jiayi-test/quiet/1'
const LIMIT = 2

let server: JiayiNode
let client: JiayiNode
let refusals = 0

before(async () => {
  ;[server, client] = await Promise.all([
    startTestNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }),
    startTestNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }),
  ])
  await server.handle(
    QUIET,
    framedHandler(
      QUIET,
      async (framed) => {
        // Like servePrekeyStream: nothing to answer when the remote sent no request.
        if ((await framed.read({ timeoutMs: 5_000 })) === null) return
        await framed.write(Uint8Array.of(1))
        await framed.close()
      },
      { maxFrameBytes: 64, onRefused: () => refusals++ },
    ),
    { maxInboundStreams: LIMIT },
  )
})
after(() => stopAll(server, client))

test('an empty stream ends at once, and never uses up the inbound stream limit', async () => {
  for (let i = 0; i < LIMIT * 3; i++) {
    const framed = await openFramed(client, addrFor(server, 'tcp'), QUIET, { maxFrameBytes: 64 })
    await framed.close()
    const started = Date.now()
    assert.equal(await framed.read({ timeoutMs: 3_000 }), null, 'a clean end, not a timeout')
    assert.ok(Date.now() - started < 2_000)
  }
  // The protocol still answers on the same connection.
  const framed = await openFramed(client, addrFor(server, 'tcp'), QUIET, { maxFrameBytes: 64 })
  await framed.write(Uint8Array.of(0))
  assert.deepEqual(await framed.read({ timeoutMs: 3_000 }), Uint8Array.of(1))
  assert.equal(refusals, 0, 'an empty stream is no refusal')
})
