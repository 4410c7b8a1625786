import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Payload {
  id: Uint8Array<ArrayBuffer>
  sentAt: bigint
  seq: bigint
  text?: Text
  receipt?: Receipt
  typing?: Typing
  reaction?: Reaction
  edit?: Edit
  delete?: Delete
  request?: ContactRequest
  accept?: ContactAccept
  addressUpdate?: AddressUpdate
  extension?: Extension
}

export namespace Payload {
  let _codec: Codec<Payload>

  export const codec = (): Codec<Payload> => {
    if (_codec == null) {
      _codec = message<Payload>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.id)
        }

        if ((obj.sentAt != null && obj.sentAt !== 0n)) {
          w.uint32(16)
          w.uint64(obj.sentAt)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(24)
          w.uint64(obj.seq)
        }

        if (obj.text != null) {
          w.uint32(82)
          Text.codec().encode(obj.text, w)
        }

        if (obj.receipt != null) {
          w.uint32(90)
          Receipt.codec().encode(obj.receipt, w)
        }

        if (obj.typing != null) {
          w.uint32(98)
          Typing.codec().encode(obj.typing, w)
        }

        if (obj.reaction != null) {
          w.uint32(106)
          Reaction.codec().encode(obj.reaction, w)
        }

        if (obj.edit != null) {
          w.uint32(114)
          Edit.codec().encode(obj.edit, w)
        }

        if (obj.delete != null) {
          w.uint32(122)
          Delete.codec().encode(obj.delete, w)
        }

        if (obj.request != null) {
          w.uint32(130)
          ContactRequest.codec().encode(obj.request, w)
        }

        if (obj.accept != null) {
          w.uint32(138)
          ContactAccept.codec().encode(obj.accept, w)
        }

        if (obj.addressUpdate != null) {
          w.uint32(146)
          AddressUpdate.codec().encode(obj.addressUpdate, w)
        }

