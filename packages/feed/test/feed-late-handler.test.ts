/**
 * A contact whose feed is not listening yet when we connect (a browser tab still starting its
 * peer, a restart under load): the failed first pull is tried again while the connection lasts.
 */
import { after, describe, it } from 'node:test'
import { Feed } from '../src/index.js'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

describe('a feed that starts after the connection', () => {
  const stops: (() => Promise<void>)[] = []
  after(async () => {
    for (const s of stops.reverse()) await s()
  })

  it('is pulled once it listens: its next post arrives with no reconnect', async () => {
    const a: FeedPeer = await feedPeer('Amy')
    const b: FeedPeer = await feedPeer('Bo')
    stops.push(
      () => a.stop(),
      () => b.stop(),
    )
    await befriend(a, b)
    // Bo's feed stops listening; the connection is made again while it is down.
    await b.feed.stop()
    const bPeer = b.messenger.node.peerId
    await a.messenger.node.hangUp(bPeer)
    await a.messenger.node.dial(bPeer)
    // Amy's first pull on this connection was refused; let it be.
    await new Promise((r) => setTimeout(r, 300))
    const late = await Feed.open(b.messenger)
    stops.push(() => late.stop())
    const post = await late.post('Bo, listening again')
    await eventually(() => a.feed.get(post.id), 15_000, 'Amy holds the post made after Bo’s feed started')
  })
})
