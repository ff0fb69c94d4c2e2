/**
 * Odd but legal servers: the range resume engine against a fake server (an injected `fetch`) whose every answer
 * fast-check draws — a 206 of the whole rest or of a shorter part (`bytes N-M/len` or `bytes N-M/*`, with or
 * without the part's length), the whole body again (200, which only `skipOnRestart`, or a request from byte 0, may continue), a 416
 * `bytes *\/len` when nothing is left, a 503 that asks to come back — each dropped (the body errors) or cut (a
 * clean end that a length or the end marker exposes) at any byte: inside a UTF-8 character, between `\r` and
 * `\n`, inside the end-marker line. Parts end at such bytes too.
 *
 * Whatever the script, a run either delivers exactly what the undisturbed body delivers and ends `done` with
 * every byte counted once, or fails with a sluice error after delivering a prefix of it — never a duplicate, a
 * gap, or a clean end with data missing. When every answer is one the engine must take, with attempts to spare,
 * it delivers everything.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  END_MARKER_HEADER,
  endMarkerLine,
  fromResponse,
  isResumeError,
  isSluiceError,
  type Progress,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { concatBytes, encode, eol, inlineText, ndjsonBodies, PIECES } from './support/chunking.ts'
import { bodyOf, fetchWith } from './support/streams.ts'

const RUNS = { numRuns: 300 } as const
const TIMEOUT = 120_000
const URL_ = 'https://odd.example/stream'
/** Reconnects at once: the fake server answers in-process, and nothing here is about time. */
const NOW = { initial: 0, max: 0, jitter: 0 } as const
const TYPE = 'application/octet-stream'
const ETAG = { strong: '"v1"', weak: 'W/"v1"' } as const
const LAST_MODIFIED = 'Tue, 06 Oct 2026 08:00:00 GMT'
/** A Date that makes LAST_MODIFIED strong (60 s or more after it, RFC 9110 §8.8.2.2), and one that does not. */
const DATE = { strong: 'Tue, 06 Oct 2026 09:00:00 GMT', weak: 'Tue, 06 Oct 2026 08:00:05 GMT' } as const

/** A place in an answer: per mille of its length, or the k-th hot offset inside it (see `hotSpots`). */
type Spot = { rel: number } | { hot: number }

/** How an answer's body is sent: its chunk size, empty chunks between them, and how it ends. */
interface Delivery {
  chunk: number
  empty: boolean
  /** Whole, dropped at a spot (the body errors), or cut there (a clean end before its last byte). */
  fault: { kind: 'none' } | { kind: 'drop' | 'cut'; at: Spot }
}

/** The first response: always the whole body (200), framed one of the ways a server may frame it. */
interface First extends Delivery {
  length: 'none' | 'content-length' | 'x-amzn-remapped-content-length'
  acceptRanges: boolean
  /** The validators every answer repeats (when its `validators` says so) and If-Range may carry back. */
  validator:
    | 'none'
    | 'strong etag'
    | 'weak etag'
    | 'last-modified'
    | 'weak last-modified'
    | 'weak etag + last-modified'
  /** `x-sluice-end: marker` and the marker line after the body, counted by the length when there is one. */
  marker: boolean
}

/** The answer to the n-th reconnect. A Range from the end itself is answered 416, whatever the kind says. */
interface Answer extends Delivery {
  /** 206 of everything from the Range's start or of a shorter part, 200 with the whole body, or 503. */
  kind: 'rest' | 'part' | 'full' | 'busy'
  /** Where a part ends: it has at least one byte. */
  end: Spot
  /** `Content-Range: bytes N-M/*`: the part does not say the body's length. */
  unknownTotal: boolean
  /** Send the answer's own length (a 206's counts the part), in the first response's header if it had one. */
  length: boolean
  /** Repeat the first response's validators. */
  validators: boolean
  /** The media type as written: the same, in other letter cases, with a parameter, or left out. */
  type: 'same' | 'cased' | 'parameter' | 'none'
}

interface Case {
  first: First
  answers: Answer[]
  strategy: 'range' | 'auto'
  skipOnRestart: boolean
  /** `resume.attempts` is answers.length + 1 + spare (at least 0): the script and one plain 206 suffice. */
  spare: number
}

