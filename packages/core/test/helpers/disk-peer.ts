/** Test peers on the real store on disk (LevelDB, sealed), stopped and removed after the suite. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CODE_P2P } from '@multiformats/multiaddr'
import { randomBytes } from '../../src/bytes.js'
import { type Account, accountRecord } from '../../src/messenger/account.js'
import { Keys } from '../../src/messenger/keys.js'
import type { MessengerInit } from '../../src/messenger/messenger.js'
import type { NodeNetworkInit } from '../../src/net/transports-node.js'
import { LevelStore } from '../../src/store/level.js'
import { openSealedStore } from '../../src/store/unlock.js'
import { type TestPeer, testPeer } from './messenger-peer.js'

export interface DiskPeer extends TestPeer {
  readonly dir: string
  /** Where it listens now (to start it again on the same address). */
  readonly listen: string[]
}

export class DiskPeers {
  private readonly dirs: string[] = []
  private readonly running = new Set<TestPeer>()
  private readonly keys = new Map<string, Uint8Array>()

  /**
   * A peer on disk: a new one, or (with `dir`) the one stopped there before. With `account`, that
   * account is written into a new store first (a peer with chosen keys).
   */
  async start(
    name: string,
    options: { dir?: string; account?: Account; network?: NodeNetworkInit; listen?: string[] } & Pick<
      MessengerInit,
      'pendingLimits' | 'now'
    > = {},
  ): Promise<DiskPeer> {
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'jiayi-peer-')))
    if (options.dir === undefined) this.dirs.push(dir)
    const key = this.keys.get(dir) ?? randomBytes(32)
    this.keys.set(dir, key)
    const store = await openSealedStore(await LevelStore.open(dir), { key })
    if (options.account !== undefined) await store.put(Keys.account(), accountRecord(options.account))
    const { dir: _dir, account: _account, ...rest } = options
    const peer = await testPeer(name, store, rest)
    const wrapped: DiskPeer = {
      ...peer,
      dir,
      listen: peer.messenger.node.getMultiaddrs().map((a) => a.decapsulateCode(CODE_P2P).toString()),
      stop: async () => {
        if (!this.running.delete(wrapped)) return
        await peer.stop()
        await store.close()
      },
    }
    this.running.add(wrapped)
    return wrapped
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.running].map((p) => p.stop()))
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
}
