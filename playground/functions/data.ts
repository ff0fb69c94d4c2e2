// Deterministic data behind the example functions, shared with the tests that check what the client received.
// Everything here is a pure function of its arguments (and a fixed seed), so a reconnect that regenerates a body
// gets the same bytes, which is what lets `Range` and cursors resume exactly.

/** A small, fast, seeded pseudo-random generator (mulberry32): the same seed gives the same sequence. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * How fast the functions pace themselves: a factor applied to every delay (`PLAYGROUND_PACE`, default 1).
 * Tests set `0` to run without pauses.
 */
export function pace(): number {
  const value = Number(process.env.PLAYGROUND_PACE ?? '1')
  return Number.isFinite(value) && value >= 0 ? value : 1
}

/** Waits `ms` milliseconds scaled by {@link pace}; no wait at all at pace 0. */
export function sleep(ms: number): Promise<void> {
  const scaled = ms * pace()
  return scaled > 0 ? new Promise((resolve) => setTimeout(resolve, scaled)) : Promise.resolve()
}

// ---------------------------------------------------------------------------------------------------------
// tokens: an LLM-like answer, split into ~300 word pieces.

const ANSWER = `A Lambda function URL in response streaming mode sends its answer while the function is still running, \
so the first words reach the reader after a few milliseconds instead of after the whole computation. That is the \
promise; the fine print is that once the headers have gone out, the status is 200 for good. If the function fails \
or times out later, the service reports it in HTTP trailers, which the fetch API cannot read, and the client sees \
a body that simply stops, possibly looking like a clean end.

Sluice treats completion as something to prove. A declared length, or an end marker written by the server helpers \
as the very last line, tells the client that it really has everything. A body that stops before that proof is a \
truncated body, and the client says so with an error that explains what happened and what to do next.

Because a reconnect is a new invocation, resuming needs the function's cooperation: byte ranges over a \
deterministic body, the Last-Event-ID header for server-sent events like this very answer, or an application \
cursor. Each token you are reading carries an event id for exactly that reason. When the connection drops, a \
resuming client asks for the events after the last id it saw, and the reader never notices the gap.`

function tokenize(text: string): string[] {
  const tokens: string[] = []
  for (const word of text.match(/\s*\S+/g) ?? []) {
    // Long words become several pieces, the way subword tokenizers split them.
    if (word.trim().length <= 6) {
      tokens.push(word)
      continue
    }
    const lead = word.length - word.trimStart().length
    let at = 0
    while (at < word.length) {
      const size = at === 0 ? lead + 4 : 4
      tokens.push(word.slice(at, at + size))
      at += size
    }
  }
  return tokens
}

/** The tokens of the answer, in order; joined they give {@link ANSWER_TEXT}. */
export const ANSWER_TOKENS: readonly string[] = tokenize(ANSWER)

/** The whole answer the `tokens` function streams. */
export const ANSWER_TEXT: string = ANSWER_TOKENS.join('')

/** The pause before token `i`: between 20 and 40 ms, the same on every run. */
export function tokenDelayMs(i: number): number {
  return 20 + Math.floor(random(i + 1)() * 21)
}

// ---------------------------------------------------------------------------------------------------------
// report: 100 000 NDJSON rows.

/** How many rows the `report` function writes. */
export const REPORT_ROWS = 100_000

/** One row of the report. */
export interface ReportRow {
  id: number
  date: string
  region: string
  product: string
  units: number
  revenue: number
}

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-2', 'sa-east-1']
const PRODUCTS = ['anchor', 'bollard', 'capstan', 'davit', 'ensign', 'fairlead', 'gangway', 'hawser']

/** Row number `id` (1-based): the same row on every run. */
export function reportRow(id: number): ReportRow {
  const next = random(id * 7919)
  const day = 1 + Math.floor(next() * 28)
  const units = 1 + Math.floor(next() * 500)
  return {
    id,
    date: `2026-10-${String(day).padStart(2, '0')}`,
    region: REGIONS[Math.floor(next() * REGIONS.length)]!,
    product: PRODUCTS[Math.floor(next() * PRODUCTS.length)]!,
    units,
    revenue: Math.round(units * (3 + next() * 40) * 100) / 100,
  }
}

/** The rows after row `after` (0: from the start). */
export function* reportRows(after = 0): Generator<ReportRow> {
  for (let id = after + 1; id <= REPORT_ROWS; id++) yield reportRow(id)
}

let reportLength: number | undefined

/** The size in bytes of the whole report as NDJSON (computed once). */
export function reportByteLength(): number {
  if (reportLength === undefined) {
    let total = 0
    for (const row of reportRows()) total += JSON.stringify(row).length + 1 // ASCII only: characters = bytes
    reportLength = total
  }
  return reportLength
}

