/**
 * Serves a built test page on 127.0.0.1 inside a network namespace (the browser-to-browser test
 * starts it with `ip netns exec`): prints the URL as one JSON line, serves until killed.
 * Usage: node --import tsx apps/web/test/peer-netns-serve.ts DIR
 */
import { serveStatic } from '../../../test/browser/static-server.js'

const dir = process.argv[2]
if (dir === undefined) {
  console.error('usage: peer-netns-serve.ts DIR')
  process.exit(2)
}
const server = await serveStatic(dir)
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`)
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)))
