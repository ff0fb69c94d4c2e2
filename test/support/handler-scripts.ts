/**
 * Handler *scripts* for the property test of the function URLs (test/node/function-url.property.test.ts): what a
 * Lambda handler does, step by step — its head (`HttpResponseStream.from`, a content type, a prelude written by
 * hand, or none), its writes and waits, how it ends (or does not) — or what a buffered handler returns; with their
 * arbitraries, the handler each script makes, and the requests and limits to run them with.
 */
import fc from 'fast-check'
import {
  type AnyLambdaHandler,
  awslambda,
  type FunctionUrlEvent,
  type ResponseMetadata,
  type ResponseStream,
} from '../../src/runtime/index.ts'
import { concatBytes, cutAt, encode, trickyText } from './chunking.ts'
import type { TwinRequest } from './function-url-twins.ts'

/** The content type under which a body starts with a prelude (DESIGN: platform facts). */
export const PRELUDE_TYPE = 'application/vnd.awslambda.http-integration-response'

/** What one write hands the response stream. */
export type Piece = string | Uint8Array

export type Step = { do: 'write'; piece: Piece } | { do: 'wait'; how: 'tick' | 'immediate' | 'timer' }

/** How the handler starts its response. */
export type Head =
  | { kind: 'none' }
  | { kind: 'content-type'; value: string }
  | { kind: 'from'; metadata: ResponseMetadata }
  /**
   * The prelude written by hand, under the prelude content type: `text` and 8 NULs, cut at `cuts`, the last
   * piece written together with the first bytes of the body, `glued`.
   */
  | { kind: 'manual'; text: string; cuts: number[]; glued: Uint8Array }

export type Ending =
  | 'end'
  | 'end-chunk'
  /** Returns without ending the stream. */
  | 'return'
  /** Never returns, never ends. */
  | 'hang'
  /** Ends the stream, never returns. */
  | 'end-hang'
  /** Rejects the returned promise, or throws when the script is synchronous. */
  | 'throw'
  | 'destroy'
  | 'destroy-error'
  | 'end-write'
  | 'end-throw'
  /** Calls HttpResponseStream.from only now, then ends: a throw when something was written already. */
  | 'late-from'

export interface StreamScript {
  type: 'stream'
  head: Head
  steps: Step[]
  ending: Ending
  /**
   * A plain function that does everything at once, without the waits, and returns nothing (a promise that never
   * settles for `hang` and `end-hang`; a throw for `throw`), rather than an async one.
   */
  sync: boolean
  /** The chunk of `end-chunk` and `end-write`. */
  last: Piece
}

export type BufferedResult =
  | { kind: 'value'; value: unknown }
  | {
      kind: 'described'
      result: {
        statusCode?: unknown
        headers?: Record<string, unknown>
        cookies?: unknown[]
        body?: unknown
        isBase64Encoded?: boolean
      }
    }
  | { kind: 'bigint' }
  | { kind: 'cycle' }
  | { kind: 'throw' }

export interface BufferedScript {
  type: 'buffered'
  result: BufferedResult
  /** Whether the handler waits a timer before answering. */
  wait: boolean
  /** An async function, a plain one returning its result (or throwing), or one answering through its callback. */
  style: 'async' | 'sync' | 'callback'
}

export type Script = StreamScript | BufferedScript

export const FAILURE = 'the script failed here'

// ---------------------------------------------------------------------------------------------------------
// Arbitraries

const piece: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 4, arbitrary: trickyText },
  { weight: 1, arbitrary: fc.constantFrom('', new Uint8Array(0)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  // The delimiter inside the body: only the first run of 8 NULs ends the prelude.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat({ max: 4 }), fc.nat({ max: 4 }))
      .map(([before, after]) => new Uint8Array(before + 8 + after).fill(0x61, 0, before)),
  },
  // Big enough to cross a small maxResponseBytes in a few writes.
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 1500 }).map((n) => 'x'.repeat(n)) },
  // Bigger than the queue behind the response stream (16 KiB): later writes wait in the stream's own buffer.
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 16_000, max: 40_000 })
      .map((n) => Object.assign(new Uint8Array(n).fill(0x62), { [fc.toStringMethod]: () => `<${n} × 'b'>` })),
  },
)

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: piece.map((p): Step => ({ do: 'write', piece: p })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('tick', 'immediate', 'timer').map((how): Step => ({ do: 'wait', how })),
  },
)

