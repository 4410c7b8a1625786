/**
 * One peer of the file benchmark (files.bench.ts), in its own process, as `openPeer` assembles
 * it on a real libp2p node (TCP on 127.0.0.1), LevelDB and files in a temporary home.
 * JSON commands on stdin, JSON events on stdout, one per line.
 *
 *   env: BENCH_HOME, BENCH_KEY (hex)
 *   commands: add {link} | wait-accepted {contact} | send {contact, path} | rss {reset?} |
 *             raw-listen | raw-send {addr, bytes} | exit
 *   events:   ready {peerId, link, addr} | added | accepted | offered {id} | complete {id} |
 *             failed {id, reason} | rss {rss, peak} | raw-done {bytes, ms} | raw-sent | error
 */
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createAccount, hexToBytes, LevelStore, loadAccount, openSealedStore } from '@jiayi/core'
import { NodeFileStorage, nodeFileSource, nodeNetwork } from '@jiayi/core/node'
import { openPeer } from '@jiayi/feed'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'

const RAW_PROTOCOL = '/jiayi-bench/raw/1'
const home = process.env.BENCH_HOME!
const print = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

const store = await openSealedStore(await LevelStore.open(join(home, 'store')), {
  key: hexToBytes(process.env.BENCH_KEY!),
})
if ((await loadAccount(store)) === undefined) await createAccount(store, 'bench')
// A 1 GiB file on purpose: nothing waits for a user's accept.
const unlimited = Number.MAX_SAFE_INTEGER
const peer = await openPeer({
  store,
  network: nodeNetwork({ mdns: false }),
  listen: ['/ip4/127.0.0.1/tcp/0'],
  node: { relayServer: false },
  fileStorage: NodeFileStorage.forHome(home),
  files: { autoDownload: { askAboveBytes: unlimited, perContactBytes: unlimited, totalBytes: unlimited } },
})
const { node, messenger, files } = peer
files.events.on('transfer', ({ transfer: t }) => {
  if (t.status === 'complete') print({ event: 'complete', id: t.id, direction: t.direction })
  if (t.status === 'failed') print({ event: 'failed', id: t.id, reason: t.reason })
})

let peak = process.memoryUsage().rss
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss)
}, 25)

async function handle(cmd: Record<string, unknown>): Promise<void> {
  switch (cmd.cmd) {
    case 'add':
      return print({ event: 'added', id: (await messenger.addContact(String(cmd.link))).id })
    case 'wait-accepted':
      while (messenger.contact(String(cmd.contact)).state !== 'accepted')
        await new Promise((r) => setTimeout(r, 25))
      return print({ event: 'accepted' })
    case 'send': {
      const t = await files.sendFile(String(cmd.contact), await nodeFileSource(String(cmd.path)))
      return print({ event: 'offered', id: t.id })
    }
    case 'rss':
      if (cmd.reset === true) peak = process.memoryUsage().rss
      return print({
        event: 'rss',
        rss: process.memoryUsage().rss,
        peak: Math.max(peak, process.memoryUsage().rss),
      })
    case 'raw-listen':
      await node.handle(RAW_PROTOCOL, async (stream: Stream) => {
        const start = performance.now()
        let bytes = 0
        for await (const chunk of stream) bytes += chunk.byteLength
        print({ event: 'raw-done', bytes, ms: performance.now() - start })
      })
      return print({ event: 'raw-listening' })
    case 'raw-send': {
      // One stream, 256 KiB writes (the size of a file chunk), waiting for drain like any sender.
      const stream = await node.dialProtocol(multiaddr(String(cmd.addr)), RAW_PROTOCOL)
      const block = new Uint8Array(256 * 1024).fill(7)
      for (let sent = 0; sent < Number(cmd.bytes); sent += block.length) {
        if (!stream.send(block)) await stream.onDrain()
      }
      await stream.close()
      return print({ event: 'raw-sent' })
    }
    case 'exit':
      clearInterval(sampler)
      await peer.stop()
      process.exit(0)
  }
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const cmd = JSON.parse(line) as Record<string, unknown>
    handle(cmd).catch((error: unknown) => print({ event: 'error', cmd: cmd.cmd, error: String(error) }))
  })
  // The benchmark that started us is gone: do not linger as an orphan.
  .on('close', () => process.exit(0))
print({ event: 'ready', link: messenger.card().link, addr: node.getMultiaddrs()[0]?.toString() })
