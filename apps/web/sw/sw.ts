/**
 * The service worker: the app's shell (every file of this build) is cached at install, so the
 * app opens offline; navigations try the network first (a node serves the newest build) and
 * fall back to the cached shell. The API (/api/) is never cached.
 */
declare const __PRECACHE__: string[]
declare const __VERSION__: string
declare const self: ServiceWorkerGlobalScope

const CACHE = `jiayi-shell-${__VERSION__}`

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(__PRECACHE__))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((k) => k.startsWith('jiayi-shell-') && k !== CACHE).map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (
    event.request.method !== 'GET' ||
    url.origin !== self.location.origin ||
    url.pathname.startsWith('/api/')
  )
    return
  if (event.request.mode === 'navigate') {
    event.respondWith(
      fetch(event.request).catch(
        async () => (await caches.match('/', { cacheName: CACHE })) ?? Response.error(),
      ),
    )
    return
  }
  event.respondWith(
    caches.match(event.request, { cacheName: CACHE }).then((hit) => hit ?? fetch(event.request)),
  )
})
