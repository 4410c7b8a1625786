/**
 * The messenger keeps each contact's sessions in memory after the first load from the store. A
 * reader outside the conversation's queue (a contact view asking whether the session is
 * post-quantum, the upgrader) could start that first load, a send could load, encrypt and commit
 * meanwhile, and the reader's older copy then replaced the committed one in the cache: the next
 * message reused a message key, and the contact acknowledged it as a duplicate and dropped it.
 * Here the reader's load is held back on purpose, between real peers on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { equalBytes } from '../src/bytes.js'
import type { MessengerCore } from '../src/messenger/core.js'
import { Keys } from '../src/messenger/keys.js'
import type { Messenger } from '../src/messenger/messenger.js'
import { MemoryStore } from '../src/store/memory.js'
import type { BatchOp, Entry, IterateOptions, Store } from '../src/store/store.js'
import { eventually, type TestPeer, testPeer } from './helpers/messenger-peer.js'

const coreOf = (m: Messenger) => (m as unknown as { core: MessengerCore }).core

/** A store whose next read of `key` waits until `release()`; every other call goes straight through. */
class HeldReadStore implements Store {
  private held: { key: Uint8Array; release: Promise<void> } | undefined
  constructor(private readonly inner: Store) {}

  /** Holds the next read of `key`; returns the function that lets it finish. */
  holdNextRead(key: Uint8Array): () => void {
    let release!: () => void
    this.held = { key, release: new Promise<void>((r) => (release = r)) }
    return release
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const held = this.held
    if (held !== undefined && equalBytes(held.key, key)) {
      this.held = undefined
      const value = await this.inner.get(key) // read now, returned late: a slow disk
      await held.release
      return value
    }
    return this.inner.get(key)
  }
  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.inner.put(key, value)
  }
  del(key: Uint8Array): Promise<void> {
    return this.inner.del(key)
  }
  batch(ops: readonly BatchOp[]): Promise<void> {
    return this.inner.batch(ops)
  }
  iterate(options?: IterateOptions): AsyncIterable<Entry> {
    return this.inner.iterate(options)
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

describe('the sessions cache', () => {
  const peers: TestPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('a slow first load outside the queue never replaces what a send committed meanwhile', async () => {
    const a = await testPeer('A')
    peers.push(a)
    const bMemory = new MemoryStore()
    let b = await testPeer('B', bMemory)
    const bAtA = (await a.messenger.addContact(b.messenger.card().link)).id
    const aAtB = await eventually(() => b.messenger.contactList()[0]?.id, 10_000, 'request')
    await b.messenger.accept(aAtB)
    await eventually(() => a.messenger.contact(bAtA).state === 'accepted', 10_000, 'accepted')
    await b.stop()

    // B again, with nothing in memory: the first load of its sessions with A is held back.
    const held = new HeldReadStore(bMemory)
    const release = held.holdNextRead(Keys.sessions(aAtB))
    b = await testPeer('B', held as Store)
    peers.push(b)
    const reader = coreOf(b.messenger).sessionSet(aAtB)
    const first = b.messenger.send(aAtB, 'first')
    // The send either waits for the held load or (before the fix) loads, encrypts and commits.
    await new Promise((r) => setTimeout(r, 300))
    release()
    await reader
    await first
    const second = await b.messenger.send(aAtB, 'second')
    assert.equal(second.text, 'second')

    const got = await eventually(
      async () => {
        const texts = (await a.messenger.messages(bAtA, { peek: true })).map((m) => m.text)
        return texts.includes('first') && texts.includes('second') ? texts : undefined
      },
      10_000,
      'both messages at A',
    )
    assert.deepEqual(
      got.filter((t) => t === 'first' || t === 'second'),
      ['first', 'second'],
    )
  })
})
