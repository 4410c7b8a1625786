/**
 * Members' devices (DESIGN "Several devices, one person"; PROTOCOL "Groups", device lists): a
 * member who is not our contact has a device list too, and it travels in group traffic
 * (GroupTraffic.device_lists), as a contact's travels with cards and address updates.
 *
 * - A member sends its own newest list to every member of its groups when it changes (durable, in
 *   the outbox), to members who join, and with each sync request.
 * - A receiver takes a list only when a current member's identity (the key on their card in the
 *   group) signed it and it is newer than the one held; it is kept on the member's record (a
 *   contact's or a `member` record), where every device check already looks: a device off it is
 *   refused at the envelope, and what goes to the member goes to every device on it (lanes.ts).
 * - A list of a member we hold no record of yet is left for their own traffic, which makes one.
 */
import { equalBytes } from '../bytes.js'
import { cardDevices } from '../card/card.js'
import { type DeviceList, verifyDeviceList } from '../identity/device-list.js'
import { IdentityError } from '../identity/identity.js'
import type { MessengerCore } from '../messenger/core.js'
import { type ContactId, contactIdFor } from '../messenger/ids.js'
import { contactDevices } from '../messenger/records.js'
import { PROTOCOL_MSG } from '../net/protocols.js'
import type { HeldGroup } from './group-store.js'

/** Lists taken from one payload: a member sends its own; more is never needed at once. */
export const MAX_DEVICE_LISTS_PER_PAYLOAD = 16

export interface MemberDevicesDeps {
  readonly core: MessengerCore
  readonly me: ContactId
  /** Takes a newer list as the member's (Messenger.applyDeviceList's work); true when it changed. */
  readonly apply: (cid: ContactId, bytes: Uint8Array) => Promise<boolean>
}

export class MemberDevices {
  constructor(private readonly deps: MemberDevicesDeps) {}

  /**
   * Our own list when it says more than our card does anyway (a second device, or a device
   * removed): a person with one device never sends one.
   */
  ownNews(): Uint8Array | undefined {
    const list = this.deps.core.ownDeviceList()
    return list.version > 1 || list.devices.length > 1 ? list.bytes : undefined
  }

  /** The devices that speak for member `cid` of `g` now: their record's list, else their card's. */
  devicesOf(g: HeldGroup, cid: ContactId): readonly string[] {
    const record = this.deps.core.contacts.get(cid)
    if (record !== undefined) return contactDevices(record)
    const card = g.log.state().members.get(cid)?.card
    return card === undefined ? [] : cardDevices(card)
  }

  /** Lists that came in group traffic of `g` (from a member: the caller checked). */
  async receive(g: HeldGroup, lists: readonly Uint8Array[]): Promise<void> {
    const core = this.deps.core
    const members = g.log.state().members
    for (const bytes of lists.slice(0, MAX_DEVICE_LISTS_PER_PAYLOAD)) {
      let list: DeviceList
      try {
        list = verifyDeviceList(bytes)
      } catch (error) {
        if (!IdentityError.is(error)) throw error
        core.refuse(PROTOCOL_MSG, 'bad-device-list')
        continue
      }
      const owner = contactIdFor(list.ownerKey)
      if (owner === this.deps.me) continue // ours travel between our own devices (devices/)
      const member = members.get(owner)
      if (member === undefined) {
        core.refuse(PROTOCOL_MSG, 'not-allowed')
        continue
      }
      // The id is a short hash of the key: the key itself must be the one the group holds.
      if (!equalBytes(list.ownerKey, member.card.identity.signingKey)) {
        core.refuse(PROTOCOL_MSG, 'bad-device-list')
        continue
      }
      if (core.contacts.get(owner) === undefined) continue
      try {
        await this.deps.apply(owner, list.bytes)
      } catch (error) {
        if (!IdentityError.is(error)) throw error
        core.refuse(PROTOCOL_MSG, 'bad-device-list')
      }
    }
  }
}
