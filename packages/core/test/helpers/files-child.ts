/**
 * A file-transfer peer in its own process, for the multi-process tests and the benchmark:
 * a messenger on a real libp2p node (TCP on 127.0.0.1), LevelDB in `<home>/store`, a FileService
 * with Node storage in `<home>/files`. It takes JSON commands on stdin, one per line, and prints
 * JSON events on stdout, one per line. Independent of the CLI on purpose.
 *
 *   node --import tsx --import ./polyfill.mjs packages/core/test/helpers/files-child.ts
 *   env: JIAYI_TEST_HOME, JIAYI_TEST_KEY (hex), JIAYI_TEST_NAME, JIAYI_TEST_WINDOW,
 *        JIAYI_TEST_THROTTLE_MS (delay before each chunk read of a sent file),
 *        JIAYI_TEST_QUIET=1 (no per-chunk events), JIAYI_TEST_PORT (TCP port, default any)
 *
 * Commands: add {link} | wait-accepted {contact} | send {contact, path, name?} | files |
 * transfers | stats | rss | raw-listen | raw-send {peer, addr, bytes} | exit
 */

import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { hexToBytes } from '../../src/bytes.js'
import { NodeFileStorage } from '../../src/files/node-fs.js'
import { FileService } from '../../src/files/service.js'
import type { FileSource, FileStorage } from '../../src/files/storage.js'
import { createAccount, loadAccount } from '../../src/messenger/account.js'
import { Messenger } from '../../src/messenger/messenger.js'
import { createJiayiNode } from '../../src/net/node-factory.js'
import { nodeNetwork } from '../../src/net/transports-node.js'
import { LevelStore } from '../../src/store/level.js'
import { openSealedStore } from '../../src/store/unlock.js'
import { eventually } from './messenger-peer.js'

const RAW_PROTOCOL = '/jiayi-test/raw/1'
const env = process.env
const home = env.JIAYI_TEST_HOME!
const quiet = env.JIAYI_TEST_QUIET === '1'
const throttleMs = Number(env.JIAYI_TEST_THROTTLE_MS ?? 0)

const print = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

/** Slows down chunk reads of sent files (not a hash before the offer), so a test can kill mid-transfer. */
function throttled(
  storage: FileStorage,
): FileStorage & { wrap(s: FileSource): FileSource; armed: Set<FileSource> } {
  const armed = new Set<FileSource>()
  const wrap = (s: FileSource): FileSource => {
    const wrapped: FileSource = {
      ...s,
      name: s.name,
      size: s.size,
      read: async (offset, length, into) => {
        if (throttleMs > 0 && armed.has(wrapped)) await new Promise((r) => setTimeout(r, throttleMs))
        return s.read(offset, length, into)
      },
      close: () => s.close(),
    }
    return wrapped
  }
  return {
    armed,
    wrap,
    openSource: async (ref) => {
      const s = wrap(await storage.openSource(ref))
      armed.add(s)
      return s
    },
    openSink: (init) => storage.openSink(init),
    discardPartial: (id) => storage.discardPartial(id),
    createHasher: () => storage.createHasher(),
  }
}

const store = await openSealedStore(await LevelStore.open(join(home, 'store')), {
  key: hexToBytes(env.JIAYI_TEST_KEY!),
})
const account = (await loadAccount(store)) ?? (await createAccount(store, env.JIAYI_TEST_NAME ?? 'peer'))
const node = await createJiayiNode({
  privateKey: account.deviceKey,
  network: nodeNetwork({ mdns: false }),
  // A restarted peer may ask for its previous port (the other side still dials the old address).
  listen: [`/ip4/127.0.0.1/tcp/${Number(env.JIAYI_TEST_PORT ?? 0)}`],
  relayServer: false,
})
const storage = throttled(NodeFileStorage.forHome(home))
const files = new FileService({
  store,
  storage,
  windowChunks: env.JIAYI_TEST_WINDOW ? Number(env.JIAYI_TEST_WINDOW) : undefined,
  // These peers move hundreds of MiB on purpose: nothing waits for a user's accept.
  autoDownload: {
    askAboveBytes: Number.MAX_SAFE_INTEGER,
    perContactBytes: Number.MAX_SAFE_INTEGER,
    totalBytes: Number.MAX_SAFE_INTEGER,
  },
})
const messenger = await Messenger.open({ store, node, account, extensions: files.extensions })

