/** The web app's entry: picks the client (a node's UI, or a peer in this page) and renders. */
import { render } from 'preact'
import './styles.css'
import { App } from './app.js'
import { currentLang } from './i18n/index.js'

document.documentElement.lang = currentLang()
render(<App />, document.getElementById('app')!)

if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => undefined)
  })
}
