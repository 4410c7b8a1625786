/** The web app's entry: picks the client (a node's UI, or a peer in this page) and renders. */
import { render } from 'preact'
import './styles.css'
import { App } from './app.js'
import { takeToken } from './client/remote.js'
import { currentLang } from './i18n/index.js'
import { takeCertFragment } from './lib/lan.js'

// The token is taken from the address before anything else runs: the first render reads the
// rest of the fragment (`#add=…`), and a hash changed before a later effect ran (a link clicked,
// a script, a test) would otherwise lose the token and open the wrong client.
const token = takeToken()
// A LAN page opened from a node's QR code carries the certificate fingerprint to expect.
takeCertFragment()
document.documentElement.lang = currentLang()
render(<App token={token} />, document.getElementById('app')!)

if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => undefined)
  })
}
