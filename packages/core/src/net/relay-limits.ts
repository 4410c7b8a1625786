import type { CircuitRelayServerInit } from '@libp2p/circuit-relay-v2'

/**
 * The Node peer relays only so that browser peers on the same LAN can reach each other: a browser
 * cannot listen, so it reserves a slot on a Node peer, and another browser dials it through that
 * slot just long enough to exchange WebRTC offer, answer and ICE candidates (a few KiB). The data
 * then flows over the direct WebRTC connection and the relayed one closes. So the limits are small:
 * a relay that carried real traffic would be an open proxy for anyone who can reach the node.
 */
export interface RelayServerLimits {
  /** Browsers holding a slot at once: a few tabs or phones per LAN. */
  maxReservations: number
  /** How long a slot lasts before the browser must refresh it (libp2p refreshes 5 min before). */
  reservationTtlMs: number
  /** Lifetime of one relayed connection: signalling takes well under a second on a LAN. */
  connectionDurationMs: number
  /** Bytes one relayed connection may carry: SDP offer/answer plus candidates are ~2-6 KiB. */
  connectionDataBytes: number
  /** Concurrent relay (HOP) requests being handled. */
  maxHopStreams: number
}

export const LAN_RELAY_LIMITS: Readonly<RelayServerLimits> = Object.freeze({
  maxReservations: 32,
  reservationTtlMs: 30 * 60_000,
  connectionDurationMs: 60_000,
  connectionDataBytes: 64 * 1024,
  maxHopStreams: 32,
})

export function lanRelayServerInit(overrides: Partial<RelayServerLimits> = {}): CircuitRelayServerInit {
  return relayServerInit({ ...LAN_RELAY_LIMITS, ...overrides })
}

/** libp2p's relay server options for `limits` (the LAN relay's, or the home node's: home-relay.ts). */
export function relayServerInit(limits: RelayServerLimits): CircuitRelayServerInit {
  return {
    maxInboundHopStreams: limits.maxHopStreams,
    maxOutboundHopStreams: limits.maxHopStreams,
    maxOutboundStopStreams: limits.maxHopStreams,
    reservations: {
      maxReservations: limits.maxReservations,
      reservationTtl: limits.reservationTtlMs,
      applyDefaultLimit: true,
      // js-libp2p's server enforces this value in milliseconds (AbortSignal.timeout) although the
      // wire field is seconds per the spec; clients therefore over-estimate the remaining time.
      defaultDurationLimit: limits.connectionDurationMs,
      defaultDataLimit: BigInt(limits.connectionDataBytes),
    },
  }
}
