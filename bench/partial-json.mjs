// Partial-JSON throughput: sluice's incremental parser against @streamparser/json, partial-json and the AI SDK's
// parsePartialJson, each fed the same 4 KiB byte chunks and asked for the partial document after every chunk.
//
//   npx node bench/partial-json.mjs [--rounds 7] [--quick]
//
// Every contender starts from the same Uint8Array chunks, so UTF-8 decoding is part of each measurement:
// sluice and the re-parsers decode with TextDecoder (as the `json()` consumer does); @streamparser/json decodes
// itself. The two re-parsers parse the whole prefix after every chunk, which is quadratic, so they run on a
// small document (see the table) — extrapolating them to megabytes would take minutes per round.

import { JSONParser } from '@streamparser/json'
import { parsePartialJson } from 'ai'
import { parse as parsePartial } from 'partial-json'
import { createPartialJsonParser } from '../src/core/decoders/partial-json.ts'
import { fromResponse } from '../src/index.ts'
import { random, responseOf } from './inputs.mjs' // seeded: every run parses the same documents

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const roundsArg = args.indexOf('--rounds')
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : quick ? 3 : 7
const CHUNK = 4096
const MiB = 1024 * 1024

const words =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa québec romeo sierra tango uniform victor whiskey x-ray yankee zulu “quoted” naïve 東京 😀'.split(
    ' ',
  )

/** A report: a header object and an array of row objects with strings, numbers, booleans and nested objects. */
function makeDocument(targetBytes, seed, sectioned = false) {
  const next = random(seed)
  const pick = () => words[Math.floor(next() * words.length)]
  const sentence = (n) => Array.from({ length: n }, pick).join(' ')
  const rows = []
  const doc = {
    report: {
      id: 'rpt-2026-10',
      title: 'Monthly usage — October 2026',
      generatedAt: '2026-11-01T00:00:00.000Z',
      currency: 'EUR',
      filters: { region: ['eu-west-1', 'us-east-1'], minAmount: 0.01, includeRefunds: false },
      notes: sentence(40),
    },
    rows,
    totals: null,
  }
  // Sized on the printed form: one-space indentation, as a server that pretty-prints would send.
  let size = JSON.stringify(doc, null, 1).length
  let id = 0
  while (size < targetBytes) {
    const row = {
      id: ++id,
      sku: `SKU-${Math.floor(next() * 1e6)}`,
      name: sentence(3 + Math.floor(next() * 6)),
      quantity: Math.floor(next() * 500),
      unitPrice: Math.round(next() * 1e5) / 100,
      discount: next() < 0.2 ? -Math.round(next() * 1e3) / 1e4 : 0,
      ratio: next() * 1e-3,
      active: next() < 0.8,
      tags: [pick(), pick()],
      customer: {
        id: `c-${Math.floor(next() * 1e5)}`,
        country: pick(),
        tier: next() < 0.5 ? 'gold' : 'silver',
      },
      comment: next() < 0.3 ? `line one\nline "two"\t${pick()}` : null,
    }
    rows.push(row)
    size += JSON.stringify(row, null, 1).replaceAll('\n', '\n  ').length + 4
  }
  doc.totals = { rows: rows.length, amount: rows.reduce((sum, row) => sum + row.quantity * row.unitPrice, 0) }
  // The same rows grouped in sections of 500: a snapshot then copies one section and the sections list, not
  // every row — the shape the O(n)-per-snapshot rule of flat arrays (DESIGN.md) recommends for big documents.
  if (sectioned) {
    const sections = []
    for (let i = 0; i < rows.length; i += 500) sections.push({ from: i + 1, rows: rows.slice(i, i + 500) })
    delete doc.rows
    doc.sections = sections
  }
  return JSON.stringify(doc, null, 1)
}

function chunksOf(text) {
  const bytes = new TextEncoder().encode(text)
  const chunks = []
  for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK))
  return { bytes: bytes.length, chunks }
}

