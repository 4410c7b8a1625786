/**
 * The baseline side of msg.bench.ts: a bare libp2p node (core's createJiayiNode: TCP on 127.0.0.1,
 * Noise, Yamux; no messenger, no store) in its own process, speaking length-prefixed frames with
 * core's framing. JSON commands on stdin, JSON events on stdout, one per line.
 *
 *   commands: flood {addr, n, size}   one stream, n frames of `size` bytes, as fast as they go
 *             echo {addr, n, size}    n round trips of one frame each, one after the other
 *             stream {addr, bytes}    one stream, `bytes` in 256 KiB writes, no framing
 *             exit
 *   events:   ready {addr} | flooded | received {frames, ms} (receiver side, per flood)
 *             echoed {rtts: number[]} | streamed {bytes} (receiver side, at the stream's end)
 *             error
 */
import { createInterface } from 'node:readline'
import { createJiayiNode, framedStream, generateDeviceKey } from '@jiayi/core'
import { nodeNetwork } from '@jiayi/core/node'
import { multiaddr } from '@multiformats/multiaddr'

const FLOOD = '/jiayi-bench/frames/1'
const ECHO = '/jiayi-bench/echo/1'
const STREAM = '/jiayi-bench/stream/1'
const MAX = 64 * 1024

const print = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

const node = await createJiayiNode({
  privateKey: await generateDeviceKey(),
  network: nodeNetwork({ mdns: false }),
  listen: ['/ip4/127.0.0.1/tcp/0'],
  relayServer: false,
})

await node.handle(FLOOD, async (stream) => {
  const framed = framedStream(stream, { maxFrameBytes: MAX })
  let frames = 0
  let start = 0
  for (let f = await framed.read(); f !== null; f = await framed.read()) {
    if (frames === 0) start = performance.now()
    frames++
  }
  print({ event: 'received', frames, ms: performance.now() - start })
  await framed.close()
})

await node.handle(ECHO, async (stream) => {
  const framed = framedStream(stream, { maxFrameBytes: MAX })
  for (let f = await framed.read(); f !== null; f = await framed.read()) await framed.write(f)
  await framed.close()
})

await node.handle(STREAM, async (stream) => {
  let bytes = 0
  for await (const chunk of stream) bytes += chunk.byteLength
  print({ event: 'streamed', bytes })
})

async function handle(cmd: Record<string, unknown>): Promise<void> {
  const frame = new Uint8Array(Number(cmd.size ?? 256)).fill(0x61)
  switch (cmd.cmd) {
    case 'flood': {
      const framed = framedStream(await node.dialProtocol(multiaddr(String(cmd.addr)), FLOOD), {
        maxFrameBytes: MAX,
      })
      for (let i = 0; i < Number(cmd.n); i++) await framed.write(frame)
      await framed.close()
      return print({ event: 'flooded' })
    }
    case 'echo': {
      const framed = framedStream(await node.dialProtocol(multiaddr(String(cmd.addr)), ECHO), {
        maxFrameBytes: MAX,
      })
      const rtts: number[] = []
      for (let i = 0; i < Number(cmd.n); i++) {
        const t = performance.now()
        await framed.write(frame)
        await framed.read()
        rtts.push(performance.now() - t)
      }
      await framed.close()
      return print({ event: 'echoed', rtts })
    }
    case 'stream': {
      // Waiting for drain like any sender; 256 KiB is a file chunk.
      const stream = await node.dialProtocol(multiaddr(String(cmd.addr)), STREAM)
      const block = new Uint8Array(256 * 1024).fill(7)
      for (let sent = 0; sent < Number(cmd.bytes); sent += block.length) {
        if (!stream.send(block)) await stream.onDrain()
      }
      await stream.close()
      return
    }
    case 'exit':
      await node.stop()
      process.exit(0)
  }
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const cmd = JSON.parse(line) as Record<string, unknown>
    handle(cmd).catch((error: unknown) => print({ event: 'error', cmd: cmd.cmd, error: String(error) }))
  })
  .on('close', () => process.exit(0))
print({ event: 'ready', addr: node.getMultiaddrs()[0]?.toString() })
