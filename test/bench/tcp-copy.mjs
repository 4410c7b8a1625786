// The baseline of files-cli.bench.ts: a raw TCP copy of a file between two Node processes on
// 127.0.0.1, with nothing of Jiayi in it (plain JavaScript, run by bare `node`, so its start costs
// what a bare process costs). One JSON line per event on stdout.
//
//   node tcp-copy.mjs receive DEST   listens; prints {"event":"ready","port"}; writes the one
//                                    connection's bytes to DEST, then fdatasync, then prints
//                                    {"event":"done","bytes","syncMs","cpuMs"} (syncMs: the
//                                    fdatasync; cpuMs: the process's CPU time)
//   node tcp-copy.mjs send PORT PATH reads PATH in 1 MiB blocks into the socket; at the end
//                                    prints {"event":"sent","cpuMs"} and exits
import { close, createReadStream, createWriteStream, fdatasync, openSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { promisify } from 'node:util'

const BLOCK = 1024 * 1024
const [mode, a, b] = process.argv.slice(2)
const print = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)
/** This process's CPU time so far (every thread, user + system), in ms. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

if (mode === 'receive') {
  // A plain descriptor: a FileHandle lent to a stream cannot be closed while the stream lives.
  const fd = openSync(a, 'w', 0o600)
  const server = createServer(async (socket) => {
    // Node's own file write stream: it gathers what arrives while a write is pending into one
    // writev, the way a copy tool written in Node would.
    const out = createWriteStream(null, { fd, autoClose: false, highWaterMark: BLOCK })
    // autoClose false (the handle is synced below): 'finish' is the end, no 'close' comes.
    await new Promise((resolve, reject) => {
      out.once('finish', resolve).once('error', reject)
      socket.once('error', reject).pipe(out)
    })
    const written = performance.now()
    await promisify(fdatasync)(fd)
    await promisify(close)(fd)
    print({ event: 'done', bytes: out.bytesWritten, syncMs: performance.now() - written, cpuMs: cpuMs() })
    server.close()
  })
  server.listen(0, '127.0.0.1', () => print({ event: 'ready', port: server.address().port }))
} else if (mode === 'send') {
  const socket = connect(Number(a), '127.0.0.1', () => {
    createReadStream(b, { highWaterMark: BLOCK }).pipe(socket)
  })
  socket.on('close', () => {
    print({ event: 'sent', cpuMs: cpuMs() })
    process.exit(0)
  })
} else {
  process.stderr.write('usage: tcp-copy.mjs receive DEST | send PORT PATH\n')
  process.exit(2)
}
