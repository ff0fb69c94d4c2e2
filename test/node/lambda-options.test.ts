/**
 * The helpers check their options when called, before anything is written: options often come from configuration
 * (environment variables are strings) or from untyped JavaScript, and a misspelt name or a string where a number
 * belongs would otherwise be ignored, or read as "off", without a sign.
 */
import { describe, expect, it } from 'vitest'
import type { Context, LambdaFunctionUrlEvent } from '../../src/lambda/index.ts'
import {
  formatSseEvent,
  sluiceHandler,
  streamBytes,
  streamNdjson,
  streamSse,
} from '../../src/lambda/index.ts'
import { marker, request, setup } from './lambda-recorder.ts'

type Helper = 'streamNdjson' | 'streamSse' | 'streamBytes'

const NDJSON_KNOWN =
  'statusCode, headers, cookies, request, awslambda, onRefusal, length, etag, range, cursorParam, cursorHeader, padding'
const SSE_KNOWN =
  'statusCode, headers, cookies, request, awslambda, onRefusal, cursorParam, cursorHeader, heartbeatMs, retry, padding'
const BYTES_KNOWN = 'statusCode, headers, cookies, request, awslambda, onRefusal, length, etag, range'
const CALLBACK_NDJSON_KNOWN =
  'statusCode, headers, cookies, onRefusal, length, etag, range, cursorParam, cursorHeader, padding'

const HEADERS =
  'a Headers object, an array of [name, value] pairs of strings, or an object of header names to strings'
const HEARTBEAT = 'a number of milliseconds from 0 (no heartbeat) to 2147483647'
const WHOLE_MS = 'a non-negative whole number of milliseconds'
const LENGTH = "the body's size in bytes, a non-negative whole number"
const PADDING_BYTES = 'a whole number of bytes from 1 to 1048576'
const IDLE = 'a number of milliseconds above 0, up to 2147483647'