const statusCode = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(200, 201, 202, 204, 206, 299, 301, 304, 400, 404, 418, 500, 502, 503, 599),
  },
  { weight: 1, arbitrary: fc.constantFrom(100, 101, 103, 199, 600, 999, 0, -200, 200.5, Number.NaN) },
)

const headerName = fc.constantFrom(
  'X-Custom',
  'x-custom',
  'X-CUSTOM',
  'Content-Type',
  'content-type',
  'Content-Length',
  'content-length',
  'Content-Encoding',
  'Transfer-Encoding',
  'Connection',
  'Keep-Alive',
  'Set-Cookie',
  'Cache-Control',
  'Vary',
  'x-odd_name.1',
  'x-amzn-requestid',
  'Date',
  'bad name',
  '',
  'x-é',
)

const headerValue = fc.oneof(
  fc.constantFrom(
    'text/plain',
    'application/x-ndjson',
    'a, b',
    '  padded  ',
    '',
    'é',
    '€',
    'a\nb',
    'a\tb',
    '0',
    '12',
    'gzip',
    'chunked',
    'close',
    'Wed, 21 Oct 2015 07:28:00 GMT',
  ),
  fc.constantFrom(7, true),
)

const cookie = fc.constantFrom('a=1', 'b=2; Path=/; HttpOnly', 'c=é', 'd=\r\n', '', 'e=1, f=2')

const metadata: fc.Arbitrary<ResponseMetadata> = fc
  .record(
    {
      statusCode,
      headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }),
      cookies: fc.array(cookie, { maxLength: 3 }),
    },
    { requiredKeys: [] },
  )
  .map(({ statusCode, headers, cookies }) => {
    const out: ResponseMetadata = {}
    if (statusCode !== undefined) out.statusCode = statusCode
    if (headers !== undefined) out.headers = Object.fromEntries(headers) as Record<string, string>
    if (cookies !== undefined) out.cookies = cookies
    return out
  })

const head: fc.Arbitrary<Head> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Head>({ kind: 'none' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('text/plain', 'application/json; charset=utf-8', '', 'a\nb', 'x/é')
      .map((value): Head => ({ kind: 'content-type', value })),
  },
  { weight: 4, arbitrary: metadata.map((m): Head => ({ kind: 'from', metadata: m })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 4, arbitrary: metadata.map((m) => JSON.stringify(m)) },
          {
            weight: 1,
            arbitrary: fc.constantFrom('', 'not json', '[1]', '{"headers":[]}', '{"cookies":[1]}'),
          },
        ),
        fc.array(fc.nat({ max: 400 }), { maxLength: 4 }),
        fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 1, maxLength: 12 })),
      )
      .map(([text, cuts, glued]): Head => ({ kind: 'manual', text, cuts, glued })),
  },
)

const ending: fc.Arbitrary<Ending> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom<Ending>('end', 'end-chunk') },
  // Each waits for the timeout (300 ms) in both transports: fewer of them.
  { weight: 2, arbitrary: fc.constantFrom<Ending>('return', 'hang', 'end-hang') },
  {
    weight: 5,
    arbitrary: fc.constantFrom<Ending>(
      'throw',
      'destroy',
      'destroy-error',
      'end-write',
      'end-throw',
      'late-from',
    ),
  },
)

const streamScript: fc.Arbitrary<StreamScript> = fc.record({
  type: fc.constant('stream' as const),
  head,
  steps: fc.array(step, { maxLength: 8 }),
  ending,
  sync: fc.boolean(),
  last: piece,
})

const headerRecord = fc
  .array(fc.tuple(headerName, headerValue), { maxLength: 4 })
  .map((pairs) => Object.fromEntries(pairs) as Record<string, unknown>)

const bufferedResult: fc.Arbitrary<BufferedResult> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        trickyText,
        fc.jsonValue({ maxDepth: 2 }),
        fc.constant(undefined),
        fc.constant({ headers: { 'x-a': '1' }, body: 'not a response description' }),
      )
      .map((value): BufferedResult => ({ kind: 'value', value })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          statusCode,
          headers: headerRecord,
          cookies: fc.array(cookie, { maxLength: 2 }),
          body: fc.oneof(trickyText, fc.constant(undefined)),
          isBase64Encoded: fc.boolean(),
        },
        { requiredKeys: ['statusCode'] },
      )
      .map((result): BufferedResult => {
        const described = { ...result }
        // A base64 body is base64 of something: encode the text so that the flag makes sense.
        if (described.isBase64Encoded === true && typeof described.body === 'string') {
          described.body = btoa(String.fromCharCode(...encode(described.body)))
        }
        return { kind: 'described', result: described }
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<BufferedResult>({ kind: 'bigint' }, { kind: 'cycle' }, { kind: 'throw' }),
  },
)

