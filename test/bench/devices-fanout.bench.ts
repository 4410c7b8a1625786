/**
 * Several devices per person (Sesame): real messengers on real libp2p nodes on 127.0.0.1 (TCP,
 * Noise, Yamux; in-memory stores), every peer in this one process.
 *
 * - devices.fanout_3_ms: Bob sends one message to Ann, who has three devices (one identity, three
 *   device keys, a signed device list naming all three, Bob holding it); timed from `send` until
 *   all three devices hold it (their `message` events), the median of ROUNDS after a first one
 *   (the first starts the sessions with the two devices the card does not name: their prekeys
 *   are fetched from them). Baseline devices.fanout_1_ms: the same to Cy, who has one device, in
 *   the same run, median of ROUNDS after a warm-up.
 *
 * Everything runs on this process's thread, receivers included: the three devices' work, which
 * their own machines would do in parallel, is summed in.
 */
import {
  accountRecord,
  type ContactId,
  createDeviceList,
  devicePublicKey,
  generateDeviceKey,
  loadAccount,
  MemoryStore,
  type Messenger,
  storeKey,
} from '@jiayi/core'
import { median, type RunningPeer, startPeer } from './bench-peer.js'
import { report } from './report.js'

const ROUNDS = Number(process.env.DEVICES_BENCH_ROUNDS ?? 9)
const TEXT = 'Fresh jasmine tea in from Fujian this week — 50 g tins. 新茶到了。'
const TIMEOUT_MS = 60_000
/** Where a person's own signed device list is kept (the devices work writes it there). */
const OWN_DEVICE_LIST = storeKey('account', 'device-list')

/** Resolves once every messenger in `at` has stored the message `id` (its event). */
function heldBy(at: readonly Messenger[], id: () => string | undefined): Promise<void> {
  let left = at.length
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('a device never got the message')), TIMEOUT_MS)
    const offs = at.map((m) => {
      const off = m.events.on('message', (e) => {
        if (e.change !== 'new' || e.message.id !== id()) return
        off()
        if (--left === 0) {
          clearTimeout(timer)
          for (const o of offs) o()
          resolve()
        }
      })
      return off
    })
  })
}

async function befriend(a: Messenger, b: Messenger): Promise<{ bAtA: ContactId; aAtB: ContactId }> {
  const bAtA = (await a.addContact(b.card().link)).id
  const aAtB = (await b.addContact(a.card().link)).id
  const deadline = Date.now() + TIMEOUT_MS
  while (a.contact(bAtA).state !== 'accepted' || b.contact(aAtB).state !== 'accepted') {
    if (Date.now() > deadline) throw new Error('never accepted')
    await new Promise((r) => setTimeout(r, 20))
  }
  return { bAtA, aAtB }
}

async function timeOne(from: Messenger, to: ContactId, at: readonly Messenger[]): Promise<number> {
  let id: string | undefined
  const start = performance.now()
  const held = heldBy(at, () => id)
  id = (await from.send(to, TEXT)).id
  await held
  return performance.now() - start
}

async function main(): Promise<void> {
  const peers: RunningPeer[] = []
  try {
    const bob = await startPeer(new MemoryStore(), 'Bob')
    const cy = await startPeer(new MemoryStore(), 'Cy')
    const annStore = new MemoryStore()
    const ann = await startPeer(annStore, 'Ann')
    peers.push(bob, cy, ann)
    const { bAtA: cyAtBob } = await befriend(bob.messenger, cy.messenger)
    const { bAtA: annAtBob, aAtB: bobAtAnn } = await befriend(bob.messenger, ann.messenger)
    await ann.messenger.settled()

    // Ann's two other devices: her identity, their own device keys, Bob as a contact.
    const account = (await loadAccount(annStore))!
    const keys = [await generateDeviceKey(), await generateDeviceKey()]
    const list = createDeviceList(account.identity, 1, [
      { deviceKey: devicePublicKey(account.deviceKey), name: 'laptop', linkedAt: 1 },
      ...keys.map((k, i) => ({ deviceKey: devicePublicKey(k), name: `device ${i + 2}`, linkedAt: 2 + i })),
    ])
    const bobRecord = (await annStore.get(storeKey('contact', bobAtAnn)))!
    const others: RunningPeer[] = []
    for (const deviceKey of keys) {
      const store = new MemoryStore()
      await store.put(storeKey('account'), accountRecord({ ...account, deviceKey }))
      await store.put(storeKey('contact', bobAtAnn), bobRecord)
      await store.put(OWN_DEVICE_LIST, list)
      others.push(await startPeer(store, 'Ann'))
    }
    peers.push(...others)
    await annStore.put(OWN_DEVICE_LIST, list)
    await ann.messenger.reloadOwnDevices()
    await bob.messenger.applyDeviceList(annAtBob, list)
    for (const d of others) await d.messenger.node.dial(bob.messenger.node.getMultiaddrs()[0]!)
    const annDevices = [ann.messenger, ...others.map((d) => d.messenger)]

    const first = await timeOne(bob.messenger, annAtBob, annDevices)
    await timeOne(bob.messenger, cyAtBob, [cy.messenger])
    const three: number[] = []
    const one: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      three.push(await timeOne(bob.messenger, annAtBob, annDevices))
      one.push(await timeOne(bob.messenger, cyAtBob, [cy.messenger]))
    }
    report({
      bench: 'devices.fanout_3_ms',
      value: median(three),
      unit: 'ms',
      baseline: 'devices.fanout_1_ms',
      baselineValue: median(one),
      firstMs: first,
      rounds: ROUNDS,
    })
  } finally {
    for (const p of peers.reverse()) await p.stop().catch(() => undefined)
  }
}

await main()
