/**
 * /jiayi/msg/1 between two real nodes on 127.0.0.1: acks come back in order, one per envelope,
 * and a listener lets ready acks wait briefly for the ones behind them (ACK_COALESCE_MS), so a
 * steady trickle of envelopes is not answered one write per ack.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { utf8 } from '../src/bytes.js'
import {
  type AckStatus,
  type OutgoingEnvelope,
  sendEnvelopes,
  serveMsgStream,
} from '../src/messenger/msg-protocol.js'
import { framedHandler } from '../src/net/framed-handler.js'
import type { JiayiNode } from '../src/net/network-stack.js'
import { PROTOCOL_MSG } from '../src/net/protocols.js'
import { addrFor, startTestNode, stopAll } from './net-helpers.js'

describe('/jiayi/msg/1 acks', () => {
  let server: JiayiNode
  let client: JiayiNode
  let ackWrites = 0
  const received: string[] = []

  before(async () => {
    ;[server, client] = await Promise.all([startTestNode(), startTestNode()])
    await server.handle(
      PROTOCOL_MSG,
      framedHandler(PROTOCOL_MSG, (framed, connection) => {
        // The real stream, with its ack writes counted.
        const counted = Object.create(framed) as typeof framed
        counted.writeMany = (frames, options) => {
          ackWrites++
          return framed.writeMany(frames, options)
        }
        return serveMsgStream(counted, connection, async (_from, envelope) => {
          received.push(new TextDecoder().decode(envelope.body))
          return 'ok'
        })
      }),
    )
    await client.peerStore.merge(server.peerId, { multiaddrs: [addrFor(server, 'tcp')] })
  })
  after(() => stopAll(server, client))

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
})