/** What the server did with one request, for the assertions and for a counterexample's report. */
interface Served {
  range: string | null
  ifRange: string | null
  status: number
  contentRange?: string
  /** The bytes of the representation the answer stands for, [from, to), how many it sent, and its end. */
  from: number
  to: number
  sent: number
  ended: 'end' | 'drop' | 'cut'
}

/** Beyond the script, the server answers as a plain range server does. */
const PLAIN: Answer = {
  kind: 'rest',
  end: { rel: 1000 },
  unknownTotal: false,
  length: true,
  validators: true,
  type: 'same',
  chunk: 4096,
  empty: false,
  fault: { kind: 'none' },
}

const TYPES = {
  same: TYPE,
  cased: 'Application/Octet-Stream',
  parameter: `${TYPE}; charset=binary`,
  none: undefined,
} as const

/**
 * Offsets worth a fault or a part's end: inside a UTF-8 character, between `\r` and `\n`, anywhere from the
 * start of the end-marker line, and the very end.
 */
function hotSpots(wire: Uint8Array, bodyLength: number): number[] {
  const out: number[] = []
  for (let i = 1; i < wire.length; i++) {
    const b = wire[i]!
    if (i >= bodyLength || (b & 0xc0) === 0x80 || (b === 10 && wire[i - 1] === 13)) out.push(i)
  }
  out.push(wire.length)
  return out
}

/** The validators of the first response, and what If-Range must carry back (RFC 9110 §13.1.5). */
function validatorsOf(first: First): {
  etag?: string
  lastModified?: string
  date?: string
  ifRange: string | null
} {
  switch (first.validator) {
    case 'none':
      return { ifRange: null }
    case 'strong etag':
      return { etag: ETAG.strong, ifRange: ETAG.strong }
    case 'weak etag':
      return { etag: ETAG.weak, ifRange: null }
    case 'last-modified':
      return { lastModified: LAST_MODIFIED, date: DATE.strong, ifRange: LAST_MODIFIED }
    case 'weak last-modified':
      return { lastModified: LAST_MODIFIED, date: DATE.weak, ifRange: null }
    case 'weak etag + last-modified':
      return { etag: ETAG.weak, lastModified: LAST_MODIFIED, ifRange: null }
  }
}

/**
 * A fake server over `body` that answers request n with `c.answers[n - 1]` (the first with `c.first`), legally:
 * a Range it cannot satisfy gets a 416, an If-Range that does not match gets the whole body, and a clean cut
 * happens only where a length or the end marker exposes it (elsewhere it drops instead). `unit` is how it
 * spells the range unit in Content-Range. It logs into `served`.
 */
