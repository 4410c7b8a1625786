/**
 * Which client this tab runs: the UI of a node when the URL carries `#token=` (or this tab saw
 * one before), else a full peer in the page, loaded lazily so the node's UI never loads libp2p.
 */
import { RemoteClient } from './remote.js'
import type { InPageClientFactory, JiayiClient } from './types.js'

export class NoInPagePeer extends Error {
  constructor() {
    super('the in-page peer is not part of this build')
    this.name = 'NoInPagePeer'
  }
}

/** `token`: what `takeToken()` found when the page started. */
export async function pickClient(token: string | undefined): Promise<JiayiClient> {
  if (token !== undefined) return new RemoteClient(token)
  const mod = (await import('../peer/index.js')) as unknown as { createInPageClient?: InPageClientFactory }
  if (typeof mod.createInPageClient !== 'function') throw new NoInPagePeer()
  return mod.createInPageClient()
}
