/** An error as a person reads it: by its stable code, in their language (never the peer's English text). */
import { type MessageKey, t } from '../i18n/index.js'

const BY_CODE: Record<string, MessageKey> = {
  Closed: 'error.closed',
  UnknownContact: 'error.unknownContact',
  AmbiguousContact: 'error.unknownContact',
  NotAccepted: 'error.notAccepted',
  SelfContact: 'error.self',
  TooLarge: 'error.tooLarge',
  ReplyTooLarge: 'error.replyTooLarge',
  BadInput: 'error.badInput',
  BadParams: 'error.badInput',
  Unsupported: 'error.unsupported',
  BadPassphrase: 'error.passphrase',
  WrongPassphrase: 'error.passphrase',
  UploadFailed: 'error.upload',
  DownloadFailed: 'error.download',
  NotFound: 'error.download',
  IdentityChanged: 'error.identityChanged',
  Full: 'error.diskFull',
  Busy: 'error.busy',
  EmptyLabel: 'error.emptyLabel',
  BadLabel: 'error.badLabel',
  UnknownLabel: 'error.unknownLabel',
  TooManyLabels: 'error.tooManyLabels',
  // Linking and removing our own devices (core's DeviceError).
  WrongCode: 'error.wrongCode',
  LinkFailed: 'error.linkFailed',
  LinkInterrupted: 'error.linkInterrupted',
  NotLinking: 'error.notLinking',
  LinkExpired: 'error.linkExpired',
  LinkUsed: 'error.linkUsed',
  LinkUnknown: 'error.linkUnknown',
  UnknownDevice: 'error.unknownDevice',
  ThisDevice: 'error.thisDevice',
  TooManyDevices: 'error.tooManyDevices',
}

/** A group's refusals (core's GroupError) share some codes with other errors, so go by type too. */
const GROUP_CODES: Record<string, MessageKey> = {
  NotAllowed: 'error.groupNotAllowed',
  NotFound: 'error.groupNotFound',
  Full: 'error.groupFull',
  BadField: 'error.groupBadField',
  Expired: 'error.inviteExpired',
  Revoked: 'error.inviteRevoked',
  Refused: 'error.joinRefused',
  // Only a pasted or scanned invite reaches the page malformed or forged.
  BadEncoding: 'error.badGroupLink',
  BadSignature: 'error.badGroupLink',
  WrongGroup: 'error.badGroupLink',
}

export function errorText(error: unknown): string {
  const e = error as { code?: unknown; type?: unknown; name?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : undefined
  const type = typeof e?.type === 'string' ? e.type : typeof e?.name === 'string' ? e.name : undefined
  if (type === 'CardError') return t('error.badLink')
  if (type === 'GroupError' && code !== undefined && code in GROUP_CODES) return t(GROUP_CODES[code]!)
  if (code !== undefined && code in BY_CODE) return t(BY_CODE[code]!)
  return t('error.generic')
}
