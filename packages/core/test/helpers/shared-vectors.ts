/**
 * Locates ../shared/vectors beside the repository (where CI puts it). A missing folder fails the
 * test that asks for it with a clear message; vector tests are never skipped.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const sharedVectors = fileURLToPath(new URL('../../../../../shared/vectors/', import.meta.url))

export function readSharedVector<T = unknown>(relativePath: string): T {
  const path = sharedVectors + relativePath
  if (!existsSync(path)) {
    throw new Error(`test vectors not found at ${path}: clone the project beside shared/ (as CI does)`)
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T
}
