/**
 * The plaintext inside each ratchet message: a Payload protobuf (payload.proto) with exactly one
 * body. Decoding validates sizes and ids, so everything downstream can trust the shape.
 */
import { utf8 } from '../bytes.js'
import { MESSAGE_ID_BYTES, type MessageId, messageIdBytes, messageIdFromBytes } from './ids.js'
import { Payload, Receipt } from './payload.pb.js'

export const MAX_TEXT_BYTES = 16 * 1024
export const MAX_EMOJI_BYTES = 32
export const MAX_RECEIPT_IDS = 512

export type PayloadBody =
  | { readonly kind: 'text'; readonly text: string; readonly replyTo?: MessageId | undefined }
  | { readonly kind: 'receipt'; readonly receipt: 'delivered' | 'read'; readonly ids: readonly MessageId[] }
  | { readonly kind: 'typing'; readonly active: boolean }
  | { readonly kind: 'reaction'; readonly target: MessageId; readonly emoji: string }
  | { readonly kind: 'edit'; readonly target: MessageId; readonly text: string }
  | { readonly kind: 'delete'; readonly target: MessageId }
  | { readonly kind: 'request'; readonly card: Uint8Array }
  | { readonly kind: 'accept'; readonly card: Uint8Array }
  | {
      readonly kind: 'address-update'
      readonly addrs: readonly Uint8Array[]
      /** Our home node certificate (mailbox/certificate.ts), when we have one. */
      readonly home?: Uint8Array | undefined
      /** Our signed device list (identity/device-list.ts). */
      readonly deviceList?: Uint8Array | undefined
    }
  | { readonly kind: 'extension'; readonly extension: string; readonly body: Uint8Array }

export interface DecodedPayload {
  readonly id: MessageId
  readonly sentAt: number
  readonly seq: number
  readonly body: PayloadBody
}

export class BadPayloadError extends Error {
  readonly code = 'BadPayload'
}

type Bytes = Uint8Array<ArrayBuffer>
const idBytes = (id: MessageId) => messageIdBytes(id) as Bytes

export function encodePayload(id: MessageId, sentAt: number, seq: number, body: PayloadBody): Uint8Array {
  const p: Partial<Payload> = { id: idBytes(id), sentAt: BigInt(sentAt), seq: BigInt(seq) }
  switch (body.kind) {
    case 'text':
      p.text = { text: body.text, replyTo: body.replyTo && idBytes(body.replyTo) }
      break
    case 'receipt':
      p.receipt = {
        kind: body.receipt === 'read' ? Receipt.Kind.READ : Receipt.Kind.DELIVERED,
        ids: body.ids.map(idBytes),
      }
      break
    case 'typing':
      p.typing = { active: body.active }
      break
    case 'reaction':
      p.reaction = { target: idBytes(body.target), emoji: body.emoji }
      break
    case 'edit':
      p.edit = { target: idBytes(body.target), text: body.text }
      break
    case 'delete':
      p.delete = { target: idBytes(body.target) }
      break
    case 'request':
      p.request = { card: body.card as Bytes }
      break
    case 'accept':
      p.accept = { card: body.card as Bytes }
      break
    case 'address-update':
      p.addressUpdate = {
        addrs: body.addrs.map((a) => a as Bytes),
        ...(body.home === undefined ? {} : { home: body.home as Bytes }),
        ...(body.deviceList === undefined ? {} : { deviceList: body.deviceList as Bytes }),
      }
      break
    case 'extension':
      p.extension = { kind: body.extension, body: body.body as Bytes }
      break
  }
  return Payload.encode(p)
}

export function decodePayload(bytes: Uint8Array): DecodedPayload {
  let p: Payload
  try {
    p = Payload.decode(bytes)
  } catch {
    throw new BadPayloadError('payload does not parse')
  }
  const id = messageIdFromBytes(p.id)
  if (id === undefined) throw new BadPayloadError(`payload id must be ${MESSAGE_ID_BYTES} bytes`)
  if (p.sentAt > BigInt(Number.MAX_SAFE_INTEGER) || p.seq > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BadPayloadError('payload counters out of range')
  }
  const bodies = [
    p.text,
    p.receipt,
    p.typing,
    p.reaction,
    p.edit,
    p.delete,
    p.request,
    p.accept,
    p.addressUpdate,
    p.extension,
  ].filter((b) => b !== undefined)
  if (bodies.length !== 1) throw new BadPayloadError('payload must carry exactly one body')
  return { id, sentAt: Number(p.sentAt), seq: Number(p.seq), body: decodeBody(p) }
}

function target(bytes: Uint8Array): MessageId {
  const id = messageIdFromBytes(bytes)
  if (id === undefined) throw new BadPayloadError('target id must be 16 bytes')
  return id
}

function text(value: string): string {
  if (utf8(value).length > MAX_TEXT_BYTES) throw new BadPayloadError('text is too long')
  return value
}

function decodeBody(p: Payload): PayloadBody {
  if (p.text)
    return { kind: 'text', text: text(p.text.text), replyTo: p.text.replyTo && target(p.text.replyTo) }
  if (p.receipt) {
    if (p.receipt.ids.length > MAX_RECEIPT_IDS) throw new BadPayloadError('too many receipt ids')
    return {
      kind: 'receipt',
      receipt: p.receipt.kind === Receipt.Kind.READ ? 'read' : 'delivered',
      ids: p.receipt.ids.map(target),
    }
  }
  if (p.typing) return { kind: 'typing', active: p.typing.active }
  if (p.reaction) {
    if (utf8(p.reaction.emoji).length > MAX_EMOJI_BYTES) throw new BadPayloadError('reaction is too long')
    return { kind: 'reaction', target: target(p.reaction.target), emoji: p.reaction.emoji }
  }
  if (p.edit) return { kind: 'edit', target: target(p.edit.target), text: text(p.edit.text) }
  if (p.delete) return { kind: 'delete', target: target(p.delete.target) }
  if (p.request) return { kind: 'request', card: p.request.card }
  if (p.accept) return { kind: 'accept', card: p.accept.card }
  if (p.addressUpdate)
    return {
      kind: 'address-update',
      addrs: p.addressUpdate.addrs,
      ...(p.addressUpdate.home === undefined ? {} : { home: p.addressUpdate.home }),
      ...(p.addressUpdate.deviceList === undefined ? {} : { deviceList: p.addressUpdate.deviceList }),
    }
  const ext = p.extension!
  return { kind: 'extension', extension: ext.kind, body: ext.body }
}
