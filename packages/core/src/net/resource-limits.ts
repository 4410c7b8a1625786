/**
 * How much of this peer one remote peer can hold: connections, streams, time. libp2p's defaults
 * (300 connections, 1,000 streams per Yamux connection, any number of connections per peer) let
 * one stranger open thousands of streams, each with a 256 KiB receive window, and keep them while
 * protocol negotiation waits 10 s. Jiayi's numbers are explicit, sized for a LAN
 * messenger: a peer talks to its contacts, its groups' members and a few browsers, not a swarm.
 *
 * What one peer id can hold at most, then: MAX_CONNECTIONS_PER_PEER connections (refused by the
 * connection gater after the Noise handshake, so the id is authenticated) × the inbound Yamux
 * streams per connection, each stream unread for at most the negotiation timeout before it is
 * reset. Once negotiated, each Jiayi protocol caps its own streams per connection
 * (MAX_INBOUND_STREAMS in protocols.ts) and bounds every frame (MAX_FRAME_BYTES). Many peer ids
 * (they cost nothing to make) are bounded by maxConnections, by the pending-upgrade limit and by
 * the per-host connection rate.
 *
 * WebRTC data channels have no stream limit in libp2p; the per-protocol limits, the per-peer
 * connection limit and the negotiation timeout apply to them as to Yamux.
 */
import type { YamuxMuxerInit } from '@libp2p/yamux'
import type { Libp2pOptions } from 'libp2p'

export interface ResourceLimits {
  /** Open connections in total; above it libp2p closes the least valued ones. */
  readonly maxConnections: number
  /**
   * Connections one peer id may have at once: a simultaneous dial can leave two, a browser has
   * its direct WebRTC connection beside the relayed one it signalled through.
   */
  readonly maxConnectionsPerPeer: number
  /** Inbound connections still doing their Noise handshake / muxer negotiation at once. */
  readonly maxIncomingPendingConnections: number
  /** Inbound connections one host (IP address) may open per second. */
  readonly inboundConnectionsPerHostPerSecond: number
  /** An inbound connection must finish its upgrade (Noise, Yamux) within this. */
  readonly inboundUpgradeTimeoutMs: number
  /** A new stream must name a protocol we serve within this, or it is reset. */
  readonly protocolNegotiationTimeoutMs: number
  /**
   * Streams a remote peer may have open on one Yamux connection, negotiated or not; more are
   * reset at once. Above the sum a contact uses at a time (a few msg streams, a file or two,
   * feed sync, identify, ping).
   */
  readonly maxInboundStreamsPerConnection: number
  /** Streams we open on one Yamux connection (our own doing; a bound against runaway code). */
  readonly maxOutboundStreamsPerConnection: number
}

export const RESOURCE_LIMITS: Readonly<ResourceLimits> = Object.freeze({
  // A group of up to 500 members (MAX_GROUP_MEMBERS) fans a message out over one connection to
  // each member, with contacts and browsers beside them. Below that, libp2p's pruner closes the
  // newest connections that carry no stream yet, which is what a delivery's fresh connection is,
  // and a large group's messages wait on back-off (docs/performance.md, "The connection cap").
  maxConnections: 600,
  maxConnectionsPerPeer: 3,
  maxIncomingPendingConnections: 8,
  inboundConnectionsPerHostPerSecond: 5,
  inboundUpgradeTimeoutMs: 10_000,
  protocolNegotiationTimeoutMs: 5_000,
  maxInboundStreamsPerConnection: 64,
  maxOutboundStreamsPerConnection: 256,
})

/** libp2p's connection manager options for `limits`. */
export function connectionManagerInit(
  limits: ResourceLimits = RESOURCE_LIMITS,
): NonNullable<Libp2pOptions['connectionManager']> {
  return {
    maxConnections: limits.maxConnections,
    maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
    inboundConnectionThreshold: limits.inboundConnectionsPerHostPerSecond,
    inboundUpgradeTimeout: limits.inboundUpgradeTimeoutMs,
    inboundStreamProtocolNegotiationTimeout: limits.protocolNegotiationTimeoutMs,
  }
}

/** Yamux's options for `limits`. */
export function yamuxInit(limits: ResourceLimits = RESOURCE_LIMITS): YamuxMuxerInit {
  return {
    maxInboundStreams: limits.maxInboundStreamsPerConnection,
    maxOutboundStreams: limits.maxOutboundStreamsPerConnection,
  }
}
