/**
 * Finding contacts on the LAN without telling everyone who we are. Open mDNS (libp2p's) answers
 * anyone with this device's peer id, the same on every network it joins; a rendezvous instead
 * speaks in names that only two contacts can make, and that change every epoch: a peer asks for
 * the names of the contacts it is not connected to, a peer that makes the same name answers with
 * its addresses sealed for that contact alone. Someone who is not a contact sees random labels
 * and ciphertext, unlinkable from one epoch to the next.
 *
 * This file is the interface (isomorphic); the Node implementation over multicast DNS is
 * lan-beacon.ts, and the messenger (lan-presence.ts) makes the names and seals the answers, so the
 * network layer knows neither contacts nor keys.
 */

export interface RendezvousEntry {
  /** The peer this entry finds. */
  readonly peerId: string
  /** The DNS label to ask for, to find them. */
  readonly ask: string
  /** The labels by which they look for us (this epoch and its neighbours): answered. */
  readonly answerTo: readonly string[]
  /** Whether to ask for this peer now (not while connected to it). */
  wanted(): boolean
  /** The answer to a query for `label`: our addresses (binary multiaddrs), sealed for the pair. */
  answer(label: string, addrs: readonly Uint8Array[]): Uint8Array
  /** The addresses in an answer for `label` (one we asked), or undefined if it does not open. */
  open(label: string, payload: Uint8Array): Uint8Array[] | undefined
}

export interface LanRendezvous {
  /** Replaces the entries (contacts changed, or a new epoch began) and asks for the wanted ones. */
  setEntries(entries: readonly RendezvousEntry[]): void
}

/** The libp2p service name a rendezvous registers under (JiayiServices). */
export const LAN_RENDEZVOUS_SERVICE = 'lanRendezvous'
