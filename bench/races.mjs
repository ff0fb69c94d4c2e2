// The consumer races of `npm run bench`, with no Node API: run.mjs runs them in Node, browser.mjs in Chromium.
// Contenders run side by side in interleaved rounds; ratios per round against a baseline, medians reported.
import * as competitors from './consumers.mjs'
import { chunk, ndjsonBody, responseOf, sseBody } from './inputs.mjs'

const MiB = 1024 * 1024
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * Runs every race over inputs of `sizeMiB`; returns each race's markdown and its rows by title (for the targets
 * table). `log` receives each section as it is done.
 */
export async function runRaces({ sizeMiB, rounds, log = () => {} }) {
  const results = {}

  async function race(title, impls, baseline, inputs, { repeat = 1, rounds: n = rounds } = {}) {
    const rows = []
    for (const [inputName, chunks] of inputs) {
      const bytes = chunks.reduce((n, c) => n + c.length, 0) * repeat
      const times = Object.fromEntries(Object.keys(impls).map((k) => [k, []]))
      const ratios = Object.fromEntries(Object.keys(impls).map((k) => [k, []]))
      const checks = {}
      for (let round = 0; round < n + 1; round++) {
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
    results[title] = rows
    const markdown = [
      `### ${title} (ratio = speed relative to ${baseline}, median of ${n} rounds)`,
      '',
      '| input | implementation | MiB/s | × baseline | same output |',
      '| --- | --- | ---: | ---: | --- |',
      ...rows.map((r) => `| ${r.input} | ${r.impl} | ${r.mbps} | ${r.ratio} | ${r.same} |`),
      '',
    ].join('\n')
    log(markdown)
    return markdown
  }

  const size = sizeMiB * MiB
  const small = ndjsonBody(size, 200)
  const large = ndjsonBody(size, 64 * 1024)
  const sections = []
  sections.push(
    await race('ndjson()', competitors.ndjson, 'hand-written loop', [
      ['200 B records, 16 KiB chunks', chunk(small, 16 * 1024)],
      ['200 B records, 1–64 KiB chunks', chunk(small, [1024, 64 * 1024])],
      ['64 KiB records, 16 KiB chunks', chunk(large, 16 * 1024)],
      ['64 KiB records, 1–64 KiB chunks', chunk(large, [1024, 64 * 1024])],
      // What Node's fetch and Chromium hand over: past 64 Ki UTF-16 units a decoded string is a large object.
      ['64 KiB records, 64 KiB chunks', chunk(large, 64 * 1024)],
    ]),
  )
  const sseSmall = sseBody(size, 200)
  const sseLarge = sseBody(size, 64 * 1024)
  sections.push(
    await race('events()', competitors.events, 'eventsource-parser createParser loop', [
      ['200 B events, 16 KiB chunks', chunk(sseSmall, 16 * 1024)],
      ['200 B events, 1–64 KiB chunks', chunk(sseSmall, [1024, 64 * 1024])],
      ['64 KiB events, 64 KiB chunks', chunk(sseLarge, 64 * 1024)],
    ]),
  )
  const plain = [
    ['16 KiB chunks', chunk(small, 16 * 1024)],
    ['1–64 KiB chunks', chunk(small, [1024, 64 * 1024])],
  ]
  // bytes() and text() are cheap, so a round is short and one collection can swing it: twice the rounds. bytes()
  // is so cheap that one pass is too short to time: 16 passes over the input.
  sections.push(
    await race('bytes()', competitors.bytes, 'raw for await', plain, { repeat: 16, rounds: rounds * 2 }),
  )
  // Mostly ASCII with the odd non-Latin-1 character, in the 64 KiB chunks fetch hands over: a chunk decoded
  // whole is a large object for V8.
  const prose = [...plain, ['64 KiB chunks, mostly ASCII', chunk(large, 64 * 1024)]]
  sections.push(await race('text()', competitors.text, 'TextDecoder loop', prose, { rounds: rounds * 2 }))
  return { sections, results }
}

const LIBRARIES = ['ndjson-readablestream', 'can-ndjson-stream', '@discoveryjs/json-ext']

/** Issue #2's speed targets judged from one run's rows (the worst input counts), plus optional extra rows. */
export function targetsTable(title, results, extraRows = []) {
  const ratioOf = (race, input, impl) =>
    Number(results[race].find((r) => r.input === input && r.impl === impl)?.ratio)
  const inputsOf = (race) => [...new Set(results[race].map((r) => r.input))]
  const worst = (race, measure) => Math.min(...inputsOf(race).map((input) => measure(input)))
  const vsLibraries = (prefix) =>
    Math.min(
      ...inputsOf('ndjson()')
        .filter((input) => input.startsWith(prefix))
        .map(
          (input) =>
            ratioOf('ndjson()', input, 'sluice') /
            Math.max(...LIBRARIES.map((lib) => ratioOf('ndjson()', input, lib))),
        ),
    )
  const sluice = (race) => worst(race, (input) => ratioOf(race, input, 'sluice'))
  const targets = [
    ['`ndjson()` ≥ 0.95× the hand-written loop', 0.95, sluice('ndjson()')],
    ['`ndjson()` ≥ 1.3× the fastest library, 200 B records', 1.3, vsLibraries('200 B')],
    ['`ndjson()` ≥ 1.3× the fastest library, 64 KiB records', 1.3, vsLibraries('64 KiB')],
    ['`events()` ≥ 0.95× the createParser loop', 0.95, sluice('events()')],
    ['`bytes()` ≥ 0.9× raw `for await`', 0.9, sluice('bytes()')],
    [
      '(`bytes()` against the one-`.then` ceiling, for reference)',
      undefined,
      worst(
        'bytes()',
        (input) =>
          ratioOf('bytes()', input, 'sluice') / ratioOf('bytes()', input, 'ceiling: one .then per chunk'),
      ),
    ],
    ['`text()` ≥ 0.95× the TextDecoder loop', 0.95, sluice('text()')],
  ]
  return [
    `### ${title}`,
    '',
    '| target | measured | met |',
    '| --- | ---: | --- |',
    ...targets.map(
      ([name, bar, value]) =>
        `| ${name} | ${value.toFixed(2)}× | ${bar === undefined ? '—' : value >= bar ? 'yes' : '**no**'} |`,
    ),
    ...extraRows,
    '',
  ].join('\n')
}
