/**
 * A long history, on the real sealed LevelDB store of a real messenger (contacts made over
 * loopback; the history itself written through Messenger.importHistory, not the network):
 *
 * - history.open_100k_ms: opening a conversation of 100,000 messages as the web app does (its
 *   newest 100, marking it read), right after a start; median of 5. Goal ≤ 200 ms. Baseline: the
 *   same at 1,000 messages.
 * - history.open_20k_unread_ms: the same for a conversation of 20,000 unread messages, after
 *   another conversation was opened since the start; median of 5. Goal ≤ 2× the baseline: a conversation of 20,000 messages with none unread. The time until
 *   its 20,000 read receipts are queued (gathered after the page is answered) is in
 *   `readReceiptsQueuedMs`.
 * - history.scroll_to_oldest_ms: from the newest page to the first message of the 100,000, a page
 *   of 100 at a time (the `before` cursor). Baseline: the same walk in pages of 10,000 (the most
 *   one call returns), i.e. the reading of every message with the least paging.
 * - history.start_100k_ms: the messenger's start on that store. Baseline: the start with 1,000.
 *
 * HISTORY_BENCH_N changes the 100,000.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type HistoryEntry,
  LevelStore,
  MemoryStore,
  type Messenger,
  openSealedStore,
  randomBytes,
} from '@jiayi/core'
import { median, type RunningPeer as Running, startPeer } from './bench-peer.js'
import { report } from './report.js'

const N = Number(process.env.HISTORY_BENCH_N ?? 100_000)
const SMALL = 1_000
const UNREAD = 20_000
const PAGE = 100
const IMPORT_CHUNK = 5_000
const QUIET_MS = 1_000
const UNREAD_ROUNDS = 5

function log(message: string): void {
  process.stderr.write(`# ${message}\n`)
}

const lorem = 'Fresh jasmine tea in from Fujian this week — 50 g tins. 新茶到了，欢迎品尝。'

/** `count` messages, alternating sides, incoming ones read or not. */
async function fill(m: Messenger, contact: string, count: number, read: boolean): Promise<void> {
  const t0 = Date.now() - count * 1000
  for (let done = 0; done < count; done += IMPORT_CHUNK) {
    const entries: HistoryEntry[] = []
    for (let i = done; i < Math.min(count, done + IMPORT_CHUNK); i++)
      entries.push({
        // Unread conversations are all incoming: every message of them is unread.
        direction: !read || i % 2 === 0 ? 'in' : 'out',
        text: `#${i} ${lorem}`,
        sentAt: t0 + i * 1000,
        read,
      })
    // As if received: reading the unread ones sends read receipts (to a contact that is away).
    await m.importHistory(contact, entries, { readReceipts: !read })
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-history-bench-'))
  const key = randomBytes(32)
  const others: Running[] = []
  let current: Running | undefined
  try {
    const storeOpens: number[] = []
    let level: LevelStore | undefined
    const openA = async (): Promise<Running> => {
      const t0 = performance.now()
      level = await LevelStore.open(dir)
      const store = await openSealedStore(level, { key })
      storeOpens.push(performance.now() - t0)
      current = await startPeer(store, 'A', () => store.close())
      return current
    }
    let a = await openA()
    // Three contacts, befriended over loopback, then stopped: what is sent to them waits.
    const contacts: string[] = []
    for (const name of ['X', 'Y', 'Z']) {
      const other = await startPeer(new MemoryStore(), name)
      others.push(other)
      const added = await a.messenger.addContact(other.messenger.card().link)
      await other.messenger.addContact(a.messenger.card().link)
      const deadline = Date.now() + 20_000
      while (a.messenger.contact(added.id).state !== 'accepted') {
        if (Date.now() > deadline) throw new Error(`${name} did not accept`)
        await new Promise((r) => setTimeout(r, 20))
      }
      contacts.push(added.id)
    }
    for (const o of others.splice(0)) await o.stop()
    const [x, y, z] = contacts as [string, string, string]

    /**
     * Restarts A; returns the start's time. Then waits for the start's own work to end (its
     * outboxes tried, LevelDB's compaction after a large import), so that what is timed next is
     * the reading alone.
     */
    const restart = async (): Promise<number> => {
      await a.stop()
      const t = performance.now()
      a = await openA()
      const ms = performance.now() - t
      await a.messenger.settled()
      await new Promise((r) => setTimeout(r, QUIET_MS))
      return ms
    }
    const open = async (contact: string): Promise<number> => {
      const t = performance.now()
      const page = await a.messenger.messages(contact, { limit: PAGE })
      const ms = performance.now() - t
      if (page.length !== PAGE) throw new Error(`a page of ${page.length}`)
      return ms
    }
    const rounds = async (times: number, contact: string) => {
      storeOpens.length = 0
      const starts: number[] = []
      const opens: number[] = []
      for (let i = 0; i < times; i++) {
        starts.push(await restart())
        opens.push(await open(contact))
      }
      return { start: median(starts), open: median(opens), storeOpen: median(storeOpens) }
    }

    log(`${SMALL} messages`)
    await fill(a.messenger, x, SMALL, true)
    const small = await rounds(5, x)
    log(`${N} messages`)
    const t = performance.now()
    await fill(a.messenger, x, N - SMALL, true)
    await level?.compact()
    log(`filled and compacted in ${Math.round(performance.now() - t)} ms`)
    const large = await rounds(5, x)
    report({
      bench: 'history.open_100k_ms',
      value: large.open,
      unit: 'ms',
      baseline: 'history.open_1k_ms',
      baselineValue: small.open,
      goal: '<= 200 ms',
      messages: N,
    })

    // Paging back to the first message, right after a start.
    const walk = async (page: number): Promise<number> => {
      await restart()
      const t0 = performance.now()
      let seen = 0
      let list = await a.messenger.messages(x, { limit: page, peek: true })
      for (;;) {
        seen += list.length
        if (list.length < page) break
        list = await a.messenger.messages(x, { limit: page, peek: true, before: list[0]!.id })
      }
      if (seen !== N) throw new Error(`walked ${seen} of ${N}`)
      return performance.now() - t0
    }
    const bulk = await walk(10_000)
    const paged = await walk(PAGE)
    report({
      bench: 'history.scroll_to_oldest_ms',
      value: paged,
      unit: 'ms',
      baseline: 'history.read_all_in_10k_pages_ms',
      baselineValue: bulk,
      messages: N,
      pages: Math.ceil(N / PAGE),
    })

    // Unread: Y and Z grow by 20,000 a round, Y's read, Z's not; each opened after a start.
    const none: number[] = []
    const unread: number[] = []
    const gathered: number[] = []
    for (let i = 0; i < UNREAD_ROUNDS; i++) {
      await fill(a.messenger, y, UNREAD, true)
      await fill(a.messenger, z, UNREAD, false)
      const n = await a.messenger.unreadCount(z)
      if (n !== UNREAD) throw new Error(`${n} unread`)
      // LevelDB compacts what was just written in the background for seconds (on this machine):
      // done here, so that it does not fall on the first of Y and Z to be read.
      await level?.compact()
      await restart()
      // The first reads after a start pay for warming up (~35 ms here, whichever conversation):
      // another conversation takes them, so that Y and Z compare as they are.
      await open(x)
      // As `messages` does it (the page, then the marker), to time the read receipts too, which
      // are gathered after the page is answered.
      const openUnread = async () => {
        const t0 = performance.now()
        await a.messenger.messages(z, { limit: PAGE, peek: true })
        const { receipts } = await a.messenger.markRead(z)
        unread.push(performance.now() - t0)
        await receipts
        gathered.push(performance.now() - t0)
      }
      // In turn first, so that neither always finds the other's reads in the page cache.
      if (i % 2 === 0) {
        await openUnread()
        none.push(await open(y))
      } else {
        none.push(await open(y))
        await openUnread()
      }
      if ((await a.messenger.unreadCount(z)) !== 0) throw new Error('still unread')
    }
    report({
      bench: 'history.open_20k_unread_ms',
      value: median(unread),
      unit: 'ms',
      baseline: 'history.open_20k_none_unread_ms',
      baselineValue: median(none),
      goal: '<= 2x baseline',
      // Until the 20,000 read receipts are in the queue, after the page was answered.
      readReceiptsQueuedMs: median(gathered),
    })

    report({
      bench: 'history.start_100k_ms',
      value: large.start,
      unit: 'ms',
      baseline: 'history.start_1k_ms',
      baselineValue: small.start,
      messages: N,
      // Of the start, opening LevelDB and the sealed store (with 1,000: baselineStoreOpenMs).
      storeOpenMs: large.storeOpen,
      baselineStoreOpenMs: small.storeOpen,
    })
  } finally {
    await current?.stop().catch(() => undefined)
    for (const o of others) await o.stop().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
process.exit(0)
