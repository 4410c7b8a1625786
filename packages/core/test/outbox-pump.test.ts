/**
 * The outbox pump applies the acks it reads in one turn as one change, in order; acks read before
 * a failure are applied too. Driven through its OutboxDriver seam (the network and the store side);
 * the messenger tests run it over real nodes and stores.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ContactId } from '../src/messenger/ids.js'
import type { AckStatus } from '../src/messenger/msg-protocol.js'
import { type AppliedAck, type OutboxDriver, OutboxPump } from '../src/messenger/outbox.js'
import type { OutboxRecord } from '../src/messenger/records.js'

const cid = 'c0ffee' as ContactId
const entry = (seq: number): OutboxRecord => ({
  seq,
  type: 'message',
  envelope: new Uint8Array(0),
  createdAt: seq,
})

/** One entry per status; the peer answers them all in one read with those statuses. */
function driver(statuses: AckStatus[]) {
  const applied: number[][] = []
  let loaded = false
  let done!: () => void
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  const d: OutboxDriver = {
    async load() {
      if (loaded) return []
      loaded = true
      return statuses.map((_, i) => entry(i + 1))
    },
    async send(_cid, next, onAck) {
      const batch = await next()
      for (const [i, e] of batch.entries()) await onAck(e.ref, statuses[i]!, undefined)
      await next() // waits (lingers) until the pump stops
    },
    async acked(_cid, acks: readonly AppliedAck[]) {
      applied.push(acks.map((a) => a.entry.seq))
      done()
    },
    async dropEphemeral() {},
  }
  return { d, applied, finished }
}

/** Runs one delivery; what the driver was asked to apply, call by call. */
async function applied(statuses: AckStatus[]): Promise<number[][]> {
  const { d, applied, finished } = driver(statuses)
  const pump = new OutboxPump(d)
  pump.kick(cid)
  await finished
  pump.stop()
  return applied
}

describe('OutboxPump acks', () => {
  it('acks read together are applied as one change, in order', async () => {
    assert.deepEqual(await applied(['ok', 'ok', 'rejected', 'ok', 'ok']), [[1, 2, 3, 4, 5]])
  })

  it('acks read before a "retry" are still applied', async () => {
    assert.deepEqual(await applied(['ok', 'ok', 'ok', 'retry', 'ok']), [[1, 2, 3]])
  })
})

describe('OutboxPump and a conversation emptied while its stream runs', () => {
  it('an ack that arrives after reset is not applied (its number may already name a new entry)', async () => {
    const applied: number[][] = []
    let ack!: () => Promise<void>
    let streamOpen!: () => void
    const sent = new Promise<void>((resolve) => {
      streamOpen = resolve
    })
    let loaded = false
    const pump = new OutboxPump({
      async load() {
        if (loaded) return []
        loaded = true
        return [entry(1)]
      },
      async send(_cid, next, onAck) {
        const [first] = await next()
        ack = () => onAck(first!.ref, 'ok', undefined)
        streamOpen()
        await next() // lingers until reset or stop
      },
      async acked(_cid, acks) {
        applied.push(acks.map((a) => a.entry.seq))
      },
      async dropEphemeral() {},
    })
    pump.kick(cid)
    await sent
    // The contact is removed (and may be added again, numbering its outbox from 1 anew) …
    pump.reset(cid)
    // … and only then does the peer's ack for the old entry 1 come in.
    await ack()
    await new Promise((resolve) => setTimeout(resolve, 20))
    await pump.whenIdle(cid)
    pump.stop()
    assert.deepEqual(applied, [], 'the old ack deleted nothing')
  })

  it('an ack before reset is applied as usual', async () => {
    assert.deepEqual(await applied(['ok']), [[1]])
  })
})

describe('OutboxPump and a mailbox', () => {
  it('while the retry waits, new entries go to the mailbox at once, and the retry still tries the peer', async () => {
    let sends = 0
    const handedAfter: number[] = []
    const d: OutboxDriver = {
      async load() {
        return [entry(1)]
      },
      async send() {
        sends++
        throw new Error('the peer cannot be reached')
      },
      async acked() {},
      async dropEphemeral() {},
      async unreachable() {
        handedAfter.push(sends)
        return true // their mailbox took all that waited
      },
    }
    const pump = new OutboxPump(d)
    try {
      pump.kick(cid)
      await pump.whenIdle(cid)
      assert.deepEqual(handedAfter, [1], 'the failed delivery handed the outbox over')
      // A new entry while the retry's backoff runs: to the mailbox now, without trying the peer.
      pump.kick(cid)
      await pump.whenIdle(cid)
      assert.deepEqual(handedAfter, [1, 1])
      // The retry comes due and tries the peer again (then hands over what waits, as before).
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (handedAfter.length < 3) return
          clearInterval(poll)
          resolve()
        }, 20)
      })
      assert.deepEqual(handedAfter, [1, 1, 2])
    } finally {
      pump.stop()
    }
  })
})
