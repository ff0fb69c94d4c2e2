/**
 * The whole chain, any drop point: a handler written with `sluice/lambda` runs under the `sluice/dev` emulator,
 * a loopback TCP proxy cuts the connection after N bytes of the response body (1 to 3 times per stream, at hot
 * spots: byte 0, the last byte, inside a UTF-8 character, between CR and LF, around a record boundary, inside
 * the end-marker line), and the client resumes over real HTTP. The consumer gets exactly the undisturbed
 * output, once, in order, ending `done` — or, where nothing can resume the stream, a sluice error after a
 * prefix of it.
 *
 * Each answer the helper gives is also checked against a model of what it must send (the body from the Range
 * start, the records after the cursor, the events after the Last-Event-ID, with the end marker of that answer).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  fromResponse,
  isSluiceError,
  type ServerSentEvent,
  type StreamResponse,
  sluice,
} from '../../src/index.ts'
import {
  endMarkerLine,
  formatSseEvent,
  type LambdaFunctionUrlEvent,
  type SluiceResponse,
  type SseEvent,
  sluiceHandler,
} from '../../src/lambda/index.ts'
import { awslambda } from '../../src/runtime/index.ts'
import { concatBytes, cutAt, encode, inlineText, PIECES } from '../support/chunking.ts'
import {
  type Cut,
  type CuttingProxy,
  type Fault,
  type ProxiedExchange,
  startCuttingProxy,
} from '../support/cutting-proxy.ts'
import { startEmulator } from '../support/emulator.ts'
import { FAST } from '../support/scripted.ts'
import { drain } from '../support/streams.ts'

/** Each run is a few loopback requests; keep the file near 30 s in node on two shared cores. */
const RUNS = { numRuns: 60 } as const
const TIMEOUT = 120_000
const RESUME = { backoff: FAST, attempts: 10 } as const

// ---------------------------------------------------------------------------------------------------------
// Where to cut: hot spots of the answer the helper is about to send.

type CutKind =
  | 'zero'
  | 'last'
  | 'before-last'
  | 'utf8'
  | 'crlf'
  | 'marker'
  | 'before-boundary'
  | 'after-boundary'
  | 'any'

interface CutPick {
  kind: CutKind
  n: number
  fault: Fault
}

const cutPick: fc.Arbitrary<CutPick> = fc.record({
  kind: fc.constantFrom<CutKind>(
    'zero',
    'last',
    'before-last',
    'utf8',
    'crlf',
    'marker',
    'before-boundary',
    'after-boundary',
    'any',
    'any',
  ),
  n: fc.nat({ max: 1_000_000 }),
  // Mostly a dropped connection; now and then a reset, a clean end the body's proof must catch, or a stall.
  fault: fc.constantFrom<Fault>('drop', 'drop', 'drop', 'reset', 'end', 'end', 'stall'),
})

/** 1 to 3 cuts, one per answer in order. */
const cutPicks = fc.array(cutPick, { minLength: 1, maxLength: 3 })

const MARKER_START = encode('{"$sluice":"end"')

function lastIndexOf(bytes: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = bytes.length - needle.length; i >= 0; i--) {
    for (let k = 0; k < needle.length; k++) if (bytes[i + k] !== needle[k]) continue outer
    return i
  }
  return -1
}

/** The offsets (bytes let through, 0…length) of one kind in `answer`. */
function candidates(kind: CutKind, answer: Uint8Array, marked: boolean): number[] {
  const n = answer.length
  const all = (test: (i: number) => boolean): number[] => {
    const out: number[] = []
    for (let i = 0; i <= n; i++) if (test(i)) out.push(i)
    return out
  }
  switch (kind) {
    case 'zero':
      return [0]
    case 'last':
      return [n]
    case 'before-last':
      return n > 0 ? [n - 1] : []
    case 'utf8':
      return all((i) => i < n && (answer[i]! & 0xc0) === 0x80)
    case 'crlf':
      return all((i) => i > 0 && i < n && answer[i - 1] === 13 && answer[i] === 10)
    case 'marker': {
      const start = marked ? lastIndexOf(answer, MARKER_START) : -1
      return start === -1 ? [] : all((i) => i >= start && i < n)
    }
    case 'before-boundary':
      return all((i) => i < n && answer[i] === 10)
    case 'after-boundary':
      return all((i) => i > 0 && answer[i - 1] === 10)
    case 'any':
      return all(() => true)
  }
}

function resolveCut(pick: CutPick, answer: Uint8Array, marked: boolean): Cut | undefined {
  const found = candidates(pick.kind, answer, marked)
  const from = found.length > 0 ? found : candidates('any', answer, marked)
  const at = from[pick.n % from.length]!
  // A clean end after the last byte is no fault at all.
  return pick.fault === 'end' && at === answer.length ? undefined : { at, fault: pick.fault }
}