/** Helper, options (the fake awslambda is added unless they set their own), and the whole message after the prefix. */
const BAD: [Helper, Record<string, unknown>, string][] = [
  // Unknown names, with the likely one when it is near.
  [
    'streamNdjson',
    { etg: '"v1"' },
    `an unknown option 'etg'. Did you mean 'etag'? Known options: ${NDJSON_KNOWN}.`,
  ],
  [
    'streamNdjson',
    { lenght: 5 },
    `an unknown option 'lenght'. Did you mean 'length'? Known options: ${NDJSON_KNOWN}.`,
  ],
  [
    'streamNdjson',
    { StatusCode: 201 },
    `an unknown option 'StatusCode'. Did you mean 'statusCode'? Known options: ${NDJSON_KNOWN}.`,
  ],
  [
    'streamBytes',
    { ETAG: '"v1"' },
    `an unknown option 'ETAG'. Did you mean 'etag'? Known options: ${BYTES_KNOWN}.`,
  ],
  [
    'streamBytes',
    { cokeis: ['a=1'] },
    `an unknown option 'cokeis'. Did you mean 'cookies'? Known options: ${BYTES_KNOWN}.`,
  ],
  ['streamNdjson', { cursor: 'x' }, `an unknown option 'cursor'. Known options: ${NDJSON_KNOWN}.`],
  ['streamNdjson', { constructor: 1 }, `an unknown option 'constructor'. Known options: ${NDJSON_KNOWN}.`],
  [
    'streamSse',
    { heartbeat: 100 },
    `an unknown option 'heartbeat'. Did you mean 'heartbeatMs'? Known options: ${SSE_KNOWN}.`,
  ],
  // Names of another helper's options say whose they are.
  [
    'streamNdjson',
    { heartbeatMs: 100 },
    `an unknown option 'heartbeatMs'. heartbeatMs is an option of streamSse only. Known options: ${NDJSON_KNOWN}.`,
  ],
  [
    'streamSse',
    { length: 5 },
    `an unknown option 'length'. length is an option of streamNdjson and streamBytes only. Known options: ${SSE_KNOWN}.`,
  ],
  [
    'streamSse',
    { etag: '"v1"' },
    `an unknown option 'etag'. etag is an option of streamNdjson and streamBytes only. Known options: ${SSE_KNOWN}.`,
  ],
  [
    'streamBytes',
    { padding: true },
    `an unknown option 'padding'. padding is an option of streamNdjson and streamSse only. Known options: ${BYTES_KNOWN}.`,
  ],
  [
    'streamBytes',
    { cursorParam: 'after' },
    `an unknown option 'cursorParam'. cursorParam is an option of streamNdjson and streamSse only. Known options: ${BYTES_KNOWN}.`,
  ],
  // Values of the wrong type, or out of range, shown as they are (a string quoted).
  ['streamNdjson', { statusCode: '201' }, '"201" for statusCode; pass a whole number from 200 to 599.'],
  ['streamSse', { statusCode: 199 }, '199 for statusCode; pass a whole number from 200 to 599.'],
  ['streamBytes', { statusCode: 200.5 }, '200.5 for statusCode; pass a whole number from 200 to 599.'],
  ['streamNdjson', { headers: 'x-a: 1' }, `"x-a: 1" for headers; pass ${HEADERS}.`],
  ['streamNdjson', { headers: { 'x-n': 5 } }, `an object (Object) for headers; pass ${HEADERS}.`],
  ['streamBytes', { headers: [['x-a']] }, `an array for headers; pass ${HEADERS}.`],
  ['streamNdjson', { cookies: 'a=1' }, '"a=1" for cookies; pass an array of Set-Cookie strings.'],
  ['streamSse', { cookies: [1] }, 'an array for cookies; pass an array of Set-Cookie strings.'],
  [
    'streamNdjson',
    { request: 'GET /' },
    '"GET /" for request; pass the function-URL event (an object with headers).',
  ],
  [
    'streamSse',
    { request: { rawQueryString: 'cursor=1' } },
    'an object (Object) for request; pass the function-URL event (an object with headers).',
  ],
  [
    'streamBytes',
    { request: null },
    'null for request; pass the function-URL event (an object with headers).',
  ],
  // A web Request (what sluice/mock's request option takes) has headers the helpers cannot read as the event's,
  // and no rawQueryString: its Range, Last-Event-ID and cursor would be ignored without a sign.
  [
    'streamNdjson',
    { request: new Request('https://fn.test/?cursor=1', { headers: { range: 'bytes=1-' } }) },
    'an object (Request) for request; pass the function-URL event (an object with headers).',
  ],
  [
    'streamSse',
    { request: { headers: new Headers({ 'last-event-id': '7' }) } },
    'an object (Object) for request; pass the function-URL event (an object with headers).',
  ],
  [
    'streamNdjson',
    { awslambda: {} },
    'an object (Object) for awslambda; pass the awslambda object (with HttpResponseStream.from), or leave it out.',
  ],
  [
    'streamSse',
    { awslambda: null },
    'null for awslambda; pass the awslambda object (with HttpResponseStream.from), or leave it out.',
  ],
  [
    'streamNdjson',
    { onRefusal: true },
    'true for onRefusal; pass a function that takes the refusal report, or false.',
  ],
  [
    'streamBytes',
    { onRefusal: 'warn' },
    '"warn" for onRefusal; pass a function that takes the refusal report, or false.',
  ],
  ['streamNdjson', { length: '10' }, `"10" for length; pass ${LENGTH}.`],
  ['streamBytes', { length: -1 }, `-1 for length; pass ${LENGTH}.`],
  ['streamBytes', { length: 1.5 }, `1.5 for length; pass ${LENGTH}.`],
  ['streamNdjson', { length: Number.NaN }, `NaN for length; pass ${LENGTH}.`],
  ['streamNdjson', { etag: 5 }, '5 for etag; pass a string (quotes are added when missing).'],
  ['streamBytes', { range: 'yes' }, '"yes" for range; pass true or false.'],
  ['streamNdjson', { range: 1 }, '1 for range; pass true or false.'],
  [
    'streamNdjson',
    { cursorParam: '' },
    '"" for cursorParam; pass a query parameter name, a non-empty string.',
  ],
  ['streamSse', { cursorParam: 5 }, '5 for cursorParam; pass a query parameter name, a non-empty string.'],
  [
    'streamNdjson',
    { cursorHeader: 'x cursor' },
    '"x cursor" for cursorHeader; pass a header name, such as "x-sluice-cursor".',
  ],
  ['streamSse', { heartbeatMs: '300' }, `"300" for heartbeatMs; pass ${HEARTBEAT}.`],
  ['streamSse', { heartbeatMs: -1 }, `-1 for heartbeatMs; pass ${HEARTBEAT}.`],
  ['streamSse', { heartbeatMs: Number.NaN }, `NaN for heartbeatMs; pass ${HEARTBEAT}.`],
  ['streamSse', { heartbeatMs: Number.POSITIVE_INFINITY }, `Infinity for heartbeatMs; pass ${HEARTBEAT}.`],
  ['streamSse', { heartbeatMs: 3_000_000_000 }, `3000000000 for heartbeatMs; pass ${HEARTBEAT}.`],
  ['streamSse', { retry: '2000' }, `"2000" for retry; pass ${WHOLE_MS}.`],
  ['streamSse', { retry: -1 }, `-1 for retry; pass ${WHOLE_MS}.`],
  ['streamSse', { retry: 2.5 }, `2.5 for retry; pass ${WHOLE_MS}.`],
  ['streamNdjson', { padding: 'yes' }, '"yes" for padding; pass true, false, or { bytes, idleMs }.'],
  ['streamSse', { padding: 1 }, '1 for padding; pass true, false, or { bytes, idleMs }.'],
  ['streamNdjson', { padding: { bytes: '16384' } }, `"16384" for padding.bytes; pass ${PADDING_BYTES}.`],
  ['streamSse', { padding: { bytes: 0 } }, `0 for padding.bytes; pass ${PADDING_BYTES}.`],
  ['streamSse', { padding: { bytes: 2_000_000 } }, `2000000 for padding.bytes; pass ${PADDING_BYTES}.`],
  ['streamNdjson', { padding: { idleMs: 0 } }, `0 for padding.idleMs; pass ${IDLE}.`],
  ['streamSse', { padding: { idleMs: '50' } }, `"50" for padding.idleMs; pass ${IDLE}.`],
  [
    'streamNdjson',
    { padding: { idlems: 20 } },
    "an unknown option 'padding.idlems'. Did you mean 'padding.idleMs'? Known options: padding.bytes, padding.idleMs.",
  ],
]

