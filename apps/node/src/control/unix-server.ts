/**
 * The control protocol over a Unix domain socket (a named pipe on Windows): newline-delimited
 * JSON, one ControlSession per connection. Only the owner can connect: the socket is created
 * under a 0177 umask (so it is 0600 from its first instant) inside the 0700 home.
 */
import { chmod, lstat, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { type ControlDispatcher, ControlError, ControlSession } from '@jiayi/api'
import { type AppLog, errorFields, nullLog } from '../cli/log.js'
import { encodeLine, LineSplitter } from './lines.js'

/** Connections beyond this are refused (a runaway script must not exhaust the peer). */
const MAX_CONNECTIONS = 64
/** A client that stops reading its notifications is dropped once this much is queued for it. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024

export interface ControlServer {
  readonly path: string
  /** Stops accepting, drops every client and removes the socket file. */
  close(): Promise<void>
}

/** How often the peer checks that its socket file is still there (and makes a new one if not). */
export const SOCKET_CHECK_MS = 2_000

export async function listenControlSocket(
  path: string,
  dispatcher: ControlDispatcher,
  options: { log?: AppLog; checkMs?: number } = {},
): Promise<ControlServer> {
  const log = options.log ?? nullLog
  const clients = new Set<Socket>()
  const onConnection = (socket: Socket) => {
    if (clients.size >= MAX_CONNECTIONS) {
      log.warn('control connection refused: too many clients')
      socket.destroy()
      return
    }
    clients.add(socket)
    serve(socket, dispatcher, log)
    socket.on('close', () => clients.delete(socket))
  }

  const unix = process.platform !== 'win32'
  // The caller holds the home's lock, so a socket file left here is from a peer that died.
  if (unix) await rm(path, { force: true })
  let server = await bind(path, onConnection, log)

  // Someone may delete the socket file while the peer runs (a cleanup script, a careless rm):
  // every command would then find no peer, and `jiayi start` would find one running. The peer
  // notices and makes a new one; the connections it has keep working.
  let rebinding = false
  let failing = false
  const watch = unix
    ? setInterval(() => {
        if (rebinding) return
        rebinding = true
        void isSocket(path)
          .then(async (present) => {
            if (present) return
            // Closed first: closing a listener unlinks its path (libuv does it at once, in the
            // close call), which would be the new one's. Connections already made stay open (and
            // keep the old server's 'close' event waiting: it is not awaited).
            server.close()
            await new Promise((resolve) => setImmediate(resolve))
            server = await bind(path, onConnection, log)
            failing = false
            log.warn('the control socket file was removed; made a new one')
          })
          .catch((error) => {
            // Once, not every check: whatever holds the path now stays until someone moves it.
            if (!failing) log.warn('could not make a new control socket', errorFields(error))
            failing = true
          })
          .finally(() => {
            rebinding = false
          })
      }, options.checkMs ?? SOCKET_CHECK_MS)
    : undefined
  watch?.unref()

  let closing: Promise<void> | undefined
  return {
    path,
    close() {
      closing ??= (async () => {
        if (watch !== undefined) clearInterval(watch)
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const socket of clients) socket.destroy()
        await closed
        if (unix) await rm(path, { force: true })
      })()
      return closing
    },
  }
}

/** Listens on `path`, a socket the owner alone may use from its first instant. */
async function bind(path: string, onConnection: (socket: Socket) => void, log: AppLog): Promise<Server> {
  const unix = process.platform !== 'win32'
  const server: Server = createServer(onConnection)
  server.maxConnections = MAX_CONNECTIONS + 1
  const previousMask = unix ? process.umask(0o177) : 0
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } finally {
    if (unix) process.umask(previousMask)
  }
  if (unix) await chmod(path, 0o600)
  server.on('error', (error) => log.warn('control socket error', errorFields(error)))
  return server
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket()
  } catch {
    return false
  }
}

function serve(socket: Socket, dispatcher: ControlDispatcher, log: AppLog): void {
  const splitter = new LineSplitter()
  let corked = false
  const session = new ControlSession(dispatcher, (message) => {
    if (socket.destroyed) return
    if (socket.writableLength > MAX_QUEUED_BYTES) {
      log.warn('control client dropped: it is not reading')
      socket.destroy()
      return
    }
    // The lines of one go (a group commit answers hundreds of sends at once, and every message
    // stored is an event) leave in one system call instead of one each.
    if (!corked) {
      corked = true
      socket.cork()
      process.nextTick(() => {
        corked = false
        socket.uncork()
      })
    }
    socket.write(encodeLine(message))
  })
  socket.on('data', (chunk: Buffer) => {
    let lines: string[]
    try {
      lines = splitter.push(chunk)
    } catch (error) {
      const message = ControlError.is(error) ? error.message : 'bad input'
      socket.end(encodeLine({ id: null, error: { code: 'TooLarge', message, type: 'ControlError' } }))
      return
    }
    for (const line of lines) void session.receive(line)
  })
  socket.on('error', () => socket.destroy())
  socket.on('close', () => session.close())
}
