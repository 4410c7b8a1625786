/**
 * Why a contact cannot be reached, said instead of "request sent" forever. A delivery attempt
 * (a contact request, a message, a receipt) that fails while we hold no connection to the
 * contact records a problem with a stable code; the contact's view carries it as `lastError`
 * until a connection to them opens (either way) or an envelope is acknowledged. Delivery keeps
 * retrying meanwhile (outbox.ts), and so does the rest of the peer: this only says why.
 *
 * Codes:
 * - NoDialableAddress: none of their addresses uses a transport this peer can dial (a browser
 *   tab dials WebSockets, WebRTC-Direct and WebRTC through a relay; a TCP-only node has none of
 *   these), or they gave no address at all. It stays so until they announce other addresses.
 * - Unreachable: we tried their addresses and none answered (offline, another network, a
 *   firewall, a relay that is gone).
 *
 * Kept in memory: after a restart the first failed attempt says it again.
 */
import type { NetEnvironment } from '../net/network-stack.js'
import type { ContactId } from './ids.js'

export type ReachProblemCode = 'NoDialableAddress' | 'Unreachable'

export interface ReachProblem {
  readonly code: ReachProblemCode
  /** One English sentence naming the contact (apps translate by `code`). */
  readonly message: string
  /** When the attempt failed (ISO 8601). */
  readonly at: string
}

/** libp2p's error when no address of the peer fits a transport (or it has none). */
const NO_ADDRESS_ERRORS = new Set(['NoValidAddressesError'])

export function reachProblemOf(
  error: unknown,
  name: string,
  environment: NetEnvironment,
  now = Date.now(),
): ReachProblem {
  const from = environment === 'browser' ? 'this browser' : 'this device'
  const noAddress = error instanceof Error && NO_ADDRESS_ERRORS.has(error.name)
  const why = noAddress
    ? environment === 'browser'
      ? 'their peer has no WebSocket or WebRTC address'
      : 'their peer has no address this device can dial'
    : 'their peer did not answer at any of its addresses'
  return {
    code: noAddress ? 'NoDialableAddress' : 'Unreachable',
    message: `${name} can't be reached from ${from}: ${why}`,
    at: new Date(now).toISOString(),
  }
}

export class ReachProblems {
  private readonly problems = new Map<ContactId, ReachProblem>()

  constructor(
    /** Told when a contact's problem appears, changes its code, or goes. */
    private readonly changed: (cid: ContactId) => void,
  ) {}

  get(cid: ContactId): ReachProblem | undefined {
    return this.problems.get(cid)
  }

  failed(cid: ContactId, problem: ReachProblem): void {
    const before = this.problems.get(cid)
    this.problems.set(cid, problem)
    if (before?.code !== problem.code) this.changed(cid)
  }

  reached(cid: ContactId): void {
    if (this.problems.delete(cid)) this.changed(cid)
  }

  forget(cid: ContactId): void {
    this.problems.delete(cid)
  }
}
