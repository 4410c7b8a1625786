#!/usr/bin/env node
// Compiles the TypeScript of packages/*, apps/* and test/ into plain ES modules under build/test-js,
// file by file (esbuild, no bundling), so that the test runner's processes load them with Node
// alone. Under tsx every test process spent about 2.4 s of CPU importing @jiayi/core: each module,
// libp2p's too, went through tsx's loader hooks. The mirror keeps the source tree's layout, and
// every compiled module sees its source file's URL as `import.meta.url`, so fixtures, vectors and
// sources read relative to it are the source tree's (a spawned `--import tsx` child runs the
// source too). Workspace packages resolve to their compiled copies (build/test-js/node_modules).
// Source maps are inline, so stack traces name the .ts lines.
// Only sources newer than their compiled copy are compiled again; a source gone loses its copy.
// Usage: node scripts/compile-tests.mjs   (prints nothing when all is fresh)
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { transform } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
export const OUT = join(root, 'build', 'test-js')
const WORKSPACES = ['packages', 'apps']
const TREES = [...WORKSPACES, 'test']

/** The compiled path of a source file (a .ts, .tsx or .mjs under the repository). */
export function compiledPath(source) {
  return join(OUT, relative(root, source)).replace(/\.(ts|tsx|mts)$/, '.js')
}

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name === 'dist' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* sources(path)
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) yield path
    else if (name.endsWith('.mjs') && dir === join(root, 'test')) yield path
  }
}

/** Writes `text` to `path` through a rename, so a run beside this one never reads half a file. */
function writeAtomic(path, text) {
  mkdirSync(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text)
  renameSync(temporary, path)
}

/** Same options as tsx's (keepNames, the Node version as target), with the repository's tsconfig. */
function options(source) {
  const jsx = source.endsWith('.tsx')
  return {
    loader: source.endsWith('.mjs') ? 'js' : jsx ? 'tsx' : 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    keepNames: true,
    sourcemap: 'inline',
    sourcesContent: false,
    sourcefile: source,
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(source).href) },
    tsconfigRaw: {
      compilerOptions: {
        target: 'ES2022',
        verbatimModuleSyntax: true,
        ...(jsx ? { jsx: 'react-jsx', jsxImportSource: 'preact' } : {}),
      },
    },
  }
}

/** Each workspace package as its compiled copy: exports to .js, linked under build/test-js/node_modules. */
function linkWorkspaces() {
  writeAtomic(join(OUT, 'package.json'), `${JSON.stringify({ private: true, type: 'module' })}\n`)
  for (const tree of WORKSPACES) {
    for (const name of readdirSync(join(root, tree))) {
      const dir = join(root, tree, name)
      if (!existsSync(join(dir, 'package.json'))) continue
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      const exports = JSON.parse(JSON.stringify(pkg.exports ?? {}).replace(/\.(ts|tsx)"/g, '.js"'))
      const text = `${JSON.stringify({ name: pkg.name, private: true, type: 'module', exports }, null, 2)}\n`
      const copy = join(OUT, tree, name)
      if (
        !existsSync(join(copy, 'package.json')) ||
        readFileSync(join(copy, 'package.json'), 'utf8') !== text
      )
        writeAtomic(join(copy, 'package.json'), text)
      // A package's own node_modules (a dependency version of its own) stays where it is.
      link(join(dir, 'node_modules'), join(copy, 'node_modules'))
      link(copy, join(OUT, 'node_modules', ...pkg.name.split('/')))
    }
  }
}

function link(target, path) {
  if (!existsSync(target) || existsSync(path)) return
  mkdirSync(dirname(path), { recursive: true })
  try {
    symlinkSync(relative(dirname(path), target), path, 'dir')
  } catch (error) {
    if (error.code !== 'EEXIST') throw error
  }
}

/** Compiles what changed; returns how many files it compiled. */
export async function compileTests() {
  const all = TREES.flatMap((tree) => [...sources(join(root, tree))])
  const wanted = new Set(all.map(compiledPath))
  const stale = all.filter((source) => {
    const out = compiledPath(source)
    return !existsSync(out) || statSync(out).mtimeMs < statSync(source).mtimeMs
  })
  const errors = []
  await Promise.all(
    stale.map(async (source) => {
      try {
        const { code } = await transform(readFileSync(source, 'utf8'), options(source))
        writeAtomic(compiledPath(source), code)
      } catch (error) {
        errors.push(error.message)
      }
    }),
  )
  if (errors.length > 0) throw new Error(`could not compile the tests:\n${errors.join('\n')}`)
  linkWorkspaces()
  // Copies whose source is gone (renamed or deleted): a test file among them would run again.
  for (const tree of TREES) removeOrphans(join(OUT, tree), wanted)
  return stale.length
}

function removeOrphans(dir, wanted) {
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat === undefined || name === 'node_modules' || name === 'package.json') continue
    if (stat.isDirectory()) removeOrphans(path, wanted)
    else if (name.endsWith('.js') && !wanted.has(path)) rmSync(path, { force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  const count = await compileTests()
  if (count > 0)
    process.stderr.write(
      `Compiled ${count} TypeScript files for the tests in ${Math.round(performance.now() - started)} ms\n`,
    )
}
