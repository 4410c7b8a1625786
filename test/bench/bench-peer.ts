/**
 * What the in-process benchmarks share: a real messenger on a real libp2p node on 127.0.0.1
 * (TCP only, no LAN discovery) over a given store, opened with the account already in it or a
 * new one; and the median of a run of timings.
 */
import {
  createAccount,
  createJiayiNode,
  loadAccount,
  Messenger,
  type ResourceLimits,
  type Store,
} from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'

export interface RunningPeer {
  readonly messenger: Messenger
  stop(): Promise<void>
}

export async function startPeer(
  store: Store,
  name: string,
  onStop?: () => Promise<void>,
  /** Connection limits other than the product's (RESOURCE_LIMITS). */
  limits?: Partial<ResourceLimits>,
): Promise<RunningPeer> {
  const account = (await loadAccount(store)) ?? (await createAccount(store, name))
  const node = await createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    relayServer: false,
    ...(limits === undefined ? {} : { limits }),
  })
  const messenger = await Messenger.open({ store, node, account })
  return {
    messenger,
    async stop() {
      await messenger.stop()
      await node.stop()
      await onStop?.()
    },
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
