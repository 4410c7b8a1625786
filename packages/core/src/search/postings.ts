/**
 * A search index's records, in the messenger's sealed store. Reading a sealed record costs an
 * authenticated decryption, so postings are packed: each indexed document (a message, a post, a
 * comment) gets a number, and a token's numbers are kept in blocks of up to BLOCK_SIZE, so a word
 * found in 30,000 messages costs ~60 records to read, not 30,000.
 *
 * Each index has a family prefix of its own (`sx` for messages, `fx` for Moments), so the
 * families are, for prefix p:
 *
 *   <p>b <token> <block>   the numbers of the documents with that token (u32, little-endian)
 *   <p>ref <n>             the document a number stands for: "<group>:<id>"
 *   <p>doc <group> <id>    a document's number and tokens (and version), to take it out again
 *   <p>mark <group>        how far the group (a conversation, a feed) is indexed
 *   <p>next                the next number
 *
 * A group is what documents are indexed and forgotten by (a contact, a feed); it holds no ':'.
 * A document taken out (edited, deleted, its group forgotten) loses its `ref` and `doc`; its
 * numbers stay in the blocks and are skipped when read. An edited document is indexed again
 * under a new number.
 */
import { fromUtf8, utf8 } from '../bytes.js'
import { decodeKey, key } from '../store/keys.js'
import type { BatchOp, Store } from '../store/store.js'

export const BLOCK_SIZE = 512

export interface IndexedDoc {
  readonly group: string
  readonly id: string
  readonly tokens: readonly string[]
  /** What the indexer compares to tell whether the document changed (kept with it). */
  readonly version?: string
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

interface DocRecord {
  readonly n: number
  readonly tokens: readonly string[]
  readonly v?: string
}

function keysOf(family: string) {
  return {
    block: (token: string, no: number) => key(`${family}b`, token, no),
    blocks: (token: string) => key(`${family}b`, token),
    ref: (n: number) => key(`${family}ref`, n),
    doc: (group: string, id: string) => key(`${family}doc`, group, id),
    docs: (group: string) => key(`${family}doc`, group),
    mark: (group: string) => key(`${family}mark`, group),
    marks: () => key(`${family}mark`),
    next: () => key(`${family}next`),
  }
}

export class Postings {
  private nextNumber: number | undefined
  private readonly K: ReturnType<typeof keysOf>

  /** `family`: the index's own prefix of record families (two letters by convention). */
  constructor(
    private readonly store: Store,
    family = 'sx',
  ) {
    this.K = keysOf(family)
  }

  async mark(group: string): Promise<string | undefined> {
    const bytes = await this.store.get(this.K.mark(group))
    return bytes === undefined ? undefined : fromUtf8(bytes)
  }

  /** Every group's mark. */
  async *marks(): AsyncGenerator<[group: string, mark: string]> {
    for await (const [k, v] of this.store.iterate({ prefix: this.K.marks() }))
      yield [decodeKey(k)[1] as string, fromUtf8(v)]
  }

  markOp(group: string, mark: string): BatchOp {
    return { type: 'put', key: this.K.mark(group), value: utf8(mark) }
  }

  /** The documents indexed in `group`, with the version each was indexed at. */
  async *docs(group: string): AsyncGenerator<{ id: string; version: string | undefined }> {
    for await (const [k, v] of this.store.iterate({ prefix: this.K.docs(group) }))
      yield { id: decodeKey(k)[2] as string, version: (JSON.parse(fromUtf8(v)) as DocRecord).v }
  }

  /** The writes that index `docs` (one read per distinct token, for its last block). */
  async addOps(docs: readonly IndexedDoc[]): Promise<BatchOp[]> {
    if (docs.length === 0) return []
    let next = this.nextNumber ?? (await this.loadNext())
    const ops: BatchOp[] = []
    const byToken = new Map<string, number[]>()
    for (const d of docs) {
      const n = next++
      const record: DocRecord =
        d.version === undefined ? { n, tokens: d.tokens } : { n, tokens: d.tokens, v: d.version }
      ops.push({ type: 'put', key: this.K.ref(n), value: utf8(`${d.group}:${d.id}`) })
      ops.push({ type: 'put', key: this.K.doc(d.group, d.id), value: utf8(JSON.stringify(record)) })
      for (const t of d.tokens) {
        const list = byToken.get(t)
        if (list === undefined) byToken.set(t, [n])
        else list.push(n)
      }
    }
    for (const [token, numbers] of byToken) {
      let no = 0
      let block: number[] = []
      for await (const [k, v] of this.store.iterate({
        prefix: this.K.blocks(token),
        reverse: true,
        limit: 1,
      })) {
        no = decodeKey(k)[2] as number
        block = decodeNumbers(v)
      }
      for (const n of numbers) {
        if (block.length >= BLOCK_SIZE) {
          ops.push({ type: 'put', key: this.K.block(token, no), value: encodeNumbers(block) })
          no++
          block = []
        }
        block.push(n)
      }
      ops.push({ type: 'put', key: this.K.block(token, no), value: encodeNumbers(block) })
    }
    ops.push({ type: 'put', key: this.K.next(), value: utf8(String(next)) })
    this.nextNumber = next
    return ops
  }

  /** The writes that take a document out (its number then stands for nothing). */
  async removeOps(group: string, id: string): Promise<BatchOp[]> {
    const doc = await this.store.get(this.K.doc(group, id))
    if (doc === undefined) return []
    const { n } = JSON.parse(fromUtf8(doc)) as DocRecord
    return [
      { type: 'del', key: this.K.ref(n) },
      { type: 'del', key: this.K.doc(group, id) },
    ]
  }

  /** Takes a whole group out (a removed contact, a feed no longer shown). */
  async forget(group: string, del: (k: Uint8Array) => void): Promise<void> {
    for await (const [k, v] of this.store.iterate({ prefix: this.K.docs(group) })) {
      del(this.K.ref((JSON.parse(fromUtf8(v)) as DocRecord).n))
      del(k)
    }
    del(this.K.mark(group))
  }

  /** The numbers of the documents indexed under `token`. */
  async numbers(token: string): Promise<Set<number>> {
    const out = new Set<number>()
    for await (const [, v] of this.store.iterate({ prefix: this.K.blocks(token) }))
      for (const n of decodeNumbers(v)) out.add(n)
    return out
  }

  /** The document a number stands for, or undefined once it was taken out. */
  async ref(n: number): Promise<{ group: string; id: string } | undefined> {
    const bytes = await this.store.get(this.K.ref(n))
    if (bytes === undefined) return undefined
    const text = fromUtf8(bytes)
    const at = text.indexOf(':')
    return { group: text.slice(0, at), id: text.slice(at + 1) }
  }

  /**
   * The numbers with every token of `tokens`, newest (highest) first: the rarest token's numbers
   * are intersected with the others'.
   */
  async matching(tokens: readonly string[]): Promise<number[]> {
    const sets = await Promise.all(tokens.map((t) => this.numbers(t)))
    sets.sort((a, b) => a.size - b.size)
    const [first, ...rest] = sets
    return [...(first ?? [])].filter((n) => rest.every((set) => set.has(n))).sort((a, b) => b - a)
  }

  private async loadNext(): Promise<number> {
    const bytes = await this.store.get(this.K.next())
    this.nextNumber = bytes === undefined ? 1 : Number(fromUtf8(bytes))
    return this.nextNumber
  }
}