function call(
  helper: Helper,
  options: unknown,
): { done: Promise<void>; preludes: unknown[]; text: () => string } {
  const { stream, awslambda, preludes } = setup()
  const given =
    typeof options === 'object' && options !== null && !Array.isArray(options) && !('awslambda' in options)
      ? { awslambda, ...options }
      : options
  const done =
    helper === 'streamNdjson'
      ? streamNdjson(stream, [1], given as never)
      : helper === 'streamSse'
        ? streamSse(stream, ['a'], given as never)
        : streamBytes(stream, 'x', given as never)
  return { done, preludes, text: () => stream.text }
}

const context = {} as Context
const event = (): LambdaFunctionUrlEvent => request() as LambdaFunctionUrlEvent

describe('the helpers reject a bad option with a TypeError that names the helper, the option and the value', () => {
  it.each(BAD)('%s %o', async (helper, options, message) => {
    const { done, preludes, text } = call(helper, options)
    const error = await done.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe(`sluice/lambda: ${helper} got ${message}`)
    // Before anything is written: the invocation fails, and the function URL answers with an error status.
    expect(preludes).toEqual([])
    expect(text()).toBe('')
  })

  // The slip of passing the event where the options go used to be named as an unknown option 'version'.
  it.each(['streamNdjson', 'streamSse', 'streamBytes'] as const)(
    '%s says so when given the event as its options',
    async (helper) => {
      const given = {
        version: '2.0',
        rawPath: '/',
        rawQueryString: '',
        headers: {},
        requestContext: { http: { method: 'GET' } },
      }
      const error = await call(helper, given).done.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TypeError)
      expect((error as TypeError).message).toBe(
        `sluice/lambda: ${helper} got the function-URL event as its options; pass it as { request: event }, beside the other options.`,
      )
    },
  )

  it.each([
    ['streamNdjson', 'a string', '"x"'],
    ['streamSse', 'null', 'null'],
    ['streamBytes', 'an array', 'an array'],
  ] as const)('%s rejects options that are %s', async (helper, _, shown) => {
    const value = shown === 'null' ? null : shown === 'an array' ? [] : 'x'
    const error = await call(helper, value).done.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe(
      `sluice/lambda: ${helper} got options ${shown}; pass an object, or leave them out.`,
    )
  })
})

