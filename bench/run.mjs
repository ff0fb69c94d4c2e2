// npm run bench — consumers side by side, interleaved rounds, ratios per round (medians reported).
// Absolute times on a shared 2-core machine are noise; the ratios against the baselines are the result.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as competitors from './consumers.mjs'
import { chunk, ndjsonBody, responseOf, sseBody } from './inputs.mjs'

const MiB = 1024 * 1024
const quick = process.argv.includes('--quick')
const SIZE = (quick ? 8 : 64) * MiB
const ROUNDS = quick ? 2 : 7

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function race(title, impls, baseline, inputs, repeat = 1) {
  const rows = []
  for (const [inputName, chunks] of inputs) {
    const bytes = chunks.reduce((n, c) => n + c.length, 0) * repeat
    const times = Object.fromEntries(Object.keys(impls).map((k) => [k, []]))
    const ratios = Object.fromEntries(Object.keys(impls).map((k) => [k, []]))
    const checks = {}
    for (let round = 0; round < ROUNDS + 1; round++) {
      const order = Object.keys(impls)
      if (round % 2) order.reverse()
      const roundTimes = {}
      // No forced gc() between runs: at these speeds (a 1 GiB bytes() pass takes about 20 ms) a collection
      // just before a run made its timing swing 2× from round to round; interleaving keeps the heap fair.
      for (const name of order) {
        const start = performance.now()
        checks[name] = await impls[name](responseOf(chunks, repeat))
        roundTimes[name] = performance.now() - start
      }
      if (round === 0) continue // warm-up
      for (const name of order) {
        times[name].push(roundTimes[name])
        ratios[name].push(roundTimes[baseline] / roundTimes[name])
      }
    }
    const expected = checks[baseline]
    for (const name of Object.keys(impls)) {
      const ms = median(times[name])
      rows.push({
        input: inputName,
        impl: name,
        mbps: (bytes / MiB / (ms / 1000)).toFixed(0),
        ratio: median(ratios[name]).toFixed(2),
        same: checks[name] === expected ? 'yes' : `NO (${checks[name]} vs ${expected})`,
      })
    }
  }
  const lines = [
    `### ${title} (ratio = speed relative to ${baseline}, median of ${ROUNDS} rounds)`,
    '',
    '| input | implementation | MiB/s | × baseline | same output |',
    '| --- | --- | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.input} | ${r.impl} | ${r.mbps} | ${r.ratio} | ${r.same} |`),
    '',
  ]
  console.log(lines.join('\n'))
  results[title] = rows
  return lines.join('\n')
}

/** Every race's rows by title, for the targets table. */
const results = {}

// bytes() passes over its input 16 times; everything else once.
const out = [
  `# sluice benchmarks (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${SIZE / MiB} MiB inputs)`,
  '',
]
const small = ndjsonBody(SIZE, 200)
const large = ndjsonBody(SIZE, 64 * 1024)
const ndjsonInputs = [
  ['200 B records, 16 KiB chunks', chunk(small, 16 * 1024)],
  ['200 B records, 1–64 KiB chunks', chunk(small, [1024, 64 * 1024])],
  ['64 KiB records, 16 KiB chunks', chunk(large, 16 * 1024)],
  ['64 KiB records, 1–64 KiB chunks', chunk(large, [1024, 64 * 1024])],
]
out.push(await race('ndjson()', competitors.ndjson, 'hand-written loop', ndjsonInputs))
const sseSmall = sseBody(SIZE, 200)
out.push(
  await race('events()', competitors.events, 'eventsource-parser createParser loop', [
    ['200 B events, 16 KiB chunks', chunk(sseSmall, 16 * 1024)],
    ['200 B events, 1–64 KiB chunks', chunk(sseSmall, [1024, 64 * 1024])],
  ]),
)
out.push(
  await race(
    'bytes()',
    competitors.bytes,
    'raw for await',
    [
      ['16 KiB chunks', chunk(small, 16 * 1024)],
      ['1–64 KiB chunks', chunk(small, [1024, 64 * 1024])],
    ],
    16,
  ), // bytes() is so cheap that one pass is too short to time: 16 passes over the input
)
out.push(
  await race('text()', competitors.text, 'TextDecoder loop', [
    ['16 KiB chunks', chunk(small, 16 * 1024)],
    ['1–64 KiB chunks', chunk(small, [1024, 64 * 1024])],
  ]),
)

