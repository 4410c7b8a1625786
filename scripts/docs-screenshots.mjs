#!/usr/bin/env node
// Makes the README's screenshots current: runs the web app's node-UI test (real `jiayi` peers,
// Debian's Chromium), which photographs every screen at desktop and phone size in both
// languages into test-output/web/screens/, and copies the two the README shows into docs/.
// Usage: npm run screenshots
import { spawnSync } from 'node:child_process'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const shots = join(root, 'test-output', 'web', 'screens')
const run = spawnSync(process.execPath, [join(root, 'scripts', 'test.mjs'), 'test/web/node-ui'], {
  cwd: root,
  stdio: 'inherit',
})
if (run.status !== 0) {
  console.error('The node-UI test failed: the screenshots in docs/ are left as they were.')
  process.exit(run.status ?? 1)
}
for (const [from, to] of [
  ['desktop-en-conversation.png', 'web-desktop.png'],
  ['phone-zh-CN-chats.png', 'web-phone-zh.png'],
]) {
  copyFileSync(join(shots, from), join(root, 'docs', to))
  console.log(`docs/${to} <- test-output/web/screens/${from}`)
}