const bufferedScript: fc.Arbitrary<BufferedScript> = fc.record({
  type: fc.constant('buffered' as const),
  result: bufferedResult,
  wait: fc.boolean(),
  style: fc.constantFrom('async', 'sync', 'callback'),
})

export const script: fc.Arbitrary<Script> = fc.oneof(
  { weight: 4, arbitrary: streamScript },
  { weight: 1, arbitrary: bufferedScript },
)

const pathSegment = fc.constantFrom('report', 'a%20b', '%C3%A9', 'é', '~user', 'x.y', '', ';p=1', 'A-Z_0')
const queryPair = fc.constantFrom(
  'a=1',
  'a=2',
  'b=',
  'c=x%20y',
  'd=x+y',
  'constructor=z',
  'e=%C3%A9',
  'f=a=b',
  'g',
)

const requestHeader = fc.constantFrom<[string, string]>(
  ['X-Trace', 'abc'],
  ['x-trace', 'def'],
  ['X-Empty', ''],
  ['Cookie', 'a=1; b=2'],
  ['X-Forwarded-For', '203.0.113.7'],
  ['X-Odd-CASE', 'Value With Spaces'],
  ['x-latin', 'é'],
  ['Accept', 'application/x-ndjson'],
)

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'text'; text: string; contentType: string | undefined }
  | { kind: 'bytes'; bytes: Uint8Array; contentType: string | undefined; cuts: number[] | undefined }

const requestBody: fc.Arbitrary<RequestBody> = fc.oneof(
  fc.constant<RequestBody>({ kind: 'none' }),
  fc
    .tuple(
      trickyText,
      fc.constantFrom(undefined, 'text/plain', 'application/json', 'application/octet-stream'),
    )
    .map(([text, contentType]): RequestBody => ({ kind: 'text', text, contentType })),
  fc
    .tuple(
      fc.uint8Array({ maxLength: 120 }),
      fc.constantFrom(undefined, 'application/octet-stream', 'image/png', 'text/plain'),
    )
    .chain(([bytes, contentType]) =>
      // With cuts, the body streams (chunked transfer encoding), cut there.
      fc
        .option(fc.array(fc.nat({ max: 120 }), { maxLength: 3 }), { nil: undefined })
        .map((cuts): RequestBody => ({ kind: 'bytes', bytes, contentType, cuts })),
    ),
)

export interface RequestSpec {
  method: string
  segments: string[]
  query: string[] | undefined
  headers: Array<[string, string]>
  body: RequestBody
  /** The client cancels the body after this many bytes of it. */
  cancelAfter: number | undefined
}

export const request: fc.Arbitrary<RequestSpec> = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    segments: fc.array(pathSegment, { maxLength: 3 }),
    query: fc.option(fc.array(queryPair, { maxLength: 4 }), { nil: undefined }),
    headers: fc.array(requestHeader, { maxLength: 4 }),
    body: requestBody,
    cancelAfter: fc.option(fc.nat({ max: 2000 }), { nil: undefined, freq: 5 }),
  })
  // fetch refuses a body on GET and HEAD.
  .map((spec) =>
    spec.method === 'GET' || spec.method === 'HEAD' ? { ...spec, body: { kind: 'none' } as const } : spec,
  )

export interface LimitSpec {
  maxResponseBytes: number | undefined
  maxRequestBytes: number | undefined
  maxBufferedResponseBytes: number | undefined
  /** A burst this small, then a rate fast enough for a test: shaping changes when bytes go, never which. */
  shapingBurst: number | undefined
}

export const limitSpec: fc.Arbitrary<LimitSpec> = fc.record({
  maxResponseBytes: fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined, freq: 3 }),
  // Under any event's size as JSON: a cap picked here refuses every request (limits.maxRequestBytes).
  maxRequestBytes: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined, freq: 3 }),
  maxBufferedResponseBytes: fc.option(fc.integer({ min: 2, max: 300 }), { nil: undefined, freq: 3 }),
  shapingBurst: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined, freq: 4 }),
})

// ---------------------------------------------------------------------------------------------------------
// The handler a script makes

function failure(): Error {
  return new Error(FAILURE)
}

