/**
 * The search index's records, in the messenger's sealed store. Reading a sealed record costs an
 * authenticated decryption, so postings are packed: each indexed message gets a number, and a
 * token's numbers are kept in blocks of up to BLOCK_SIZE (`sxb <token> <block>`), so a word found
 * in 30,000 messages costs ~60 records to read, not 30,000.
 *
 *   sxb <token> <block>   the numbers of the messages with that token (u32, little-endian)
 *   sxref <n>             the message a number stands for: "<contact>:<message>"
 *   sxdoc <contact> <id>  a message's number and tokens, to take it out again
 *   sxmark <contact>      how far the conversation is indexed (its messages' local numbers)
 *   sxnext                the next number
 *
 * A message taken out (edited, deleted, its contact removed) loses its `sxref` and `sxdoc`; its
 * numbers stay in the blocks and are skipped when read. An edited message is indexed again
 * under a new number.
 */
import { fromUtf8, utf8 } from '../bytes.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import { decodeKey, key } from '../store/keys.js'
import type { BatchOp, Store } from '../store/store.js'

export const BLOCK_SIZE = 512

const K = {
  block: (token: string, no: number) => key('sxb', token, no),
  blocks: (token: string) => key('sxb', token),
  ref: (n: number) => key('sxref', n),
  doc: (cid: ContactId, id: MessageId) => key('sxdoc', cid, id),
  docs: (cid: ContactId) => key('sxdoc', cid),
  mark: (cid: ContactId) => key('sxmark', cid),
  next: () => key('sxnext'),
}

export interface IndexedMessage {
  readonly cid: ContactId
  readonly id: MessageId
  readonly tokens: readonly string[]
}

function encodeNumbers(numbers: readonly number[]): Uint8Array {
  const out = new Uint8Array(numbers.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < numbers.length; i++) view.setUint32(i * 4, numbers[i]!, true)
  return out
}

function decodeNumbers(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: number[] = []
  for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(view.getUint32(i, true))
  return out
}

export class Postings {
  private nextNumber: number | undefined

  constructor(private readonly store: Store) {}

  async mark(cid: ContactId): Promise<number | undefined> {
    const bytes = await this.store.get(K.mark(cid))
    return bytes === undefined ? undefined : Number(fromUtf8(bytes))
  }

  markOp(cid: ContactId, seq: number): BatchOp {
    return { type: 'put', key: K.mark(cid), value: utf8(String(seq)) }
  }

  /** The writes that index `messages` (one read per distinct token, for its last block). */
  async addOps(messages: readonly IndexedMessage[]): Promise<BatchOp[]> {
    if (messages.length === 0) return []
    let next = this.nextNumber ?? (await this.loadNext())
    const ops: BatchOp[] = []
    const byToken = new Map<string, number[]>()
    for (const m of messages) {
      const n = next++
      ops.push({ type: 'put', key: K.ref(n), value: utf8(`${m.cid}:${m.id}`) })
      ops.push({ type: 'put', key: K.doc(m.cid, m.id), value: utf8(JSON.stringify({ n, tokens: m.tokens })) })
      for (const t of m.tokens) {
        const list = byToken.get(t)
        if (list === undefined) byToken.set(t, [n])
        else list.push(n)
      }
    }
    for (const [token, numbers] of byToken) {
      let no = 0
      let block: number[] = []
      for await (const [k, v] of this.store.iterate({ prefix: K.blocks(token), reverse: true, limit: 1 })) {
        no = decodeKey(k)[2] as number
        block = decodeNumbers(v)
      }
      for (const n of numbers) {
        if (block.length >= BLOCK_SIZE) {
          ops.push({ type: 'put', key: K.block(token, no), value: encodeNumbers(block) })
          no++
          block = []
        }
        block.push(n)
      }
      ops.push({ type: 'put', key: K.block(token, no), value: encodeNumbers(block) })
    }
    ops.push({ type: 'put', key: K.next(), value: utf8(String(next)) })
    this.nextNumber = next
    return ops
  }

  /** The writes that take a message out (its number then stands for nothing). */
  async removeOps(cid: ContactId, id: MessageId): Promise<BatchOp[]> {
    const doc = await this.store.get(K.doc(cid, id))
    if (doc === undefined) return []
    const { n } = JSON.parse(fromUtf8(doc)) as { n: number }
    return [
      { type: 'del', key: K.ref(n) },
      { type: 'del', key: K.doc(cid, id) },
    ]
  }

  /** Takes a whole conversation out (a removed contact). */
  async forget(cid: ContactId, del: (k: Uint8Array) => void): Promise<void> {
    for await (const [k, v] of this.store.iterate({ prefix: K.docs(cid) })) {
      del(K.ref((JSON.parse(fromUtf8(v)) as { n: number }).n))
      del(k)
    }
    del(K.mark(cid))
  }

  /** The numbers of the messages indexed under `token`. */
  async numbers(token: string): Promise<Set<number>> {
    const out = new Set<number>()
    for await (const [, v] of this.store.iterate({ prefix: K.blocks(token) }))
      for (const n of decodeNumbers(v)) out.add(n)
    return out
  }

  /** The message a number stands for, or undefined once it was taken out. */
  async ref(n: number): Promise<{ cid: ContactId; id: MessageId } | undefined> {
    const bytes = await this.store.get(K.ref(n))
    if (bytes === undefined) return undefined
    const text = fromUtf8(bytes)
    const at = text.indexOf(':')
    return { cid: text.slice(0, at) as ContactId, id: text.slice(at + 1) as MessageId }
  }

  private async loadNext(): Promise<number> {
    const bytes = await this.store.get(K.next())
    this.nextNumber = bytes === undefined ? 1 : Number(fromUtf8(bytes))
    return this.nextNumber
  }
}
