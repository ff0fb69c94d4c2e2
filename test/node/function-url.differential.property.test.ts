/**
 * The promise of `sluice/mock` and `sluice/dev`: code tested against one behaves the same against the other. Here
 * a sluice *client* reads the same generated scenario through both — `functionUrl()` under msw/node and the
 * `serve()` emulator over real HTTP on 127.0.0.1 (one instance for every run) — and everything it can observe must
 * agree: the status, the headers that matter, the items its consumer delivered in order, the error (class, code,
 * message with the function URL's origin normalised, and the fields that say why, causes included), its progress
 * (the sequence of states and the final `loaded`, `total`, `state`, `attempt`) and so the end marker's verdict;
 * and the requests that reached the function (method, path, query, cookies, body, the resume headers).
 *
 * Scenarios: handlers written with `sluice/lambda` (`streamNdjson`, `streamSse`, `streamBytes` through
 * `sluiceHandler`) over empty, single, many, large and multi-byte records, events and bytes, resumable by Range,
 * cursor or Last-Event-ID or not at all; raw `awslambda.HttpResponseStream.from` handlers with a generated status
 * (2xx, 204, 304, redirects, 4xx, 5xx), headers (content type, a right or wrong `Content-Length`, an end marker
 * announced and written right, wrong or not at all, Range headers it does not honour, cookies) and writes that end
 * cleanly, by `end(chunk)`, throw before or after their first write, or never end; and a handler that writes back
 * its event. Faults: the handler's source fails or stalls after n items on the first invocation (before the first
 * byte a 502 or the client's headers timeout, after it a cut body or its idle timeout) — what both transports
 * document —, or the first response is cut after n bytes on the client's side, the same for both. Requests: GET,
 * HEAD, POST (one over `limits.maxRequestBytes` too), with a query, cookies or a Range of the caller's. Consumers:
 * `ndjson()`, `events()`, `lines()`, `bytes()`, `text()` and `collect.*`, with resume off, `'auto'` or by cursor,
 * and sometimes a `checkpoint()` after a few items, a `cancel()` and a new `sluice()` call with `resumeFrom`.
 *
 * Where the two legitimately differ, the comparison says so where it is made: what depends on how the body is
 * chunked (no promise of either), and what README ("Test kit — `sluice/mock`", the paragraph on `functionUrl`)
 * lists as the transport's: the order of the event's headers, a cut body's innermost cause, and a redirect whose
 * body fails.
 */
