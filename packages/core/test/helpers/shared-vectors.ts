/**
 * Reads the published vectors copied into the repository's test/vectors (their source is written
 * down in test/vectors/README.md). A missing file fails the test that asks for it with a clear
 * message; vector tests are never skipped.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const vectors = fileURLToPath(new URL('../../../../test/vectors/', import.meta.url))

export function readSharedVector<T = unknown>(relativePath: string): T {
  const path = vectors + relativePath
  if (!existsSync(path)) throw new Error(`test vectors not found at ${path} (see test/vectors/README.md)`)
  return JSON.parse(readFileSync(path, 'utf8')) as T
}
