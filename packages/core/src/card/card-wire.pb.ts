import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface CardBody {
  version: number
  name: string
  identitySigningKey: Uint8Array<ArrayBuffer>
  identityAgreementKey: Uint8Array<ArrayBuffer>
  deviceKey: Uint8Array<ArrayBuffer>
  signedPrekeyId: number
  signedPrekey: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
  createdAt: bigint
}

export namespace CardBody {
  let _codec: Codec<CardBody>

  export const codec = (): Codec<CardBody> => {
    if (_codec == null) {
      _codec = message<CardBody>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.identitySigningKey != null && obj.identitySigningKey.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.identitySigningKey)
        }

        if ((obj.identityAgreementKey != null && obj.identityAgreementKey.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.identityAgreementKey)
        }

        if ((obj.deviceKey != null && obj.deviceKey.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.deviceKey)
        }

        if ((obj.signedPrekeyId != null && obj.signedPrekeyId !== 0)) {
          w.uint32(48)
          w.uint32(obj.signedPrekeyId)
        }

        if ((obj.signedPrekey != null && obj.signedPrekey.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.signedPrekey)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(66)
            w.bytes(value)
          }
        }

        if ((obj.createdAt != null && obj.createdAt !== 0n)) {
          w.uint32(72)
          w.uint64(obj.createdAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          name: '',
          identitySigningKey: uint8ArrayAlloc(0),
          identityAgreementKey: uint8ArrayAlloc(0),
          deviceKey: uint8ArrayAlloc(0),
          signedPrekeyId: 0,
          signedPrekey: uint8ArrayAlloc(0),
          addrs: [],
          createdAt: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.identitySigningKey = reader.bytes()
              break
            }
            case 4: {
              obj.identityAgreementKey = reader.bytes()
              break
            }
            case 5: {
              obj.deviceKey = reader.bytes()
              break
            }
            case 6: {
              obj.signedPrekeyId = reader.uint32()
              break
            }
            case 7: {
              obj.signedPrekey = reader.bytes()
              break
            }
            case 8: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 9: {
              obj.createdAt = reader.uint64()
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
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.identitySigningKey`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.identityAgreementKey`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.deviceKey`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.signedPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.signedPrekey`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
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
            case 9: {
              yield {
                field: `${prefix}.createdAt`,
                value: reader.uint64()
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

  export interface CardBodyVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface CardBodyNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface CardBodyIdentitySigningKeyFieldEvent {
    field: '$.identitySigningKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CardBodyIdentityAgreementKeyFieldEvent {
    field: '$.identityAgreementKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CardBodyDeviceKeyFieldEvent {
    field: '$.deviceKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CardBodySignedPrekeyIdFieldEvent {
    field: '$.signedPrekeyId'
    value: number
  }

  export interface CardBodySignedPrekeyFieldEvent {
    field: '$.signedPrekey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CardBodyAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface CardBodyCreatedAtFieldEvent {
    field: '$.createdAt'
    value: bigint
  }

  export function encode (obj: Partial<CardBody>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CardBody.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CardBody>): CardBody {
    return decodeMessage(buf, CardBody.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CardBody>): Generator<CardBodyVersionFieldEvent | CardBodyNameFieldEvent | CardBodyIdentitySigningKeyFieldEvent | CardBodyIdentityAgreementKeyFieldEvent | CardBodyDeviceKeyFieldEvent | CardBodySignedPrekeyIdFieldEvent | CardBodySignedPrekeyFieldEvent | CardBodyAddrsFieldEvent | CardBodyCreatedAtFieldEvent> {
    return streamMessage(buf, CardBody.codec(), opts)
  }
}

export interface SignedCard {
  body: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedCard {
  let _codec: Codec<SignedCard>

  export const codec = (): Codec<SignedCard> => {
    if (_codec == null) {
      _codec = message<SignedCard>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.body != null && obj.body.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.body)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          body: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.body = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.body`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignedCardBodyFieldEvent {
    field: '$.body'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedCardSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedCard>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedCard.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedCard>): SignedCard {
    return decodeMessage(buf, SignedCard.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedCard>): Generator<SignedCardBodyFieldEvent | SignedCardSignatureFieldEvent> {
    return streamMessage(buf, SignedCard.codec(), opts)
  }
}