import fc from 'fast-check'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DevServer, serve } from '../../src/dev/index.ts'
import {
  type Checkpoint,
  type Progress,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../../src/index.ts'
import { endMarkerLine, type SluiceResponse, type SseEvent, sluiceHandler } from '../../src/lambda/index.ts'
import { functionUrl } from '../../src/mock/function-url.ts'
import { type AnyLambdaHandler, awslambda, type StreamingHandler } from '../../src/runtime/index.ts'
import { concatBytes, encode, inlineText, PIECES } from '../support/chunking.ts'
import { FAST } from '../support/scripted.ts'

/** The `fetch` msw has not patched: taken when this module loads, before `listen()`. */
const realFetch = globalThis.fetch
const MOCK_BASE = 'https://diff.lambda-url.eu-west-1.on.aws/'
/**
 * Runs at the default count keep the file near 10 s in node alone on two shared cores (about 25 s among the whole
 * suite, whose stall scenarios wait out their timeouts); DIFF_RUNS asks for more.
 */
const NUM_RUNS = Number(globalThis.process?.env?.DIFF_RUNS ?? 50)
/**
 * Both transports' limits: the timeout ends a handler that never ends its stream; the request and response caps
 * are low enough for a scenario to cross them. The request cap holds the event as JSON, headers and cookies
 * included: far above any but `POST-large`'s, whose body alone is twice over it.
 */
const LIMITS = { timeoutMs: 3_000, maxRequestBytes: 16 * 1_024, maxResponseBytes: 256 * 1024 }
/**
 * The client's idle and headers timeouts in scenarios whose handler stalls (the defaults otherwise: a busy machine
 * must not drop).
 */
const IDLE_MS = 2_000

// ---------------------------------------------------------------------------------------------------------
// Scenarios

interface Row {
  id: number
  s: string
}

type Fault =
  | { kind: 'none' }
  /** The source (or raw handler) fails, or stalls, after this many items on the first invocation. */
  | { kind: 'fail' | 'stall'; after: number }
  /**
   * The first response's body is cut after this many bytes on the client's side of the connection, the same way
   * for both transports (neither has a byte-level fault of its own): a drop anywhere, mid-record and mid-character.
   */
  | { kind: 'cut'; at: number }

type Body =
  /** Writes back the event the request made, but for what names the transport's host or the moment. */
  | { kind: 'echo' }
  | { kind: 'ndjson'; rows: Row[]; resumable: 'none' | 'etag' | 'cursor'; length: boolean; status: number }
  | { kind: 'sse'; events: SseEvent[]; resumable: 'none' | 'last-event-id' }
  | { kind: 'bytes'; chunks: string[]; single: boolean; etag: boolean }
  | {
      kind: 'raw'
      status: number
      contentType: string | undefined
      /** The writes; `marker` appends an end-marker line (right, or off by one) and announces it. */
      writes: string[]
      marker: 'none' | 'right' | 'wrong' | 'missing'
      /** A `Content-Length` (the service remaps it) of the right length, one off, or none. */
      length: 'none' | 'right' | 'short' | 'long'
      /** Range headers a raw handler announces but does not honour. */
      ranges: boolean
      cookies: string[]
      /** `end-chunk`: the last write goes as `end(chunk)`. */
      ending: 'end' | 'end-chunk' | 'throw-before' | 'throw-after' | 'unfinished'
    }

type ConsumerKind =
  | 'ndjson'
  | 'events'
  | 'lines'
  | 'bytes'
  | 'text'
  | 'collect.text'
  | 'collect.bytes'
  | 'collect.json'

interface Scenario {
  body: Body
  fault: Fault
  consumer: ConsumerKind
  resume: 'off' | 'auto' | 'cursor'
  /** Request headers and a query of the caller's own: cookies, a Range, odd characters. */
  extra: { query: string; headers: Record<string, string> }
  /** A POST sends a JSON body, again with every reconnect; `POST-large` one over `maxRequestBytes`. */
  method: 'GET' | 'HEAD' | 'POST' | 'POST-large'
  /**
   * Read this many items (0: none, no consumer started), take a checkpoint, cancel, and continue in a new call with
   * `resumeFrom`.
   */
  checkpointAfter: number | undefined
}

/**
 * What an SSE event carries besides its id: data, or nothing else (an id-only checkpoint), or only a retry, an event
 * type or a comment — events a client dispatches none of, but whose id it keeps.
 */
const sseShape = fc.constantFrom('data', 'data', 'data', 'id-only', 'retry', 'event', 'comment')

function sseEventOf(
  id: string,
  data: string,
  shape: 'data' | 'id-only' | 'retry' | 'event' | 'comment',
): SseEvent {
  switch (shape) {
    case 'data':
      return { id, data }
    case 'id-only':
      return { id }
    case 'retry':
      // Short: a client waits this long before it reconnects.
      return { id, retry: 5 }
    case 'event':
      return { id, event: 'tick' }
    case 'comment':
      return { id, comment: data }
  }
}

/** Text with multi-byte characters, quotes and escapes; now and then empty or large. */
const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: inlineText },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('x', 'é', '€', '😀'))
      .map(([n, c]) => c.repeat(n)),
  },
)

/** Empty, one, or many. */
const count = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(1) },
  { weight: 4, arbitrary: fc.integer({ min: 2, max: 30 }) },
)
const rows: fc.Arbitrary<Row[]> = count.chain((n) =>
  fc.array(text, { minLength: n, maxLength: n }).map((ss) => ss.map((s, i) => ({ id: i + 1, s }))),
)

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'echo' as const }) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        kind: fc.constant('ndjson' as const),
        rows,
        resumable: fc.constantFrom(...(['none', 'etag', 'etag', 'cursor', 'cursor'] as const)),
        length: fc.boolean(),
        status: fc.constantFrom(200, 200, 201),
      })
      // A declared length describes one body: not a cursor's continuations.
      .map((b) => (b.resumable === 'cursor' ? { ...b, length: false } : b)),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('sse' as const),
      events: count.chain((n) =>
        fc
          .array(fc.tuple(fc.oneof(inlineText, text), sseShape), { minLength: n, maxLength: n })
          .map((ds) => ds.map(([data, shape], i) => sseEventOf(String(i + 1), data, shape))),
      ),
      resumable: fc.constantFrom(...(['none', 'last-event-id', 'last-event-id'] as const)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      chunks: fc.array(
        fc.oneof(
          fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 20 }).map((p) => p.join('')),
          // Past limits.maxResponseBytes now and then, with a few of them.
          fc.constant('€'.repeat(40_000)),
          text.filter((t) => t !== ''),
        ),
        { maxLength: 12 },
      ),
      single: fc.boolean(),
      etag: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      status: fc.constantFrom(200, 200, 200, 201, 203, 204, 302, 307, 304, 400, 404, 500, 503),
      contentType: fc.constantFrom(
        undefined,
        'application/x-ndjson',
        'text/event-stream',
        'text/plain; charset=utf-8',
        'application/json',
      ),
      writes: fc.array(
        fc.oneof(
          fc.constant(''),
          rows.map((rs) => rs.map((r) => `${JSON.stringify(r)}\n`).join('')),
          fc.constantFrom(
            '',
            'data: é\n\n',
            'id: 7\ndata: {"a":1}\n\n',
            'event: x\ndata: y\r\n\r\n',
            '{"a":',
            '1}\n',
          ),
        ),
        { maxLength: 5 },
      ),
      marker: fc.constantFrom(
        'none' as const,
        'none' as const,
        'right' as const,
        'wrong' as const,
        'missing' as const,
      ),
      length: fc.constantFrom(
        'none' as const,
        'none' as const,
        'right' as const,
        'short' as const,
        'long' as const,
      ),
      ranges: fc.boolean(),
      cookies: fc.array(fc.constantFrom('a=1', 'b=é; Path=/', 'session=x; HttpOnly; Secure'), {
        maxLength: 2,
      }),
      ending: fc.constantFrom(
        ...([
          'end',
          'end',
          'end',
          'end',
          'end-chunk',
          'throw-before',
          'throw-after',
          'throw-after',
          'unfinished',
        ] as const),
      ),
    }),
  },
)

