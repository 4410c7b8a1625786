/**
 * The caller's part of the AEAD associated data: which group, and which sender. Binding both means a
 * ciphertext cannot be replayed into another group or attributed to another member, even by a
 * member who knows the chain key. Each part is length-prefixed so no two (group, sender) pairs
 * encode to the same bytes.
 */
import { assertBytes, concatBytes } from '../../bytes.js'
import { InputError } from '../../errors.js'

const MAX_PART_BYTES = 255

/** u8 len || group id || u8 len || sender identity; each part 1..255 bytes. */
export function senderKeyAssociatedData(groupId: Uint8Array, senderIdentity: Uint8Array): Uint8Array {
  assertBytes(groupId, undefined, 'group id')
  assertBytes(senderIdentity, undefined, 'sender identity')
  for (const part of [groupId, senderIdentity]) {
    if (part.length === 0 || part.length > MAX_PART_BYTES) {
      throw new InputError('BadLength', 'group id and sender identity must be 1..255 bytes')
    }
  }
  return concatBytes(
    Uint8Array.of(groupId.length),
    groupId,
    Uint8Array.of(senderIdentity.length),
    senderIdentity,
  )
}
