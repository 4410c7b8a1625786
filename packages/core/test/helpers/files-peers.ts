/**
 * In-process peers with a file service each (real libp2p on 127.0.0.1, real LevelDB, files on
 * disk in a temporary home), already contacts of each other.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from '../../src/bytes.js'
import { NodeFileStorage } from '../../src/files/node-fs.js'
import { FileService, type FileServiceInit } from '../../src/files/service.js'
import type { FileStorage } from '../../src/files/storage.js'
import { createAccount, loadAccount } from '../../src/messenger/account.js'
import { Messenger } from '../../src/messenger/messenger.js'
import { createJiayiNode } from '../../src/net/node-factory.js'
import { nodeNetwork } from '../../src/net/transports-node.js'
import { LevelStore } from '../../src/store/level.js'
import type { Store } from '../../src/store/store.js'
import { openSealedStore } from '../../src/store/unlock.js'
import { eventually } from './messenger-peer.js'

export interface FilePeer {
  readonly name: string
  readonly home: string
  readonly key: Uint8Array
  readonly store: Store
  readonly messenger: Messenger
  readonly files: FileService
  readonly storage: FileStorage
  stop(): Promise<void>
}

export type FilePeerOptions = Omit<FileServiceInit, 'store' | 'storage'> & {
  storage?: FileStorage
  withFiles?: boolean
}

const homes: string[] = []

export async function newHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'jiayi-files-'))
  homes.push(home)
  return home
}

export async function removeHomes(): Promise<void> {
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })))
}

/** A peer whose store is LevelDB in `home`; pass the same home and key again to restart it. */
export async function filePeer(
  name: string,
  options: FilePeerOptions & { home?: string; key?: Uint8Array } = {},
): Promise<FilePeer> {
  const home = options.home ?? (await newHome())
  const key = options.key ?? randomBytes(32)
  const store = await openSealedStore(await LevelStore.open(join(home, 'store')), { key })
  const account = (await loadAccount(store)) ?? (await createAccount(store, name))
  const node = await createJiayiNode({
    privateKey: account.deviceKey,
    network: nodeNetwork({ mdns: false }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    relayServer: false,
  })
  const storage = options.storage ?? NodeFileStorage.forHome(home)
  const files = new FileService({ ...options, store, storage })
  const messenger = await Messenger.open({
    store,
    node,
    account,
    extensions: options.withFiles === false ? {} : files.extensions,
  })
  if (options.withFiles !== false) await files.start(messenger)
  return {
    name,
    home,
    key,
    store,
    messenger,
    files,
    storage,
    async stop() {
      await files.stop()
      await messenger.stop()
      await node.stop()
      await store.close()
    },
  }
}

/** Makes `a` and `b` accepted contacts of each other; returns each one's contact id for the other. */
export async function befriend(a: FilePeer, b: FilePeer): Promise<{ bAtA: string; aAtB: string }> {
  const bAtA = (await a.messenger.addContact(b.messenger.card().link)).id
  const aAtB = (await b.messenger.addContact(a.messenger.card().link)).id
  await eventually(() => a.messenger.contact(bAtA).state === 'accepted', 15_000, 'accepted at a')
  await eventually(() => b.messenger.contact(aAtB).state === 'accepted', 15_000, 'accepted at b')
  return { bAtA, aAtB }
}
