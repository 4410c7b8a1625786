/**
 * Yamux window updates wait until half the receive window is used (yamux-window.ts): checked on
 * the library's own stream class, and end to end over real nodes, where a stream carrying many
 * times the window in small and large writes must still flow.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'
import { fromUtf8, utf8 } from '../src/bytes.js'
import { framedHandler, openFramed } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { installHalfWindowUpdates } from '../src/net/yamux-window.js'
import { addrFor, startTestNode, stopAll } from './net-helpers.js'

interface Frame {
  type: number
  flag: number
  length: number
}

/** A stream of the real class with just the fields the window logic reads. */
function stream(window: number, capacity: number, state = StreamState.Established) {
  const sent: Frame[] = []
  const s = Object.create(YamuxStream.prototype) as Record<string, unknown>
  Object.assign(s, {
    state,
    recvWindow: window,
    recvWindowCapacity: capacity,
    maxStreamWindowSize: 16 * 1024 * 1024,
    epochStart: 0,
    getRTT: () => -1,
    sendFrame: (f: Frame) => {
      sent.push(f)
      return true
    },
  })
  return { s: s as unknown as { sendWindowUpdate(): void; recvWindowCapacity: number }, sent }
}

describe('yamux window updates', () => {
  installHalfWindowUpdates()
  installHalfWindowUpdates() // idempotent

  it('none while more than half the window is left; the whole gap once half is used', () => {
    const { s, sent } = stream(256 * 1024, 256 * 1024 - 300)
    s.sendWindowUpdate()
    assert.equal(sent.length, 0, 'a small frame needs no update')
    s.recvWindowCapacity = 128 * 1024
    s.sendWindowUpdate()
    assert.equal(sent.length, 1)
    assert.equal(sent[0]!.length, 128 * 1024, 'the update gives back everything used')
    assert.equal(s.recvWindowCapacity, 256 * 1024)
  })

  it('a stream still opening sends its flags at once, as before', () => {
    const { s, sent } = stream(256 * 1024, 256 * 1024 - 300, StreamState.SYNReceived)
    s.sendWindowUpdate()
    assert.equal(sent.length, 1)
    assert.notEqual(sent[0]!.flag, 0)
  })
})

describe('yamux flow control end to end', () => {
  const SINK = '/jiayi-test/sink/1'
  const MAX = 64 * 1024
  let server: JiayiNode
  let client: JiayiNode

  before(async () => {
    ;[server, client] = await Promise.all([startTestNode(), startTestNode()])
    await server.handle(
      SINK,
      framedHandler(
        SINK,
        async (framed) => {
          // Each frame is answered by the running byte count: small frames both ways, as in chat.
          let total = 0
          for (let f = await framed.read({ timeoutMs: 5000 }); f !== null; ) {
            total += f.byteLength
            await framed.write(utf8(String(total)))
            f = await framed.read({ timeoutMs: 5000 })
          }
          await framed.close()
        },
        { maxFrameBytes: MAX },
      ),
    )
  })
  after(() => stopAll(server, client))

  it('a stream carrying many windows, in small and large writes both ways, arrives whole', async () => {
    const framed = await openFramed(client, addrFor(server, 'tcp'), SINK, { maxFrameBytes: MAX })
    const sizes = Array.from({ length: 3000 }, (_, i) => (i % 10 === 0 ? 40_000 : 64))
    // Writes run ahead of the answers (up to 64 in flight), so the windows fill in both directions.
    let answered = 0
    let last = ''
    const reader = (async () => {
      for (; answered < sizes.length; answered++) {
        const f = await framed.read({ timeoutMs: 10_000 })
        assert.ok(f !== null)
        last = fromUtf8(f)
      }
    })()
    for (const [i, size] of sizes.entries()) {
      while (i - answered >= 64) await new Promise((r) => setTimeout(r, 1))
      await framed.write(new Uint8Array(size).fill(i % 251))
    }
    await reader
    await framed.close()
    const expected = sizes.reduce((a, b) => a + b, 0)
    assert.ok(expected > 40 * 256 * 1024, 'many times the initial window')
    assert.equal(last, String(expected))
  })
})
