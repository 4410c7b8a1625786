/**
 * The user's own contact id: how group member lists name them. The API's `whoami` gives the
 * identity key; the id is core's contactIdFor of it (the first 8 bytes of its SHA-256, in hex),
 * a format fixed by every contact link and CLI command, computed here with Web Crypto (every
 * page of the app runs in a secure context) so the node's UI loads no crypto library.
 */
import { useEffect, useState } from 'preact/hooks'
import { useQuery } from './client-context.js'

async function contactIdOf(identityKeyHex: string): Promise<string> {
  const key = new Uint8Array(identityKeyHex.match(/../g)!.map((h) => Number.parseInt(h, 16)))
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', key))
  return [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Undefined until known (and where Web Crypto is missing: then no admin action is offered). */
export function useMyId(): string | undefined {
  const me = useQuery('whoami', {})
  const key = me.data?.identityKey
  const [id, setId] = useState<string | undefined>(undefined)
  useEffect(() => {
    if (key === undefined) return
    let live = true
    contactIdOf(key).then(
      (v) => live && setId(v),
      () => live && setId(undefined),
    )
    return () => {
      live = false
    }
  }, [key])
  return id
}