files.events.on('transfer', ({ transfer: t }) =>
  print({
    event: 'transfer',
    id: t.id,
    direction: t.direction,
    status: t.status,
    reason: t.reason,
    note: t.note,
    bytes: t.bytes,
  }),
)
files.events.on('resume', (e) => print({ event: 'resume', ...e }))
if (!quiet) {
  files.events.on('progress', (e) =>
    print({ event: 'progress', id: e.id, direction: e.direction, bytes: e.bytes }),
  )
  files.events.on('sent', (e) => print({ event: 'sent', ...e }))
}
await files.start(messenger)

let peakRss = process.memoryUsage().rss
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 20)

let rawStart = 0
let rawBytes = 0

async function handle(cmd: Record<string, unknown>): Promise<void> {
  switch (cmd.cmd) {
    case 'add':
      return print({ event: 'added', id: (await messenger.addContact(String(cmd.link))).id })
    case 'wait-accepted':
      await eventually(() => messenger.contact(String(cmd.contact)).state === 'accepted', 20_000, 'accepted')
      return print({ event: 'accepted', id: cmd.contact })
    case 'send': {
      const source = storage.wrap(await storage.openSource(String(cmd.path)))
      storage.armed.delete(source)
      const t = await files.sendFile(String(cmd.contact), source, { name: cmd.name as string | undefined })
      storage.armed.add(source)
      return print({ event: 'offered', id: t.id, sha256: t.sha256 })
    }
    case 'files':
      return print({ event: 'files', files: files.files() })
    case 'transfers':
      return print({ event: 'transfers', transfers: files.transfers() })
    case 'stats':
      return print({ event: 'stats', ...files.stats() })
    case 'rss':
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
      if (cmd.reset === true) peakRss = process.memoryUsage().rss
      return print({ event: 'rss', rss: process.memoryUsage().rss, peak: peakRss })
    case 'raw-listen':
      await node.handle(RAW_PROTOCOL, async (stream: Stream) => {
        rawStart = performance.now()
        rawBytes = 0
        for await (const chunk of stream) rawBytes += chunk.byteLength
        print({ event: 'raw-done', bytes: rawBytes, ms: performance.now() - rawStart })
      })
      return print({ event: 'raw-listening' })
    case 'raw-send': {
      const stream = await node.dialProtocol(multiaddr(String(cmd.addr)), RAW_PROTOCOL)
      const block = new Uint8Array(256 * 1024).fill(7)
      const total = Number(cmd.bytes)
      const start = performance.now()
      for (let sent = 0; sent < total; sent += block.length) {
        if (!stream.send(block)) await stream.onDrain()
      }
      await stream.close()
      return print({ event: 'raw-sent', ms: performance.now() - start })
    }
    case 'exit':
      clearInterval(sampler)
      await files.stop()
      await messenger.stop()
      await node.stop()
      await store.close()
      print({ event: 'exited' })
      process.exit(0)
  }
}

const lines = createInterface({ input: process.stdin })
// The test that started us is gone (crashed or killed): do not linger as an orphan.
lines.on('close', () => process.exit(0))
lines.on('line', (line) => {
  let cmd: Record<string, unknown>
  try {
    cmd = JSON.parse(line)
  } catch {
    return print({ event: 'error', error: 'bad command' })
  }
  handle(cmd).catch((error: unknown) =>
    print({
      event: 'error',
      cmd: cmd.cmd,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    }),
  )
})

print({
  event: 'ready',
  peerId: node.peerId.toString(),
  link: messenger.card().link,
  addr: node.getMultiaddrs()[0]?.toString(),
  contacts: messenger.contactList().map((c) => c.id),
})