const fault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fail' as const), after: fc.nat({ max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat({ max: 400 }) }) },
  // After the first item, the head went out and the client's idle timer runs; before it, its headers timeout.
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('stall' as const), after: fc.integer({ min: 0, max: 4 }) }),
  },
)

const ANY_CONSUMER: ConsumerKind[] = [
  'ndjson',
  'events',
  'lines',
  'bytes',
  'text',
  'collect.text',
  'collect.bytes',
  'collect.json',
]
/** The consumers made for a body: most scenarios read it with one of them, the rest with any. */
const FITTING: Record<Body['kind'], ConsumerKind[]> = {
  ndjson: ['ndjson', 'lines', 'collect.text'],
  sse: ['events'],
  bytes: ['bytes', 'text', 'lines', 'collect.bytes'],
  raw: ANY_CONSUMER,
  echo: ['ndjson', 'collect.json'],
}

/**
 * A 3xx whose own body fails: fetch may still follow it under msw, which answers the new request on its own (a
 * race), where over a connection undici rejects the followed fetch with the cut (README, "Test kit"); one that
 * fails before fetch has followed it fails with another cause. Redirects here end cleanly.
 */
const isRedirect = (b: Body) => b.kind === 'raw' && b.status >= 300 && b.status < 400 && b.status !== 304

const scenario: fc.Arbitrary<Scenario> = body
  // Kept short, too: a body over limits.maxResponseBytes fails as well.
  .map((b) =>
    isRedirect(b) && b.kind === 'raw'
      ? { ...b, ending: 'end' as const, writes: b.writes.map((write) => write.slice(0, 200)) }
      : b,
  )
  .chain((b) =>
    fc.record({
      body: fc.constant(b),
      fault: isRedirect(b) ? fault.filter((f) => f.kind !== 'fail' && f.kind !== 'stall') : fault,
      consumer: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...FITTING[b.kind]) },
        { weight: 1, arbitrary: fc.constantFrom(...ANY_CONSUMER) },
      ),
      resume:
        b.kind === 'ndjson' && b.resumable === 'cursor'
          ? fc.constantFrom('off' as const, 'auto' as const, 'cursor' as const, 'cursor' as const)
          : fc.constantFrom('off' as const, 'auto' as const, 'auto' as const, 'cursor' as const),
      checkpointAfter: fc.option(fc.nat({ max: 4 }), { nil: undefined, freq: 3 }),
      method: fc.constantFrom(
        ...(['GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'POST', 'POST-large'] as const),
      ),
      extra: fc.record({
        query: fc.constantFrom('', '', '?month=10', "?q=a%20b&q=c&x='é'", '?cursor=2'),
        headers: fc.oneof(
          { weight: 4, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: fc.constant({ cookie: 'a=1; b=two' }) },
          { weight: 1, arbitrary: fc.constantFrom({ range: 'bytes=3-' }, { range: 'bytes=2-40' }) },
          { weight: 1, arbitrary: fc.constant({ 'x-trace': 'é', 'X-Dup': 'a' }) },
        ),
      }),
    }),
  )

// ---------------------------------------------------------------------------------------------------------
// The handler a scenario describes, one per transport (each counts its own invocations)

interface Served {
  handler: AnyLambdaHandler
  /** Lets a stalled source go (it then fails): called once the client is done. */
  release(): void
}

