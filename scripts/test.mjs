#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test, apps/*/test and test/ with Node's test runner.
// Node 20's runner does not expand globs itself, so the files are found here.
// Usage: node scripts/test.mjs [path-substring ...]   (no argument = every test file)
// The files run compiled to plain JavaScript (scripts/compile-tests.mjs, into build/test-js) rather
// than through tsx: importing @jiayi/core took each test process about 3 s of CPU under tsx's
// loader hooks, half that compiled. JIAYI_TEST_TSX=1 runs them through tsx as before.
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compiledPath, compileTests } from './compile-tests.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const roots = ['packages', 'apps', 'test']

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name === 'dist' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* walk(path)
    else if (name.endsWith('.test.ts')) yield path
  }
}

const filters = process.argv.slice(2)
const files = roots
  .flatMap((r) => [...walk(join(root, r))])
  .map((f) => relative(root, f))
  .filter((f) => /(^|\/)test\//.test(f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort(longestFirst)

/**
 * The order files start in: the runner keeps three going, so a long file started last leaves the
 * others' slots idle while it ends. Browser tests, then those that start `jiayi` processes, then
 * the rest, and the bigger file first within each (a rough measure of how long it runs).
 */
function longestFirst(a, b) {
  const weight = (f) => (f.startsWith('test/web/') ? 2 : f.startsWith('apps/') ? 1 : 0)
  return (
    weight(b) - weight(a) || statSync(join(root, b)).size - statSync(join(root, a)).size || a.localeCompare(b)
  )
}

if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}

// Tests run the `jiayi` command as users do: compiled (apps/node/dist), built here when stale.
{
  const build = spawnSync(process.execPath, ['scripts/build-cli.mjs', '--if-needed'], {
    cwd: root,
    stdio: 'inherit',
  })
  if (build.status !== 0) process.exit(build.status ?? 1)
}

// The browser tests serve apps/web/dist, and each file builds it when it is missing or stale:
// built once here first, so that files the runner starts side by side never empty it under
// each other's servers (Vite clears the directory before it writes).
if (files.some((f) => f.startsWith('test/web/'))) {
  const build = spawnSync(process.execPath, ['scripts/build-web.mjs', '--if-needed'], {
    cwd: root,
    stdio: 'inherit',
  })
  if (build.status !== 0) process.exit(build.status ?? 1)
}

// Never hang CI: a test file whose tests have all finished exits even if a native handle stays
// open (the browser smoke test's process once stayed up 20 minutes after it passed, its WebRTC
// threads still running), and a single test that stalls fails after 5 minutes.
const guards = ['--test-force-exit', '--test-timeout=300000']

// Three files at a time: most tests wait on sockets, timers and browsers, so three share the two
// cores well (the suite ran 14.5 min two at a time). JIAYI_TEST_CONCURRENCY overrides it (1 runs
// the files one by one).
const concurrency = `--test-concurrency=${process.env.JIAYI_TEST_CONCURRENCY ?? 3}`

const viaTsx = process.env.JIAYI_TEST_TSX === '1'
if (!viaTsx) {
  await compileTests()
  // Children the tests start from TypeScript run compiled too (packages/core/test/helpers/ts-child.ts).
  process.env.JIAYI_TEST_COMPILED = '1'
}
/** The file the runner is given for a test file: its compiled copy, or itself under tsx. */
const runnable = (f) => (viaTsx ? f : relative(root, compiledPath(join(root, f))))

// Core runs node:crypto's primitives in Node, as the jiayi command does (test/use-node-crypto.mjs,
// the compiled copy of it beside compiled tests, so that it sets the provider of the same core).
// Stack traces name the TypeScript lines through the compiled files' inline source maps.
const runner = [
  ...(viaTsx
    ? ['--import', 'tsx', '--import', './polyfill.mjs', '--import', './test/use-node-crypto.mjs']
    : [
        '--enable-source-maps',
        '--import',
        './polyfill.mjs',
        '--import',
        `./${relative(root, compiledPath(join(root, 'test/use-node-crypto.mjs')))}`,
      ]),
  '--test',
  concurrency,
  ...guards,
  '--test-reporter=spec',
]

// Files that need multicast (LAN discovery) run inside a network namespace of their own, whose
// loopback carries multicast: their packets must never reach this machine's real interfaces.
const NETNS_MARK = '@jiayi-test own-network-namespace'
const inNetns = files.filter((f) => readFileSync(join(root, f), 'utf8').includes(NETNS_MARK))
const plain = files.filter((f) => !inNetns.includes(f))

/** Runs `args` to the end; its output is kept and given back when `keep`, else shown as it comes. */
function run(command, args, options, keep) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: keep ? ['ignore', 'pipe', 'pipe'] : 'inherit' })
    const out = []
    if (keep) {
      child.stdout.on('data', (d) => out.push(d))
      child.stderr.on('data', (d) => out.push(d))
    }
    child.on('close', (code) => resolve({ status: code ?? 1, output: Buffer.concat(out) }))
  })
}

// The namespaced files run beside the others (they share nothing: their own network, their own
// homes); their report is printed after the others' so the two do not interleave.
let netns = Promise.resolve({ status: 0, output: Buffer.alloc(0) })
let ns
const ip = (...args) => spawnSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0
if (inNetns.length > 0) {
  ns = `jiayi-mc-${process.pid}`
  if (!ip('netns', 'add', ns)) {
    console.error(
      `could not create a network namespace for ${inNetns.join(', ')}: these tests need root and iproute2`,
    )
    process.exit(1)
  }
  const configured =
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up') &&
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'multicast', 'on') &&
    ip('netns', 'exec', ns, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'lo')
  netns = configured
    ? run(
        'ip',
        ['netns', 'exec', ns, process.execPath, ...runner, ...inNetns.map(runnable)],
        { cwd: root, env: { ...process.env, JIAYI_TEST_NETNS: ns } },
        plain.length > 0,
      )
    : Promise.resolve({ status: 1, output: Buffer.from('could not configure the network namespace\n') })
}
let status = 0
try {
  if (plain.length > 0)
    status = (await run(process.execPath, [...runner, ...plain.map(runnable)], { cwd: root }, false)).status
  const done = await netns
  process.stdout.write(done.output)
  if (done.status !== 0) status = done.status
} finally {
  if (ns !== undefined) ip('netns', 'del', ns)
}
process.exit(status)