// ---------------------------------------------------------------------------------------------------------
// document: one growing JSON document.

/** The document the `document` function writes. */
export interface ReportDocument {
  title: string
  summary: string
  generatedAt: string
  sections: {
    id: string
    heading: string
    body: string
    metrics: { name: string; value: number; unit: string }[]
    tags: string[]
  }[]
  complete: boolean
}

/** The finished document, exactly as the client must end up with it. */
export const DOCUMENT: ReportDocument = {
  title: 'Harbour operations — October 2026',
  summary:
    'Throughput rose for the third month in a row while berth waiting times fell. Two cranes were out of ' +
    'service for a week, which the night shift absorbed. Fuel costs are up, energy from shore power is up more, ' +
    'and the new gate system cut truck turnaround by a fifth. The sections below give the numbers by area.',
  generatedAt: '2026-11-01T06:00:00Z',
  sections: [
    {
      id: 'berths',
      heading: 'Berths',
      body: 'Average waiting time before berthing fell to 5.2 hours. Berth 4 reopened after dredging.',
      metrics: [
        { name: 'calls', value: 412, unit: 'ships' },
        { name: 'waiting', value: 5.2, unit: 'h' },
        { name: 'occupancy', value: 0.81, unit: 'ratio' },
      ],
      tags: ['berths', 'dredging'],
    },
    {
      id: 'cranes',
      heading: 'Cranes',
      body: 'Cranes 7 and 9 were out of service from the 12th to the 19th for gearbox replacement.',
      metrics: [
        { name: 'moves', value: 188_204, unit: 'TEU' },
        { name: 'moves per hour', value: 31.5, unit: 'TEU/h' },
      ],
      tags: ['cranes', 'maintenance'],
    },
    {
      id: 'gate',
      heading: 'Gate',
      body: 'The new appointment system went live on the 3rd. Peak-hour queues shortened visibly.',
      metrics: [
        { name: 'trucks', value: 96_530, unit: 'visits' },
        { name: 'turnaround', value: 38, unit: 'min' },
      ],
      tags: ['gate', 'trucks', 'appointments'],
    },
    {
      id: 'energy',
      heading: 'Energy',
      body: 'Shore power supplied 14 vessels. Diesel use by yard equipment fell as electric tractors arrived.',
      metrics: [
        { name: 'shore power', value: 1.9, unit: 'GWh' },
        { name: 'diesel', value: 212_000, unit: 'l' },
        { name: 'electric tractors', value: 24, unit: 'units' },
      ],
      tags: ['energy', 'emissions'],
    },
  ],
  complete: true,
}

/** The document's text (pretty-printed, UTF-8). */
export const DOCUMENT_TEXT: string = JSON.stringify(DOCUMENT, null, 2)

/** The document's text cut into small pieces of 3 to 12 characters, the same cuts on every run. */
export function documentPieces(): string[] {
  const next = random(2026)
  const pieces: string[] = []
  for (let at = 0; at < DOCUMENT_TEXT.length; ) {
    const size = 3 + Math.floor(next() * 10)
    pieces.push(DOCUMENT_TEXT.slice(at, at + size))
    at += size
  }
  return pieces
}

// ---------------------------------------------------------------------------------------------------------
// binary: a large file of deterministic bytes.

/** The default size of the `binary` function's file: 50 MB (`PLAYGROUND_BINARY_BYTES` overrides it). */
export const BINARY_BYTES = 50_000_000

/** The size the `binary` function serves. */
export function binaryByteLength(): number {
  const value = Number(process.env.PLAYGROUND_BINARY_BYTES ?? BINARY_BYTES)
  return Number.isSafeInteger(value) && value > 0 ? value : BINARY_BYTES
}

const BLOCK = 64 * 1024
let pattern: Uint8Array | undefined

/** Byte `i` of the file is `pattern[i % 65536] ^ (Math.floor(i / 65536) & 0xff)`. */
export function* binaryChunks(length: number): Generator<Uint8Array> {
  if (pattern === undefined) {
    const next = random(0x5111ce)
    pattern = new Uint8Array(BLOCK)
    for (let i = 0; i < BLOCK; i++) pattern[i] = Math.floor(next() * 256)
  }
  for (let at = 0, block = 0; at < length; at += BLOCK, block++) {
    const chunk = new Uint8Array(Math.min(BLOCK, length - at))
    const mask = block & 0xff
    for (let i = 0; i < chunk.length; i++) chunk[i] = pattern[i]! ^ mask
    yield chunk
  }
}
