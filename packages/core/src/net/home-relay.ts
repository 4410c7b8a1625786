import type { CircuitRelayServerInit } from '@libp2p/circuit-relay-v2'
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import { type RelayServerLimits, relayServerInit } from './relay-limits.js'

/**
 * A home node's circuit-relay-v2 server (DESIGN "Reach"): it relays for its owner, not for the
 * internet. Its owner's devices behind NAT hold a reservation on it, their card names
 * `<home>/p2p/<home id>/p2p-circuit`, and anyone holding that card dials them through it until
 * DCUtR (or their own addresses) gives a direct connection. Messages may cross it while hole
 * punching runs, and so may the linking of a new device of the owner (in parts, one relayed
 * connection after another: devices/join.ts); files and feed sync never do (their protocols
 * refuse limited connections).
 *
 * Who may do what (`HomeRelayAccess`, asked through libp2p's connection gater):
 * - reserve a slot: the owner's devices (named by the owner's certificate) and the owner's
 *   contacts (the depositor list the owner signs). A stranger is refused: a slot would make the
 *   home node their public address.
 * - be relayed: to one of the owner's devices, from anyone (a card is given to people who are not
 *   contacts yet; the owner's peer decides what they may do, as it would on a public address);
 *   to a contact holding a slot, only from the owner's devices. Nothing else: two strangers, or
 *   two of the owner's contacts, never meet through it.
 *
 * Limits per relayed connection are sized for messages and their receipts, not for files.
 */
export const HOME_RELAY_LIMITS: Readonly<RelayServerLimits> = Object.freeze({
  /** The owner's devices (at most 8) and the contacts among a list of at most 1,000 that hold one. */
  maxReservations: 128,
  /** Refreshed by libp2p's client 5 minutes before it ends. */
  reservationTtlMs: 60 * 60_000,
  /**
   * A relayed connection lasts this long; the next message dials again. Long enough for a
   * conversation while DCUtR tries, short enough that a chatty pair does not live on the relay.
   */
  connectionDurationMs: 10 * 60_000,
  /** ~60 text messages of 64 KiB, or thousands of short ones with receipts; no file fits. */
  connectionDataBytes: 4 * 1024 * 1024,
  /** Concurrent relay (HOP) requests being handled. */
  maxHopStreams: 64,
})

/** Who the home node relays for, read from its owner's certificate and depositor list. */
export interface HomeRelayAccess {
  /** Whether `peer` is one of the owner's certified devices. */
  isOwnerDevice(peer: string): boolean
  /** Whether `peer` is one of the owner's contacts (the newest depositor list). */
  isContact(peer: string): boolean
}

/** Told of each refusal, by what was refused. */
export type RelayRefusal = 'reservation' | 'connection'

export function homeRelayServerInit(overrides: Partial<RelayServerLimits> = {}): CircuitRelayServerInit {
  return relayServerInit({ ...HOME_RELAY_LIMITS, ...overrides })
}

/** The connection gater's relay questions, answered from `access`. */
export function homeRelayGater(
  access: HomeRelayAccess,
  onRefused?: (what: RelayRefusal, peer: PeerId) => void,
): Pick<ConnectionGater, 'denyInboundRelayReservation' | 'denyOutboundRelayedConnection'> {
  return {
    denyInboundRelayReservation: (source: PeerId) => {
      const peer = source.toString()
      if (access.isOwnerDevice(peer) || access.isContact(peer)) return false
      onRefused?.('reservation', source)
      return true
    },
    denyOutboundRelayedConnection: (source: PeerId, destination: PeerId) => {
      if (access.isOwnerDevice(destination.toString())) return false
      if (access.isOwnerDevice(source.toString()) && access.isContact(destination.toString())) return false
      onRefused?.('connection', source)
      return true
    },
  }
}
