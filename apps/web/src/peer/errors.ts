import { defineError } from '@jiayi/core'

/**
 * Failures of the in-page peer, with stable codes a UI branches on:
 * - InUse: another tab of this browser runs this profile (one peer per profile, like one per home).
 * - PassphraseNeeded: the profile is locked with a passphrase and none was given.
 * - DeviceKeyMissing: the profile is locked with this browser's device key, which is gone (site data
 *   partly cleared); only a backup brings the account back.
 * - NoAccount / AccountExists: open without an identity, or create over one.
 * - NotEmpty: a restore into a profile that already holds data.
 * - BadBackup: the file is not a Jiayi backup, or is damaged or cut short.
 * - BackupPassphrase: the passphrase does not open the backup.
 * - Stopped: the peer was stopped.
 */
export const PeerError = defineError('PeerError', [
  'InUse',
  'PassphraseNeeded',
  'DeviceKeyMissing',
  'NoAccount',
  'AccountExists',
  'NotEmpty',
  'BadBackup',
  'BackupPassphrase',
  'Stopped',
] as const)
export type PeerError = InstanceType<typeof PeerError>
export type PeerErrorCode = PeerError['code']