/** An idle timeout for runs that stall (long enough not to fire on a busy machine otherwise). */
const stalls = (picks: readonly CutPick[]) =>
  picks.some((p) => p.fault === 'stall') ? { idleTimeout: 300 } : {}

// ---------------------------------------------------------------------------------------------------------
// The function under test: one emulator per property, serving what the current run says.

interface Served {
  /** What the handler returns for this request; `invocation` counts from 0 in each run. */
  respond(event: LambdaFunctionUrlEvent, invocation: number): SluiceResponse
  /**
   * What the helper must send for this exchange (a 2xx answer's body), or `undefined` when the model does not
   * say (the answer is not cut, nor checked).
   */
  answer(exchange: Omit<ProxiedExchange, 'body' | 'cut'>, invocation: number): Uint8Array | undefined
}

interface Rig {
  proxy: CuttingProxy
  /** Serves `served` and cuts its answers at `picks` (one per answer in order); returns the URL to ask. */
  run(served: Served, picks: readonly CutPick[]): string
}

async function startRig(): Promise<Rig> {
  let current: Served | undefined
  let invocations = 0
  let runId = 0
  const handler = sluiceHandler(
    (event) => {
      if (current === undefined) throw new Error('no run is set up')
      return current.respond(event, invocations++)
    },
    { awslambda },
  )
  const server = await startEmulator(handler)
  const proxy = await startCuttingProxy(server.url)
  return {
    proxy,
    run(served, picks) {
      current = served
      invocations = 0
      proxy.reset((exchange) => {
        const pick = picks[exchange.index]
        if (pick === undefined || exchange.status < 200 || exchange.status >= 300) return undefined
        const answer = served.answer(exchange, exchange.index)
        if (answer === undefined) return undefined
        return resolveCut(pick, answer, exchange.headers['x-sluice-end'] === 'marker')
      })
      // A new path per run: nothing of an earlier run's connection state can be taken for this one's.
      return new URL(`run-${runId++}`, proxy.url).href
    },
  }
}

/** Every 2xx answer carried a prefix of what the model says (all of it when it was not cut). */
function expectAnswersMatch(rig: Rig, served: Served): void {
  for (const exchange of rig.proxy.exchanges) {
    if (exchange.status < 200 || exchange.status >= 300) continue
    const model = served.answer(exchange, exchange.index)
    if (model === undefined) continue
    const expected = exchange.cut === undefined ? model : model.subarray(0, exchange.body.length)
    expect(
      new TextDecoder().decode(exchange.body),
      `answer ${exchange.index} to ${exchange.method} ${exchange.target} ${JSON.stringify(exchange.requestHeaders)}`,
    ).toBe(new TextDecoder().decode(expected))
    expect(Buffer.from(exchange.body).equals(Buffer.from(expected))).toBe(true)
  }
}

/**
 * One request per cut, plus the one that finished the stream — none after a cut that let the whole answer
 * through, since its length or end marker proved it complete already. A reset may throw away bytes the kernel
 * had not handed over yet (so that the client asks for them again, and later cuts fall on answers that would
 * not exist otherwise): then no request without a cut. An idle timeout may also fire on a busy machine, which
 * is one drop more.
 */
function expectRequests(rig: Rig, picks: readonly CutPick[], served: Served): void {
  const exchanges = rig.proxy.exchanges
  const message = describeExchanges(exchanges)
  const cuts = exchanges.filter((e) => e.cut !== undefined)
  if ('idleTimeout' in stalls(picks)) return
  if (cuts.some((e) => e.cut?.fault === 'reset')) {
    expect(exchanges.length, message).toBeLessThanOrEqual(cuts.length + 1)
    return
  }
  const whole = cuts.find((e) => e.cut?.at === served.answer(e, e.index)?.length)
  expect(exchanges.length, message).toBe(whole === undefined ? cuts.length + 1 : whole.index + 1)
}

function describeExchanges(exchanges: readonly ProxiedExchange[]): string {
  return exchanges
    .map(
      (e) =>
        `#${e.index} ${e.target} range=${e.requestHeaders.range ?? '-'} last-event-id=${e.requestHeaders['last-event-id'] ?? '-'} cursor=${e.requestHeaders['x-sluice-cursor'] ?? '-'} → ${e.status} ${e.headers['content-range'] ?? ''} cut=${e.cut === undefined ? 'none' : `${e.cut.fault}@${e.cut.at}`} (${e.body.length} bytes)`,
    )
    .join('\n')
}

