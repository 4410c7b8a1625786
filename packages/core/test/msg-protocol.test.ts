/**
 * /jiayi/msg/1 between two real nodes on 127.0.0.1: acks come back in order, one per envelope,
 * and a listener lets ready acks wait briefly for the ones behind them (ACK_COALESCE_MS), so a
 * steady trickle of envelopes is not answered one write per ack.
 */
import assert from 'node:assert/strict'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { utf8 } from '../src/bytes.js'
import {
  type AckStatus,
  encodeEnvelopeFrame,
  type OutgoingEnvelope,
  sendEnvelopes,
  serveMsgStream,
  WINDOW,
} from '../src/messenger/msg-protocol.js'
import { NetError } from '../src/net/errors.js'
import { framedHandler, openFramed } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { addrFor, startTestNode, stopAll, waitFor } from './net-helpers.js'

describe('/jiayi/msg/1 acks', () => {
  let server: JiayiNode
  let client: JiayiNode
  let ackWrites = 0
  const received: string[] = []
  /** How the listener answers an envelope (each test may change it; reset before each). */
  let verdict: () => Promise<AckStatus> = async () => 'ok'
  /** Releases verdicts a test left hanging, so no stream outlives its test. */
  let release = () => {}
  let idleTimeoutMs: number | undefined
  const refusedCodes: string[] = []

  before(async () => {
    ;[server, client] = await Promise.all([startTestNode(), startTestNode()])
    await server.handle(
      PROTOCOL_MSG,
      framedHandler(
        PROTOCOL_MSG,
        (framed, connection) => {
          // The real stream, with its ack writes counted.
          const counted = Object.create(framed) as typeof framed
          counted.writeMany = (frames, options) => {
            ackWrites++
            return framed.writeMany(frames, options)
          }
          return serveMsgStream(
            counted,
            connection,
            async (_from, envelope) => {
              received.push(new TextDecoder().decode(envelope.body))
              return verdict()
            },
            { idleTimeoutMs },
          )
        },
        { onRefused: (r) => refusedCodes.push(r.code) },
      ),
    )
    await client.peerStore.merge(server.peerId, { multiaddrs: [addrFor(server, 'tcp')] })
  })
  after(() => stopAll(server, client))

  beforeEach(() => {
    ackWrites = 0
    received.length = 0
    verdict = async () => 'ok'
    idleTimeoutMs = undefined
    refusedCodes.length = 0
  })
  afterEach(() => release())

  /** Sends `count` envelopes, all pulled at once, over one new stream; each ack lands in `acks`. */
  const sendAll = (
    count: number,
    body: (ref: number) => Uint8Array,
    acks: number[],
    options?: { ackTimeoutMs?: number },
  ) => {
    let pulled = false
    return sendEnvelopes(
      client,
      server.peerId,
      async (): Promise<OutgoingEnvelope[]> => {
        if (pulled) return []
        pulled = true
        return Array.from({ length: count }, (_, ref) => ({ ref, type: 'message', body: body(ref) }))
      },
      async (ref, status) => {
        assert.equal(status, 'ok')
        acks.push(ref)
      },
      options,
    )
  }

  it('a trickle of envelopes gets every ack, in order, in fewer writes than acks', async () => {
    const total = 20
    let next = 0
    const acks: [number, AckStatus][] = []
    await sendEnvelopes(
      client,
      server.peerId,
      async (): Promise<OutgoingEnvelope[]> => {
        // One envelope about every millisecond, as at 1,000 msg/s.
        if (next > 0) await new Promise((r) => setTimeout(r, 1))
        if (next >= total) return []
        const ref = next++
        return [{ ref, type: 'message', body: utf8(`m${ref}`) }]
      },
      async (ref, status) => {
        acks.push([ref, status])
      },
    )
    assert.deepEqual(
      acks,
      Array.from({ length: total }, (_, i) => [i, 'ok']),
    )
    assert.deepEqual(
      received,
      Array.from({ length: total }, (_, i) => `m${i}`),
    )
    assert.ok(ackWrites < total * 0.75, `${ackWrites} writes carried ${total} acks`)
  })

  it('a backlog goes out in few large writes, not one per ack, and every ack comes back in order', async () => {
    // The client's stream writes are counted (each is a muxer frame and a socket write).
    let streamWrites = 0
    const dial = client.dialProtocol.bind(client)
    client.dialProtocol = (async (...args: Parameters<typeof dial>) => {
      const stream = await dial(...args)
      const send = stream.send.bind(stream)
      stream.send = (data) => {
        streamWrites++
        return send(data)
      }
      return stream
    }) as typeof client.dialProtocol
    const total = 3 * WINDOW
    const acks: number[] = []
    try {
      await sendAll(total, (ref) => utf8(`m${ref}`), acks)
    } finally {
      client.dialProtocol = dial
    }
    assert.deepEqual(
      acks,
      Array.from({ length: total }, (_, i) => i),
    )
    assert.equal(received.length, total)
    // Refilled per ack, the window went out ~1.5 envelopes per write (2,049 writes here); refilled
    // REFILL at a time, it takes a handful. At least 16 envelopes per write on average:
    assert.ok(streamWrites <= total / 16, `${streamWrites} stream writes carried ${total} envelopes`)
  })

  it('gives the stream up when acks stop coming, and not while they come slowly', async () => {
    const send = (count: number, ackTimeoutMs: number, acks: number[]) =>
      sendAll(count, (ref) => utf8(`s${ref}`), acks, { ackTimeoutMs })
    // Each ack 100 ms after the one before (the listener answers in order): 600 ms in all, more
    // than the 300 ms allowed, but never 300 ms without one.
    let at = Date.now()
    verdict = () => {
      at += 100
      return new Promise((resolve) => setTimeout(() => resolve('ok'), at - Date.now()))
    }
    const slow: number[] = []
    await send(6, 300, slow)
    assert.deepEqual(slow, [0, 1, 2, 3, 4, 5])

    // Acks stop after the second.
    let answered = 0
    const hanging = new Promise<AckStatus>((resolve) => {
      release = () => resolve('ok')
    })
    verdict = () => (answered++ < 2 ? Promise.resolve('ok') : hanging)
    const stalled: number[] = []
    const started = Date.now()
    await assert.rejects(send(4, 300, stalled), (error) => NetError.is(error, 'Timeout'))
    assert.deepEqual(stalled, [0, 1])
    assert.ok(Date.now() - started >= 300, 'not before the ack timeout')
  })

  it('a listener resets a stream that stays idle too long, and counts it as Timeout', async () => {
    idleTimeoutMs = 300
    const framed = await openFramed(client, server.peerId, PROTOCOL_MSG)
    // One envelope, acknowledged; then nothing.
    await framed.write(encodeEnvelopeFrame({ ref: 7, type: 'message', body: utf8('once') }))
    assert.ok((await framed.read()) !== null, 'the envelope is acknowledged')
    const started = Date.now()
    await assert.rejects(framed.read(), (error) => NetError.is(error, 'StreamError'))
    assert.ok(Date.now() - started >= 250, 'not before the idle timeout')
    assert.deepEqual(received, ['once'])
    // (An earlier test's stream may be refused meanwhile too, as StreamError.)
    await waitFor(() => refusedCodes.includes('Timeout'))
  })

  it('a backlog of large envelopes never overruns what the listener buffers', async () => {
    // 16 KiB texts (the largest a message may hold) queued while the peer was away: the listener
    // reads only READ_AHEAD ahead of its acks, so the rest of what the sender has in flight waits
    // in its read buffer, which resets the stream past 4 MiB.
    verdict = () => new Promise((resolve) => setTimeout(() => resolve('ok'), 1))
    const total = 700
    const body = new Uint8Array(17 * 1024).fill(7)
    const acks: number[] = []
    await sendAll(total, () => body, acks)
    assert.equal(acks.length, total)
    assert.equal(received.length, total)
  })
})