function handlerFor(s: Scenario): Served {
  let invocations = 0
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  /** The items of a source, with the scenario's fault on the first invocation. */
  async function* faulty<T>(items: readonly T[], first: boolean): AsyncGenerator<T> {
    for (const [i, item] of items.entries()) {
      if (first && (s.fault.kind === 'fail' || s.fault.kind === 'stall') && i === s.fault.after) {
        if (s.fault.kind === 'stall') await released
        throw new Error(`the source failed after ${i} items`)
      }
      if (i % 4 === 3) await new Promise((resolve) => setImmediate(resolve))
      yield item
    }
  }
  const b = s.body
  if (b.kind === 'raw') return { handler: rawHandler(b, s.fault, released), release }
  if (b.kind === 'echo') return { handler: echoHandler, release }
  const respond = (): SluiceResponse => {
    const first = invocations++ === 0
    switch (b.kind) {
      case 'ndjson': {
        const options = {
          statusCode: b.status,
          ...(b.resumable === 'etag' ? { etag: '"v1"' } : {}),
          ...(b.length ? { length: ndjsonLength(b.rows) } : {}),
        }
        if (b.resumable === 'cursor') {
          return {
            ndjson: (cursor: string | undefined) =>
              faulty(
                b.rows.filter((r) => r.id > Number(cursor ?? 0)),
                first,
              ),
            ...options,
          }
        }
        return { ndjson: faulty(b.rows, first), ...options }
      }
      case 'sse': {
        if (b.resumable === 'last-event-id') {
          return {
            sse: (lastEventId: string | undefined) =>
              faulty(
                b.events.filter((e) => Number(e.id) > Number(lastEventId ?? 0)),
                first,
              ),
          }
        }
        return { sse: faulty(b.events, first) }
      }
      case 'bytes': {
        const options = b.etag ? { etag: '"v1"' } : {}
        if (b.single) return { bytes: b.chunks.join(''), ...options }
        return { bytes: faulty(b.chunks, first), ...options }
      }
    }
  }
  return { handler: sluiceHandler(respond, { awslambda }), release }
}

const ndjsonLength = (rs: readonly Row[]) => encode(rs.map((r) => `${JSON.stringify(r)}\n`).join('')).length

/**
 * Fields of the event that name the transport's origin, or the moment, and so differ by design; and
 * `accept-encoding`, which undici sets by the URL's scheme (`br` only over https: the mock's function URL).
 */
const TRANSPORT_HEADERS = new Set(['host', 'x-forwarded-port', 'x-forwarded-proto', 'accept-encoding'])

const echoHandler = awslambda.streamifyResponse(async (event, responseStream) => {
  const { headers, requestContext, ...rest } = event
  const {
    domainName: _d,
    domainPrefix: _p,
    apiId: _a,
    requestId: _r,
    time: _t,
    timeEpoch: _e,
    ...context
  } = requestContext
  // Sorted: the mock builds the event from a web Request, whose Headers iterate sorted by name, where the emulator
  // keeps the order of the wire (README, "Test kit").
  const kept = Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => !TRANSPORT_HEADERS.has(name))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  )
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: { 'content-type': 'application/x-ndjson' },
  })
  stream.write(`${JSON.stringify({ ...rest, headers: kept, requestContext: context })}\n`)
  stream.end()
})

function rawHandler(b: Extract<Body, { kind: 'raw' }>, f: Fault, released: Promise<void>): AnyLambdaHandler {
  const fn: StreamingHandler = async (event, responseStream) => {
    if (event.rawPath.endsWith('/moved')) {
      // Where a 3xx of this handler points: fetch follows it.
      const moved = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 200,
        headers: { 'content-type': 'application/x-ndjson' },
      })
      moved.write(`{"moved":${JSON.stringify(event.rawQueryString)}}\n`)
      return moved.end()
    }
    const headers: Record<string, string> = {}
    if (isRedirect(b)) headers.location = `${event.rawPath}/moved?from=raw`
    if (b.contentType !== undefined) headers['content-type'] = b.contentType
    if (b.marker !== 'none') headers['X-Sluice-End'] = 'marker'
    if (b.ranges) Object.assign(headers, { 'accept-ranges': 'bytes', ETag: '"raw"' })
    if (b.ending === 'throw-before') throw new Error('the function failed before its first write')
    const body = b.writes.join('')
    const writes = [...b.writes]
    const offset = encode(body).length
    if (b.marker === 'right') writes.push(endMarkerLine(offset))
    if (b.marker === 'wrong') writes.push(endMarkerLine(offset + 1))
    const length = encode(writes.join('')).length
    const declared = { none: undefined, right: length, short: length - 1, long: length + 1 }[b.length]
    if (declared !== undefined && declared >= 0) headers['Content-Length'] = String(declared)
    const stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: b.status,
      headers,
      ...(b.cookies.length > 0 ? { cookies: b.cookies } : {}),
    })
    const last = b.ending === 'end-chunk' ? writes.pop() : undefined
    for (const [i, write] of writes.entries()) {
      if ((f.kind === 'fail' || f.kind === 'stall') && i === f.after) {
        if (f.kind === 'stall') await released
        throw new Error(`the function failed after ${i} writes`)
      }
      stream.write(write)
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (b.ending === 'throw-after') throw new Error('the function failed after its writes')
    if (b.ending === 'unfinished') return
    if (last === undefined) stream.end()
    else stream.end(last)
  }
  return awslambda.streamifyResponse(fn)
}