function expectDone(res: StreamResponse, contentBytes: number, lengthKnown: boolean): void {
  const { progress } = res
  expect(progress.state).toBe('done')
  expect(progress.loaded).toBe(contentBytes)
  if (lengthKnown) expect(progress.total).toBe(contentBytes)
  if (progress.total !== undefined) expect(progress.total).toBe(progress.loaded)
}

const marker = (bytes: number): Uint8Array => encode(endMarkerLine(bytes))
const withMarker = (content: Uint8Array): Uint8Array => concatBytes([content, marker(content.length)])

/** The start of a 206's Content-Range, or 0 for a full answer. */
function rangeStart(exchange: { status: number; headers: Record<string, string> }): number {
  if (exchange.status !== 206) return 0
  return Number(/^bytes (\d+)-/.exec(exchange.headers['content-range'] ?? '')?.[1] ?? Number.NaN)
}

// ---------------------------------------------------------------------------------------------------------
// Data.

/** A JSON text value with multi-byte characters, quotes, escapes; now and then empty or big. */
const jsonString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: inlineText },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 12_000 }), fc.constantFrom('x', 'é', '€', '😀'))
      .map(([n, c]) => c.repeat(n)),
  },
)

/** Any NDJSON item that survives JSON: objects, strings, numbers, null, arrays, and look-alikes of the marker. */
const anyRecord: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ s: jsonString, n: fc.integer() }) },
  { weight: 2, arbitrary: jsonString },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(null), fc.boolean()) },
  { weight: 1, arbitrary: fc.array(jsonString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ $sluice: fc.constant('end'), bytes: fc.nat({ max: 5000 }) }) },
)

/** Bytes with multi-byte characters, CR, LF, CRLF, and pieces of the end-marker line. */
const rawBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.constantFrom(...PIECES, '{"$sluice":"end","bytes":', '12', '}\n', '{', '}', '\r\n'), {
        minLength: 1,
        maxLength: 60,
      })
      .map((p) => encode(p.join(''))),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 60_000 }).map((n) => encode('ab€\r\n'.repeat(n).slice(0, n))),
  },
)

/** The handler's own write sizes: cut points into the body. */
function writesOf(bytes: Uint8Array): fc.Arbitrary<Uint8Array[]> {
  return fc.array(fc.nat({ max: bytes.length }), { maxLength: 8 }).map((cuts) => cutAt(bytes, cuts))
}

/** A source of `items`: an array, or an async generator that yields now and then. */
function sourceOf<T>(items: readonly T[], async: boolean): Iterable<T> | AsyncIterable<T> {
  if (!async) return items
  return (async function* () {
    for (const [i, item] of items.entries()) {
      if (i % 3 === 1) await new Promise((resolve) => setImmediate(resolve))
      yield item
    }
  })()
}

/**
 * The NDJSON body of `records`; with `marked` (a body that ends with the end marker), a record that serialises as
 * the marker line gets a space after its brace, as the helper writes it.
 */