function oddServer(c: Case, body: Uint8Array, served: Served[], unit = 'bytes'): typeof fetch {
  const { first } = c
  const wire = first.marker ? concatBytes([body, encode(endMarkerLine(body.length))]) : body
  const size = wire.length
  const hot = hotSpots(wire, body.length)
  const { etag, lastModified, date } = validatorsOf(first)
  const lengthHeader = first.length === 'none' ? 'content-length' : first.length

  /** A place in [lo, hi]: a hot offset there, or a fraction of the way. */
  const place = (spot: Spot, lo: number, hi: number): number => {
    const inside = hot.filter((h) => h >= lo && h <= hi)
    if ('hot' in spot && inside.length > 0) return inside[spot.hot % inside.length]!
    return lo + Math.round((('rel' in spot ? spot.rel : 500) / 1000) * (hi - lo))
  }

  const reply = (
    status: number,
    headers: Headers,
    [from, to]: [number, number],
    how: Delivery,
    exposed: boolean,
    log: { range: string | null; ifRange: string | null },
  ): Response => {
    const { fault } = how
    const stop = fault.kind === 'none' ? to : place(fault.at, from, to)
    let ended: Served['ended'] = fault.kind === 'none' || stop === to ? 'end' : fault.kind
    // A drop is an error the client sees; a clean cut is only legal where it can be told from the end.
    if (fault.kind === 'drop' || (ended === 'cut' && !exposed)) ended = 'drop'
    const parts: Uint8Array[] = []
    for (let at = from; at < stop; at += how.chunk) {
      if (how.empty) parts.push(new Uint8Array(0))
      parts.push(wire.slice(at, Math.min(stop, at + how.chunk)))
    }
    const contentRange = headers.get('content-range')
    served.push({
      ...log,
      status,
      ...(contentRange === null ? {} : { contentRange }),
      from,
      to,
      sent: stop - from,
      ended,
    })
    const after = ended === 'drop' ? { error: new TypeError('terminated') } : undefined
    return new Response(bodyOf(parts, after).stream, { status, headers })
  }

  return fetchWith((request) => {
    const n = served.length
    const answer = n === 0 ? undefined : (c.answers[n - 1] ?? PLAIN)
    const range = request.headers.get('range')
    const ifRange = request.headers.get('if-range')
    const log = { range, ifRange }
    if (answer?.kind === 'busy') {
      served.push({ ...log, status: 503, from: 0, to: 0, sent: 0, ended: 'end' })
      return new Response('Busy, come back soon.', { status: 503, headers: { 'retry-after': '0' } })
    }
    const headers = new Headers()
    const type = TYPES[answer?.type ?? 'same']
    if (type !== undefined) headers.set('content-type', type)
    if (first.acceptRanges) headers.set('accept-ranges', 'bytes')
    if (first.marker) headers.set(END_MARKER_HEADER, 'marker')
    if (answer?.validators ?? true) {
      if (etag !== undefined) headers.set('etag', etag)
      if (lastModified !== undefined) headers.set('last-modified', lastModified)
      if (date !== undefined) headers.set('date', date)
    }
    const asked = /^bytes=(\d+)-(\d*)$/.exec(range ?? '')
    // If-Range compares strongly: a weak tag never matches, and the Range is then ignored.
    const current =
      ifRange === null || (ifRange === etag && !ifRange.startsWith('W/')) || ifRange === lastModified
    if (answer === undefined || asked === null || !current || answer.kind === 'full') {
      const length = answer === undefined ? first.length !== 'none' : answer.length
      if (length) headers.set(lengthHeader, String(size))
      // A full answer's cut is exposed by its length or the marker; one to a Range request (which the stream
      // skips into) also by the first answer's length. A request without Range (a restart before anything was
      // delivered, when nothing else resumes) asks for a fresh stream, which the first length says nothing of.
      const exposed = length || first.marker || (range !== null && first.length !== 'none')
      return reply(200, headers, [0, size], answer ?? first, exposed, log)
    }
    const start = Number(asked[1])
    if (start >= size) {
      const contentRange = `${unit} */${size}`
      served.push({ ...log, status: 416, contentRange, from: start, to: start, sent: 0, ended: 'end' })
      return new Response(null, { status: 416, headers: { 'content-range': contentRange } })
    }
    const bound = asked[2] === '' ? size : Math.min(size, Number(asked[2]) + 1)
    const to = answer.kind === 'rest' ? bound : place(answer.end, start + 1, bound)
    headers.set('content-range', `${unit} ${start}-${to - 1}/${answer.unknownTotal ? '*' : size}`)
    // A function URL renames a part's Content-Length as it does the whole's.
    if (answer.length) headers.set(lengthHeader, String(to - start))
    return reply(206, headers, [start, to], answer, true, log)
  })
}

/** Whether resuming must succeed: ranges in use, every answer one the engine may take, attempts to spare. */
function mustComplete(c: Case): boolean {
  return (
    (c.strategy === 'range' || c.first.acceptRanges) &&
    c.spare >= 0 &&
    c.answers.every((a) => a.kind !== 'full' || c.skipOnRestart)
  )
}

const weighted = <T>(...choices: Array<[weight: number, value: T]>): fc.Arbitrary<T> =>
  fc.oneof(...choices.map(([weight, value]) => ({ weight, arbitrary: fc.constant(value) })))

const spot: fc.Arbitrary<Spot> = fc.oneof(
  fc.record({ rel: fc.integer({ min: 0, max: 1000 }) }),
  fc.record({ hot: fc.nat({ max: 1000 }) }),
)
const delivery = (whole: number): fc.Arbitrary<Delivery> =>
  fc.record({
    chunk: fc.constantFrom(1, 2, 3, 5, 16, 4096),
    empty: weighted([4, false], [1, true]),
    fault: fc.oneof(
      { weight: whole, arbitrary: fc.constant<Delivery['fault']>({ kind: 'none' }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: spot }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: spot }) },
    ),
  })
