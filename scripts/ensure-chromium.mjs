// pretest: the chromium vitest project drives Debian's Chromium. On a fresh machine (root, apt) install it;
// elsewhere say how. Set CHROMIUM_PATH to use another binary.
import { execSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const path = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium'
if (!existsSync(path)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(
      `Chromium is missing at ${path}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    )
    process.exit(1)
  }
  console.error('Installing Debian chromium for the browser tests (apt-get)…')
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
    stdio: 'inherit',
  })
}
