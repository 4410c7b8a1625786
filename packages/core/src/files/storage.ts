/**
 * Where file bytes live, behind small interfaces so the protocol code never touches a file
 * system: Node implements them with fs (files/node-fs.ts, exported from @jiayi/core/node), the
 * browser with IndexedDB or OPFS, tests in memory (memory-storage.ts). One compliance suite
 * (packages/core/test/files-storage-compliance.ts) runs against every implementation.
 *
 * Everything streams: a source is read one chunk at a time at any offset, a sink is written one
 * chunk at a time, in order. Neither side ever holds a whole file.
 */

/** An incremental SHA-256 (the platform's fastest: node:crypto in Node, @noble/hashes elsewhere). */
export interface Sha256Hasher {
  update(data: Uint8Array): void
  digest(): Uint8Array
}

/** A file being sent: random-access reads of its plaintext. */
export interface FileSource {
  /** The name to offer (a path's last component; the receiver sanitises it again). */
  readonly name: string
  /** A MIME type if the source knows one; otherwise it is guessed from the name. */
  readonly mime?: string | undefined
  readonly size: number
  /**
   * How to open this source again after a restart (`FileStorage.openSource(ref)`); Node: the
   * absolute path. Without one, an interrupted send cannot resume after the sender restarts.
   */
  readonly ref?: string | undefined
  /** Changes whenever the content may have changed (Node: size and modification time). */
  readonly version?: string | undefined
  /**
   * Exactly `length` bytes from `offset` (FileError SourceChanged/SourceGone otherwise). With
   * `into` (at least `length` bytes), a source may read into it and return a view of it, so a
   * caller done with each read before the next needs no buffer per read.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>
  close(): Promise<void>
}

export interface SinkInit {
  /** The transfer id (32 hex digits): names the partial data. */
  readonly id: string
  /** Already sanitised; the sink may add a suffix so that nothing is overwritten. */
  readonly name: string
  readonly size: number
  readonly chunkSize: number
}

/** A file being received. Chunks are written in order; each write is durable once it resolves. */
export interface FileSink {
  /**
   * Chunks 0..storedChunks-1 are stored from earlier writes (also before a restart): the
   * transfer resumes at this index.
   */
  readonly storedChunks: number
  /** Stores chunk `index`, which must equal `storedChunks`, and counts it into the hash. */
  write(index: number, plaintext: Uint8Array): Promise<void>
  /**
   * After the last chunk: checks the SHA-256 of everything written against `sha256` (the offer's,
   * or what the last chunk said) and only then moves the file into place (never overwriting
   * another file). Returns where it went. On a mismatch the partial data is deleted and FileError
   * HashMismatch is thrown.
   */
  finish(sha256: Uint8Array): Promise<string>
  /** Releases handles; the partial data stays for a later resume. */
  close(): Promise<void>
}

export interface FileStorage {
  /** Opens a source again by its `ref` (after a restart). */
  openSource(ref: string): Promise<FileSource>
  /** Creates the partial data for `init.id`, or reopens it where an earlier attempt stopped. */
  openSink(init: SinkInit): Promise<FileSink>
  /** Deletes the partial data of a transfer that failed or was cancelled (no-op if none). */
  discardPartial(id: string): Promise<void>
  createHasher(): Sha256Hasher
  /**
   * Bytes free where received files go, if the platform can tell (Node: statfs; a browser: its
   * storage estimate). Auto-download keeps a reserve free (auto-download.ts).
   */
  freeBytes?(): Promise<number | undefined>
}