const ndjsonBytes = (records: readonly unknown[], marked = false): Uint8Array =>
  encode(
    records
      .map((r) => {
        const json = JSON.stringify(r)
        return `${marked && /^\{"\$sluice":"end","bytes":\d+\}$/.test(json) ? `{ ${json.slice(1)}` : json}\n`
      })
      .join(''),
  )

// ---------------------------------------------------------------------------------------------------------

describe('sluice/lambda → sluice/dev → real HTTP → drop → resume: any drop point, same output', () => {
  it(
    'range: streamBytes and streamNdjson over a deterministic source, with a known length or the end marker',
    async () => {
      const rig = await startRig()
      const common = {
        lengthKnown: fc.boolean(),
        auto: fc.boolean(),
        async: fc.boolean(),
        // What validates If-Range: a strong ETag, a Last-Modified date, or nothing (`range: true`).
        validator: fc.constantFrom('etag' as const, 'last-modified' as const, 'none' as const),
        statusCode: fc.constantFrom(200, 201),
        method: fc.constantFrom('GET' as const, 'POST' as const),
        picks: cutPicks,
      }
      const bytesCase = fc.record({
        format: fc.constant('bytes' as const),
        content: rawBytes,
        consumer: fc.constantFrom('bytes' as const, 'text' as const, 'lines' as const),
        ...common,
      })
      const ndjsonCase = fc.record({
        format: fc.constant('ndjson' as const),
        records: fc.array(anyRecord, { minLength: 1, maxLength: 10 }),
        ...common,
      })
      const cases = fc.oneof(
        bytesCase.chain((c) => writesOf(c.content).map((writes) => ({ ...c, writes }))),
        ndjsonCase,
      )
      const DATE = 'Wed, 21 Oct 2015 07:28:00 GMT'
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const content = c.format === 'bytes' ? c.content : ndjsonBytes(c.records, !c.lengthKnown)
          const full = c.lengthKnown ? content : withMarker(content)
          const validator =
            c.validator === 'etag'
              ? { etag: '"v1"' }
              : c.validator === 'last-modified'
                ? { range: true, headers: { 'last-modified': DATE } }
                : { range: true }
          const served: Served = {
            respond: () => {
              const options = {
                ...validator,
                statusCode: c.statusCode,
                ...(c.lengthKnown ? { length: content.length } : {}),
              }
              return c.format === 'bytes'
                ? { bytes: sourceOf(c.writes, c.async), ...options }
                : { ndjson: sourceOf(c.records, c.async), ...options }
            },
            answer: (exchange) => full.subarray(rangeStart(exchange)),
          }
          const url = rig.run(served, c.picks)
          const res = await sluice(url, {
            method: c.method,
            ...(c.method === 'POST' ? { json: { month: '2026-10' } } : {}),
            resume: { ...RESUME, strategy: c.auto ? 'auto' : 'range' },
            ...stalls(c.picks),
          })
          expect(res.status).toBe(c.statusCode)
          const message = () => describeExchanges(rig.proxy.exchanges)
          if (c.format === 'ndjson') {
            const { items, error } = await drain(res.ndjson())
            expect(error, message()).toBeUndefined()
            expect(items).toEqual(c.records)
          } else if (c.consumer === 'bytes') {
            const { items, error } = await drain(res.bytes())
            expect(error, message()).toBeUndefined()
            expect(Buffer.from(concatBytes(items)).equals(Buffer.from(content))).toBe(true)
          } else {
            const undisturbed = await fromResponse(new Response(content.slice()))
            const read = (r: StreamResponse) =>
              c.consumer === 'text'
                ? drain(r.text()).then(({ items, error }) => ({ items: [items.join('')], error }))
                : drain(r.lines())
            const { items, error } = await read(res)
            expect(error, message()).toBeUndefined()
            expect(items).toEqual((await read(undisturbed)).items)
          }
          expectDone(res, content.length, c.lengthKnown)
          expectRequests(rig, c.picks, served)
          expectAnswersMatch(rig, served)
          const ifRange = { etag: '"v1"', 'last-modified': DATE, none: undefined }[c.validator]
          for (const exchange of rig.proxy.exchanges.slice(1)) {
            expect(exchange.method).toBe(c.method)
            expect(exchange.requestHeaders.range).toMatch(/^bytes=\d+-$/)
            expect(exchange.requestHeaders['if-range']).toBe(ifRange)
          }
        }),
        RUNS,
      )
    },
    TIMEOUT,
  )
})

/**
 * SSE events with ids (ASCII, the only ids the helper takes: inner spaces, percent-encoded letters, JSON-looking
 * ones), names, multi-line data (CR, LF, CRLF), JSON data and data that reads as the end-marker line, comments.
 */
const sseEvents: fc.Arbitrary<SseEvent[]> = fc
  .tuple(
    fc.constantFrom('e', '%C3%A9', 'a b:', '{"id":', '#'),
    fc.array(
      fc.record(
        {
          event: fc.constantFrom('tick', 'token', 'é'),
          data: fc.oneof(
            jsonString,
            fc.array(inlineText, { minLength: 2, maxLength: 4 }).chain((lines) => eolJoin(lines)),
            fc.record({ s: jsonString }),
            fc.nat({ max: 3000 }).map((bytes) => JSON.stringify({ $sluice: 'end', bytes })),
          ),
          comment: fc.constantFrom('note', ''),
        },
        { requiredKeys: ['data'] },
      ),
      { minLength: 1, maxLength: 10 },
    ),
  )
  .map(([prefix, events]) => events.map((event, i) => ({ id: `${prefix}${i}`, ...event })))

function eolJoin(lines: string[]): fc.Arbitrary<string> {
  return fc
    .array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: lines.length, maxLength: lines.length })
    .map((ends) =>
      lines.map((line, i) => `${line.replace(/\r/g, '')}${i < lines.length - 1 ? ends[i] : ''}`).join(''),
    )
}

const sseBody = (events: readonly SseEvent[], retry: number | undefined): Uint8Array => {
  const text = events.map(formatSseEvent).join('')
  return encode(events.length > 0 && retry !== undefined ? `retry: ${retry}\n\n${text}` : text)
}

/** What the client's events() gives for a whole, undisturbed body. */
async function eventsOf(body: Uint8Array): Promise<ServerSentEvent[]> {
  const res = await fromResponse(
    new Response(body.slice(), {
      headers: { 'content-type': 'text/event-stream', 'x-sluice-end': 'marker' },
    }),
  )
  return Array.fromAsync(res.events())
}