const first: fc.Arbitrary<First> = fc
  .tuple(
    delivery(1),
    fc.record({
      length: fc.constantFrom<First['length']>('none', 'content-length', 'x-amzn-remapped-content-length'),
      acceptRanges: fc.boolean(),
      validator: fc.constantFrom<First['validator']>(
        'none',
        'strong etag',
        'weak etag',
        'last-modified',
        'weak last-modified',
        'weak etag + last-modified',
      ),
      marker: fc.boolean(),
    }),
  )
  .map(([how, framing]) => ({ ...how, ...framing }))
const answer: fc.Arbitrary<Answer> = fc
  .tuple(
    delivery(3),
    fc.record({
      kind: weighted<Answer['kind']>([3, 'rest'], [3, 'part'], [1, 'full'], [1, 'busy']),
      end: spot,
      unknownTotal: fc.boolean(),
      length: fc.boolean(),
      validators: fc.boolean(),
      type: weighted<Answer['type']>([4, 'same'], [1, 'cased'], [1, 'parameter'], [1, 'none']),
    }),
  )
  .map(([how, shape]) => ({ ...how, ...shape }))
const scripts: fc.Arbitrary<Case> = fc.record({
  first,
  answers: fc.array(answer, { maxLength: 5 }),
  strategy: weighted<Case['strategy']>([3, 'range'], [1, 'auto']),
  skipOnRestart: fc.boolean(),
  spare: fc.integer({ min: -2, max: 2 }),
})

const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((p) => p.join(''))
const inline = inlineText
const ndjsonBody = ndjsonBodies({ maxLength: 10 })
const sseBody = fc
  .array(
    fc.tuple(
      inline.map((s) => s.replace(/\r/g, '')),
      eol,
      fc.boolean(),
    ),
    { maxLength: 8 },
  )
  .map((events) =>
    events
      .map(([data, end, named]) => `${named ? `event: tick${end}` : ''}data: ${data}${end}${end}`)
      .join(''),
  )

/**
 * A consumer, a body for it, and how its items flatten into units (bytes, characters, lines, records, events),
 * so that "a prefix of the undisturbed output" is an array prefix.
 */
interface Reader {
  name: string
  body: fc.Arbitrary<string>
  read: (res: StreamResponse) => AsyncIterable<unknown>
  units: (items: unknown[]) => unknown[]
  /** Whether its items are what `progress.items` counts (lines, records, events). */
  counted: boolean
}

const asIs = (items: unknown[]): unknown[] => items
const readers: Reader[] = [
  {
    name: 'bytes()',
    body: text,
    read: (res) => res.bytes(),
    units: (items) => items.flatMap((chunk) => Array.from(chunk as Uint8Array)),
    counted: false,
  },
  {
    name: 'text()',
    body: text,
    read: (res) => res.text(),
    units: (items) => Array.from(items.join('')),
    counted: false,
  },
  { name: 'lines()', body: text, read: (res) => res.lines(), units: asIs, counted: true },
  { name: 'ndjson()', body: ndjsonBody, read: (res) => res.ndjson(), units: asIs, counted: true },
  { name: 'events()', body: sseBody, read: (res) => res.events(), units: asIs, counted: true },
]

type Outcome = { items: unknown[]; failed: false } | { items: unknown[]; failed: true; error: unknown }

/** Reads `iterable` to its end or its failure, keeping what it delivered before (bytes copied). */
async function drain(iterable: AsyncIterable<unknown>): Promise<Outcome> {
  const items: unknown[] = []
  try {
    for await (const item of iterable) items.push(item instanceof Uint8Array ? item.slice() : item)
  } catch (error) {
    return { items, failed: true, error }
  }
  return { items, failed: false }
}

/** Errors a transport failure may surface as: the body is valid, so never a parse, validation or limit error. */
const TRANSPORT = ['ResumeError', 'TruncatedError', 'NetworkError', 'HTTPError', 'TimeoutError']