// Each contender consumes every chunk and produces its partial view after each one; it returns the final value.
const contenders = {
  sluice(chunks) {
    const decoder = new TextDecoder()
    const parser = createPartialJsonParser()
    let seen
    for (const chunk of chunks) {
      if (parser.push(decoder.decode(chunk, { stream: true }))) seen = parser.snapshot
    }
    parser.push(decoder.decode())
    void seen
    return parser.end()
  },
  // The same without reading snapshots: what the parse itself costs, and so what the reads add.
  'sluice (no snapshot reads)'(chunks) {
    const decoder = new TextDecoder()
    const parser = createPartialJsonParser()
    for (const chunk of chunks) parser.push(decoder.decode(chunk, { stream: true }))
    parser.push(decoder.decode())
    return parser.end()
  },
  // A ceiling, not a contender: the native parser on the whole text at once, decoding included, no partials.
  'JSON.parse (whole text once)'(chunks) {
    const decoder = new TextDecoder()
    let text = ''
    for (const chunk of chunks) text += decoder.decode(chunk, { stream: true })
    return JSON.parse(text + decoder.decode())
  },
  // Its most comparable mode: partial values of the root, which it hands out as one live, mutated object
  // (no immutability, no structural sharing — a UI cannot tell what changed). The "latest" value is kept.
  'streamparser (partial root)'(chunks) {
    const parser = new JSONParser({ paths: ['$'], emitPartialTokens: true, emitPartialValues: true })
    let latest
    parser.onValue = ({ value }) => {
      latest = value
    }
    for (const chunk of chunks) parser.write(chunk)
    return latest
  },
  // Its fastest mode: no partial values at all, only the finished document — a lower bound on its cost.
  'streamparser (final only)'(chunks) {
    const parser = new JSONParser({ paths: ['$'] })
    let latest
    parser.onValue = ({ value }) => {
      latest = value
    }
    for (const chunk of chunks) parser.write(chunk)
    return latest
  },
  'partial-json'(chunks) {
    const decoder = new TextDecoder()
    let text = ''
    let value
    for (const chunk of chunks) {
      text += decoder.decode(chunk, { stream: true })
      value = parsePartial(text)
    }
    return value
  },
  async 'ai parsePartialJson'(chunks) {
    const decoder = new TextDecoder()
    let text = ''
    let value
    for (const chunk of chunks) {
      text += decoder.decode(chunk, { stream: true })
      value = (await parsePartialJson(text)).value
    }
    return value
  },
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function measure(plan) {
  const times = new Map(plan.map(({ name, size }) => [`${name}@${size}`, []]))
  for (let round = 0; round < rounds; round++) {
    // Interleaved, and rotated each round, so drift on a shared machine spreads over every contender.
    const order = plan.map((_, i) => plan[(i + round) % plan.length])
    for (const { name, size, input } of order) {
      const start = performance.now()
      const value = await contenders[name](input.chunks)
      const ms = performance.now() - start
      if (round === 0 && JSON.stringify(value) !== input.expected)
        throw new Error(`${name} got a wrong value`)
      times.get(`${name}@${size}`).push(ms)
    }
  }
  return times
}

// Scaling alone: sluice by itself in a fresh process, 2 and 4 MiB interleaved, so no other contender's
// garbage lands on its runs (in the mixed race above, the heap other parsers leave behind is collected during
// sluice's larger runs and inflates the ratio).
if (args.includes('--scaling-only')) {
  const docs = {}
  for (const sectioned of [false, true]) {
    for (const mib of [2, 4])
      docs[`${mib}${sectioned ? 's' : ''}`] = chunksOf(makeDocument(mib * MiB, 42, sectioned))
  }
  const timesOf = Object.fromEntries(Object.keys(docs).map((key) => [key, []]))
  for (const key of Object.keys(docs)) contenders.sluice(docs[key].chunks) // warm-up
  for (let round = 0; round < rounds * 2; round++) {
    for (const key of Object.keys(docs)) {
      const start = performance.now()
      contenders.sluice(docs[key].chunks)
      timesOf[key].push(performance.now() - start)
    }
  }
  const med = (key) => median(timesOf[key])
  console.log(
    `sluice alone: 4 MiB / 2 MiB time ratio ${(med('4') / med('2')).toFixed(2)} (one flat array of rows), ${(med('4s') / med('2s')).toFixed(2)} (rows in sections of 500); median of ${rounds * 2} rounds`,
  )
  // `await res.json().final` with no loop: the snapshots nobody reads are built at most every 100 ms, so a
  // flat array stays linear (it was quadratic: one O(n) snapshot per chunk).
  const numbers = (mib) => {
    const text = JSON.stringify({ rows: Array.from({ length: (mib * MiB) / 10 }, (_, i) => i + 1e8) })
    const bytes = new TextEncoder().encode(text)
    const chunks = []
    for (let i = 0; i < bytes.length; i += 1024) chunks.push(bytes.subarray(i, i + 1024))
    return chunks
  }
  const flat = { 2: numbers(2), 4: numbers(4) }
  const finalOnly = async (mib) => (await fromResponse(responseOf(flat[mib]))).json().final
  const finalTimes = { 2: [], 4: [] }
  await finalOnly(2)
  for (let round = 0; round < rounds; round++) {
    for (const mib of [2, 4]) {
      const start = performance.now()
      await finalOnly(mib)
      finalTimes[mib].push(performance.now() - start)
    }
  }
  console.log(
    `res.json().final with no loop (one flat array of numbers, 1 KiB chunks): ${median(finalTimes[2]).toFixed(0)} ms for 2 MiB, ${median(finalTimes[4]).toFixed(0)} ms for 4 MiB, ratio ${(median(finalTimes[4]) / median(finalTimes[2])).toFixed(2)}; median of ${rounds} rounds`,
  )
  process.exit(0)
}

const sizes = { '256 KiB': 256 * 1024, '2 MiB': 2 * MiB, '4 MiB': 4 * MiB }
const inputs = {}
for (const [label, target] of Object.entries(sizes)) {
  const text = makeDocument(target, 42)
  inputs[label] = { ...chunksOf(text), expected: JSON.stringify(JSON.parse(text)) }
}
for (const label of ['2 MiB', '4 MiB']) {
  const text = makeDocument(sizes[label], 42, true)
  inputs[`${label} in sections`] = { ...chunksOf(text), expected: JSON.stringify(JSON.parse(text)) }
}

const linear = [
  'sluice',
  'sluice (no snapshot reads)',
  'streamparser (partial root)',
  'streamparser (final only)',
  'JSON.parse (whole text once)',
]
const quadratic = ['partial-json', 'ai parsePartialJson']
const plan = [
  ...['2 MiB', '4 MiB'].flatMap((size) => linear.map((name) => ({ name, size, input: inputs[size] }))),
  ...['sluice', ...quadratic].map((name) => ({ name, size: '256 KiB', input: inputs['256 KiB'] })),
  ...['2 MiB in sections', '4 MiB in sections'].map((size) => ({
    name: 'sluice',
    size,
    input: inputs[size],
  })),
]

// One untimed pass each, so the first measured round does not pay for JIT warm-up.
for (const { name, input } of plan) await contenders[name](input.chunks)
const times = await measure(plan)

const mbps = (name, size) => inputs[size].bytes / MiB / (median(times.get(`${name}@${size}`)) / 1000)
const rows = []
for (const { name, size } of plan) {
  const ms = median(times.get(`${name}@${size}`))
  const ratio = mbps('sluice', size) / mbps(name, size)
  rows.push(
    `| ${name} | ${size} (${(inputs[size].bytes / MiB).toFixed(2)} MiB, ${inputs[size].chunks.length} chunks) | ${ms.toFixed(1)} | ${mbps(name, size).toFixed(1)} | ${name === 'sluice' ? '1.00' : ratio.toFixed(2)} |`,
  )
}
console.log(
  `\nPartial JSON, 4 KiB chunks, partial value read after every chunk; median of ${rounds} rounds (${process.version}).\n`,
)
console.log('| parser | document | median ms | MB/s (MiB/s) | sluice speed-up |')
console.log('| --- | --- | ---: | ---: | ---: |')
for (const row of rows) console.log(row)
const t2 = median(times.get('sluice@2 MiB'))
const t4 = median(times.get('sluice@4 MiB'))
console.log(
  `\nsluice 4 MiB / 2 MiB time ratio: ${(t4 / t2).toFixed(2)} (bytes ratio ${(inputs['4 MiB'].bytes / inputs['2 MiB'].bytes).toFixed(2)}; linear ≈ 2)`,
)
const s2 = median(times.get('sluice@2 MiB in sections'))
const s4 = median(times.get('sluice@4 MiB in sections'))
console.log(
  `sluice 4 MiB / 2 MiB time ratio, rows in sections of 500: ${(s4 / s2).toFixed(2)} (bytes ratio ${(inputs['4 MiB in sections'].bytes / inputs['2 MiB in sections'].bytes).toFixed(2)})`,
)

const { spawnSync } = await import('node:child_process')
const alone = spawnSync(
  process.execPath,
  [new URL(import.meta.url).pathname, '--scaling-only', '--rounds', String(rounds)],
  {
    encoding: 'utf8',
  },
)
console.log(alone.stdout.trim() || alone.stderr.trim())
