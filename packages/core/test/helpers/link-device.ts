/**
 * A new device linked in process over /jiayi/link/1 (devices/join.ts), as `jiayi init --link`
 * does it: a fresh device key on a node of its own, and the code it shows typed into the existing
 * device once that one waits for it (the two get there in either order).
 */
import { joinByLink } from '../../src/devices/join.js'
import { type DeviceKey, generateDeviceKey } from '../../src/identity/device.js'
import type { Messenger } from '../../src/messenger/messenger.js'
import { createJiayiNode } from '../../src/net/node-factory.js'
import { nodeNetwork } from '../../src/net/transports-node.js'
import type { Store } from '../../src/store/store.js'
import { eventually } from './messenger-peer.js'

/** Types `code` into `existing` as soon as it asks for one. */
export const typeCodeInto = (existing: Messenger) => (code: string) =>
  void eventually(
    () =>
      existing.confirmLink(code).then(
        () => true,
        () => false,
      ),
    10_000,
    'the existing device waits for the code',
  )

/** Links a new device (its records go into `store`) to `existing`; its device key. */
export async function linkNewDevice(existing: Messenger, store: Store, name = 'phone'): Promise<DeviceKey> {
  const deviceKey = await generateDeviceKey()
  const node = await createJiayiNode({
    privateKey: deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    relayServer: false,
  })
  try {
    await joinByLink({
      link: existing.linkDevice().link,
      store,
      node,
      deviceKey,
      name,
      onCode: typeCodeInto(existing),
    })
  } finally {
    await node.stop()
  }
  return deviceKey
}
