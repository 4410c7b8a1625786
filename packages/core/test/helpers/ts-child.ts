/**
 * The `node` arguments that run a TypeScript entry point of the tests in a child process. The
 * test runner (scripts/test.mjs) runs its files compiled and says so in JIAYI_TEST_COMPILED: the
 * child then runs the compiled copy too (build/test-js), with no tsx (about 3 s of CPU less per
 * child). Run otherwise (one file under tsx), the child runs the source through tsx.
 */
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

export function tsChildArgs(source: string): string[] {
  if (process.env.JIAYI_TEST_COMPILED !== '1')
    return ['--import', 'tsx', '--import', './polyfill.mjs', source]
  const compiled = `build/test-js/${relative(ROOT, source).replace(/\.ts$/, '.js')}`
  return ['--enable-source-maps', '--import', './polyfill.mjs', compiled]
}