describe('a cookie or header value that HTTP cannot carry is refused at the call, not answered 502 later', () => {
  const UNSENDABLE = 'CR, LF or another character that HTTP headers cannot carry'
  const ADVICE = 'remove the character, or encode the value (such as with encodeURIComponent).'
  it.each([
    [
      'streamNdjson',
      'a cookie with CR LF',
      { cookies: ['a=1\r\nx-injected: 1'] },
      `cookie "a=1\\r\\nx-injected: 1" has ${UNSENDABLE}`,
    ],
    ['streamSse', 'a cookie with NUL', { cookies: ['ok=1', 'a=\0'] }, `cookie "a=\\u0000" has ${UNSENDABLE}`],
    [
      'streamBytes',
      'a cookie with ESC',
      { cookies: ['a=\x1b[2J'] },
      `cookie "a=\\u001b[2J" has ${UNSENDABLE}`,
    ],
    // `Headers` takes these (it refuses CR, LF and NUL only), the runtime does not.
    [
      'streamNdjson',
      'a header value with ESC',
      { headers: { 'x-a': 'a\x1b[2Jb' } },
      `header "x-a" has a value with ${UNSENDABLE}`,
    ],
    [
      'streamBytes',
      'a set-cookie header with SOH',
      { headers: [['set-cookie', 'a=\x01']] },
      `cookie "a=\\u0001" has ${UNSENDABLE}`,
    ],
  ] as const)('%s: %s', async (helper, _, options, problem) => {
    const { done, preludes, text } = call(helper, options)
    const error = await done.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe(
      `sluice/lambda: ${helper} cannot send its response: ${problem}; ${ADVICE}`,
    )
    expect(preludes).toEqual([])
    expect(text()).toBe('')
  })

  it('in a sluiceHandler callback result too', async () => {
    const { stream, awslambda, preludes } = setup()
    const handler = sluiceHandler(() => ({ ndjson: [1], cookies: ['a=1\nb'] }), { awslambda })
    const error = await Promise.resolve(handler(event(), stream, context)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe(
      `sluice/lambda: streamNdjson cannot send its response: cookie "a=1\\nb" has ${UNSENDABLE}; ${ADVICE}`,
    )
    expect(preludes).toEqual([])
  })
})

describe("an event's retry field", () => {
  it('shows a string as a string: a TypeError, where a number out of range is a RangeError', () => {
    expect(() => formatSseEvent({ data: 'x', retry: '2000' as never })).toThrow(
      new TypeError(
        'sluice/lambda: streamSse got an event with retry "2000"; pass a non-negative whole number of milliseconds.',
      ),
    )
    expect(() => formatSseEvent({ data: 'x', retry: -1 })).toThrow(
      new RangeError(
        'sluice/lambda: streamSse got an event with retry -1; pass a non-negative whole number of milliseconds.',
      ),
    )
  })
})

describe('the helpers accept every documented option', () => {
  it('streamNdjson takes all its options at once, and undefined for any', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamNdjson(stream, [1], {
      statusCode: 201,
      headers: new Headers({ 'x-a': '1' }),
      cookies: ['a=1'],
      request: { headers: {}, rawQueryString: '', queryStringParameters: {} },
      awslambda,
      onRefusal: () => {},
      length: 2,
      etag: 'v1',
      range: true,
      cursorParam: 'after',
      cursorHeader: 'x-after',
      padding: false,
    })
    expect(stream.text).toBe('1\n')
    expect(preludes[0]?.statusCode).toBe(201)
    // From JavaScript, an option set to undefined is one left out.
    const all = setup()
    const untyped: Record<string, unknown> = {
      awslambda: all.awslambda,
      headers: [['x-a', '1']],
      onRefusal: undefined,
      statusCode: undefined,
      length: undefined,
      etag: undefined,
      padding: { bytes: undefined, idleMs: 20 },
    }
    await streamNdjson(all.stream, [1], untyped)
    expect(all.stream.text).toBe(`1\n${marker(2)}`)
  })

  it('streamSse takes all its options at once; heartbeatMs: 0 still disables heartbeats', async () => {
    const { stream, awslambda } = setup()
    await streamSse(stream, ['a'], {
      statusCode: 200,
      headers: { 'x-a': '1' },
      cookies: [],
      request: request(),
      awslambda,
      onRefusal: false,
      cursorParam: 'after',
      cursorHeader: 'x-after',
      heartbeatMs: 0,
      retry: 0,
      padding: true,
    })
    expect(stream.text).toBe(`retry: 0\n\ndata: a\n\n${marker(19)}`)
  })

  it('streamBytes takes all its options at once', async () => {
    const { stream, awslambda } = setup()
    await streamBytes(stream, 'xy', {
      statusCode: 200,
      headers: { 'content-type': 'text/plain' },
      cookies: ['a=1'],
      request: request({ range: 'bytes=1-' }),
      awslambda,
      onRefusal: () => {},
      length: 2,
      etag: '"v1"',
      range: true,
    })
    expect(stream.text).toBe('y')
  })

  it('reads a request field or header value given as undefined as absent, as RequestLike types it', async () => {
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, 'xy', {
      // A header map built by hand, or typed as @types/aws-lambda types it: the Range given is the second one.
      request: {
        headers: { Range: undefined, RANGE: 'bytes=1-' },
        rawQueryString: undefined,
        queryStringParameters: undefined,
        requestContext: undefined,
      },
      awslambda,
      length: 2,
      range: true,
    })
    expect(preludes[0]?.statusCode).toBe(206)
    expect(stream.text).toBe('y')
  })
})

