/**
 * devices.link_history_10k_ms: linking a new device to a peer that holds 10,000 messages of
 * history (all of it handed over: `--history all`), from the new device's first dial until it has
 * stored everything and the existing device published the new list; both ends in this process,
 * over loopback TCP, on in-memory stores. Baseline, in the same run: an encrypted backup of the
 * same store exported and restored into an empty store (backup.ts, the product's Argon2id cost),
 * the other way to move a history to a new place.
 *
 * DEVICES_BENCH_N changes the 10,000.
 */
import {
  createJiayiNode,
  decodeBackup,
  encodeBackup,
  generateDeviceKey,
  type HistoryEntry,
  joinByLink,
  MemoryStore,
} from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { startPeer } from './bench-peer.js'
import { report } from './report.js'

const N = Number(process.env.DEVICES_BENCH_N ?? 10_000)
const CHUNK = 5_000

function log(message: string): void {
  process.stderr.write(`# ${message}\n`)
}

async function main(): Promise<void> {
  const store = new MemoryStore()
  const a = await startPeer(store, 'A')
  const x = await startPeer(new MemoryStore(), 'X')
  try {
    const added = await a.messenger.addContact(x.messenger.card().link)
    await x.messenger.addContact(a.messenger.card().link)
    const deadline = Date.now() + 20_000
    while (a.messenger.contact(added.id).state !== 'accepted') {
      if (Date.now() > deadline) throw new Error('X did not accept')
      await new Promise((r) => setTimeout(r, 20))
    }
    const t0 = Date.now() - N * 1000
    for (let done = 0; done < N; done += CHUNK) {
      const entries: HistoryEntry[] = []
      for (let i = done; i < Math.min(N, done + CHUNK); i++)
        entries.push({
          direction: i % 2 === 0 ? 'in' : 'out',
          text: `#${i} 新茶到了 jasmine tea`,
          sentAt: t0 + i * 1000,
          read: true,
        })
      await a.messenger.importHistory(added.id, entries)
    }
    await a.messenger.settled()
    log(`${N} messages in the history`)

    // Baseline: backup export + restore of the same store.
    const b0 = performance.now()
    const pieces: Uint8Array[] = []
    for await (const piece of encodeBackup(store.iterate(), 'a passphrase for the bench')) pieces.push(piece)
    const restored = new MemoryStore()
    let records = 0
    for await (const [k, v] of decodeBackup(pieces, 'a passphrase for the bench')) {
      await restored.put(k, v)
      records++
    }
    const backupMs = performance.now() - b0
    log(`backup: ${records} records, ${backupMs.toFixed(0)} ms`)

    // Linking a new device.
    const deviceKey = await generateDeviceKey()
    const node = await createJiayiNode({
      privateKey: deviceKey,
      network: nodeNetwork({ mdns: false }),
      listen: [],
      relayServer: false,
      alsoDial: ['loopback'],
    })
    const offer = a.messenger.linkDevice()
    const newStore = new MemoryStore()
    let total = 0
    const l0 = performance.now()
    await joinByLink({
      link: offer.link,
      store: newStore,
      node,
      deviceKey,
      name: 'bench',
      history: 'all',
      onCode: (code) => void a.messenger.confirmLink(code),
      onProgress: (_done, t) => {
        total = t
      },
    })
    let status = await a.messenger.linkStatus(0, 0)
    while (status.state !== 'linked') status = await a.messenger.linkStatus(status.seq, 5_000)
    const linkMs = performance.now() - l0
    await node.stop()
    log(`link: ${total} records, ${linkMs.toFixed(0)} ms`)
    report({
      bench: 'devices.link_history_10k_ms',
      value: linkMs,
      unit: 'ms',
      baseline: 'devices.backup_export_restore_ms',
      baselineValue: backupMs,
      messages: N,
      records: total,
      backupRecords: records,
    })
  } finally {
    await x.stop()
    await a.stop()
  }
}

await main()
