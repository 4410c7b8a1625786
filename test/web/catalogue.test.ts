/**
 * The web app's translations: both catalogues have exactly the same keys, no empty values,
 * placeholders that match, Chinese that is Chinese; and no user-visible literal anywhere in the
 * UI's source outside them (JSX text, and the attributes people see or hear: aria-label, title,
 * placeholder, alt, label). Every `t('…')` key used exists.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { parse } from '@babel/parser'
import { en } from '../../apps/web/src/i18n/en.js'
import { zhCN } from '../../apps/web/src/i18n/zh-CN.js'
import { ROOT } from './helpers.js'

const SRC = join(ROOT, 'apps/web/src')
/** Keys whose value is the same in every language on purpose. */
const SAME_EVERYWHERE = new Set(['lang.en', 'lang.zh-CN'])

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    // The in-page peer has no UI text; the catalogues are the literals' home.
    if (path === join(SRC, 'peer') || path === join(SRC, 'i18n')) continue
    if (statSync(path).isDirectory()) yield* sources(path)
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) yield path
  }
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
const LETTERS = /\p{L}/u
const SHOWN_ATTRIBUTES = new Set(['aria-label', 'title', 'placeholder', 'alt', 'label', 'aria-valuetext'])

test('en and zh-CN have the same keys, non-empty values and the same placeholders', () => {
  const enKeys = Object.keys(en).sort()
  const zhKeys = Object.keys(zhCN).sort()
  assert.deepEqual(
    enKeys.filter((k) => !zhKeys.includes(k)),
    [],
    'keys missing in zh-CN',
  )
  assert.deepEqual(
    zhKeys.filter((k) => !enKeys.includes(k)),
    [],
    'keys missing in en',
  )
  for (const k of enKeys) {
    const e = en[k as keyof typeof en]
    const z = zhCN[k as keyof typeof zhCN]
    assert.ok(e.trim() !== '' && z.trim() !== '', `${k} is empty`)
    assert.deepEqual(placeholders(z), placeholders(e), `${k}: placeholders differ`)
    if (
      !SAME_EVERYWHERE.has(k) &&
      /[a-z]{3}/i.test(e.replace(/\{\w+\}|`[^`]*`|https?:\S+|jiayi:\S*|#add=|PDF/g, ''))
    )
      assert.match(z, /\p{Script=Han}/u, `${k} is not translated into Chinese`)
  }
})

interface Finding {
  readonly file: string
  readonly line: number
  readonly text: string
}

function walk(node: unknown, visit: (n: Record<string, unknown>) => void): void {
  if (node === null || typeof node !== 'object') return
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit)
    return
  }
  const n = node as Record<string, unknown>
  if (typeof n.type === 'string') visit(n)
  for (const [k, v] of Object.entries(n)) if (k !== 'loc' && k !== 'extra') walk(v, visit)
}

test('no user-visible literal in the UI outside the catalogues; every t() key exists', () => {
  const findings: Finding[] = []
  const unknownKeys: Finding[] = []
  let files = 0
  for (const file of sources(SRC)) {
    files++
    const code = readFileSync(file, 'utf8')
    const ast = parse(code, { sourceType: 'module', plugins: ['typescript', 'jsx'] })
    const rel = relative(ROOT, file)
    walk(ast.program, (n) => {
      const line = (n.loc as { start: { line: number } } | undefined)?.start.line ?? 0
      if (n.type === 'JSXText' && LETTERS.test(String(n.value)))
        findings.push({ file: rel, line, text: String(n.value).trim() })
      if (n.type === 'JSXAttribute') {
        const name = (n.name as { name?: unknown }).name
        const value = n.value as {
          type?: string
          value?: unknown
          expression?: { type?: string; value?: unknown }
        } | null
        const literal =
          value?.type === 'StringLiteral'
            ? value.value
            : value?.type === 'JSXExpressionContainer' && value.expression?.type === 'StringLiteral'
              ? value.expression.value
              : undefined
        if (
          typeof name === 'string' &&
          SHOWN_ATTRIBUTES.has(name) &&
          typeof literal === 'string' &&
          LETTERS.test(literal)
        )
          findings.push({ file: rel, line, text: `${name}="${literal}"` })
      }
      // String literals rendered as JSX children: {'text'}
      if (n.type === 'JSXExpressionContainer') {
        const e = n.expression as { type?: string; value?: unknown }
        if (e.type === 'StringLiteral' && LETTERS.test(String(e.value)))
          findings.push({ file: rel, line, text: String(e.value) })
      }
      if (n.type === 'CallExpression' && (n.callee as { name?: string }).name === 't') {
        const arg = (n.arguments as { type: string; value?: unknown }[])[0]
        if (arg?.type === 'StringLiteral' && !(String(arg.value) in en))
          unknownKeys.push({ file: rel, line, text: String(arg.value) })
      }
    })
  }
  assert.ok(files > 10, `scanned ${files} files`)
  assert.deepEqual(findings, [], 'user-visible literals outside the catalogues')
  assert.deepEqual(unknownKeys, [], 't() keys missing from the catalogues')
})

test('the literal scan catches what it should', () => {
  const ast = parse(
    `const a = <p title="Hello">Send now {'again'} <b aria-label={"Close"}>{t('x')}</b></p>`,
    { sourceType: 'module', plugins: ['typescript', 'jsx'] },
  )
  const seen: string[] = []
  walk(ast.program, (n) => {
    if (n.type === 'JSXText' && LETTERS.test(String(n.value))) seen.push(String(n.value).trim())
    if (n.type === 'JSXAttribute') seen.push(String((n.name as { name: string }).name))
    if (n.type === 'JSXExpressionContainer' && (n.expression as { type: string }).type === 'StringLiteral')
      seen.push('expr')
  })
  assert.deepEqual(seen, ['title', 'Send now', 'expr', 'aria-label', 'expr'])
})
