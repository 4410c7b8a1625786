/** Reading a store the way an attacker with the disk would: every file's bytes, every raw record. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '../../src/store/store.js'

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* files(path)
    else yield path
  }
}

/** Every file under `dir` that contains `needle` anywhere in its bytes. */
export async function filesContaining(dir: string, needle: Uint8Array): Promise<string[]> {
  const hits: string[] = []
  for await (const path of files(dir)) {
    if ((await readFile(path)).includes(Buffer.from(needle))) hits.push(path)
  }
  return hits
}

export async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jiayi-sealed-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The inner store's records as they are (keys and values on disk), the store's own 0x00 ones aside. */
export async function rawRecords(inner: Store): Promise<[Uint8Array, Uint8Array][]> {
  const out: [Uint8Array, Uint8Array][] = []
  for await (const [k, v] of inner.iterate()) if (k[0] !== 0x00) out.push([k, v])
  return out
}

/** Whether `needle` occurs in any raw key or value. */
export function occursIn(records: readonly [Uint8Array, Uint8Array][], needle: Uint8Array): boolean {
  const n = Buffer.from(needle)
  return records.some(([k, v]) => Buffer.from(k).includes(n) || Buffer.from(v).includes(n))
}
