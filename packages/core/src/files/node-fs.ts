/**
 * FileStorage on the local file system (Node only; exported from `@jiayi/core/node`, never from
 * the isomorphic index). Received files land in `<home>/files/`:
 *
 * - while arriving they are `<home>/files/.partial/<id>.part` (folder 0700, file 0600), written
 *   chunk by chunk at their offsets; the file's length is the resume point (chunks are written in
 *   order, so every whole chunk below the length is one that was authenticated and stored);
 * - the SHA-256 is computed as chunks are written (after a restart, the stored prefix is hashed
 *   once again), compared with the file's (the offer's, or what its last chunk said), and only a
 *   match is moved into place;
 * - the final file gets mode 0644 (never executable) and a hard link under its sanitised name,
 *   with " (1)", " (2)", ... when the name is taken: link() never replaces an existing file.
 */
import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, copyFile, type FileHandle, link, mkdir, open, stat, statfs, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { equalBytes } from '../bytes.js'
import { FileError } from './errors.js'
import { hashRange } from './hash-pass.js'
import { chunkCount, chunkLength } from './limits.js'
import { numberedName, sanitizeFileName } from './names.js'
import type { FileSink, FileSource, FileStorage, Sha256Hasher, SinkInit } from './storage.js'

const PARTIAL_DIR = '.partial'
const FILE_MODE = 0o644
const PARTIAL_MODE = 0o600
const MAX_NAME_TRIES = 10_000

export function nodeSha256(): Sha256Hasher {
  const h = createHash('sha256')
  return {
    update: (data) => void h.update(data),
    digest: () => new Uint8Array(h.digest()),
  }
}

/** Opens `path` for sending. The source keeps one file handle until `close()`. */
export async function nodeFileSource(
  path: string,
  options: { name?: string; mime?: string } = {},
): Promise<FileSource> {
  const absolute = resolve(path)
  let fh: FileHandle
  try {
    fh = await open(absolute, 'r')
  } catch (cause) {
    throw new FileError('SourceGone', 'cannot open the file to send', { cause })
  }
  try {
    const info = await fh.stat()
    if (!info.isFile()) throw new FileError('BadInput', 'only regular files can be sent')
    const size = info.size
    return {
      name: options.name ?? basename(absolute),
      mime: options.mime,
      size,
      ref: absolute,
      version: `${info.size}:${info.mtimeMs}`,
      async read(offset, length, into) {
        if (offset < 0 || length < 0 || offset + length > size)
          throw new FileError('SourceChanged', 'read outside the offered size')
        const out =
          into !== undefined && into.byteLength >= length ? into.subarray(0, length) : new Uint8Array(length)
        let done = 0
        while (done < length) {
          let n: number
          try {
            ;({ bytesRead: n } = await fh.read(out, done, length - done, offset + done))
          } catch (cause) {
            throw new FileError('SourceGone', 'reading the file failed', { cause })
          }
          if (n === 0) throw new FileError('SourceChanged', 'the file got shorter while being sent')
          done += n
        }
        return out
      },
      close: () => fh.close(),
    }
  } catch (error) {
    await fh.close()
    throw error
  }
}

export class NodeFileStorage implements FileStorage {
  /** `dir` is where finished files go: `<home>/files`. */
  constructor(readonly dir: string) {}

  static forHome(home: string): NodeFileStorage {
    return new NodeFileStorage(join(home, 'files'))
  }

  get partialDir(): string {
    return join(this.dir, PARTIAL_DIR)
  }

  partialPath(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new FileError('BadInput', 'a transfer id is 32 hex digits')
    return join(this.partialDir, `${id}.part`)
  }

  openSource(ref: string): Promise<FileSource> {
    return nodeFileSource(ref)
  }

  createHasher(): Sha256Hasher {
    return nodeSha256()
  }

  /** Free bytes for an unprivileged user on the file system of the files folder (or its parent). */
  async freeBytes(): Promise<number | undefined> {
    for (let dir = this.dir; ; dir = dirname(dir)) {
      try {
        const s = await statfs(dir)
        return s.bavail * s.bsize
      } catch {
        // Not made yet: its parent is on the same file system as it will be.
        if (dirname(dir) === dir) return undefined
      }
    }
  }