// ---------------------------------------------------------------------------------------------------------
// What the client observes

interface Observed {
  status: number | undefined
  headers: Record<string, string | null>
  items: unknown
  error: Record<string, unknown> | undefined
  /** The error of the `checkpoint()` call, when it threw. */
  checkpointError?: Record<string, unknown>
  /** What the continuation from the checkpoint observed. */
  continued?: Omit<Observed, 'continued' | 'checkpointError'>
  /** The states reported, and the totals, each change once: how often each was reported depends on chunking. */
  states: string[]
  totals: Array<number | undefined>
  final:
    | {
        loaded?: number
        items?: number
        total: number | undefined
        state: Progress['state']
        attempt: number
      }
    | undefined
}

/**
 * A cut body's innermost cause is undici's `SocketError`: `other side closed` over a real connection (the server
 * ended it), `closed` under msw/node (msw destroys its mock socket), as README ("Test kit", on `functionUrl`)
 * says. Everything else of the error must agree.
 */
const MSW_CUT = '(terminated: closed)'
const REAL_CUT = '(terminated: other side closed)'

const HEADERS = [
  'content-type',
  'x-sluice-end',
  'etag',
  'accept-ranges',
  'content-range',
  'x-amzn-remapped-content-length',
  'x-amzn-errortype',
  'content-length',
]

/** The error as a client can tell it apart, the function URL's origin (which differs by transport) normalised. */
function shapeOf(error: unknown, origin: string): Record<string, unknown> {
  const normalise = (value: unknown): unknown =>
    typeof value === 'string'
      ? value
          .replaceAll(origin, '<origin>')
          .replaceAll(MSW_CUT, REAL_CUT)
          .replace(/^closed$/, 'other side closed')
      : value
  if (!(error instanceof Error)) return { thrown: String(error) }
  const e = error as Error & Record<string, unknown>
  const shape: Record<string, unknown> = {
    class: e.constructor.name,
    name: e.name,
    message: normalise(e.message),
  }
  for (const key of [
    'code',
    'reason',
    'status',
    'phase',
    'received',
    'expected',
    'offset',
    'line',
    'attempts',
  ]) {
    if (e[key] !== undefined) shape[key] = e[key]
  }
  if (typeof e.excerpt === 'string') shape.excerpt = normalise(e.excerpt)
  if (e.cause instanceof Error) shape.cause = shapeOf(e.cause, origin)
  return shape
}

async function read(
  res: StreamResponse,
  consumer: ConsumerKind,
  take: number | undefined,
): Promise<{ items: unknown[] | unknown; error: unknown; taken: boolean }> {
  const items: unknown[] = []
  // A checkpoint before the first unit: no consumer has started.
  if (take === 0) return { items, error: undefined, taken: true }
  const iterate = async (iterable: AsyncIterable<unknown>, map: (item: unknown) => unknown = (x) => x) => {
    try {
      for await (const item of iterable) {
        items.push(map(item))
        if (take !== undefined && items.length >= take) return { items, error: undefined, taken: true }
      }
    } catch (error) {
      return { items, error, taken: false }
    }
    return { items, error: undefined, taken: false }
  }
  const whole = async (promise: Promise<unknown>) => {
    try {
      return { items: await promise, error: undefined, taken: false }
    } catch (error) {
      return { items: undefined, error, taken: false }
    }
  }
  switch (consumer) {
    case 'ndjson':
      return iterate(res.ndjson())
    case 'events':
      return iterate(res.events())
    case 'lines':
      return iterate(res.lines())
    case 'bytes': {
      // Chunk boundaries are the transport's: compare the bytes joined.
      const r = await iterate(res.bytes())
      return { ...r, items: Buffer.from(concatBytes(r.items as Uint8Array[])).toString('base64') }
    }
    case 'text': {
      const r = await iterate(res.text())
      return { ...r, items: (r.items as string[]).join('') }
    }
    case 'collect.text':
      return whole(res.collect.text())
    case 'collect.bytes':
      return whole(res.collect.bytes().then((bytes) => Buffer.from(bytes).toString('base64')))
    case 'collect.json':
      return whole(res.collect.json())
  }
}

/** Consumers whose items are units a checkpoint can stand after, the same on both transports. */
const UNIT_CONSUMERS: ReadonlySet<ConsumerKind> = new Set(['ndjson', 'events', 'lines'])

