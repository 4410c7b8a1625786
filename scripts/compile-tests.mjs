#!/usr/bin/env node
import { createHash } from 'node:crypto'
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
import { build, transform, version } from 'esbuild'

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

/**
 * The options tsx transforms with (keepNames, the Node version as target, and the compiler options
 * of the root tsconfig.json, which sets none), so the compiled code behaves as it does under tsx;
 * .tsx files (the web app's) take JSX as apps/web/tsconfig.json does.
 */
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
    tsconfigRaw: { compilerOptions: jsx ? { jsx: 'react-jsx', jsxImportSource: 'preact' } : {} },
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
  // Other options (this script, esbuild, Node as the target) compile everything again.
  const stamp = join(OUT, '.options')
  const optionsKey = createHash('sha256')
    .update(JSON.stringify([readFileSync(fileURLToPath(import.meta.url), 'utf8'), version, process.version]))
    .digest('hex')
  const same = existsSync(stamp) && readFileSync(stamp, 'utf8') === optionsKey
  const stale = all.filter((source) => {
    const out = compiledPath(source)
    return !same || !existsSync(out) || statSync(out).mtimeMs < statSync(source).mtimeMs
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
  if (!same) writeAtomic(stamp, optionsKey)
  linkWorkspaces()
  await vendor()
  // Copies whose source is gone (renamed or deleted): a test file among them would run again.
  for (const tree of TREES) removeOrphans(join(OUT, tree), wanted)
  return stale.length
}

/**
 * The ES-module dependencies of the isomorphic packages (libp2p and the rest), bundled: loaded file
 * by file, their few hundred modules cost each test process about a second of CPU more (the
 * `jiayi` command bundles them for the same reason, scripts/build-cli.mjs). Each bare specifier the
 * compiled code imports becomes an entry, split into shared chunks, so one module stays one
 * instance whichever entry a test imports it through. A stub package in build/test-js/node_modules
 * (found before the real one) re-exports the entry. CommonJS packages, those with native code and
 * the test tools stay in node_modules as they are.
 */
async function vendor() {
  const vendored = new Set(['@libp2p/gossipsub'])
  for (const name of ['core', 'feed', 'api']) {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'))
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (!dep.startsWith('@jiayi/')) vendored.add(dep)
  }
  const packageOf = (specifier) =>
    specifier
      .split('/')
      .slice(0, specifier.startsWith('@') ? 2 : 1)
      .join('/')
  const esm = (name) => {
    const file = join(root, 'node_modules', name, 'package.json')
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).type === 'module'
  }
  const specifiers = new Set()
  for (const tree of TREES)
    for (const file of compiled(join(OUT, tree)))
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from |import\(?)"([^".][^"]*)"/g))
        if (vendored.has(packageOf(specifier)) && esm(packageOf(specifier))) specifiers.add(specifier)
  const list = [...specifiers].sort()
  const key = createHash('sha256')
    .update(JSON.stringify([version, list, readFileSync(join(root, 'package-lock.json'), 'utf8')]))
    .digest('hex')
    .slice(0, 16)
  const modules = join(OUT, 'node_modules')
  const dir = join(modules, `.vendor-${key}`)
  if (existsSync(join(dir, 'done'))) return
  const started = performance.now()
  const entries = Object.fromEntries(list.map((s, i) => [`entry-${i}`, s]))
  const result = await build({
    entryPoints: entries,
    absWorkingDir: root,
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    keepNames: true,
    metafile: true,
    chunkNames: 'chunks/[name]-[hash]',
    external: ['classic-level', 'node-datachannel', 'bufferutil', 'utf-8-validate'],
    // Bundled CommonJS dependencies call require() (for Node's builtins and the native modules).
    banner: {
      js: "import { createRequire as __jiayiCreateRequire } from 'node:module'; const require = __jiayiCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
  const exportsOf = new Map(
    Object.entries(result.metafile.outputs)
      .filter(([, output]) => output.entryPoint !== undefined)
      .map(([file, output]) => [join(root, file), output.exports]),
  )
  // Stubs of an earlier set of entries go; the @jiayi links and this set's bundle stay.
  for (const name of readdirSync(modules))
    if (name !== '@jiayi' && !name.startsWith('.vendor-'))
      rmSync(join(modules, name), { recursive: true, force: true })
  const stubs = new Map()
  for (const [entry, specifier] of Object.entries(entries)) {
    const name = packageOf(specifier)
    const sub = specifier.slice(name.length).replace(/^\//, '')
    const stubFile = `${sub === '' ? 'index' : sub.replace(/\//g, '__')}.stub.js`
    const target = join(dir, `${entry}.js`)
    const from = JSON.stringify(relative(join(modules, name), target))
    const lines = [`export * from ${from}`]
    if (exportsOf.get(target)?.includes('default')) lines.push(`export { default } from ${from}`)
    writeAtomic(join(modules, name, stubFile), `${lines.join('\n')}\n`)
    stubs.set(name, { ...stubs.get(name), [sub === '' ? '.' : `./${sub}`]: `./${stubFile}` })
  }
  for (const [name, exports] of stubs)
    writeAtomic(
      join(modules, name, 'package.json'),
      `${JSON.stringify({ name, private: true, type: 'module', exports }, null, 2)}\n`,
    )
  writeFileSync(join(dir, 'done'), '')
  for (const old of readdirSync(modules))
    if (old.startsWith('.vendor-') && old !== `.vendor-${key}`)
      rmSync(join(modules, old), { recursive: true, force: true })
  process.stderr.write(
    `Bundled ${list.length} dependencies for the tests in ${Math.round(performance.now() - started)} ms\n`,
  )
}

function* compiled(dir) {
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* compiled(path)
    else if (name.endsWith('.js') || name.endsWith('.mjs')) yield path
  }
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
