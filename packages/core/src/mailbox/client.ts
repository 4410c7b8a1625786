/**
 * The clients of /jiayi/mailbox/1: the owner's device (certify, depositor list, fetch,
 * acknowledge) and a contact's (deposit). One request per stream; a refusal comes back as a
 * MailboxError with the home node's code, an unreachable home node as Unavailable.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { type OpenFramedOptions, openFramed } from '../net/framed-handler.js'
import type { FramedStream } from '../net/framing.js'
import type { JiayiNode } from '../net/network-stack.js'
import { PROTOCOL_MAILBOX } from '../net/protocols.js'
import { MailboxError, type MailboxErrorCode } from './errors.js'
import type { HomeNodeRef } from './link.js'
import { HomeCertificate, MailboxRequest, MailboxResponse, SignedDepositors } from './mailbox-wire.pb.js'

/** How long one request may take, dial included. */
export const MAILBOX_REQUEST_TIMEOUT_MS = 15_000

export type MailEnvelopeType = 'prekey' | 'message'

export interface MailToDeposit {
  readonly type: MailEnvelopeType
  readonly body: Uint8Array
}

export interface FetchedMail {
  readonly id: bigint
  readonly sender: string
  readonly storedAt: number
  readonly type: MailEnvelopeType
  readonly body: Uint8Array
}

const CODE_OF: Record<string, MailboxErrorCode> = {
  [MailboxResponse.Status.NOT_ALLOWED]: 'NotAllowed',
  [MailboxResponse.Status.NOT_OWNER]: 'NotOwner',
  [MailboxResponse.Status.OVER_QUOTA]: 'OverQuota',
  [MailboxResponse.Status.EXPIRED]: 'Expired',
  [MailboxResponse.Status.BAD_CERTIFICATE]: 'BadCertificate',
  [MailboxResponse.Status.BAD_REQUEST]: 'BadRequest',
}

/** Every call may be given up early (the peer stops); each also gives up on its own in time. */
export interface MailboxCallOptions {
  readonly signal?: AbortSignal | undefined
}

/**
 * Gives the home node its certificate. Resolves to whether it keeps each device's mail apart
 * (`per_device`): one that does not (an older build) hands whatever it holds to any device named.
 */
export async function certifyHomeNode(
  node: JiayiNode,
  home: HomeNodeRef,
  certificate: Uint8Array,
  options: MailboxCallOptions = {},
): Promise<{ readonly perDevice: boolean }> {
  const response = await request(node, home, { certify: HomeCertificate.decode(certificate) }, options)
  return { perDevice: response.perDevice }
}

export async function sendDepositors(
  node: JiayiNode,
  home: HomeNodeRef,
  list: Uint8Array,
  options: MailboxCallOptions = {},
): Promise<void> {
  await request(node, home, { depositors: SignedDepositors.decode(list) }, options)
}

/**
 * Deposits the envelopes in order for the owner's device `device` (the one they are sealed for):
 * all are kept, or none (the error says why).
 */
export async function depositMail(
  node: JiayiNode,
  home: HomeNodeRef,
  device: string,
  mail: readonly MailToDeposit[],
  options: MailboxCallOptions = {},
): Promise<void> {
  if (mail.length === 0) return
  await request(
    node,
    home,
    {
      depositFor: device,
      deposit: mail.map((m) => ({
        type: m.type === 'prekey' ? 1 : 2,
        body: m.body as Uint8Array<ArrayBuffer>,
      })),
    },
    options,
  )
}

/** Up to `limit` items, oldest first (fewer when they are large). */
export async function fetchMail(
  node: JiayiNode,
  home: HomeNodeRef,
  limit = 256,
  options: MailboxCallOptions = {},
): Promise<FetchedMail[]> {
  const response = await request(node, home, { fetch: limit }, options)
  return response.items.map((item) => ({
    id: item.id,
    sender: item.sender,
    storedAt: Number(item.storedAt),
    type: item.envelope?.type === 1 ? 'prekey' : 'message',
    body: item.envelope?.body ?? new Uint8Array(),
  }))
}

export async function ackMail(
  node: JiayiNode,
  home: HomeNodeRef,
  ids: readonly bigint[],
  options: MailboxCallOptions = {},
): Promise<void> {
  if (ids.length === 0) return
  await request(node, home, { ack: [...ids] }, options)
}

/** What each refusal means, in words (the code stays the stable part). */
const REFUSED: Record<MailboxErrorCode, string> = {
  NotAllowed:
    'this peer is not one of its owner’s contacts or devices, it has no owner yet, or it serves no such device of theirs',
  NotOwner: 'only its owner’s devices may do this',
  OverQuota: 'this depositor’s share of the mailbox is full until its owner fetches',
  Expired: 'its owner’s certificate has expired',
  BadCertificate: 'it serves another owner, or the certificate does not verify',
  BadRequest: 'the request was malformed',
  BadLink: 'not a home node link',
  Unavailable: 'it could not be reached',
}

/**
 * Opens `protocol` on the home node `home` names (its addresses added to what we know of it, as
 * far as our dial policy allows them): the mailbox here, the feed seeder in @jiayi/feed.
 */
export async function openHomeStream(
  node: JiayiNode,
  home: HomeNodeRef,
  protocol: string,
  options: OpenFramedOptions = {},
): Promise<FramedStream> {
  const peer = peerIdFromString(home.peerId)
  const addrs = node.services.dialPolicy.dialable(home.addrs)
  if (addrs.length > 0)
    await node.peerStore.merge(peer, { multiaddrs: addrs.map((a) => multiaddr(a)) }).catch(() => undefined)
  return openFramed(node, peer, protocol, options)
}

async function request(
  node: JiayiNode,
  home: HomeNodeRef,
  message: Partial<MailboxRequest>,
  options: MailboxCallOptions,
): Promise<MailboxResponse> {
  let response: MailboxResponse
  try {
    const timeout = AbortSignal.timeout(MAILBOX_REQUEST_TIMEOUT_MS)
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
    const framed = await openHomeStream(node, home, PROTOCOL_MAILBOX, { signal })
    try {
      await framed.write(MailboxRequest.encode(message), { signal })
      const bytes = await framed.read({ signal })
      if (bytes === null) throw new Error('the home node closed the stream')
      response = MailboxResponse.decode(bytes)
      await framed.close({ signal }).catch(() => undefined)
    } catch (error) {
      framed.abort(error instanceof Error ? error : new Error('mailbox request failed'))
      throw error
    }
  } catch (cause) {
    throw new MailboxError('Unavailable', 'the home node could not be reached', { cause })
  }
  if (response.status !== MailboxResponse.Status.OK) {
    const code = CODE_OF[response.status] ?? 'BadRequest'
    throw new MailboxError(code, `the home node refused: ${REFUSED[code]}`)
  }
  return response
}
