/**
 * Which offered files download on their own and which wait for the user's "accept". A contact's
 * offer is pulled at once, so without limits one contact (or a stolen device of theirs) could
 * fill this disk with offer after offer. An offer waits (note 'needs-accept', with the reason in
 * `hold`) when:
 *
 * - it is larger than `askAboveBytes` (the user's setting, default 100 MB);
 * - with the files this contact had downloaded in the last `windowMs` it would pass
 *   `perContactBytes` (default 1 GB a day);
 * - with the files of all contacts in that window it would pass `totalBytes` (default 4 GB a day);
 * - storing it would leave less than `minFreeBytes` free where files go (default 1 GB), when the
 *   storage can tell (Node: statfs of the files folder; a browser: its storage estimate).
 *
 * What waits is never lost: the user accepts it (FileService.accept, `jiayi accept-file ID`, the
 * web app's Accept button) and it downloads, whatever the quotas; or cancels it.
 */
import type { ContactId } from '../messenger/ids.js'
import type { TransferRecord } from './transfer.js'

export interface AutoDownloadLimits {
  readonly askAboveBytes: number
  readonly perContactBytes: number
  readonly totalBytes: number
  readonly windowMs: number
  readonly minFreeBytes: number
}

const MB = 1_000_000
const GB = 1_000 * MB

export const DEFAULT_AUTO_DOWNLOAD: Readonly<AutoDownloadLimits> = Object.freeze({
  askAboveBytes: 100 * MB,
  perContactBytes: 1 * GB,
  totalBytes: 4 * GB,
  windowMs: 24 * 3_600_000,
  minFreeBytes: 1 * GB,
})

/** Why an offer waits for the user. */
export type HoldReason = 'large' | 'contact-quota' | 'total-quota' | 'disk-space'

export const HOLD_REASONS: readonly HoldReason[] = ['large', 'contact-quota', 'total-quota', 'disk-space']

/**
 * Whether an offer of `size` bytes from `contactId` waits, given the transfers already known and
 * the free space (undefined: the storage cannot tell).
 */
export function holdFor(
  offer: { readonly size: number; readonly contactId: ContactId },
  known: Iterable<TransferRecord>,
  limits: AutoDownloadLimits,
  freeBytes: number | undefined,
  now = Date.now(),
): HoldReason | undefined {
  if (offer.size > limits.askAboveBytes) return 'large'
  let contactBytes = 0
  let totalBytes = 0
  for (const r of known) {
    if (!countsAsDownloaded(r) || r.createdAt < now - limits.windowMs) continue
    totalBytes += r.size
    if (r.contactId === offer.contactId) contactBytes += r.size
  }
  if (contactBytes + offer.size > limits.perContactBytes) return 'contact-quota'
  if (totalBytes + offer.size > limits.totalBytes) return 'total-quota'
  if (freeBytes !== undefined && freeBytes - offer.size < limits.minFreeBytes) return 'disk-space'
  return undefined
}

/** An incoming file that is downloading or downloaded (not waiting, not failed). */
function countsAsDownloaded(r: TransferRecord): boolean {
  if (r.direction !== 'in' || r.status === 'failed') return false
  return r.hold === undefined && r.note !== 'waiting-for-accept'
}

/** Checks limits given by an app: whole, non-negative byte counts and a positive window. */
export function validLimits(limits: AutoDownloadLimits): boolean {
  const bytes = [limits.askAboveBytes, limits.perContactBytes, limits.totalBytes, limits.minFreeBytes]
  return (
    bytes.every((n) => Number.isSafeInteger(n) && n >= 0) &&
    Number.isSafeInteger(limits.windowMs) &&
    limits.windowMs > 0
  )
}