describe('sluiceHandler checks its own options at once, and a result before its body is written', () => {
  it.each([
    [{ hwm: 1024 }, "an unknown option 'hwm'. Known options: awslambda, highWaterMark."],
    [{ highWaterMark: '1024' }, '"1024" for highWaterMark; pass a positive whole number of bytes.'],
    [{ highWaterMark: 0 }, '0 for highWaterMark; pass a positive whole number of bytes.'],
    [
      { awslambda: { HttpResponseStream: { from: () => {} } } },
      'an object (Object) for awslambda; pass the awslambda object (with streamifyResponse and HttpResponseStream.from), or leave it out.',
    ],
  ])('sluiceHandler %o', (options, message) => {
    const { awslambda } = setup()
    expect(() => sluiceHandler(() => ({ bytes: '' }), { awslambda, ...options } as never)).toThrow(
      new TypeError(`sluice/lambda: sluiceHandler got ${message}`),
    )
  })

  // The commonest slip is the result itself in place of the callback: it used to fail each invocation with
  // "respond is not a function", naming neither sluiceHandler nor the fix.
  it.each([
    [{ ndjson: [{ n: 1 }] }, 'an object (Object)'],
    [undefined, 'undefined'],
  ])('sluiceHandler(%o) in place of a callback', (respond, got) => {
    const { awslambda } = setup()
    expect(() => sluiceHandler(respond as never, { awslambda })).toThrow(
      new TypeError(
        `sluice/lambda: sluiceHandler got ${got} for its callback; pass a function of the event that returns the body and its options, such as (event) => ({ ndjson: rows }).`,
      ),
    )
  })

  it.each([
    [
      { ndjson: [], etg: 'x' },
      `an unknown option 'etg'. Did you mean 'etag'? Known options: ${CALLBACK_NDJSON_KNOWN}.`,
    ],
    [
      { ndjson: [], request: {} },
      `an unknown option 'request'. sluiceHandler fills in request (the event) and awslambda (from its own options): leave it out of the result. Known options: ${CALLBACK_NDJSON_KNOWN}.`,
    ],
    [
      { bytes: 'x', padding: true },
      "an unknown option 'padding'. padding goes with ndjson or sse only. Known options: statusCode, headers, cookies, onRefusal, length, etag, range.",
    ],
    [
      { ndjson: [], heartbeatMs: 100 },
      `an unknown option 'heartbeatMs'. heartbeatMs goes with sse only. Known options: ${CALLBACK_NDJSON_KNOWN}.`,
    ],
    [{ sse: [], heartbeatMs: '300' }, `"300" for heartbeatMs; pass ${HEARTBEAT}.`],
    [{ sse: [], padding: { idleMs: -5 } }, `-5 for padding.idleMs; pass ${IDLE}.`],
  ])('a callback result %o', async (result, message) => {
    const { stream, awslambda, preludes } = setup()
    const handler = sluiceHandler(() => result as never, { awslambda })
    const error = await Promise.resolve(handler(event(), stream, context)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe(`sluice/lambda: the sluiceHandler callback returned ${message}`)
    expect(preludes).toEqual([])
  })

  it('takes a result whose other bodies are undefined', async () => {
    const { stream, awslambda } = setup()
    const handler = sluiceHandler(() => ({ ndjson: [1], sse: undefined, bytes: undefined }) as never, {
      awslambda,
    })
    await handler(event(), stream, context)
    expect(stream.text).toBe(`1\n${marker(2)}`)
  })

  it('takes a result with its body and every option of that body', async () => {
    const { stream, awslambda } = setup()
    const handler = sluiceHandler(
      () => ({
        sse: ['a'],
        statusCode: 200,
        headers: { 'x-a': '1' },
        cookies: ['a=1'],
        onRefusal: false as const,
        cursorParam: 'after',
        cursorHeader: 'x-after',
        heartbeatMs: 0,
        retry: 1000,
        padding: { bytes: 1024, idleMs: 20 },
      }),
      { awslambda, highWaterMark: 1024 },
    )
    await handler(event(), stream, context)
    expect(stream.text).toBe(`retry: 1000\n\ndata: a\n\n${marker(22)}`)
  })
})