function clientOptions(s: Scenario, fetcher: typeof fetch, reports: Progress[]): SluiceOptions {
  const cursor = (item: unknown) => {
    const id = (item as { id?: unknown } | null)?.id
    return { searchParams: { cursor: typeof id === 'number' ? String(id) : String(id ?? '') } }
  }
  const resume =
    s.resume === 'off'
      ? false
      : {
          attempts: 3,
          backoff: FAST,
          ...(s.resume === 'cursor' ? { strategy: 'cursor' as const, cursor } : {}),
        }
  return {
    fetch: fetcher,
    method: s.method === 'POST-large' ? 'POST' : s.method,
    headers: s.extra.headers,
    ...(s.method === 'POST' ? { json: { month: '2026-10', note: 'é😀' } } : {}),
    ...(s.method === 'POST-large' ? { json: { rows: 'é'.repeat(LIMITS.maxRequestBytes) } } : {}),
    retry: 0,
    resume,
    progressInterval: 0,
    onProgress: (p) => reports.push(p),
    // A stall before the first byte holds the head back: ky's headers timeout ends it (and, with retry 0, the call).
    ...(s.fault.kind === 'stall'
      ? { idleTimeout: IDLE_MS, ...(s.fault.after === 0 ? { timeout: IDLE_MS } : {}) }
      : {}),
  }
}

/**
 * The last progress report. Its `loaded` counts the chunks read, so where the reading stopped early — a parse,
 * validation or limit error, a `cancel()` — it depends on how the transport chunked the body, which neither
 * promises: it is compared only where the body was read to its end or to the drop.
 */
function finalReport(reports: readonly Progress[], error: unknown): Observed['final'] {
  const last = reports.at(-1)
  if (last === undefined) return undefined
  const { loaded, total, state, attempt, items } = last
  const code = (error as { code?: unknown } | undefined)?.code
  const whole =
    state === 'done' || code === 'ERR_NETWORK' || code === 'ERR_TRUNCATED' || code === 'ERR_TIMEOUT'
  return whole ? { loaded, items, total, state, attempt } : { total, state, attempt }
}

/** `fetcher`, with the first response's body cut after `at` bytes (a `TypeError: terminated`, as undici's). */
function cutting(fetcher: typeof fetch, at: number): typeof fetch {
  let calls = 0
  return async (input, init) => {
    const response = await fetcher(input, init)
    if (calls++ > 0 || response.body === null) return response
    const reader = response.body.getReader()
    let passed = 0
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          // Failed at the read after the last byte let through, so that no byte queued before it is lost.
          if (passed === at) {
            void reader.cancel().catch(() => {})
            return controller.error(new TypeError('terminated'))
          }
          const { done, value } = await reader.read()
          if (done) return controller.close()
          const through = value.subarray(0, at - passed)
          passed += through.length
          controller.enqueue(through)
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    )
    const cut = new Response(body, response)
    Object.defineProperty(cut, 'url', { value: response.url })
    return cut
  }
}

async function observe(s: Scenario, url: string, fetcher: typeof fetch): Promise<Observed> {
  const origin = new URL(url).origin
  const reports: Progress[] = []
  const options = clientOptions(s, s.fault.kind === 'cut' ? cutting(fetcher, s.fault.at) : fetcher, reports)
  const summary = (
    res: StreamResponse | undefined,
    items: unknown,
    error: unknown,
  ): Omit<Observed, 'continued'> => ({
    status: res?.status,
    headers: {
      ...Object.fromEntries(HEADERS.map((h) => [h, res?.headers.get(h) ?? null])),
      'set-cookie': res?.headers.getSetCookie().join(' | ') ?? null,
    },
    items,
    error: error === undefined ? undefined : shapeOf(error, origin),
    states: reports.map((p) => p.state).filter((state, i, all) => state !== all[i - 1]),
    totals: reports.map((p) => p.total).filter((total, i, all) => i === 0 || total !== all[i - 1]),
    final: finalReport(reports, error),
  })
  let res: StreamResponse
  try {
    res = await sluice(url, options)
  } catch (error) {
    return summary(undefined, undefined, error)
  }
  const take = UNIT_CONSUMERS.has(s.consumer) ? s.checkpointAfter : undefined
  const first = await read(res, s.consumer, take)
  if (!first.taken) return summary(res, first.items, first.error)
  let checkpoint: Checkpoint
  try {
    checkpoint = res.checkpoint()
  } catch (error) {
    await res.cancel()
    return { ...summary(res, first.items, undefined), checkpointError: shapeOf(error, origin) }
  }
  await res.cancel()
  const observed = summary(res, first.items, undefined)
  reports.length = 0
  let again: StreamResponse
  try {
    again = await sluice(url, { ...options, resumeFrom: JSON.parse(JSON.stringify(checkpoint)) })
  } catch (error) {
    return { ...observed, continued: summary(undefined, undefined, error) }
  }
  const rest = await read(again, s.consumer, undefined)
  return { ...observed, continued: summary(again, rest.items, rest.error) }
}

