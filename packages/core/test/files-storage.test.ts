/**
 * File storage: the compliance suite on the memory and Node adapters, then what only the Node
 * adapter promises (modes, the partial folder, torn chunks after a crash, links and symlinks).
 */
import assert from 'node:assert/strict'
import { lstat, mkdir, readFile, readlink, stat, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FileError } from '../src/files/errors.js'
import { MemoryFileStorage } from '../src/files/memory-storage.js'
import { NodeFileStorage, nodeFileSource } from '../src/files/node-fs.js'
import { newHome, removeHomes } from './helpers/files-peers.js'
import {
  random,
  sha256,
  sinkInit,
  storageCompliance,
  writeChunks,
} from './helpers/files-storage-compliance.js'

after(removeHomes)

storageCompliance('memory', async () => {
  const storage = new MemoryFileStorage()
  let n = 0
  return {
    storage,
    readFinished: async (name) => storage.files.get(name)!,
    addSource: async (bytes, name) => {
      const ref = `src-${n++}`
      storage.addSource(ref, bytes, name)
      return ref
    },
  }
})

storageCompliance('node fs', async () => {
  const home = await newHome()
  const storage = NodeFileStorage.forHome(home)
  let n = 0
  return {
    storage,
    readFinished: async (path) => new Uint8Array(await readFile(path)),
    addSource: async (bytes, name) => {
      const path = join(home, `${n++}-${name}`)
      await writeFile(path, bytes)
      return path
    },
  }
})

describe('node fs storage', () => {
  it('puts finished files in <home>/files with mode 0644 (never executable), partials in .partial (0600)', async () => {
    const home = await newHome()
    const storage = NodeFileStorage.forHome(home)
    const data = random(40_000)
    const init = sinkInit(data, 'run-me.sh')
    const sink = await storage.openSink(init)
    await writeChunks(sink, data, 0, 1)
    const partial = storage.partialPath(init.id)
    assert.equal((await stat(partial)).mode & 0o777, 0o600)
    assert.equal((await stat(storage.partialDir)).mode & 0o777, 0o700)
    await writeChunks(sink, data, 1, 3)
    const path = await sink.finish(sha256(data))
    assert.equal(path, join(home, 'files', 'run-me.sh'))
    const info = await stat(path)
    assert.equal(info.mode & 0o777, 0o644)
    assert.equal(info.mode & 0o111, 0, 'no execute bit')
    await assert.rejects(stat(partial), 'the partial file is gone')
  })

  it('resumes from whole chunks only after a crash tore the last one', async () => {
    const home = await newHome()
    const storage = NodeFileStorage.forHome(home)
    const data = random(6 * 16384 + 10)
    const init = sinkInit(data, 'torn.bin')
    const sink = await storage.openSink(init)
    await writeChunks(sink, data, 0, 3)
    // kill -9 in the middle of the 4th write: a piece of it is on disk.
    await writeFile(storage.partialPath(init.id), data.subarray(0, 3 * 16384 + 5000))
    await sink.close()
    const again = await storage.openSink(init)
    assert.equal(again.storedChunks, 3)
    assert.equal((await stat(storage.partialPath(init.id))).size, 3 * 16384, 'the torn piece is cut off')
    await writeChunks(again, data, 3, 7)
    assert.deepEqual(new Uint8Array(await readFile(await again.finish(sha256(data)))), data)
  })

  it('a partial file whose stored bytes were damaged fails the hash check instead of showing', async () => {
    const home = await newHome()
    const storage = NodeFileStorage.forHome(home)
    const data = random(4 * 16384)
    const init = sinkInit(data, 'damaged.bin')
    const sink = await storage.openSink(init)
    await writeChunks(sink, data, 0, 2)
    await sink.close()
    const damaged = Uint8Array.from(data.subarray(0, 2 * 16384))
    damaged[100]! ^= 0x01
    await writeFile(storage.partialPath(init.id), damaged)
    const again = await storage.openSink(init)
    await writeChunks(again, data, 2, 4)
    await assert.rejects(again.finish(sha256(data)), (e: unknown) => FileError.is(e, 'HashMismatch'))
    await assert.rejects(stat(join(home, 'files', 'damaged.bin')))
  })

  it('never writes through a symlink planted under the target name', async () => {
    const home = await newHome()
    const storage = NodeFileStorage.forHome(home)
    await mkdir(join(home, 'files'), { recursive: true })
    const victim = join(home, 'victim.txt')
    await writeFile(victim, 'keep me')
    await symlink(victim, join(home, 'files', 'report.pdf'))
    const data = random(1000)
    const sink = await storage.openSink(sinkInit(data, 'report.pdf'))
    await writeChunks(sink, data, 0, 1)
    const path = await sink.finish(sha256(data))
    assert.equal(path, join(home, 'files', 'report (1).pdf'))
    assert.equal(await readFile(victim, 'utf8'), 'keep me')
    assert.ok((await lstat(join(home, 'files', 'report.pdf'))).isSymbolicLink())
    assert.equal(await readlink(join(home, 'files', 'report.pdf')), victim)
  })

  it('refuses names that are not sanitised, and ids that are not 32 hex digits', async () => {
    const storage = NodeFileStorage.forHome(await newHome())
    const data = random(10)
    for (const name of ['../x', '/etc/passwd', 'a\u0000b', '..', 'CON', '']) {
      await assert.rejects(storage.openSink(sinkInit(data, name)), (e: unknown) =>
        FileError.is(e, 'BadInput'),
      )
    }
    await assert.rejects(storage.openSink({ ...sinkInit(data, 'ok'), id: '../../etc' }), (e: unknown) =>
      FileError.is(e, 'BadInput'),
    )
  })

  it('sources: regular files only, absolute ref, a version that changes with the file', async () => {
    const home = await newHome()
    const path = join(home, 'doc.txt')
    await writeFile(path, 'hello')
    const source = await nodeFileSource(path)
    assert.equal(source.ref, path)
    assert.equal(source.name, 'doc.txt')
    assert.equal(source.size, 5)
    const version = source.version
    await source.close()
    await new Promise((r) => setTimeout(r, 20))
    await writeFile(path, 'hello, changed')
    assert.notEqual((await nodeFileSource(path)).version, version)
    await assert.rejects(nodeFileSource(home), (e: unknown) => FileError.is(e, 'BadInput'))
    await assert.rejects(nodeFileSource(join(home, 'missing')), (e: unknown) => FileError.is(e, 'SourceGone'))
    // A file that shrinks while being sent is noticed.
    const shrinking = await nodeFileSource(path)
    await truncate(path, 3)
    await assert.rejects(shrinking.read(0, 14), (e: unknown) => FileError.is(e, 'SourceChanged'))
    await shrinking.close()
  })
})
