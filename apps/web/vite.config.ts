/**
 * The web app's build. Preact through Vite's JSX transform; the in-page peer (src/peer, with
 * libp2p and @jiayi/core) is a lazy chunk loaded only without a #token=, so a node's UI never
 * downloads it. The service worker (sw/sw.ts) is built as /sw.js with the list of every file
 * of this build, so the shell (and the in-page peer) loads offline.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build, defineConfig, type Plugin } from 'vite'

function serviceWorker(): Plugin {
  let files: string[] = []
  return {
    name: 'jiayi-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      files = Object.keys(bundle).filter((f) => !f.endsWith('.map'))
    },
    async closeBundle() {
      const version = JSON.stringify(files.join('|')).length.toString(36) + Date.now().toString(36)
      await build({
        configFile: false,
        logLevel: 'warn',
        define: {
          __PRECACHE__: JSON.stringify(['/', ...files.map((f) => `/${f}`), ...publicFiles()]),
          __VERSION__: JSON.stringify(version),
        },
        build: {
          emptyOutDir: false,
          outDir: fileURLToPath(new URL('./dist', import.meta.url)),
          lib: {
            entry: fileURLToPath(new URL('./sw/sw.ts', import.meta.url)),
            formats: ['es'],
            fileName: () => 'sw.js',
          },
          minify: true,
        },
      })
    },
  }
}

function publicFiles(): string[] {
  const manifest = JSON.parse(
    readFileSync(new URL('./public/manifest.webmanifest', import.meta.url), 'utf8'),
  ) as {
    icons: { src: string }[]
  }
  return ['/manifest.webmanifest', ...manifest.icons.map((i) => i.src)]
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 4096,
  },
  plugins: [serviceWorker()],
})