describe('sluice/lambda → sluice/dev → real HTTP → drop → resume by event id or cursor', () => {
  it(
    'last-event-id: streamSse with an id on every event, from a function source or a replayed iterable',
    async () => {
      const rig = await startRig()
      const cases = fc.record({
        events: sseEvents,
        plain: fc.boolean(),
        async: fc.boolean(),
        auto: fc.boolean(),
        retry: fc.option(fc.constantFrom(0, 1, 3), { nil: undefined }),
        picks: cutPicks,
      })
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const eventsAfter = (id: string | undefined): SseEvent[] =>
            id === undefined ? c.events : c.events.slice(c.events.findIndex((e) => e.id === id) + 1)
          const served: Served = {
            respond: () => ({
              sse: c.plain ? sourceOf(c.events, c.async) : (id) => sourceOf(eventsAfter(id), c.async),
              heartbeatMs: 0,
              ...(c.retry === undefined ? {} : { retry: c.retry }),
            }),
            answer: (exchange) => {
              const id = exchange.requestHeaders['last-event-id']
              // A reconnecting client has the retry: time already.
              return withMarker(sseBody(eventsAfter(id), id === undefined ? c.retry : undefined))
            },
          }
          const full = sseBody(c.events, c.retry)
          const expected = await eventsOf(withMarker(full))
          const url = rig.run(served, c.picks)
          const res = await sluice(url, {
            resume: { ...RESUME, strategy: c.auto ? 'auto' : 'last-event-id' },
            ...stalls(c.picks),
          })
          const { items, error } = await drain(res.events())
          expect(error, describeExchanges(rig.proxy.exchanges)).toBeUndefined()
          expect(items).toEqual(expected)
          expectDone(res, full.length, false)
          expectRequests(rig, c.picks, served)
          expectAnswersMatch(rig, served)
        }),
        RUNS,
      )
    },
    TIMEOUT,
  )

  it(
    'cursor: streamNdjson or streamSse (events without ids) from a function source, the cursor in the query or a header',
    async () => {
      const rig = await startRig()
      const cases = fc.record({
        format: fc.constantFrom('ndjson' as const, 'sse' as const),
        texts: fc.array(jsonString, { minLength: 1, maxLength: 10 }),
        where: fc.constantFrom('param' as const, 'header' as const),
        lengthKnown: fc.boolean(),
        async: fc.boolean(),
        auto: fc.boolean(),
        picks: cutPicks,
      })
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const records = c.texts.map((s, i) => ({ i, s }))
          const rest = (cursor: string | undefined) =>
            cursor === undefined ? records : records.filter((r) => r.i > Number(cursor))
          const cursorOf = (exchange: { target: string; requestHeaders: Record<string, string> }) =>
            c.where === 'param'
              ? (new URL(exchange.target, 'http://x').searchParams.get('cursor') ?? undefined)
              : exchange.requestHeaders['x-sluice-cursor']
          const bodyOf = (items: typeof records): Uint8Array =>
            c.format === 'ndjson'
              ? ndjsonBytes(items)
              : sseBody(
                  items.map((r) => ({ data: r })),
                  undefined,
                )
          // A known length is only for NDJSON (SSE always ends with the marker); 0 is proven by the marker too.
          const declares = (items: typeof records) =>
            c.format === 'ndjson' && c.lengthKnown && items.length > 0
          const served: Served = {
            respond: (event) => {
              if (c.format === 'sse')
                return {
                  sse: (cursor) =>
                    sourceOf(
                      rest(cursor).map((r) => ({ data: r })),
                      c.async,
                    ),
                  heartbeatMs: 0,
                }
              const cursor =
                c.where === 'param' ? event.queryStringParameters?.cursor : event.headers['x-sluice-cursor']
              const items = rest(cursor)
              return {
                ndjson: () => sourceOf(items, c.async),
                ...(declares(items) ? { length: bodyOf(items).length } : {}),
              }
            },
            answer: (exchange) => {
              const items = rest(cursorOf(exchange))
              const body = bodyOf(items)
              return declares(items) ? body : withMarker(body)
            },
          }
          const at = (i: number) =>
            c.where === 'param'
              ? { searchParams: { cursor: String(i) } }
              : { headers: { 'x-sluice-cursor': String(i) } }
          const url = rig.run(served, c.picks)
          const res = await sluice(url, {
            resume: {
              ...RESUME,
              strategy: c.auto ? 'auto' : 'cursor',
              cursor: (item) =>
                at(
                  c.format === 'ndjson'
                    ? (item as { i: number }).i
                    : (JSON.parse((item as ServerSentEvent).data) as { i: number }).i,
                ),
            },
            ...stalls(c.picks),
          })
          const full = bodyOf(records)
          if (c.format === 'ndjson') {
            const { items, error } = await drain(res.ndjson())
            expect(error, describeExchanges(rig.proxy.exchanges)).toBeUndefined()
            expect(items).toEqual(records)
          } else {
            const { items, error } = await drain(res.events())
            expect(error, describeExchanges(rig.proxy.exchanges)).toBeUndefined()
            expect(items).toEqual(await eventsOf(withMarker(full)))
          }
          expectDone(res, full.length, declares(records))
          expectRequests(rig, c.picks, served)
          expectAnswersMatch(rig, served)
        }),
        RUNS,
      )
    },
    TIMEOUT,
  )
})

