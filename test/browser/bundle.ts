// Bundles a browser entry with Vite (as apps/web will) and reports every Node builtin that the
// module graph tried to use. Vite quietly swaps a builtin for an empty "browser external" stub,
// which only fails at run time in the page, so the smoke test checks this list instead.
import { isBuiltin } from 'node:module'
import { dirname } from 'node:path'
import { build, type Plugin } from 'vite'

export interface BrowserBundle {
  outDir: string
  /** `builtin <- importer` for every Node builtin that did not resolve to a browser package. */
  nodeBuiltins: string[]
}

/**
 * Builds `html` (and the scripts it loads) into `outDir`. A bare name such as `events` or
 * `buffer` is fine when an npm package of that name resolves (that is what the browser gets);
 * it is an offender when Vite can only externalise it.
 */
export async function bundleForBrowser(html: string, outDir: string): Promise<BrowserBundle> {
  const nodeBuiltins = new Set<string>()
  const detect: Plugin = {
    name: 'jiayi:detect-node-builtins',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!isBuiltin(source)) return null
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true })
      const id = resolved?.id ?? ''
      if (resolved == null || resolved.external || id.includes('browser-external') || isBuiltin(id)) {
        nodeBuiltins.add(`${source} <- ${importer ?? '?'}`)
      }
      return resolved
    },
  }
  const result = await build({
    configFile: false,
    root: dirname(html),
    logLevel: 'silent',
    plugins: [detect],
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      reportCompressedSize: false,
      target: 'es2022',
      rollupOptions: { input: html },
    },
  })
  // Belt and braces: a stub that slipped through shows up as a module of the output.
  for (const output of Array.isArray(result) ? result : [result]) {
    if (!('output' in output)) continue
    for (const chunk of output.output) {
      if (chunk.type !== 'chunk') continue
      for (const id of Object.keys(chunk.modules)) {
        if (id.includes('browser-external')) nodeBuiltins.add(`${id} (in ${chunk.fileName})`)
      }
    }
  }
  return { outDir, nodeBuiltins: [...nodeBuiltins].sort() }
}
