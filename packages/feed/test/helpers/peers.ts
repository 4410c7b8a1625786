/**
 * Real peers as `openPeer` assembles them (messenger, the files service the pictures travel by
 * with files kept in memory, the feed) on real libp2p nodes on 127.0.0.1 (TCP only, no mDNS),
 * in-process.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ContactView,
  createAccount,
  type FileService,
  type FileStorage,
  LevelStore,
  loadAccount,
  MemoryFileStorage,
  MemoryStore,
  type Messenger,
  type Store,
} from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { type Feed, type FeedInit, openPeer } from '../../src/index.js'

export interface FeedPeer {
  readonly name: string
  readonly messenger: Messenger
  readonly feed: Feed
  readonly files: FileService
  readonly storage: FileStorage
  readonly store: Store
  /** Stops the feed, the files, the messenger and the node; the store stays open (restart with it). */
  stop(): Promise<void>
}

/** A peer with a fresh account, or the account already in `store` (a restart). */
export async function feedPeer(
  name: string,
  store: Store = new MemoryStore(),
  init: Omit<FeedInit, 'files' | 'log'> = {},
  storage: FileStorage = new MemoryFileStorage(),
): Promise<FeedPeer> {
  const account = (await loadAccount(store)) ?? (await createAccount(store, name))
  const peer = await openPeer({
    store,
    // The store outlives the peer: a test restarts with it.
    closeStore: async () => undefined,
    account,
    network: nodeNetwork({ mdns: false }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    node: { relayServer: false },
    fileStorage: storage,
    feed: init,
  })
  const { messenger, feed, files } = peer
  return { name, messenger, feed, files, storage, store, stop: () => peer.stop() }
}

/** Makes `a` and `b` accepted contacts of each other (b accepts a's request). */
export async function befriend(a: FeedPeer, b: FeedPeer): Promise<{ bAtA: ContactView; aAtB: ContactView }> {
  const bAtA = await a.messenger.addContact(b.messenger.card().link)
  const request = await eventually(
    () => b.messenger.contactList().find((c) => c.identityKey === a.messenger.whoami().identityKey),
    10_000,
    `${b.name} sees ${a.name}'s request`,
  )
  await b.messenger.accept(request.id)
  await eventually(() => a.messenger.contact(bAtA.id).state === 'accepted', 10_000, 'accepted')
  return { bAtA: a.messenger.contact(bAtA.id), aAtB: b.messenger.contact(request.id) }
}

/** A real LevelDB in a fresh temp dir, reopenable. */
export async function levelDir(): Promise<{
  dir: string
  open(): Promise<LevelStore>
  dispose(): Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-feed-'))
  return {
    dir,
    open: () => LevelStore.open(dir),
    dispose: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