describe('sluice/lambda → sluice/dev → real HTTP → drop, where nothing can resume the stream', () => {
  it(
    'a non-deterministic source (NDJSON, or SSE without ids) or bytes without a validator: a prefix of one invocation, then a sluice error — or the whole of one invocation, never a mix',
    async () => {
      const rig = await startRig()
      const cases = fc.record({
        format: fc.constantFrom('ndjson' as const, 'sse' as const, 'bytes' as const),
        texts: fc.array(jsonString, { minLength: 1, maxLength: 10 }),
        async: fc.boolean(),
        picks: cutPicks,
      })
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          // Each invocation yields other records: a fresh answer is never the rest of an earlier one.
          const recordsOf = (inv: number) =>
            c.texts
              .slice(inv % c.texts.length)
              .concat(c.texts.slice(0, inv % c.texts.length))
              .map((s, i) => ({ inv, i, s }))
          const content = encode(c.texts.join('\n'))
          const bodyOf = (inv: number): Uint8Array =>
            c.format === 'ndjson'
              ? ndjsonBytes(recordsOf(inv))
              : c.format === 'sse'
                ? sseBody(
                    recordsOf(inv).map((r) => ({ data: r })),
                    undefined,
                  )
                : content
          const served: Served = {
            respond: (_event, inv) =>
              c.format === 'ndjson'
                ? { ndjson: sourceOf(recordsOf(inv), c.async) }
                : c.format === 'sse'
                  ? {
                      sse: sourceOf(
                        recordsOf(inv).map((r) => ({ data: r })),
                        c.async,
                      ),
                      heartbeatMs: 0,
                    }
                  : { bytes: sourceOf([content], c.async) },
            answer: (_exchange, inv) => withMarker(bodyOf(inv)),
          }
          const url = rig.run(served, c.picks)
          const res = await sluice(url, { resume: { ...RESUME, strategy: 'auto' }, ...stalls(c.picks) })
          let delivered: unknown[]
          let error: unknown
          let whole: (inv: number) => unknown[]
          if (c.format === 'bytes') {
            const read = await drain(res.bytes())
            error = read.error
            // One item per byte: a prefix is a prefix of the bytes.
            delivered = [...concatBytes(read.items)]
            whole = () => [...content]
          } else if (c.format === 'ndjson') {
            ;({ items: delivered, error } = await drain(res.ndjson()))
            whole = recordsOf
          } else {
            const read = await drain(res.events())
            error = read.error
            delivered = read.items.map((e) => JSON.parse(e.data) as unknown)
            whole = recordsOf
          }
          const exchanges = rig.proxy.exchanges
          const cuts = exchanges.filter((e) => e.cut !== undefined).length
          const inv = c.format === 'bytes' ? 0 : ((delivered[0] as { inv?: number } | undefined)?.inv ?? 0)
          const from = whole(inv)
          expect(delivered, describeExchanges(exchanges)).toEqual(from.slice(0, delivered.length))
          if (error === undefined) {
            expect(delivered).toEqual(from)
            expect(res.progress.state).toBe('done')
            expectRequests(rig, c.picks, served)
          } else {
            expect(isSluiceError(error), String(error)).toBe(true)
            expect(res.progress.state).toBe('error')
            // Given up at the drop that could not be resumed: no request after it.
            expect(exchanges.length, describeExchanges(exchanges)).toBe(cuts)
            expect(exchanges.at(-1)?.cut).toBeDefined()
          }
          expectAnswersMatch(rig, served)
        }),
        RUNS,
      )
    },
    TIMEOUT,
  )
})