        if (obj.extension != null) {
          w.uint32(242)
          Extension.codec().encode(obj.extension, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: uint8ArrayAlloc(0),
          sentAt: 0n,
          seq: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.bytes()
              break
            }
            case 2: {
              obj.sentAt = reader.uint64()
              break
            }
            case 3: {
              obj.seq = reader.uint64()
              break
            }
            case 10: {
              obj.text = Text.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.text
              })
              break
            }
            case 11: {
              obj.receipt = Receipt.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.receipt
              })
              break
            }
            case 12: {
              obj.typing = Typing.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.typing
              })
              break
            }
            case 13: {
              obj.reaction = Reaction.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.reaction
              })
              break
            }
            case 14: {
              obj.edit = Edit.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.edit
              })
              break
            }
            case 15: {
              obj.delete = Delete.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.delete
              })
              break
            }
            case 16: {
              obj.request = ContactRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.request
              })
              break
            }
            case 17: {
              obj.accept = ContactAccept.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.accept
              })
              break
            }
            case 18: {
              obj.addressUpdate = AddressUpdate.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.addressUpdate
              })
              break
            }
            case 30: {
              obj.extension = Extension.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.extension
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.sentAt`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64()
              }
              break
            }
            case 10: {
              yield * Text.codec().stream(reader, reader.uint32(), `${prefix}.text`, {
                limits: opts.limits?.text
              })

              break
            }
            case 11: {
              yield * Receipt.codec().stream(reader, reader.uint32(), `${prefix}.receipt`, {
                limits: opts.limits?.receipt
              })

              break
            }
            case 12: {
              yield * Typing.codec().stream(reader, reader.uint32(), `${prefix}.typing`, {
                limits: opts.limits?.typing
              })

              break
            }
            case 13: {
              yield * Reaction.codec().stream(reader, reader.uint32(), `${prefix}.reaction`, {
                limits: opts.limits?.reaction
              })

              break
            }
            case 14: {
              yield * Edit.codec().stream(reader, reader.uint32(), `${prefix}.edit`, {
                limits: opts.limits?.edit
              })

              break
            }
            case 15: {
              yield * Delete.codec().stream(reader, reader.uint32(), `${prefix}.delete`, {
                limits: opts.limits?.delete
              })

              break
            }
            case 16: {
              yield * ContactRequest.codec().stream(reader, reader.uint32(), `${prefix}.request`, {
                limits: opts.limits?.request
              })

              break
            }
            case 17: {
              yield * ContactAccept.codec().stream(reader, reader.uint32(), `${prefix}.accept`, {
                limits: opts.limits?.accept
              })

              break
            }
            case 18: {
              yield * AddressUpdate.codec().stream(reader, reader.uint32(), `${prefix}.addressUpdate`, {
                limits: opts.limits?.addressUpdate
              })

              break
            }
            case 30: {
              yield * Extension.codec().stream(reader, reader.uint32(), `${prefix}.extension`, {
                limits: opts.limits?.extension
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PayloadIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadSentAtFieldEvent {
    field: '$.sentAt'
    value: bigint
  }

  export interface PayloadSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface PayloadTextTextFieldEvent {
    field: '$.text.text'
    value: string
  }

  export interface PayloadTextReplyToFieldEvent {
    field: '$.text.replyTo'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadReceiptKindFieldEvent {
    field: '$.receipt.kind'
    value: Receipt.Kind
  }

  export interface PayloadReceiptIdsFieldEvent {
    field: '$.receipt.ids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadTypingActiveFieldEvent {
    field: '$.typing.active'
    value: boolean
  }

  export interface PayloadReactionTargetFieldEvent {
    field: '$.reaction.target'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadReactionEmojiFieldEvent {
    field: '$.reaction.emoji'
    value: string
  }

  export interface PayloadEditTargetFieldEvent {
    field: '$.edit.target'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadEditTextFieldEvent {
    field: '$.edit.text'
    value: string
  }

  export interface PayloadDeleteTargetFieldEvent {
    field: '$.delete.target'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadRequestCardFieldEvent {
    field: '$.request.card'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadAcceptCardFieldEvent {
    field: '$.accept.card'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadAddressUpdateAddrsFieldEvent {
    field: '$.addressUpdate.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PayloadExtensionKindFieldEvent {
    field: '$.extension.kind'
    value: string
  }

  export interface PayloadExtensionBodyFieldEvent {
    field: '$.extension.body'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Payload>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Payload.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Payload>): Payload {
    return decodeMessage(buf, Payload.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Payload>): Generator<PayloadIdFieldEvent | PayloadSentAtFieldEvent | PayloadSeqFieldEvent | PayloadTextTextFieldEvent | PayloadTextReplyToFieldEvent | PayloadReceiptKindFieldEvent | PayloadReceiptIdsFieldEvent | PayloadTypingActiveFieldEvent | PayloadReactionTargetFieldEvent | PayloadReactionEmojiFieldEvent | PayloadEditTargetFieldEvent | PayloadEditTextFieldEvent | PayloadDeleteTargetFieldEvent | PayloadRequestCardFieldEvent | PayloadAcceptCardFieldEvent | PayloadAddressUpdateAddrsFieldEvent | PayloadExtensionKindFieldEvent | PayloadExtensionBodyFieldEvent> {
    return streamMessage(buf, Payload.codec(), opts)
  }
}

export interface Text {
  text: string
  replyTo?: Uint8Array<ArrayBuffer>
}

export namespace Text {
  let _codec: Codec<Text>

  export const codec = (): Codec<Text> => {
    if (_codec == null) {
      _codec = message<Text>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.text != null && obj.text !== '')) {
          w.uint32(10)
          w.string(obj.text)
        }

        if (obj.replyTo != null) {
          w.uint32(18)
          w.bytes(obj.replyTo)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          text: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.text = reader.string()
              break
            }
            case 2: {
              obj.replyTo = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.text`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.replyTo`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TextTextFieldEvent {
    field: '$.text'
    value: string
  }

  export interface TextReplyToFieldEvent {
    field: '$.replyTo'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Text>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Text.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Text>): Text {
    return decodeMessage(buf, Text.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Text>): Generator<TextTextFieldEvent | TextReplyToFieldEvent> {
    return streamMessage(buf, Text.codec(), opts)
  }
}

export interface Receipt {
  kind: Receipt.Kind
  ids: Uint8Array<ArrayBuffer>[]
}

export namespace Receipt {
  export enum Kind {
    DELIVERED = 'DELIVERED',
    READ = 'READ'
  }

  enum __KindValues {
    DELIVERED = 0,
    READ = 1
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<Receipt>

  export const codec = (): Codec<Receipt> => {
    if (_codec == null) {
      _codec = message<Receipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(8)
          Receipt.Kind.codec().encode(obj.kind, w)
        }

        if (obj.ids != null && obj.ids.length > 0) {
          for (const value of obj.ids) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: Kind.DELIVERED,
          ids: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = Receipt.Kind.codec().decode(reader)
              break
            }
            case 2: {
              if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
              }

              obj.ids.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          ids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: Receipt.Kind.codec().decode(reader)
              }
              break
            }
            case 2: {
              if (opts.limits?.ids != null && obj.ids === opts.limits.ids) {
                throw new MaxLengthError('Streaming decode error - repeated field "ids" had too many elements')
              }

              yield {
                field: `${prefix}.ids[]`,
                index: obj.ids,
                value: reader.bytes()
              }

              obj.ids++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ReceiptKindFieldEvent {
    field: '$.kind'
    value: Receipt.Kind
  }

  export interface ReceiptIdsFieldEvent {
    field: '$.ids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Receipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptKindFieldEvent | ReceiptIdsFieldEvent> {
    return streamMessage(buf, Receipt.codec(), opts)
  }
}

export interface Typing {
  active: boolean
}

export namespace Typing {
  let _codec: Codec<Typing>

  export const codec = (): Codec<Typing> => {
    if (_codec == null) {
      _codec = message<Typing>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.active != null && obj.active !== false)) {
          w.uint32(8)
          w.bool(obj.active)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          active: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.active = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.active`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TypingActiveFieldEvent {
    field: '$.active'
    value: boolean
  }

  export function encode (obj: Partial<Typing>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Typing.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Typing>): Typing {
    return decodeMessage(buf, Typing.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Typing>): Generator<TypingActiveFieldEvent> {
    return streamMessage(buf, Typing.codec(), opts)
  }
}

export interface Reaction {
  target: Uint8Array<ArrayBuffer>
  emoji: string
}

export namespace Reaction {
  let _codec: Codec<Reaction>

  export const codec = (): Codec<Reaction> => {
    if (_codec == null) {
      _codec = message<Reaction>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.target != null && obj.target.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.target)
        }

        if ((obj.emoji != null && obj.emoji !== '')) {
          w.uint32(18)
          w.string(obj.emoji)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          target: uint8ArrayAlloc(0),
          emoji: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.target = reader.bytes()
              break
            }
            case 2: {
              obj.emoji = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.target`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.emoji`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ReactionTargetFieldEvent {
    field: '$.target'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReactionEmojiFieldEvent {
    field: '$.emoji'
    value: string
  }

  export function encode (obj: Partial<Reaction>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Reaction.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reaction>): Reaction {
    return decodeMessage(buf, Reaction.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reaction>): Generator<ReactionTargetFieldEvent | ReactionEmojiFieldEvent> {
    return streamMessage(buf, Reaction.codec(), opts)
  }
}

export interface Edit {
  target: Uint8Array<ArrayBuffer>
  text: string
}

export namespace Edit {
  let _codec: Codec<Edit>

  export const codec = (): Codec<Edit> => {
    if (_codec == null) {
      _codec = message<Edit>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.target != null && obj.target.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.target)
        }

        if ((obj.text != null && obj.text !== '')) {
          w.uint32(18)
          w.string(obj.text)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          target: uint8ArrayAlloc(0),
          text: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.target = reader.bytes()
              break
            }
            case 2: {
              obj.text = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.target`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.text`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface EditTargetFieldEvent {
    field: '$.target'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EditTextFieldEvent {
    field: '$.text'
    value: string
  }

  export function encode (obj: Partial<Edit>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Edit.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Edit>): Edit {
    return decodeMessage(buf, Edit.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Edit>): Generator<EditTargetFieldEvent | EditTextFieldEvent> {
    return streamMessage(buf, Edit.codec(), opts)
  }
}

export interface Delete {
  target: Uint8Array<ArrayBuffer>
}

export namespace Delete {
  let _codec: Codec<Delete>

  export const codec = (): Codec<Delete> => {
    if (_codec == null) {
      _codec = message<Delete>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.target != null && obj.target.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.target)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          target: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.target = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.target`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface DeleteTargetFieldEvent {
    field: '$.target'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Delete>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Delete.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Delete>): Delete {
    return decodeMessage(buf, Delete.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Delete>): Generator<DeleteTargetFieldEvent> {
    return streamMessage(buf, Delete.codec(), opts)
  }
}

export interface ContactRequest {
  card: Uint8Array<ArrayBuffer>
}

export namespace ContactRequest {
  let _codec: Codec<ContactRequest>

  export const codec = (): Codec<ContactRequest> => {
    if (_codec == null) {
      _codec = message<ContactRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.card != null && obj.card.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.card)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          card: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.card = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.card`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ContactRequestCardFieldEvent {
    field: '$.card'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ContactRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ContactRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ContactRequest>): ContactRequest {
    return decodeMessage(buf, ContactRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ContactRequest>): Generator<ContactRequestCardFieldEvent> {
    return streamMessage(buf, ContactRequest.codec(), opts)
  }
}

export interface ContactAccept {
  card: Uint8Array<ArrayBuffer>
}

export namespace ContactAccept {
  let _codec: Codec<ContactAccept>

  export const codec = (): Codec<ContactAccept> => {
    if (_codec == null) {
      _codec = message<ContactAccept>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.card != null && obj.card.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.card)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          card: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.card = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.card`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ContactAcceptCardFieldEvent {
    field: '$.card'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ContactAccept>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ContactAccept.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ContactAccept>): ContactAccept {
    return decodeMessage(buf, ContactAccept.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ContactAccept>): Generator<ContactAcceptCardFieldEvent> {
    return streamMessage(buf, ContactAccept.codec(), opts)
  }
}

export interface AddressUpdate {
  addrs: Uint8Array<ArrayBuffer>[]
}

export namespace AddressUpdate {
  let _codec: Codec<AddressUpdate>

  export const codec = (): Codec<AddressUpdate> => {
    if (_codec == null) {
      _codec = message<AddressUpdate>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface AddressUpdateAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<AddressUpdate>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AddressUpdate.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AddressUpdate>): AddressUpdate {
    return decodeMessage(buf, AddressUpdate.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AddressUpdate>): Generator<AddressUpdateAddrsFieldEvent> {
    return streamMessage(buf, AddressUpdate.codec(), opts)
  }
}

export interface Extension {
  kind: string
  body: Uint8Array<ArrayBuffer>
}

export namespace Extension {
  let _codec: Codec<Extension>

  export const codec = (): Codec<Extension> => {
    if (_codec == null) {
      _codec = message<Extension>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.kind != null && obj.kind !== '')) {
          w.uint32(10)
          w.string(obj.kind)
        }

        if ((obj.body != null && obj.body.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.body)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: '',
          body: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = reader.string()
              break
            }
            case 2: {
              obj.body = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.body`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ExtensionKindFieldEvent {
    field: '$.kind'
    value: string
  }

  export interface ExtensionBodyFieldEvent {
    field: '$.body'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Extension>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Extension.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Extension>): Extension {
    return decodeMessage(buf, Extension.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Extension>): Generator<ExtensionKindFieldEvent | ExtensionBodyFieldEvent> {
    return streamMessage(buf, Extension.codec(), opts)
  }
}
