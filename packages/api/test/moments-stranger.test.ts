/**
 * A stranger who sent a contact request gets nothing of Moments (issue 15, item 1), between real
 * peers on 127.0.0.1: peers as `openPeer` assembles them for the node daemon, and the method
 * table over them. Mallory runs her own build of Jiayi: she scans Vera's QR code (a
 * request), then answers her own request with a forged accept, then asks for Vera's feed over
 * /jiayi/feed/2, with her own client and by hand. Vera never accepted: Mallory gets no feed key,
 * no entries, no snapshot and no picture offers, before or after Vera's posts, and Vera counts
 * each refusal. Frank, a real friend, gets all of it (so there was something to get).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, describe, it } from 'node:test'
import {
  type ContactId,
  createAccount,
  type FileService,
  MemoryFileStorage,
  MemoryStore,
  type Messenger,
  openFramed,
  PROTOCOL_FEED,
  randomBytes,
  storeKey,
  type Tx,
} from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { decodeFrame, encodeFrame, type Feed, openPeer, type SyncFrame } from '@jiayi/feed'
import { ControlDispatcher } from '../src/index.js'

interface StackPeer {
  readonly name: string
  readonly store: MemoryStore
  readonly messenger: Messenger
  readonly files: FileService
  readonly storage: MemoryFileStorage
  readonly feed: Feed
  readonly dispatcher: ControlDispatcher
  stop(): Promise<void>
}

/** One peer put together as apps/node's daemon does it (store in memory, files in memory). */
async function stackPeer(name: string): Promise<StackPeer> {
  const store = new MemoryStore()
  await createAccount(store, name)
  const storage = new MemoryFileStorage()
  const peer = await openPeer({
    store,
    network: nodeNetwork({ mdns: false }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    node: { relayServer: false },
    fileStorage: storage,
  })
  const { messenger, files, feed } = peer
  const dispatcher = new ControlDispatcher(messenger, {
    files: { files, openSource: (handle) => storage.openSource(handle) },
    feed,
  })
  return {
    name,
    store,
    messenger,
    files,
    storage,
    feed,
    dispatcher,
    stop: () => peer.stop(),
  }
}

async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function befriend(a: StackPeer, b: StackPeer): Promise<void> {
  const bAtA = await a.messenger.addContact(b.messenger.card().link)
  const request = await eventually(
    () => b.messenger.contactList().find((c) => c.identityKey === a.messenger.whoami().identityKey),
    10_000,
    `${b.name} sees ${a.name}'s request`,
  )
  await b.messenger.accept(request.id)
  await eventually(() => a.messenger.contact(bAtA.id).state === 'accepted', 10_000, 'accepted')
}

/**
 * Core's change record, field for field (core exports only its type; `implements` keeps this
 * copy honest at compile time). Mallory's build uses it to write any payload into her outbox.
 */
class ForgedTx implements Tx {
  readonly ops: Tx['ops'] = []
  readonly sessions: Tx['sessions'] = new Map()
  readonly contacts: Tx['contacts'] = new Map()
  readonly removedContacts: Tx['removedContacts'] = new Set()
  readonly effects: Tx['effects'] = []
  readonly kicks: Tx['kicks'] = new Set()
  readonly outbox: Tx['outbox'] = []
  route: Tx['route'] = undefined
  readonly metas: Tx['metas'] = new Set()
  put(
    key: Uint8Array,
    value: Uint8Array | (() => Uint8Array),
    options: { readonly endToEndFrom?: number } = {},
  ) {
    this.ops.push(
      options.endToEndFrom === undefined
        ? { type: 'put', key, value }
        : { type: 'put', key, value, endToEndFrom: options.endToEndFrom },
    )
  }
  del(key: Uint8Array) {
    this.ops.push({ type: 'del', key })
  }
  after(effect: () => void) {
    this.effects.push(effect)
  }
}

interface CoreUnderTheFacade {
  readonly queue: { run<T>(key: string, task: () => Promise<T>): Promise<T> }
  encryptToOutbox(tx: Tx, cid: ContactId, body: { kind: 'accept'; card: Uint8Array }): Promise<void>
  commit(tx: Tx): Promise<unknown>
}

/** Mallory answers her own request with an accept, through her session with the victim. */
async function forgeAccept(mallory: StackPeer, victimCid: ContactId): Promise<void> {
  const core = (mallory.messenger as unknown as { core: CoreUnderTheFacade }).core
  await core.queue.run(victimCid, async () => {
    const tx = new ForgedTx()
    await core.encryptToOutbox(tx, victimCid, { kind: 'accept', card: mallory.messenger.cardBytes() })
    await core.commit(tx)
  })
  await eventually(async () => (await mallory.messenger.outboxSize(victimCid)) === 0, 10_000, 'delivered')
}

/** Opens /jiayi/feed/2 to `to` by hand and asks with made-up claims; every frame that came back. */
async function askByHand(from: StackPeer, to: StackPeer): Promise<SyncFrame[]> {
  const got: SyncFrame[] = []
  try {
    const framed = await openFramed(from.messenger.node, to.messenger.node.peerId, PROTOCOL_FEED, {
      signal: AbortSignal.timeout(5_000),
    })
    const claims = Array.from({ length: 4 }, () => ({ tag: randomBytes(32), box: randomBytes(60) }))
    await framed.write(encodeFrame({ type: 'have', round: 1, claims })).catch(() => undefined)
    for (;;) {
      const bytes = await framed.read({ timeoutMs: 5_000 })
      if (bytes === null) break
      got.push(decodeFrame(bytes))
    }
  } catch {
    // The victim resets the stream: the expected end.
  }
  return got
}

describe('a stranger with a pending request, and a forged accept', () => {
  const peers: StackPeer[] = []
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  it('gets no feed key, no entries, no snapshot and no picture offers', async () => {
    const vera = await stackPeer('Vera')
    const frank = await stackPeer('Frank')
    const mallory = await stackPeer('Mallory')
    peers.push(vera, frank, mallory)
    await befriend(vera, frank)

    const picture = (n: number) => {
      const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, ...randomBytes(2000 + n)])
      vera.storage.addSource(`pic${n}`, bytes, `tea-${n}.png`, 'image/png')
      return createHash('sha256').update(bytes).digest('hex')
    }
    const before = picture(1)
    const first = (await vera.dispatcher.call('post', {
      text: 'New tea 新茶, before Mallory',
      attachments: [{ source: 'pic1' }],
    })) as { id: string }

    // Mallory: a request, then her own accept of it.
    const victimCid = (await mallory.messenger.addContact(vera.messenger.card().link)).id
    const malloryAtVera = await eventually(
      () => vera.messenger.contactList().find((c) => c.name === 'Mallory'),
      10_000,
      'Vera sees the request',
    )
    await forgeAccept(mallory, victimCid)
    await vera.messenger.settled()
    assert.equal(vera.messenger.contact(malloryAtVera.id).state, 'pending-in', 'her accept means nothing')
    assert.equal(vera.messenger.trustOf(mallory.messenger.whoami().peerId), 'pending-in')

    const after = picture(2)
    const second = (await vera.dispatcher.call('post', {
      text: 'And a second one, after',
      attachments: [{ source: 'pic2' }],
    })) as { id: string }

    // Frank, a friend, gets both posts and both pictures: there was something to get.
    await eventually(
      () => frank.feed.get(first.id) && frank.feed.get(second.id),
      10_000,
      'Frank has both posts',
    )
    await eventually(
      () => {
        const got = new Set(
          frank.files
            .transfers()
            .filter((t) => t.direction === 'in')
            .map((t) => t.sha256),
        )
        return got.has(before) && got.has(after)
      },
      20_000,
      'Frank is offered both pictures',
    )

    // Mallory asks for Vera's feed: with her own client, and by hand.
    const refusedBefore = vera.feed.stats().rejected.NotAllowed ?? 0
    await mallory.feed.syncWith(victimCid).catch(() => undefined)
    assert.deepEqual(await askByHand(mallory, vera), [], 'not even a challenge')
    await eventually(
      () => (vera.feed.stats().rejected.NotAllowed ?? 0) >= refusedBefore + 2,
      10_000,
      'Vera counts both refusals',
    )
    await vera.feed.settled()
    await mallory.feed.settled()

    const veraFeed = vera.feed.id
    assert.equal(mallory.feed.engine.maxEpoch(veraFeed), 0, 'no feed key')
    // Vera's record of the epoch she handed each contact (feed PROTOCOL.md, "Store layout").
    const handed = await vera.store.get(storeKey('feed', 'sent', malloryAtVera.id))
    assert.equal(handed, undefined, 'Vera never sent her the feed key')
    assert.equal(mallory.feed.engine.doc(veraFeed), undefined, 'no feed at all')
    const stats = mallory.feed.stats()
    assert.equal(stats.entriesApplied, 0, 'no entries')
    assert.equal(stats.snapshotsApplied, 0, 'no snapshot')
    assert.equal(stats.rejectedTotal, 0, 'nor anything she had to refuse')
    assert.equal(mallory.feed.get(first.id), undefined)
    assert.equal(mallory.feed.get(second.id), undefined)
    assert.deepEqual(
      mallory.files.transfers().filter((t) => t.direction === 'in'),
      [],
      'no picture offers reached her',
    )
    assert.deepEqual(
      vera.files.transfers().filter((t) => t.direction === 'out' && t.contactId === malloryAtVera.id),
      [],
      'Vera offered her none',
    )
  })
})