describe('sluice/lambda → sluice/dev → real HTTP → drop → checkpoint → resumeFrom', () => {
  it(
    'a stream read without resume and cut once continues from its checkpoint in a new call, cut again or not, to exactly the undisturbed output',
    async () => {
      const rig = await startRig()
      const cases = fc.record({
        kind: fc.constantFrom('bytes' as const, 'ndjson' as const, 'sse' as const, 'cursor' as const),
        texts: fc.array(jsonString, { minLength: 1, maxLength: 10 }),
        lengthKnown: fc.boolean(),
        first: cutPick.filter((p) => p.fault !== 'stall'),
        later: fc.array(cutPick, { maxLength: 2 }),
      })
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const records = c.texts.map((s, i) => ({ i, s }))
          const events = records.map((r) => ({ id: String(r.i), data: r }))
          const rest = (cursor: string | undefined) =>
            cursor === undefined ? records : records.filter((r) => r.i > Number(cursor))
          const content =
            c.kind === 'bytes'
              ? encode(c.texts.join('\r\n'))
              : c.kind === 'sse'
                ? sseBody(events, undefined)
                : ndjsonBytes(records)
          // sluice/lambda proves an empty body with the end marker even when given `length: 0` (an empty body can
          // hang a function URL), so only a body with bytes in it declares its length.
          const declares = c.lengthKnown && c.kind !== 'sse' && c.kind !== 'cursor' && content.length > 0
          const full = declares ? content : withMarker(content)
          const served: Served = {
            respond: (event) => {
              const length = declares ? { length: content.length } : {}
              switch (c.kind) {
                case 'bytes':
                  return { bytes: sourceOf(cutAt(content, [3, 17, 40]), true), etag: '"v1"', ...length }
                case 'ndjson':
                  return { ndjson: records, etag: '"v1"', ...length }
                case 'sse':
                  return { sse: events, heartbeatMs: 0 }
                case 'cursor':
                  return { ndjson: () => rest(event.queryStringParameters?.cursor) }
              }
            },
            answer: (exchange) => {
              if (c.kind === 'bytes' || c.kind === 'ndjson') return full.subarray(rangeStart(exchange))
              const position =
                c.kind === 'sse'
                  ? exchange.requestHeaders['last-event-id']
                  : (new URL(exchange.target, 'http://x').searchParams.get('cursor') ?? undefined)
              const left = rest(position)
              return withMarker(
                c.kind === 'sse'
                  ? sseBody(
                      left.map((r) => ({ id: String(r.i), data: r })),
                      undefined,
                    )
                  : ndjsonBytes(left),
              )
            },
          }
          const url = rig.run(served, [c.first, ...c.later])
          const read = async (res: StreamResponse): Promise<{ items: unknown[]; error: unknown }> => {
            if (c.kind === 'bytes') {
              const { items, error } = await drain(res.bytes())
              return { items: [...concatBytes(items)], error }
            }
            if (c.kind === 'sse') {
              const { items, error } = await drain(res.events())
              return { items: items.map((e) => JSON.parse(e.data) as unknown), error }
            }
            return drain(res.ndjson())
          }
          const expected = c.kind === 'bytes' ? [...content] : records
          const cursor = (item: unknown) => ({ searchParams: { cursor: String((item as { i: number }).i) } })
          // No reconnect in the first call: a cursor stream still needs its cursor to take a checkpoint.
          const first = await sluice(url, {
            resume: c.kind === 'cursor' ? { strategy: 'cursor', cursor, attempts: 0 } : false,
          })
          const before = await read(first)
          if (before.error === undefined) {
            expect(before.items).toEqual(expected)
            return
          }
          expect(isSluiceError(before.error), String(before.error)).toBe(true)
          const checkpoint = JSON.parse(JSON.stringify(first.checkpoint())) as ReturnType<
            StreamResponse['checkpoint']
          >
          const second = await sluice(url, {
            resumeFrom: checkpoint,
            resume: c.kind === 'cursor' ? { ...RESUME, strategy: 'cursor', cursor } : RESUME,
            ...stalls(c.later),
          })
          const after = await read(second)
          expect(after.error, describeExchanges(rig.proxy.exchanges)).toBeUndefined()
          expect([...before.items, ...after.items], describeExchanges(rig.proxy.exchanges)).toEqual(expected)
          expectDone(second, content.length, declares)
          expectAnswersMatch(rig, served)
        }),
        RUNS,
      )
    },
    TIMEOUT,
  )
})