/**
 * What a continuation from a checkpoint saw, but for the bytes it counted when SSE events that dispatch nothing (an
 * id-only checkpoint, a retry, an event type or a comment alone) can follow an item: the checkpoint stands after
 * those the client had parsed when it was taken, which depends on how the transport chunked the body (see
 * `askedAlike`), and the continuation counts the bytes from there. Its items are the same either way.
 */
function fromCheckpointAlike(s: Scenario, seen: Observed): Observed {
  const silent = s.body.kind === 'sse' && s.body.events.some((event) => event.data === undefined)
  if (!silent || seen.continued?.final === undefined) return seen
  const { loaded: _loaded, ...final } = seen.continued.final
  return { ...seen, continued: { ...seen.continued, final } }
}

/**
 * A body longer than its declared length fails at the chunk that crosses it (the `TruncatedError` says "Delivery
 * stopped before the chunk that crossed it"), so whether a parse error in the bytes before that chunk is found
 * first depends on the transport's chunking: either error, and the items before it, are a right answer there.
 */
function comparable(s: Scenario, given: Observed): unknown {
  const seen = fromCheckpointAlike(s, given)
  if (!(s.body.kind === 'raw' && s.body.length === 'short')) return seen
  if (checkpointPastLength(s)) return { status: seen.status, headers: seen.headers }
  return overlong(seen)
}

/**
 * Whether the scenario takes a checkpoint in a body longer than its declared length: whether the reading reaches it
 * before the chunk that crosses the length (one chunk under msw, 64 KiB ones over a connection) is the chunking's to
 * decide, and so is all that follows (a continuation, its request): only the first answer is compared.
 */
const checkpointPastLength = (s: Scenario): boolean =>
  s.body.kind === 'raw' &&
  s.body.length === 'short' &&
  s.checkpointAfter !== undefined &&
  UNIT_CONSUMERS.has(s.consumer)

/** What `seen` of an overlong body read, with what the transport's chunking decides left out. */
function overlong(seen: Observed): unknown {
  if (seen.error === undefined) return seen
  const pastLength =
    seen.error.class === 'TruncatedError' && Number(seen.error.received) > Number(seen.error.expected)
  const inContent = seen.error.class === 'ParseError' || seen.error.class === 'ValidationError'
  if (!pastLength && !inContent) return seen
  const { loaded: _loaded, items: _items, ...final } = seen.final ?? {}
  return {
    ...seen,
    items: '(either)',
    error: { either: 'past the declared length, or a content error before it' },
    final,
  }
}

// ---------------------------------------------------------------------------------------------------------

let devHandler: AnyLambdaHandler | undefined
let mockHandler: AnyLambdaHandler | undefined
/** What each invocation of the running scenario was asked, per transport: the requests the client sent. */
const asked: Record<'dev' | 'mock', unknown[]> = { dev: [], mock: [] }
/** The path of the running scenario: a request for another (a late one of an earlier run) is not its own. */
let running = ''
const RESUME_HEADERS = ['range', 'if-range', 'last-event-id', 'x-sluice-cursor', 'content-type', 'x-trace']

const dispatch =
  (transport: 'dev' | 'mock', pick: () => AnyLambdaHandler | undefined): StreamingHandler =>
  (event, responseStream, context) => {
    const handler = pick()
    if (handler === undefined) throw new Error('no scenario is running')
    if (event.rawPath === running || event.rawPath.startsWith(`${running}/`))
      asked[transport].push({
        method: event.requestContext.http.method,
        rawPath: event.rawPath,
        rawQueryString: event.rawQueryString,
        queryStringParameters: event.queryStringParameters ?? null,
        cookies: event.cookies ?? null,
        headers: RESUME_HEADERS.map((name) => event.headers[name] ?? null),
        body: event.body ?? null,
        isBase64Encoded: event.isBase64Encoded,
      })
    return (handler as StreamingHandler)(event, responseStream, context)
  }

const msw = setupServer(
  functionUrl(MOCK_BASE, awslambda.streamifyResponse(dispatch('mock', () => mockHandler)), {
    limits: LIMITS,
  }),
)
/** The emulator, one for the file: each run asks it on a path of its own. */
let server: DevServer
beforeAll(async () => {
  msw.listen({ onUnhandledFrame: 'error' })
  server = await serve(awslambda.streamifyResponse(dispatch('dev', () => devHandler)), {
    limits: LIMITS,
    log: false,
  })
})
afterAll(async () => {
  msw.close()
  await server.close()
})

