/**
 * Hash routes (so the back button and reloads work without a server-side router):
 *   #/chats  #/chat/<contact>  #/contacts  #/contact/<contact>  #/labels  #/moments  #/settings
 * `#add=<link>` (a contact link opened from elsewhere) is taken by the app on load.
 */
import { useEffect, useState } from 'preact/hooks'

export type Route =
  | { readonly name: 'chats' }
  | { readonly name: 'chat'; readonly id: string }
  | { readonly name: 'contacts' }
  | { readonly name: 'contact'; readonly id: string }
  | { readonly name: 'labels' }
  | { readonly name: 'moments' }
  | { readonly name: 'settings' }

export function parseRoute(hash: string): Route {
  const m = /^#\/(chats|chat|contacts|contact|labels|moments|settings)(?:\/([0-9A-Za-z]+))?$/.exec(hash)
  if (m === null) return { name: 'chats' }
  const [, name, id] = m
  if ((name === 'chat' || name === 'contact') && id) return { name, id }
  if (name === 'chat' || name === 'contact') return { name: name === 'chat' ? 'chats' : 'contacts' }
  return { name: name as 'chats' | 'contacts' | 'labels' | 'moments' | 'settings' }
}

export function href(route: Route): string {
  return 'id' in route ? `#/${route.name}/${route.id}` : `#/${route.name}`
}

export function go(route: Route): void {
  location.hash = href(route)
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return route
}

/** A contact link from `#add=…` in the address (as the whole link), removed from it once taken. */
export function takeAddLink(): string | undefined {
  if (!location.hash.startsWith('#add=')) return undefined
  const link = `${location.origin}/${location.hash}`
  history.replaceState(null, '', `${location.pathname}${location.search}#/contacts`)
  return link
}
