/**
 * Broadcasts (群发): one text or file to every accepted contact with a label, each as a separate
 * 1:1 message on that contact's own session, through the ordinary send path (so each is in its
 * outbox before this returns, and retried until delivered). Nothing in a message names the label
 * or the other recipients: each contact sees a message from us, as if sent to them alone.
 * Contacts with the label that are not accepted are skipped and listed, never sent to.
 */
import type { FileService, SendFileOptions } from '../files/service.js'
import type { FileSource } from '../files/storage.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import type { LabelAudience, LabelMember } from './labels.js'

export interface BroadcastResult {
  /** The label as it is spelled. */
  readonly label: string
  /** How many contacts were sent a message: one each. */
  readonly sent: number
  /** The messages' ids, one per contact sent to (in their own conversations). */
  readonly ids: readonly MessageId[]
  /** Contacts with the label that were not sent to: they are not accepted contacts. */
  readonly skipped: readonly LabelMember[]
}

/**
 * Sends to each contact of `audience` with `sendOne`, all at once (each conversation has its own
 * queue, and their writes share the disk's batches). If one fails, the others are still waited
 * for, then the first failure is thrown: whatever was queued stays queued.
 */
export async function broadcastEach(
  audience: LabelAudience,
  sendOne: (cid: ContactId) => Promise<MessageId>,
): Promise<BroadcastResult> {
  const settled = await Promise.allSettled(audience.to.map((cid) => sendOne(cid)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  const ids = settled.map((s) => (s as PromiseFulfilledResult<MessageId>).value)
  return { label: audience.label, sent: ids.length, ids, skipped: audience.skipped }
}

/**
 * Offers one file to every accepted contact with `label`, a separate offer (and key) per contact
 * through FileService.sendFile, one after another: each offer reads the file once to hash it.
 * `open` gives a fresh source each time (sendFile owns and closes the one it is given).
 */
export async function broadcastFile(
  messenger: { labelAudience(label: string): LabelAudience },
  files: Pick<FileService, 'sendFile'>,
  label: string,
  open: () => Promise<FileSource>,
  options: SendFileOptions = {},
): Promise<BroadcastResult> {
  const audience = messenger.labelAudience(label)
  const ids: MessageId[] = []
  for (const cid of audience.to) {
    const source = await open()
    try {
      ids.push((await files.sendFile(cid, source, options)).id)
    } catch (error) {
      await source.close().catch(() => undefined)
      throw error
    }
  }
  return { label: audience.label, sent: ids.length, ids, skipped: audience.skipped }
}
