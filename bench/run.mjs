// npm run bench — consumers side by side, interleaved rounds, ratios per round (medians reported), in Node and
// then in headless Chromium. Absolute times on a shared 2-core machine are noise; the ratios are the result.
// `-- --quick` for small inputs, `-- --no-browser` to skip Chromium.
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runLoopback } from './loopback.mjs'
import { runRaces, targetsTable } from './races.mjs'

const quick = process.argv.includes('--quick')
const sizeMiB = quick ? 8 : 64
const rounds = quick ? 2 : 7

const { sections, results } = await runRaces({ sizeMiB, rounds, log: console.log })
const loopback = await runLoopback({ sizeMiB, rounds })
console.log(loopback)

// Memory runs in its own process per consumer so that the inputs above do not blur the heap figures.
// With --trace-gc, the heap after each young-generation collection (scavenge) shows what the consumer keeps
// alive while it streams; the peak itself is garbage, bounded by the size of V8's young generation.
const memoryRows = ['sluice', 'hand'].map((which) => {
  const run = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--trace-gc',
      fileURLToPath(new URL('./memory.mjs', import.meta.url)),
      quick ? '128' : '1024',
      which,
    ],
    { encoding: 'utf8' },
  )
  if (run.status !== 0) throw new Error(`memory.mjs ${which} failed:\n${run.stderr}`)
  const lines = run.stdout.split('\n')
  const row = lines.find((line) => line.startsWith('|'))
  const start = lines.findIndex((line) => line.startsWith('-- streaming from '))
  const streaming = lines.slice(start, lines.indexOf('-- streamed'))
  const scavenges = streaming.flatMap((line) => {
    const match = /Scavenge ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(/.exec(line)
    return match === null ? [] : [{ before: Number(match[1]), after: Number(match[3]) }]
  })
  const before = Number(lines[start].slice('-- streaming from '.length)) / 1024 / 1024 // V8 prints MB of 2^20
  const live = Math.max(...scavenges.map((s) => s.after)) - before
  const young = Math.max(...scavenges.map((s) => s.before - s.after))
  return `${row} ${live.toFixed(1)} MiB | ${scavenges.length} | ${young.toFixed(1)} MiB |`
})
const memory = [
  '### Memory: NDJSON from a generated body, one process per consumer',
  '',
  '| consumer | body | records | heap before | peak growth | growth after GC | live growth after any scavenge (max) | scavenges | garbage freed by one scavenge (max) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...memoryRows,
  '',
].join('\n')
console.log(memory)

const peak = Number(/\| sluice ndjson\(\) \|[^|]*\|[^|]*\|[^|]*\| ([\d.]+) MiB/.exec(memory)?.[1])
const heapRow = `| heap growth streaming ${quick ? '128 MiB' : '1 GiB'} < 32 MiB | ${peak} MiB | ${peak < 32 ? 'yes' : '**no**'} |`
// The peak is garbage up to the young generation's size; what sluice keeps alive is the heap after a scavenge.
const liveGrowth = /\| sluice ndjson\(\) (?:\|[^|]*){5}\| ([\d.]+) MiB/.exec(memory)?.[1]
const liveRow = `| (heap growth still live after any scavenge, for reference) | ${liveGrowth} MiB | — |`
const nodeTargets = targetsTable('Targets of issue #2 in Node, from this run (worst input)', results, [
  heapRow,
  liveRow,
])
console.log(nodeTargets)

const out = [
  `# sluice benchmarks (${new Date().toISOString().slice(0, 10)}, ${sizeMiB} MiB inputs)`,
  '',
  nodeTargets,
]
// The same races under the newest LTS, whose V8 moves some ratios (the devDependency sluice-smoke-node26).
const newest = fileURLToPath(new URL('../test/smoke/node26/node_modules/.bin/node', import.meta.url))
let newer
if (existsSync(newest)) {
  console.log('\nThe same races under Node 26…')
  const run = spawnSync(
    newest,
    [fileURLToPath(new URL('./node-races.mjs', import.meta.url)), String(sizeMiB), String(rounds)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  )
  if (run.status !== 0) throw new Error(`node-races.mjs under Node 26 failed (exit ${run.status})`)
  newer = JSON.parse(run.stdout.trim().split('\n').at(-1))
  console.log(newer.targets)
  out.push(newer.targets)
} else console.log(`\nNo Node 26 at ${newest} (npm ci installs it): its races are left out.`)
let chromium
if (!process.argv.includes('--no-browser')) {
  console.log('\nThe same races in headless Chromium…')
  // Loaded only now: playwright and esbuild in the heap during the Node races slowed some contenders (events()
  // read 0.7× instead of 1.1×).
  const { runInChromium } = await import('./browser.mjs')
  chromium = await runInChromium({ sizeMiB, rounds, log: console.log })
  console.log(chromium.targets)
  out.push(chromium.targets)
}
out.push(`## Node ${process.version}`, '', ...sections, loopback, memory)
if (newer) out.push(`## Node ${newer.version} (the races only)`, '', ...newer.sections)
if (chromium) out.push('## Chromium (headless)', '', ...chromium.sections)

writeFileSync(new URL('./results.md', import.meta.url), out.join('\n'))
console.log('written to bench/results.md')
