#!/usr/bin/env node
// The `jiayi` command. Node 20 needs the Promise.withResolvers polyfill before libp2p loads, and
// the sources are TypeScript run through tsx (no build step). Everything heavy (@jiayi/core,
// libp2p) is imported lazily by the commands that need it, so client commands start fast.
import '../../../polyfill.mjs'
import { register } from 'tsx/esm/api'

register()
// `jiayi messages bob | head`: the reader going away is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
}
const { main } = await import('../src/main.ts')
process.exitCode = await main(process.argv.slice(2))