/** A sentence: a capital (or a quoted option) first, a full stop last, and no value printed as nonsense. */
function isSentence(message: string): boolean {
  return /^[A-Z`]/.test(message) && message.endsWith('.') && !/undefined|NaN|\[object /.test(message)
}

/** Runs `c` over `body` with `reader` and checks every invariant; `unit` spells Content-Range's range unit. */
async function check(reader: Reader, body: string, c: Case, unit?: string): Promise<void> {
  const bytes = encode(body)
  const undisturbed = await drain(reader.read(await fromResponse(new Response(bytes.slice()))))
  expect(undisturbed.failed).toBe(false)
  const expected = reader.units(undisturbed.items)

  const served: Served[] = []
  const snapshots: Progress[] = []
  const res = await sluice(URL_, {
    fetch: oddServer(c, bytes, served, unit),
    resume: {
      strategy: c.strategy,
      attempts: Math.max(0, c.answers.length + 1 + c.spare),
      backoff: NOW,
      skipOnRestart: c.skipOnRestart,
    },
    onProgress: (p) => snapshots.push(p),
    progressInterval: 0,
  })
  const run = await drain(reader.read(res))
  const got = reader.units(run.items)
  const why = run.failed ? `${(run.error as Error).name}: ${(run.error as Error).message}` : 'completed'
  const story = `${why}\n${JSON.stringify(served)}`
  const progress = res.progress

  // Every byte counted once: monotonic, never past the body; one attempt per request, but for the request for the
  // rest after a part that came whole (a server that caps its parts), which is no reconnect.
  const loaded = snapshots.map((p) => p.loaded)
  expect(loaded, story).toEqual([...loaded].sort((a, b) => a - b))
  expect(Math.max(0, ...loaded, progress.loaded), story).toBeLessThanOrEqual(bytes.length)
  const parts = served.slice(0, -1).filter((s) => s.status === 206 && s.ended === 'end').length
  expect(progress.attempt, story).toBe(served.length - parts)
  if (reader.counted) expect(progress.items, story).toBe(run.items.length)
  // 100 % once, at the end.
  const full = snapshots.filter((p) => p.percent === 100)
  expect(full.every((p) => p.state === 'done') && full.length <= 1, story).toBe(true)
  // If-Range carries a strong ETag, or the date when there is no ETag at all, on every Range request.
  const { ifRange } = validatorsOf(c.first)
  for (const s of served.slice(1)) if (s.range !== null) expect(s.ifRange, story).toBe(ifRange)

  // The whole body again may only continue a stream that said it is deterministic, or one asked for from byte 0,
  // whose rest it is.
  const ignored =
    served.some((s) => s.range !== null && !s.range.startsWith('bytes=0-') && s.status === 200) &&
    !c.skipOnRestart
  if (run.failed) {
    const { error } = run
    expect(isSluiceError(error), story).toBe(true)
    expect(TRANSPORT, story).toContain((error as Error).name)
    expect(isSentence((error as Error).message), story).toBe(true)
    // Nothing duplicated, no gap: what came before the error is where the undisturbed output starts.
    expect(got.length, story).toBeLessThanOrEqual(expected.length)
    expect(got, story).toEqual(expected.slice(0, got.length))
    expect(progress.state, story).toBe('error')
    if (ignored) expect(isResumeError(error) && error.reason, story).toBe('range-ignored')
    // Every answer one the engine may take, with attempts to spare: failing is a defect.
    expect(mustComplete(c), story).toBe(false)
    return
  }
  expect(got, story).toEqual(expected)
  expect(ignored, story).toBe(false)
  expect(progress, story).toMatchObject({ loaded: bytes.length, state: 'done' })
  expect(snapshots.at(-1)?.state, story).toBe('done')
  const totalKnown =
    c.first.length !== 'none' ||
    served.some((s) => s.status === 416 || (s.status === 206 && !s.contentRange?.endsWith('/*')))
  if (totalKnown) expect(progress.total, story).toBeDefined()
  if (progress.total !== undefined)
    expect(progress, story).toMatchObject({ total: bytes.length, percent: 100 })
}

describe.concurrent('resume against odd but legal servers (fake fetch)', () => {
  for (const reader of readers) {
    it(
      `${reader.name} delivers the undisturbed output, or a prefix of it and a sluice error; everything when the answers allow it`,
      async () => {
        await fc.assert(
          fc.asyncProperty(reader.body, scripts, (body, c) => check(reader, body, c)),
          RUNS,
        )
      },
      TIMEOUT,
    )
  }

  it(
    'takes Content-Range in any letter case of its range unit (RFC 9110 §14.1: `Bytes 5-9/10`, `Bytes */10`)',
    async () => {
      await fc.assert(
        fc.asyncProperty(text, scripts, (body, c) => check(readers[0]!, body, c, 'Bytes')),
        RUNS,
      )
    },
    TIMEOUT,
  )
})
