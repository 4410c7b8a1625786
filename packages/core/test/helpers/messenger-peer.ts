/**
 * A real messenger on a real libp2p node on 127.0.0.1 (TCP only, no LAN discovery unless
 * `network` asks for it), for in-process tests.
 */
import { createAccount, loadAccount } from '../../src/messenger/account.js'
import { Messenger, type MessengerInit } from '../../src/messenger/messenger.js'
import type { LocalScope } from '../../src/net/dial-policy.js'
import { createJiayiNode } from '../../src/net/node-factory.js'
import { type NodeNetworkInit, nodeNetwork } from '../../src/net/transports-node.js'
import { MemoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'

export interface TestPeer {
  readonly messenger: Messenger
  readonly store: Store
  stop(): Promise<void>
}

/** A peer with a fresh account, or the account already in `store` (a restart). */
export async function testPeer(
  name: string,
  store: Store = new MemoryStore(),
  options: Pick<MessengerInit, 'pendingLimits' | 'now' | 'resetSessions'> & {
    network?: NodeNetworkInit
    listen?: string[]
    /** Scopes it dials without listening there (a peer that only dials: `listen: []`). */
    alsoDial?: LocalScope[]
  } = {},
): Promise<TestPeer> {
  const { network, listen, alsoDial, ...init } = options
  const account = (await loadAccount(store)) ?? (await createAccount(store, name))
  const node = await createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false, ...network }),
    listen: listen ?? ['/ip4/127.0.0.1/tcp/0'],
    relayServer: false,
    ...(alsoDial === undefined ? {} : { alsoDial }),
  })
  const messenger = await Messenger.open({ store, node, account, ...init })
  return {
    messenger,
    store,
    async stop() {
      await messenger.stop()
      await node.stop()
    },
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
