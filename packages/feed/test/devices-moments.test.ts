/**
 * Moments on two devices of one person, in-process on 127.0.0.1: Ann links a phone to her
 * laptop for real (devices/join.ts over /jiayi/link/1), then what she posts, likes and comments on
 * one device shows on the other, whether or not a contact is online to pass it on: her devices
 * sync her feed (and every feed she follows) with each other, as they would with a contact.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createJiayiNode, generateDeviceKey, joinByLink, MemoryStore } from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { befriend, eventually, type FeedPeer, feedPeer } from './helpers/peers.js'

describe('Moments on two devices of one person', () => {
  const running: FeedPeer[] = []
  let laptop: FeedPeer
  let phone: FeedPeer
  let bob: FeedPeer

  before(async () => {
    bob = await feedPeer('Bob')
    laptop = await feedPeer('Ann')
    running.push(bob, laptop)
    await befriend(laptop, bob)

    const store = new MemoryStore()
    phoneStore = store
    const deviceKey = await generateDeviceKey()
    const node = await createJiayiNode({
      privateKey: deviceKey,
      network: nodeNetwork({ mdns: false }),
      listen: [],
      relayServer: false,
      alsoDial: ['loopback'],
    })
    try {
      await joinByLink({
        link: laptop.messenger.linkDevice().link,
        store,
        node,
        deviceKey,
        name: 'phone',
        // The person types the code the phone shows into the laptop.
        onCode: (code) =>
          void eventually(async () => {
            await laptop.messenger.confirmLink(code)
            return true
          }, 10_000),
      })
    } finally {
      await node.stop()
    }
    // The laptop takes the new list once the phone has stored everything; Bob hears of it from
    // the laptop. Until then each would refuse the phone (its feed sync tries again, later).
    const phoneId = deviceKey.publicKey.toString()
    await eventually(() => laptop.messenger.isOwnDevice(phoneId), 10_000, 'the phone on the laptop’s list')
    await eventually(
      () => bob.messenger.contactList()[0]?.devices.includes(phoneId),
      15_000,
      'the phone on Bob’s copy of the list',
    )
    phone = await feedPeer('Ann', store)
    running.push(phone)
    await phone.messenger.node.dial(laptop.messenger.node.getMultiaddrs()[0]!)
  })

  let phoneStore: MemoryStore

  after(async () => {
    await Promise.all(running.map((p) => p.stop()))
  })

  it('a like and a comment on the laptop show on the phone, with no contact online', async () => {
    const post = await bob.feed.post('新年快乐 happy new year')
    await eventually(() => laptop.feed.get(post.id), 15_000, "Bob's post on the laptop")
    await eventually(() => phone.feed.get(post.id), 15_000, "Bob's post on the phone")
    // Bob goes away: whatever reaches the phone now comes from the laptop itself.
    running.splice(running.indexOf(bob), 1)
    await bob.stop()
    await laptop.feed.like(post.id)
    await laptop.feed.comment(post.id, '同乐 you too')
    const seen = await eventually(
      () => {
        const p = phone.feed.get(post.id)
        return p?.liked && p.comments.some((c) => c.text === '同乐 you too') ? p : undefined
      },
      15_000,
      'the like and the comment on the phone',
    )
    assert.equal(seen.likes.length, 1)
  })

  it('a post on the phone shows on the laptop', async () => {
    const mine = await phone.feed.post('from the phone 手机')
    await eventually(() => laptop.feed.get(mine.id), 15_000, "the phone's post on the laptop")
    await phone.feed.comment(mine.id, 'and a comment')
    await eventually(
      () => laptop.feed.get(mine.id)?.comments.some((c) => c.text === 'and a comment'),
      15_000,
      'the comment on the laptop',
    )
  })

  it('a phone removed while away is refused when it comes back, and gets nothing new', async () => {
    const phoneId = phone.messenger.whoami().peerId
    running.splice(running.indexOf(phone), 1)
    await phone.stop()
    await laptop.messenger.removeDevice(phoneId) // it cannot be told: it is away
    assert.equal(laptop.messenger.isOwnDevice(phoneId), false)
    const refused = () => laptop.feed.stats().rejected.NotAllowed ?? 0
    const before = refused()
    const after = await laptop.feed.post('after the phone was removed')
    // The phone's copy still believes it is Ann's device, and holds her keys.
    const ghost = await feedPeer('Ann', phoneStore)
    running.push(ghost)
    await ghost.messenger.node.dial(laptop.messenger.node.getMultiaddrs()[0]!)
    await eventually(() => refused() > before, 15_000, 'the ghost’s feed sync refused')
    assert.equal(ghost.feed.get(after.id), undefined)
  })
})
