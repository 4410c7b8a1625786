/**
 * One compliance suite for every FileStorage (storage.ts): memory, Node fs, and the browser's
 * when it comes. Each adapter passes a factory and a way to read a finished file back.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes as cryptoRandom } from 'node:crypto'
import { describe, it } from 'node:test'
import { bytesToHex } from '../../src/bytes.js'
import { FileError } from '../../src/files/errors.js'
import { chunkCount } from '../../src/files/limits.js'
import type { FileSink, FileStorage, SinkInit } from '../../src/files/storage.js'

export interface StorageHarness {
  storage: FileStorage
  /** The bytes of a finished file at the location `finish()` returned. */
  readFinished(location: string): Promise<Uint8Array>
  /** Makes `bytes` a source openable by the returned ref. */
  addSource(bytes: Uint8Array, name: string): Promise<string>
}

const CHUNK = 16 * 1024

export function random(n: number): Uint8Array {
  return new Uint8Array(cryptoRandom(n))
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

export function newId(): string {
  return bytesToHex(random(16))
}

export function sinkInit(data: Uint8Array, name: string): SinkInit {
  return { id: newId(), name, size: data.length, chunkSize: CHUNK }
}

export async function writeChunks(sink: FileSink, data: Uint8Array, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++)
    await sink.write(i, data.subarray(i * CHUNK, Math.min(data.length, (i + 1) * CHUNK)))
}

export function storageCompliance(name: string, make: () => Promise<StorageHarness>): void {
  describe(`FileStorage compliance: ${name}`, () => {
    for (const size of [0, 1, CHUNK, 7 * CHUNK + 123]) {
      it(`stores ${size} bytes chunk by chunk and finishes only with the right SHA-256`, async () => {
        const h = await make()
        const data = random(size)
        const sink = await h.storage.openSink(sinkInit(data, 'a.bin'))
        assert.equal(sink.storedChunks, 0)
        await writeChunks(sink, data, 0, chunkCount(size, CHUNK))
        assert.equal(sink.storedChunks, chunkCount(size, CHUNK))
        const location = await sink.finish(sha256(data))
        assert.deepEqual(await h.readFinished(location), data)
      })
    }

    it('refuses writes out of order, of the wrong length, past the end, and an early finish', async () => {
      const h = await make()
      const data = random(3 * CHUNK + 5)
      const sink = await h.storage.openSink(sinkInit(data, 'b.bin'))
      const is = (code: string) => (e: unknown) => FileError.is(e) && e.code === code
      await assert.rejects(sink.write(1, data.subarray(CHUNK, 2 * CHUNK)), is('BadInput'))
      await assert.rejects(sink.write(0, data.subarray(0, CHUNK - 1)), is('SizeMismatch'))
      await writeChunks(sink, data, 0, 3)
      await assert.rejects(sink.write(3, data.subarray(3 * CHUNK, 3 * CHUNK + 4)), is('SizeMismatch'))
      await assert.rejects(sink.finish(sha256(data)), is('BadInput'))
      await sink.write(3, data.subarray(3 * CHUNK))
      await assert.rejects(sink.write(4, new Uint8Array(1)), is('BadInput'))
      await sink.finish(sha256(data))
    })

    it('on a hash mismatch throws HashMismatch, places nothing and keeps no partial data', async () => {
      const h = await make()
      const data = random(2 * CHUNK + 1)
      const init = sinkInit(data, 'c.bin')
      const sink = await h.storage.openSink(init)
      await writeChunks(sink, data, 0, 3)
      await assert.rejects(sink.finish(sha256(random(10))), (e: unknown) => FileError.is(e, 'HashMismatch'))
      const again = await h.storage.openSink(init)
      assert.equal(again.storedChunks, 0, 'the partial data is gone')
      await again.close()
    })

    it('resumes after close (a restart) where it stopped, and the hash covers every chunk', async () => {
      const h = await make()
      const data = random(5 * CHUNK + 77)
      const init = sinkInit(data, 'd.bin')
      const first = await h.storage.openSink(init)
      await writeChunks(first, data, 0, 3)
      await first.close()
      const second = await h.storage.openSink(init)
      assert.equal(second.storedChunks, 3)
      await writeChunks(second, data, 3, 6)
      assert.deepEqual(await h.readFinished(await second.finish(sha256(data))), data)
    })

    it('discards partial data on request', async () => {
      const h = await make()
      const data = random(3 * CHUNK)
      const init = sinkInit(data, 'e.bin')
      const sink = await h.storage.openSink(init)
      await writeChunks(sink, data, 0, 2)
      await sink.close()
      await h.storage.discardPartial(init.id)
      await h.storage.discardPartial(init.id) // twice is fine
      const again = await h.storage.openSink(init)
      assert.equal(again.storedChunks, 0)
      await again.close()
    })

    it('never overwrites: the same name again gets a numbered suffix', async () => {
      const h = await make()
      const locations: string[] = []
      const contents: Uint8Array[] = []
      for (let i = 0; i < 3; i++) {
        const data = random(100 + i)
        const sink = await h.storage.openSink(sinkInit(data, 'same name.txt'))
        await writeChunks(sink, data, 0, 1)
        locations.push(await sink.finish(sha256(data)))
        contents.push(data)
      }
      assert.equal(new Set(locations).size, 3)
      assert.ok(locations[1]!.endsWith('same name (1).txt'))
      assert.ok(locations[2]!.endsWith('same name (2).txt'))
      for (let i = 0; i < 3; i++) assert.deepEqual(await h.readFinished(locations[i]!), contents[i])
    })

    it('opens sources by ref with exact random-access reads', async () => {
      const h = await make()
      const data = random(3 * CHUNK + 9)
      const source = await h.storage.openSource(await h.addSource(data, 'src.bin'))
      assert.equal(source.size, data.length)
      assert.deepEqual(await source.read(CHUNK, CHUNK), data.subarray(CHUNK, 2 * CHUNK))
      assert.deepEqual(await source.read(3 * CHUNK, 9), data.subarray(3 * CHUNK))
      assert.deepEqual(await source.read(0, 0), new Uint8Array())
      // A buffer to read into (a source may use it or not): the bytes are the same either way.
      const into = new Uint8Array(CHUNK + 100).fill(0xee)
      assert.deepEqual(await source.read(2 * CHUNK, CHUNK, into), data.subarray(2 * CHUNK, 3 * CHUNK))
      assert.deepEqual(await source.read(3 * CHUNK, 9, into), data.subarray(3 * CHUNK))
      await assert.rejects(source.read(3 * CHUNK, 10), (e: unknown) => FileError.is(e, 'SourceChanged'))
      await source.close()
      await assert.rejects(h.storage.openSource(`${await h.addSource(data, 'x')}-missing`))
    })

    it('hashes incrementally like a one-shot SHA-256', async () => {
      const h = await make()
      const data = random(100_000)
      const hasher = h.storage.createHasher()
      for (let i = 0; i < data.length; i += 7_777) hasher.update(data.subarray(i, i + 7_777))
      assert.deepEqual(hasher.digest(), sha256(data))
    })
  })
}
