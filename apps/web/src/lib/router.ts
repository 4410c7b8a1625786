/**
 * Hash routes (so the back button and reloads work without a server-side router):
 *   #/chats  #/chat/<contact>  #/group/<group>  #/group-info/<group>  #/new-group
 *   #/contacts  #/contact/<contact>  #/labels  #/moments  #/settings
 * `#add=<link>` (a contact link opened from elsewhere) is taken by the app on load.
 */
import { useEffect, useState } from 'preact/hooks'

export type Route =
  | { readonly name: 'chats' }
  | { readonly name: 'chat'; readonly id: string }
  | { readonly name: 'group'; readonly id: string }
  | { readonly name: 'group-info'; readonly id: string }
  | { readonly name: 'new-group' }
  | { readonly name: 'contacts' }
  | { readonly name: 'contact'; readonly id: string }
  | { readonly name: 'labels' }
  | { readonly name: 'moments' }
  | { readonly name: 'settings' }

/** Routes that name one contact or group, and where each goes without its id. */
const WITH_ID = { chat: 'chats', group: 'chats', 'group-info': 'chats', contact: 'contacts' } as const

export function parseRoute(hash: string): Route {
  const m =
    /^#\/(chats|chat|group|group-info|new-group|contacts|contact|labels|moments|settings)(?:\/([0-9A-Za-z]+))?$/.exec(
      hash,
    )
  if (m === null) return { name: 'chats' }
  const [, name, id] = m
  if (name! in WITH_ID) {
    const named = name as keyof typeof WITH_ID
    return id ? { name: named, id } : { name: WITH_ID[named] }
  }
  return { name: name as 'chats' | 'new-group' | 'contacts' | 'labels' | 'moments' | 'settings' }
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