let runs = 0
/** Runs `s` through both transports, one after the other, each with its own handler instance. */
async function both(
  devBase: string,
  s: Scenario,
): Promise<{ dev: Observed; mock: Observed; asked: { dev: unknown[]; mock: unknown[] } }> {
  const path = `run-${runs++}${s.extra.query}`
  running = `/run-${runs - 1}`
  asked.dev = []
  asked.mock = []
  const mockServed = handlerFor(s)
  mockHandler = mockServed.handler
  let mock: Observed
  try {
    mock = await observe(s, new URL(path, MOCK_BASE).href, globalThis.fetch)
  } finally {
    mockServed.release()
  }
  const devServed = handlerFor(s)
  devHandler = devServed.handler
  let dev: Observed
  try {
    dev = await observe(s, new URL(path, devBase).href, realFetch)
  } finally {
    devServed.release()
  }
  return { dev, mock, asked: { dev: asked.dev, mock: asked.mock } }
}

/**
 * The requests a transport was asked, with a `Last-Event-ID` as the item it resumes after: the id of the last event
 * with data at or before it. Past its last item, a client may have parsed events that dispatch nothing (an id-only
 * checkpoint, a retry, an event type or a comment alone) or not yet — how far it got depends on how the transport
 * chunked the body — and so name any of their ids; from each it resumes to the same items.
 */
function askedAlike(s: Scenario, requests: unknown[]): unknown[] {
  if (checkpointPastLength(s)) return requests.slice(0, 1)
  if (s.body.kind !== 'sse') return requests
  const { events } = s.body
  const LAST_EVENT_ID = RESUME_HEADERS.indexOf('last-event-id')
  return requests.map((request) => {
    const { headers } = request as { headers: Array<string | null> }
    const id = headers[LAST_EVENT_ID]
    if (id === null || id === undefined) return request
    // Ids are the events' positions from 1.
    let at = Number(id)
    while (at > 0 && events[at - 1]?.data === undefined) at--
    return { ...(request as object), headers: headers.with(LAST_EVENT_ID, `item after event ${at}`) }
  })
}

describe('a client sees the same through functionUrl() under msw and through the serve() emulator', () => {
  it('for generated handlers, faults and consumers: status, headers, items, errors, progress and the end marker', async () => {
    let passed = 0
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { dev, mock, asked } = await both(server.url, s)
        expect(comparable(s, dev)).toEqual(comparable(s, mock))
        // Not the client's to see, but what it sent decides what it sees: the same requests reached both.
        expect(askedAlike(s, asked.dev)).toEqual(askedAlike(s, asked.mock))
        passed++
      }),
      { numRuns: NUM_RUNS },
    )
    expect(passed).toBeGreaterThanOrEqual(NUM_RUNS)
  }, 600_000)
})

describe('where the transport decides, the two differ as README says (Test kit, on functionUrl)', () => {
  /** Runs `handler` behind both and reads `path` with `read`, from the client's side. */
  async function through<T>(
    handler: AnyLambdaHandler,
    read: (url: string, fetcher: typeof fetch) => Promise<T>,
  ): Promise<{ dev: T; mock: T }> {
    mockHandler = handler
    devHandler = handler
    const path = `fixed-${runs++}`
    running = `/${path}`
    return {
      mock: await read(new URL(path, MOCK_BASE).href, globalThis.fetch),
      dev: await read(new URL(path, server.url).href, realFetch),
    }
  }

  it('gives a cut body the innermost cause `closed` under msw and `other side closed` over a connection', async () => {
    const handler = sluiceHandler(
      () => ({
        ndjson: (async function* () {
          yield { n: 1 }
          await new Promise((resolve) => setImmediate(resolve))
          throw new Error('the source failed')
        })(),
      }),
      { awslambda },
    )
    const { dev, mock } = await through(handler, async (url, fetcher) => {
      const res = await sluice(url, { fetch: fetcher, resume: false })
      const error = await (async () => {
        try {
          for await (const _ of res.ndjson());
        } catch (error) {
          return error as Error
        }
      })()
      return error?.message.replace(new URL(url).origin, '<origin>')
    })
    const message = (cause: string) =>
      `The connection to <origin>/fixed-${runs - 1} dropped after 8 bytes of the body (terminated: ${cause}); enable \`resume\` to continue such streams.`
    expect(mock).toBe(message('closed'))
    expect(dev).toBe(message('other side closed'))
  })

  it("hands the function the event's headers sorted by name under msw, in the order of the wire over a connection", async () => {
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      // The caller's header and two that undici adds after the caller's.
      const some = new Set(['x-zeta', 'accept-language', 'user-agent'])
      responseStream.end(JSON.stringify(Object.keys(event.headers).filter((name) => some.has(name))))
    })
    const { dev, mock } = await through(handler, async (url, fetcher) => {
      const res = await sluice(url, {
        fetch: fetcher,
        headers: { 'x-zeta': '1', 'x-alpha': '2', 'x-mid': '3' },
      })
      return res.collect.json()
    })
    expect(mock).toEqual(['accept-language', 'user-agent', 'x-zeta'])
    expect(dev).toEqual(['x-zeta', 'accept-language', 'user-agent'])
  })
})