  async discardPartial(id: string): Promise<void> {
    await unlink(this.partialPath(id)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw storageError('cannot delete partial data', error)
    })
  }

  async openSink(init: SinkInit): Promise<FileSink> {
    const path = this.partialPath(init.id)
    // The service passes sanitised names; a name that could leave the folder is a bug, refused.
    if (init.name !== sanitizeFileName(init.name))
      throw new FileError('BadInput', 'the file name is not sanitised')
    const total = chunkCount(init.size, init.chunkSize)
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      await mkdir(this.partialDir, { recursive: true, mode: 0o700 })
    } catch (cause) {
      throw storageError('cannot create the files folder', cause)
    }
    let fh: FileHandle
    let stored = 0
    const hasher = nodeSha256()
    try {
      fh = await open(path, 'r+')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw storageError('cannot open partial data', error)
      try {
        // 'wx': O_CREAT | O_EXCL, never through a planted symlink.
        fh = await open(path, 'wx', PARTIAL_MODE)
      } catch (cause) {
        throw storageError('cannot create partial data', cause)
      }
    }
    try {
      const length = (await fh.stat()).size
      stored = length >= init.size ? total : Math.min(Math.floor(length / init.chunkSize), total)
      const keep = Math.min(stored * init.chunkSize, init.size)
      if (length !== keep) await fh.truncate(keep)
      await hashPrefix(fh, keep, hasher)
    } catch (cause) {
      await fh.close().catch(() => undefined)
      throw storageError('cannot resume partial data', cause)
    }
    const dir = this.dir
    let closed = false
    return {
      get storedChunks() {
        return stored
      },
      async write(index, plaintext) {
        if (closed) throw new FileError('Stopped', 'the sink is closed')
        if (index !== stored || index >= total)
          throw new FileError('BadInput', 'chunks are written in order, once each')
        if (plaintext.length !== chunkLength(init.size, init.chunkSize, index))
          throw new FileError('SizeMismatch', 'chunk length does not fit the file size')
        const position = index * init.chunkSize
        try {
          let done = 0
          while (done < plaintext.length) {
            const { bytesWritten } = await fh.write(plaintext, done, plaintext.length - done, position + done)
            done += bytesWritten
          }
        } catch (cause) {
          throw storageError('cannot write partial data', cause)
        }
        hasher.update(plaintext)
        stored++
      },
      async finish(sha256) {
        if (closed) throw new FileError('Stopped', 'the sink is closed')
        if (stored !== total) throw new FileError('BadInput', 'the file is not complete')
        closed = true
        if (!equalBytes(hasher.digest(), sha256)) {
          await fh.close().catch(() => undefined)
          await unlink(path).catch(() => undefined)
          throw new FileError('HashMismatch', "SHA-256 of the received file differs from the sender's")
        }
        try {
          await fh.datasync()
          await fh.close()
          await chmod(path, FILE_MODE)
          const target = await placeWithoutOverwrite(path, dir, init.name)
          await unlink(path)
          return target
        } catch (cause) {
          await fh.close().catch(() => undefined)
          throw storageError('cannot move the file into place', cause)
        }
      },
      async close() {
        if (closed) return
        closed = true
        await fh.close().catch(() => undefined)
      },
    }
  }
}

async function hashPrefix(fh: FileHandle, length: number, hasher: Sha256Hasher): Promise<void> {
  await hashRange(
    async (offset, want) => {
      const buffer = new Uint8Array(want)
      for (let done = 0; done < want; ) {
        const { bytesRead } = await fh.read(buffer, done, want - done, offset + done)
        if (bytesRead === 0) throw new FileError('Storage', 'partial data got shorter')
        done += bytesRead
      }
      return buffer
    },
    length,
    hasher,
  )
}

/** Links `from` into `dir` under `name` or the first free "name (n)"; returns the new path. */
async function placeWithoutOverwrite(from: string, dir: string, name: string): Promise<string> {
  let canLink = true
  for (let n = 0; n < MAX_NAME_TRIES; n++) {
    const target = join(dir, numberedName(name, n))
    try {
      if (canLink) await link(from, target)
      else await copyFile(from, target, constants.COPYFILE_EXCL)
      if (!canLink) await chmod(target, FILE_MODE)
      return target
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') continue
      // File systems without hard links: copy, still refusing to replace anything.
      if (canLink && (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'EMLINK')) {
        canLink = false
        n--
        continue
      }
      throw error
    }
  }
  throw new FileError('Storage', 'no free name for the received file')
}

function storageError(message: string, cause: unknown): InstanceType<typeof FileError> {
  if (FileError.is(cause)) return cause
  return new FileError('Storage', message, { cause })
}

/** Whether a finished file is still where it was put (for listings). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
