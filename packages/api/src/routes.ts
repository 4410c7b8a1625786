/**
 * How each message travelled. The Messenger does not record it, so the API watches: when an
 * outgoing message leaves the outbox (status 'sent', or straight to 'delivered') or an incoming
 * one arrives, the route of the connection to that contact at that moment is noted ('lan',
 * 'direct' or 'relayed'). Kept in memory for the most recent messages; a message seen before the
 * peer started shows no route.
 */
import type { ConnectionInfo, ContactId, MessageView } from '@jiayi/core'
import type { MessengerApi } from './host.js'
import type { ApiMessage, ConnectionRoute } from './methods.js'

const MAX_REMEMBERED = 20_000

export class MessageRoutes {
  private readonly routes = new Map<string, ConnectionRoute>()
  private readonly off: () => void

  constructor(
    private readonly messenger: MessengerApi,
    private readonly connection: (peerId: string) => ConnectionInfo | undefined,
  ) {
    this.off = messenger.events.on('message', ({ contactId, message }) => this.observe(contactId, message))
  }

  /** Contacts' peer ids (they never change for a contact): `contact()` also works out presence. */
  private readonly peers = new Map<ContactId, string>()

  private peerIdOf(contactId: ContactId): string | undefined {
    let peerId = this.peers.get(contactId)
    if (peerId === undefined) {
      try {
        peerId = this.messenger.contact(contactId).peerId
      } catch {
        return undefined
      }
      this.peers.set(contactId, peerId)
    }
    return peerId
  }

  private observe(contactId: ContactId, m: MessageView): void {
    if (this.routes.has(m.id)) return
    const moved =
      m.direction === 'in' ? m.status === 'received' || m.status === 'read' : m.status !== 'queued'
    if (!moved || m.status === 'failed') return
    const peerId = this.peerIdOf(contactId)
    if (peerId === undefined) return
    const info = this.connection(peerId)
    if (info === undefined) return
    this.routes.set(m.id, info.route)
    if (this.routes.size > MAX_REMEMBERED) {
      const oldest = this.routes.keys().next().value
      if (oldest !== undefined) this.routes.delete(oldest)
    }
  }

  /** The view with its route, when one was seen. */
  decorate(m: MessageView): ApiMessage {
    const route = this.routes.get(m.id)
    return route === undefined ? m : { ...m, route }
  }

  stop(): void {
    this.off()
  }
}