// Memory runs in its own process per consumer so that the inputs above do not blur the heap figures.
const memoryRows = ['sluice', 'hand'].map((which) => {
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(new URL('./memory.mjs', import.meta.url)), quick ? '128' : '1024', which],
    { encoding: 'utf8' },
  )
  if (run.status !== 0) throw new Error(`memory.mjs ${which} failed:\n${run.stderr}`)
  return run.stdout.trim()
})
const memory = [
  '### Memory: NDJSON from a generated body, one process per consumer',
  '',
  '| consumer | body | records | heap before | peak growth | growth after GC |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...memoryRows,
  '',
].join('\n')
console.log(memory)
out.push(memory)

// Issue #2's targets, judged from this run's rows: the worst input counts.
const ratioOf = (title, input, impl) =>
  Number(results[title].find((r) => r.input === input && r.impl === impl)?.ratio)
const worst = (title, measure) => {
  const inputs = [...new Set(results[title].map((r) => r.input))]
  return Math.min(...inputs.map((input) => measure(input)))
}
const libraries = ['ndjson-readablestream', 'can-ndjson-stream', '@discoveryjs/json-ext']
const vsLibraries = (inputs) =>
  Math.min(
    ...inputs.map(
      (input) =>
        ratioOf('ndjson()', input, 'sluice') /
        Math.max(...libraries.map((lib) => ratioOf('ndjson()', input, lib))),
    ),
  )
const ndjsonInputNames = ndjsonInputs.map(([name]) => name)
const peak = Number(/\| sluice ndjson\(\) \|[^|]*\|[^|]*\|[^|]*\| ([\d.]+) MiB/.exec(memory)?.[1])
const targets = [
  [
    '`ndjson()` ≥ 0.95× the hand-written loop',
    0.95,
    worst('ndjson()', (i) => ratioOf('ndjson()', i, 'sluice')),
  ],
  [
    '`ndjson()` ≥ 1.3× the fastest library, 200 B records',
    1.3,
    vsLibraries(ndjsonInputNames.filter((n) => n.startsWith('200 B'))),
  ],
  [
    '`ndjson()` ≥ 1.3× the fastest library, 64 KiB records',
    1.3,
    vsLibraries(ndjsonInputNames.filter((n) => n.startsWith('64 KiB'))),
  ],
  [
    '`events()` ≥ 0.95× the createParser loop',
    0.95,
    worst('events()', (i) => ratioOf('events()', i, 'sluice')),
  ],
  ['`bytes()` ≥ 0.9× raw `for await`', 0.9, worst('bytes()', (i) => ratioOf('bytes()', i, 'sluice'))],
  [
    '(`bytes()` against the one-`.then` ceiling, for reference)',
    undefined,
    worst(
      'bytes()',
      (i) => ratioOf('bytes()', i, 'sluice') / ratioOf('bytes()', i, 'ceiling: one .then per chunk'),
    ),
  ],
  ['`text()` ≥ 0.95× the TextDecoder loop', 0.95, worst('text()', (i) => ratioOf('text()', i, 'sluice'))],
]
const summary = [
  '### Targets of issue #2, from this run (worst input)',
  '',
  '| target | measured | met |',
  '| --- | ---: | --- |',
  ...targets.map(
    ([name, bar, value]) =>
      `| ${name} | ${value.toFixed(2)}× | ${bar === undefined ? '—' : value >= bar ? 'yes' : '**no**'} |`,
  ),
  `| heap growth streaming ${quick ? '128 MiB' : '1 GiB'} < 32 MiB | ${peak} MiB | ${peak < 32 ? 'yes' : '**no**'} |`,
  '',
].join('\n')
console.log(summary)
out.splice(2, 0, summary)

writeFileSync(new URL('./results.md', import.meta.url), out.join('\n'))
console.log('written to bench/results.md')
