/**
 * Loader and runner for C2SP/wycheproof vector files (testvectors_v1 at commit dac1dd47), kept in
 * the repository's `test/vectors/wycheproof/` (see test/vectors/README.md).
 *
 * The runner never skips: every case of every group is handed to the check, every failure is
 * collected with its tcId, and the number of cases run is compared with the file's own
 * `numberOfTests` and with the per-result counts the caller pins, so a loader bug or a truncated
 * or swapped file cannot pass silently.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** `<repo>/test/vectors/wycheproof/`, from `<repo>/packages/core/test/helpers/`. */
export const WYCHEPROOF_DIR = new URL('../../../../test/vectors/wycheproof/', import.meta.url)

export type WycheproofResult = 'valid' | 'invalid' | 'acceptable'
const RESULTS: readonly WycheproofResult[] = ['valid', 'invalid', 'acceptable']

export interface WycheproofCase {
  readonly tcId: number
  readonly comment?: string
  readonly flags: readonly string[]
  readonly result: WycheproofResult
}

export interface WycheproofGroup<T extends WycheproofCase> {
  readonly type: string
  readonly tests: readonly T[]
}

export interface WycheproofFile<G extends WycheproofGroup<WycheproofCase>> {
  readonly algorithm: string
  readonly numberOfTests: number
  readonly testGroups: readonly G[]
}

export type ResultCounts = Record<WycheproofResult, number>

/** Failing cases listed in the assertion message; the count always covers all of them. */
const MAX_REPORTED = 25

/**
 * Reads `<name>.json` and checks its outer shape. Fails loudly (never skips) when the vectors
 * folder or the file is missing. Field types inside the cases are the caller's declaration; a
 * missing hex field makes the check for that case throw, which is reported with its tcId.
 */
export function loadWycheproof<G extends WycheproofGroup<WycheproofCase>>(name: string): WycheproofFile<G> {
  const dir = fileURLToPath(WYCHEPROOF_DIR)
  if (!existsSync(dir)) {
    throw new Error(
      `Wycheproof vectors folder not found at ${dir} (see test/vectors/README.md). ` +
        'This suite fails rather than skips without it.',
    )
  }
  const path = fileURLToPath(new URL(`${name}.json`, WYCHEPROOF_DIR))
  if (!existsSync(path)) throw new Error(`Wycheproof vector file not found: ${path}`)
  const file = JSON.parse(readFileSync(path, 'utf8')) as WycheproofFile<G>
  assert.ok(Array.isArray(file.testGroups), `${name}: testGroups is not an array`)
  assert.ok(Number.isInteger(file.numberOfTests), `${name}: numberOfTests is missing`)
  const seen = new Set<number>()
  for (const group of file.testGroups) {
    assert.ok(Array.isArray(group.tests), `${name}: a group has no tests array`)
    for (const test of group.tests) {
      assert.ok(Number.isInteger(test.tcId), `${name}: a case has no integer tcId`)
      assert.ok(!seen.has(test.tcId), `${name}: duplicate tcId ${test.tcId}`)
      seen.add(test.tcId)
      assert.ok(RESULTS.includes(test.result), `${name}: tcId ${test.tcId} has result ${String(test.result)}`)
      assert.ok(Array.isArray(test.flags), `${name}: tcId ${test.tcId} has no flags array`)
    }
  }
  return file
}

/**
 * Runs `check` on every case of `file`, collecting failures (a thrown error or failed assertion)
 * with their tcId, then asserts that none failed, that all `numberOfTests` cases ran and that the
 * per-result counts equal `expected`. Returns the counts for a diagnostic line.
 */
export function runWycheproof<G extends WycheproofGroup<WycheproofCase>>(
  name: string,
  file: WycheproofFile<G>,
  expected: ResultCounts,
  check: (test: G['tests'][number], group: G) => void,
): ResultCounts {
  const counts: ResultCounts = { valid: 0, invalid: 0, acceptable: 0 }
  const failures: string[] = []
  for (const group of file.testGroups) {
    for (const test of group.tests) {
      counts[test.result]++
      try {
        check(test, group)
      } catch (error) {
        const why = error instanceof Error ? error.message.split('\n')[0] : String(error)
        const comment = test.comment ? ` "${test.comment}"` : ''
        failures.push(`tcId ${test.tcId} (${test.result}, [${test.flags.join(',')}]${comment}): ${why}`)
      }
    }
  }
  if (failures.length > 0) {
    const shown = failures.slice(0, MAX_REPORTED)
    const more = failures.length > shown.length ? `\n  … and ${failures.length - shown.length} more` : ''
    assert.fail(`${name}: ${failures.length} case(s) failed:\n  ${shown.join('\n  ')}${more}`)
  }
  const run = counts.valid + counts.invalid + counts.acceptable
  assert.equal(run, file.numberOfTests, `${name}: ran ${run} cases, the file declares ${file.numberOfTests}`)
  assert.deepEqual(counts, expected, `${name}: per-result counts differ from the pinned counts`)
  return counts
}

export function describeCounts(counts: ResultCounts): string {
  return `valid ${counts.valid}, invalid ${counts.invalid}, acceptable ${counts.acceptable}`
}
