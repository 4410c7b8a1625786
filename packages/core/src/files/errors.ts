import { defineError } from '../errors.js'

/**
 * What the file layer refuses, with stable codes (messages never carry names, keys or content):
 * - BadInput: an argument is out of bounds (size over the limit, bad thumbnail, unknown id).
 * - BadOffer: a file offer does not decode or breaks a rule (section "Files" of PROTOCOL.md).
 * - BadFrame: a /jiayi/file/1 frame does not decode, or arrives out of turn.
 * - BadChunk: a chunk failed authentication (wrong key, file, index, or a flipped bit).
 * - SizeMismatch: a chunk's length does not fit the size in the offer.
 * - HashMismatch: the SHA-256 of what arrived differs from the offer's.
 * - SourceChanged: the file being sent changed (size or modification time) since it was offered.
 * - SourceGone: the file being sent can no longer be read.
 * - Storage: reading or writing local storage failed.
 * - NoSpace: the storage has no room for a file the user accepted.
 * - Stopped: the file service is shutting down.
 */
export const FileError = defineError('FileError', [
  'BadInput',
  'BadOffer',
  'BadFrame',
  'BadChunk',
  'SizeMismatch',
  'HashMismatch',
  'SourceChanged',
  'SourceGone',
  'Storage',
  'NoSpace',
  'Stopped',
] as const)
export type FileError = InstanceType<typeof FileError>
export type FileErrorCode = FileError['code']
