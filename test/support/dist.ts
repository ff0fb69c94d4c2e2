import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root folder. */
export const root = fileURLToPath(new URL('../../', import.meta.url))

function newest(dir: string): { file: string; mtimeMs: number } {
  let best = { file: dir, mtimeMs: 0 }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const found = entry.isDirectory() ? newest(path) : { file: path, mtimeMs: statSync(path).mtimeMs }
    if (found.mtimeMs > best.mtimeMs) best = found
  }
  return best
}

/**
 * When this test run started: the start of vitest's main process (the parent of this fork; read from /proc on
 * Linux, in 10 ms clock ticks), else of this process.
 */
function runStartedAt(): number {
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8')
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) // field 22, starttime
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1])
    if (Number.isFinite(ticks) && Number.isFinite(boot)) return boot * 1000 + ticks * 10
  } catch {
    // not Linux: fall through
  }
  return Date.now() - process.uptime() * 1000
}

/**
 * Throws unless `dist/` exists and was built from the current `src/` and `tsdown.config.ts`: the tests that run
 * the built package (the runtime matrix, the package checks) must not pass on a stale build. A source changed
 * after this test process started (an edit while the suite runs) only warns. `npm test` builds right before
 * vitest; alone, run `npx tsdown` first.
 */
export function assertFreshDist(): void {
  const entry = join(root, 'dist/index.js')
  let built: number
  try {
    built = statSync(entry).mtimeMs
  } catch {
    throw new Error(
      'dist/index.js is missing: build the package with `npx tsdown` (npm test builds before vitest).',
    )
  }
  const started = runStartedAt()
  const config = join(root, 'tsdown.config.ts')
  for (const source of [newest(join(root, 'src')), { file: config, mtimeMs: statSync(config).mtimeMs }]) {
    if (source.mtimeMs <= built) continue
    const message = `dist/ is older than ${source.file.slice(root.length)}: rebuild with \`npx tsdown\` so that the built package is what these tests run.`
    if (source.mtimeMs < started) throw new Error(message)
    console.warn(`${message} (It changed while the tests ran: testing the build made before.)`)
  }
}
