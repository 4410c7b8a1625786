/** Feed engines without a network: an owner (or two replicas of one owner) and readers. */
import { generateIdentity, type IdentityKeyPair, MemoryStore, type Store } from '@jiayi/core'
import * as Y from 'yjs'
import { FeedEngine, type FeedEngineInit, type FeedId } from '../../src/index.js'

export async function engine(
  identity: IdentityKeyPair = generateIdentity(),
  store: Store = new MemoryStore(),
  init: Partial<FeedEngineInit> = {},
): Promise<FeedEngine> {
  return FeedEngine.open({ store, identity, ...init })
}

/** A reader that holds `owner`'s current key. */
export async function readerOf(owner: FeedEngine, store: Store = new MemoryStore()): Promise<FeedEngine> {
  const reader = await engine(generateIdentity(), store)
  const { epoch, key } = owner.currentKey()
  await reader.addKey(owner.self, epoch, key)
  return reader
}

/** Everything `from` holds of `feed` that `to` lacks, applied to `to` (what sync does, in-process). */
export async function copyFeed(from: FeedEngine, to: FeedEngine, feed: FeedId = from.self): Promise<void> {
  for await (const item of from.missing(feed, to.versionVector(feed), to.maxEpoch(feed))) {
    if (item.kind === 'entry') await to.ingestEntry(item.entry)
    else await to.ingestSnapshot(item.snapshot)
  }
}

/** The doc's full state, to compare byte for byte. */
export function stateOf(e: FeedEngine, feed: FeedId): Uint8Array {
  return Y.encodeStateAsUpdate(e.doc(feed)!)
}

/** The doc's content as JSON (independent of Yjs client ids and encoding order). */
export function contentOf(e: FeedEngine, feed: FeedId): unknown {
  const doc = e.doc(feed)!
  return {
    posts: doc.getMap('posts').toJSON(),
    reactions: doc.getMap('reactions').toJSON(),
    deleted: doc.getMap('deleted').toJSON(),
  }
}