async function wait(how: 'tick' | 'immediate' | 'timer'): Promise<void> {
  if (how === 'tick') await null
  else if (how === 'immediate') await new Promise((resolve) => setImmediate(resolve))
  else await new Promise((resolve) => setTimeout(resolve, 1))
}

/** The writes of a prelude written by hand (see {@link Head}). */
export function manualPieces(head: Extract<Head, { kind: 'manual' }>): Uint8Array[] {
  const whole = concatBytes([encode(head.text), new Uint8Array(8), head.glued])
  const preludeLength = whole.length - head.glued.length
  // Cuts fall before the prelude's last byte, so the glued bytes share a write with it.
  return cutAt(
    whole,
    head.cuts.map((cut) => cut % preludeLength),
  )
}

/** A handler that performs `script`, recording every event it is given in `events`. */
export function handlerOf(script: Script, events: FunctionUrlEvent[]): AnyLambdaHandler {
  if (script.type === 'buffered') return bufferedHandler(script, events)
  return awslambda.streamifyResponse((event, original) => {
    events.push(event)
    let stream: ResponseStream = original
    const { head, steps, ending, last } = script
    if (head.kind === 'content-type') stream.setContentType(head.value)
    if (head.kind === 'from') stream = awslambda.HttpResponseStream.from(stream, head.metadata)
    if (head.kind === 'manual') {
      stream.setContentType(PRELUDE_TYPE)
      for (const part of manualPieces(head)) stream.write(part)
    }
    const finish = (): Promise<never> | undefined => {
      switch (ending) {
        case 'end':
          stream.end()
          return
        case 'end-chunk':
          stream.end(last)
          return
        case 'return':
          return
        case 'hang':
          return new Promise<never>(() => {})
        case 'end-hang':
          stream.end()
          return new Promise<never>(() => {})
        case 'throw':
          throw failure()
        case 'destroy':
          stream.destroy()
          return
        case 'destroy-error':
          stream.destroy(failure())
          return
        case 'end-write':
          stream.end()
          stream.write(last)
          return
        case 'end-throw':
          stream.end()
          throw failure()
        case 'late-from':
          awslambda.HttpResponseStream.from(stream, { statusCode: 201 }).end()
          return
      }
    }
    if (script.sync) {
      for (const s of steps) if (s.do === 'write') stream.write(s.piece)
      return finish()
    }
    return (async () => {
      for (const s of steps) {
        if (s.do === 'write') stream.write(s.piece)
        else await wait(s.how)
      }
      await finish()
    })()
  })
}

function bufferedHandler(script: BufferedScript, events: FunctionUrlEvent[]): AnyLambdaHandler {
  const { result } = script
  const answer = (): unknown => {
    if (result.kind === 'throw') throw failure()
    if (result.kind === 'bigint') return { value: 1n }
    if (result.kind === 'cycle') {
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      return cycle
    }
    return result.kind === 'value' ? result.value : result.result
  }
  if (script.style === 'sync') {
    return (event: FunctionUrlEvent) => {
      events.push(event)
      return answer()
    }
  }
  if (script.style === 'callback') {
    return (
      event: FunctionUrlEvent,
      _context: unknown,
      callback: (error: unknown, result?: unknown) => void,
    ) => {
      events.push(event)
      const respond = () => {
        let value: unknown
        try {
          value = answer()
        } catch (error) {
          callback(error)
          return
        }
        callback(null, value)
      }
      if (script.wait) setTimeout(respond, 1)
      else respond()
    }
  }
  return async (event: FunctionUrlEvent) => {
    events.push(event)
    if (script.wait) await wait('timer')
    return answer()
  }
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export function twinRequest(spec: RequestSpec): TwinRequest {
  // './' keeps a path that starts with '//' below the function URL (not a URL of another host).
  const path = `./${spec.segments.join('/')}${spec.query ? `?${spec.query.join('&')}` : ''}`
  const headers: Array<[string, string]> = [
    // Set, so that fetch adds none of its own defaults for them.
    ['user-agent', 'sluice-property'],
    ['accept-language', '*'],
    ['accept-encoding', 'identity'],
    ...spec.headers,
  ]
  let body: TwinRequest['body']
  if (spec.body.kind === 'text') body = spec.body.text
  if (spec.body.kind === 'bytes') {
    const { bytes, cuts } = spec.body
    body = cuts === undefined ? bytes : cutAt(bytes, cuts)
  }
  if (spec.body.kind !== 'none' && spec.body.contentType)
    headers.push(['content-type', spec.body.contentType])
  return { method: spec.method, path, headers, body, cancelAfter: spec.cancelAfter }
}
