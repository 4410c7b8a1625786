/**
 * The peer's API host (@jiayi/api): the Messenger, its files layer, the moments feed and the
 * account operations, plus how this node is connected to a contact. One host, one dispatcher
 * per transport: they differ only in what a file `source` handle may name (the control socket:
 * any absolute path the owner names; the web server: its own uploads, never a path).
 */
import { isAbsolute } from 'node:path'
import { type AccountHost, ControlDispatcher, ControlError, type DispatcherOptions } from '@jiayi/api'
import type { ConnectionInfo, FileService, FileSource, JiayiNode, Messenger } from '@jiayi/core'
import type { Feed } from '@jiayi/feed'
import type { AppLog } from '../cli/log.js'

export interface HostParts {
  readonly messenger: Messenger
  readonly files: FileService
  readonly feed: Feed | undefined
  readonly node: JiayiNode
  readonly account?: AccountHost
  /** Makes link previews when posting (absent with --no-link-previews). */
  readonly previewLinks?: DispatcherOptions['previewLinks']
  readonly describeConnection: typeof import('@jiayi/core').describeConnection
  readonly log: AppLog
}

/** The best open connection to a peer: a direct one over a relayed one. */
export function connectionTo(parts: HostParts): (peerId: string) => ConnectionInfo | undefined {
  return (peerId) => {
    const infos = parts.node
      .getConnections()
      .filter((c) => c.remotePeer.toString() === peerId && c.status === 'open')
      .map((c) => parts.describeConnection(c))
    return infos.find((i) => i.route !== 'relayed') ?? infos[0]
  }
}

export function createDispatcher(
  parts: HostParts,
  openSource: (handle: string) => Promise<FileSource>,
  component: string,
): ControlDispatcher {
  const options: DispatcherOptions = {
    log: parts.log.child(component),
    files: { files: parts.files, openSource },
    feed: parts.feed,
    account: parts.account,
    previewLinks: parts.previewLinks,
    connection: connectionTo(parts),
  }
  return new ControlDispatcher(parts.messenger, options)
}

/** The control socket's sources: absolute paths, read by the peer itself (the socket is the owner's). */
export function pathSource(open: (path: string) => Promise<FileSource>) {
  return async (handle: string): Promise<FileSource> => {
    if (!isAbsolute(handle)) throw new ControlError('BadParams', '"source" must be an absolute path')
    return open(handle)
  }
}