describe('what the properties above found, one case each', () => {
  /** A rig whose answers are cut at `cuts` (one per answer in order), serving `respond`. */
  async function serving(respond: Served['respond'], cuts: Array<Cut | undefined>) {
    const server = await startEmulator(sluiceHandler((event) => respond(event, 0), { awslambda }))
    const proxy = await startCuttingProxy(server.url)
    proxy.reset((exchange) => cuts[exchange.index])
    return proxy
  }

  it('a drop right after the last byte of a declared length ends the stream done, asking nothing again', async () => {
    const content = encode('é'.repeat(50))
    for (const resume of [RESUME, false] as const) {
      const proxy = await serving(
        () => ({ bytes: sourceOf([content], true), etag: '"v1"', length: 100 }),
        [{ at: 100, fault: 'drop' }],
      )
      const res = await sluice(proxy.url, { resume })
      expect(await res.collect.text()).toBe('é'.repeat(50))
      expect(res.progress).toMatchObject({ state: 'done', loaded: 100, total: 100 })
      expect(proxy.exchanges).toHaveLength(1)
    }
  })

  it('a drop right after the end marker ends the stream done, asking nothing again; one inside it asks for the rest', async () => {
    const records = [{ s: 'a' }, { s: '€' }]
    const body = withMarker(ndjsonBytes(records))
    for (const [at, requests] of [
      [body.length, 1],
      [body.length - 1, 2],
    ] as const) {
      const proxy = await serving(() => ({ ndjson: records, etag: '"v1"' }), [{ at, fault: 'drop' }])
      const res = await sluice(proxy.url, { resume: RESUME })
      expect(await Array.fromAsync(res.ndjson())).toEqual(records)
      expect(res.progress).toMatchObject({ state: 'done', loaded: body.length - marker(0).length - 1 })
      expect(proxy.exchanges).toHaveLength(requests)
    }
  })

  it('a stream that cannot resume, dropped right after its end marker, is done rather than failed', async () => {
    let invocation = 0
    const records = () => [{ invocation: invocation++ }]
    const whole = withMarker(ndjsonBytes([{ invocation: 0 }])).length
    const proxy = await serving(() => ({ ndjson: records() }), [{ at: whole, fault: 'drop' }])
    const res = await sluice(proxy.url, { resume: RESUME })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ invocation: 0 }])
    expect(res.progress.state).toBe('done')
  })

  it('a checkpoint taken before the first record continues a later drop by the cursor the new call gives', async () => {
    const records = [0, 1, 2].map((i) => ({ i, s: 'x'.repeat(i) }))
    const proxy = await serving(
      (event) => ({
        ndjson: () => records.filter((r) => r.i > Number(event.queryStringParameters?.cursor ?? -1)),
      }),
      [
        { at: 0, fault: 'drop' },
        { at: 15, fault: 'drop' },
      ],
    )
    const first = await sluice(proxy.url, { resume: false })
    await expect(Array.fromAsync(first.ndjson())).rejects.toThrow(/dropped after 0 bytes/)
    const second = await sluice(proxy.url, {
      resumeFrom: first.checkpoint(),
      resume: {
        ...RESUME,
        strategy: 'cursor',
        cursor: (row) => ({ searchParams: { cursor: String((row as { i: number }).i) } }),
      },
    })
    expect(await Array.fromAsync(second.ndjson())).toEqual(records)
    expect(proxy.exchanges.map((e) => e.target)).toEqual(['/', '/', '/?cursor=0'])
  })

  it("counts a Last-Event-ID reconnect's bytes once when the server sends retry:", async () => {
    const events = ['a', 'b', 'c'].map((data, i) => ({ id: String(i), data }))
    const full = sseBody(events, 1)
    const proxy = await serving(
      () => ({ sse: events, retry: 1, heartbeatMs: 0 }),
      [{ at: 30, fault: 'drop' }],
    )
    const res = await sluice(proxy.url, { resume: RESUME })
    expect((await Array.fromAsync(res.events())).map((e) => e.data)).toEqual(['a', 'b', 'c'])
    expect(res.progress).toMatchObject({ state: 'done', loaded: full.length })
    expect(proxy.exchanges[1]?.requestHeaders['last-event-id']).toBe('0')
  })

  it("counts a cursor reconnect's bytes once when the server sends retry:", async () => {
    const records = ['a', 'b', 'c'].map((s, i) => ({ i, s }))
    const full = sseBody(
      records.map((r) => ({ data: r })),
      1,
    )
    const proxy = await serving(
      () => ({
        sse: (cursor) =>
          records.filter((r) => cursor === undefined || r.i > Number(cursor)).map((r) => ({ data: r })),
        retry: 1,
        heartbeatMs: 0,
      }),
      [{ at: sseBody([{ data: records[0] }], 1).length, fault: 'drop' }],
    )
    const res = await sluice(proxy.url, {
      resume: {
        ...RESUME,
        strategy: 'cursor',
        cursor: (event) => ({
          searchParams: { cursor: String((JSON.parse((event as ServerSentEvent).data) as { i: number }).i) },
        }),
      },
    })
    expect((await Array.fromAsync(res.events())).map((e) => JSON.parse(e.data))).toEqual(records)
    expect(res.progress).toMatchObject({ state: 'done', loaded: full.length })
    expect(proxy.exchanges.map((e) => e.target)).toEqual(['/', '/?cursor=0'])
  })
})
