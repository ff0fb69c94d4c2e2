import { Readable } from 'node:stream'
import { http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sluice } from '../../src/index.ts'
import {
  type ResponseOptions,
  sluiceHandler,
  streamBytes,
  streamNdjson,
  streamSse,
} from '../../src/lambda/index.ts'
import {
  awslambda,
  functionUrl,
  type MockStreamOptions,
  mockStream,
  streamHandler,
} from '../../src/mock/index.ts'

// A function built with sluice/lambda, tested in-process through sluice/mock without installing any global:
// sluice/mock's `awslambda` is accepted where the Lambda runtime's is.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

it("runs a sluiceHandler on sluice/mock's awslambda, end marker and all", async () => {
  const handler = sluiceHandler(async () => ({ ndjson: [{ n: 1 }, { n: 2 }, { n: 3 }] }), { awslambda })
  server.use(functionUrl('https://fn.test/rows', handler))
  const res = await sluice('https://fn.test/rows')
  expect(res.headers.get('x-sluice-end')).toBe('marker')
  expect(await Array.fromAsync(res.ndjson())).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
  expect(res.progress.state).toBe('done')
})

// The helpers take the stream sluice/mock's awslambda hands a handler (typed without Node's types): this file
// compiles only because they do, and the bodies below prove it is the Writable they need.
it("streams with streamNdjson, streamSse and streamBytes on sluice/mock's awslambda and its responseStream", async () => {
  const ndjson = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamNdjson(responseStream, [{ n: 1 }, { n: 2 }], { request: event, awslambda })
  })
  const sse = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamSse(responseStream, [{ id: '1', data: 'a' }], { request: event, awslambda })
  })
  const bytes = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamBytes(responseStream, [new Uint8Array([1, 2, 3])], { request: event, awslambda, length: 3 })
  })
  server.use(
    functionUrl('https://fn.test/ndjson', ndjson),
    functionUrl('https://fn.test/sse', sse),
    functionUrl('https://fn.test/bytes', bytes),
  )
  const rows = await sluice('https://fn.test/ndjson')
  expect(rows.headers.get('x-sluice-end')).toBe('marker')
  expect(await Array.fromAsync(rows.ndjson())).toEqual([{ n: 1 }, { n: 2 }])
  const events = await sluice('https://fn.test/sse')
  expect((await Array.fromAsync(events.events())).map(({ id, data }) => [id, data])).toEqual([['1', 'a']])
  const body = await sluice('https://fn.test/bytes')
  expect(body.headers.get('x-amzn-remapped-content-length')).toBe('3')
  expect(await body.collect.bytes()).toEqual(new Uint8Array([1, 2, 3]))
})

it('mockStream answers a range of a marked body as sluice/lambda does', async () => {
  const rows = [{ n: 1 }, { n: 2 }, { n: 3 }]
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    await streamNdjson(responseStream, rows, { request: event, awslambda, range: true })
  })
  server.use(functionUrl('https://fn.test/ranged', handler))
  const headers = { range: 'bytes=8-' }
  const lambda = await fetch('https://fn.test/ranged', { headers })
  const request = new Request('https://fn.test/ranged', { headers })
  const mock = mockStream(rows, { format: 'ndjson', range: true, endMarker: true, request })
  expect(mock.status).toBe(lambda.status)
  expect(mock.headers.get('content-range')).toBe(lambda.headers.get('content-range'))
  expect(await mock.text()).toBe(await lambda.text())
})

// Behind a function URL a 206's own Content-Length (the part's) arrives renamed, as x-amzn-remapped-content-length:
// the resume must not take it for the length of the whole body.
it('resumes a streamBytes body of declared length by Range, though the 206 remaps its part length', async () => {
  const body = 'x'.repeat(100_000)
  let attempt = 0
  const handler = awslambda.streamifyResponse(async (event, responseStream) => {
    const first = ++attempt === 1
    async function* source(): AsyncGenerator<string> {
      for (let i = 0; i < 10; i++) {
        if (first && i === 5) throw new Error('the function failed halfway')
        yield body.slice(i * 10_000, (i + 1) * 10_000)
      }
    }
    await streamBytes(responseStream, source(), {
      request: event,
      awslambda,
      length: body.length,
      etag: '"v1"',
    }).catch(() => {})
  })
  const answers: string[] = []
  const listener = ({ response }: { response: Response }): void => {
    answers.push(`${response.status} ${response.headers.get('x-amzn-remapped-content-length')}`)
  }
  server.events.on('response:mocked', listener)
  server.use(functionUrl('https://fn.test/declared', handler))
  const res = await sluice('https://fn.test/declared', {
    resume: { backoff: { initial: 1, max: 1, factor: 1, jitter: 0 } },
  })
  expect(await res.collect.text()).toBe(body)
  server.events.removeListener('response:mocked', listener)
  expect(answers).toEqual(['200 100000', '206 50000'])
  expect(res.progress).toMatchObject({ loaded: body.length, total: body.length, percent: 100, attempt: 2 })
})

// A warm function keeps its module: a generator or a stream made there is read to its end by the first invocation,
// and the next got an empty 200 whose end marker proved it complete.
describe('a source that can be read once, made at module level, serves one invocation', () => {
  it.each([
    ['a Node stream', 'streamBytes', () => Readable.from(['a\n', 'b\n'])],
    [
      'a generator',
      'streamNdjson',
      () =>
        (function* rows() {
          yield 'a'
          yield 'b'
        })(),
    ],
  ] as const)(
    'fails the next invocation over %s, rather than prove an empty body complete',
    async (_, helper, make) => {
      const source = make()
      const handler = awslambda.streamifyResponse(async (event, responseStream) => {
        const options = { request: event, awslambda }
        if (helper === 'streamBytes') await streamBytes(responseStream, source as Readable, options)
        else await streamNdjson(responseStream, source as Iterable<string>, options)
      })
      const url = `https://fn.test/module-${helper}`
      server.use(functionUrl(url, handler))
      const first = await sluice(url)
      expect(await first.collect.text()).toBe(helper === 'streamBytes' ? 'a\nb\n' : '"a"\n"b"\n')
      expect(first.progress.state).toBe('done')
      const error = await sluice(url, { retry: 0 }).catch((e: unknown) => e)
      expect(error).toMatchObject({ response: { status: 502 } })
      expect(String((error as Error).message)).toContain(
        `${helper} got a generator, iterator or stream that has been read already`,
      )
    },
  )
})

describe('sluice/mock answers as sluice/lambda does behind a function URL: status, headers and body', () => {
  // A CORS header, validators and ranges of the caller's: a 409 keeps the first and the date, and drops those
  // that describe the stream.
  const headers = {
    'access-control-allow-origin': '*',
    'accept-ranges': 'bytes',
    etag: '"caller"',
    'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
  }
  const events = [
    { id: '1', data: 'a' },
    { id: '2', data: 'b' },
  ]
  const rows = [{ n: 1 }, { n: 2 }]
  const encoder = new TextEncoder()
  let paths = 0

  type Helper = (responseStream: never, options: ResponseOptions) => Promise<void>

  /**
   * The GET and HEAD answers of the helper behind functionUrl, and of mockStream and streamHandler given `parts`
   * and `options`: status and its text, headers but the invocation's request id, and text. A length given as a function URL
   * renames it is checked against its GET's text, then compared as `N`: the refusals' texts name who refused.
   * `headOptions` are the mock's for a HEAD, where those that match the helper's ranged GET do not match the full
   * answer a HEAD gets.
   */
  async function answersOf(
    helper: Helper,
    parts: unknown[],
    options: MockStreamOptions,
    request: Record<string, string>,
    headOptions: MockStreamOptions = options,
  ) {
    const path = `/answer-${++paths}`
    const lambda = awslambda.streamifyResponse(async (event, responseStream) => {
      await helper(responseStream as never, { request: event, awslambda, onRefusal: false })
    })
    server.use(
      functionUrl(`https://fn.test${path}`, lambda),
      http.all(`https://mock.test${path}`, ({ request }) =>
        mockStream(parts, { ...(request.method === 'HEAD' ? headOptions : options), request }),
      ),
      streamHandler('GET', `https://handler.test${path}`, parts, options),
      streamHandler('HEAD', `https://handler.test${path}`, parts, headOptions),
    )
    const answers = []
    for (const origin of ['https://fn.test', 'https://mock.test', 'https://handler.test']) {
      const get = await fetch(`${origin}${path}`, { headers: request })
      const text = await get.text()
      const head = await fetch(`${origin}${path}`, { method: 'HEAD', headers: request })
      // A HEAD ignores Range (RFC 9110 §14.2): its length is that of the full answer, not of a ranged GET's text.
      const shape = (response: Response, measured: string | null = text) => {
        const entries = [...response.headers].filter(([name]) => name !== 'x-amzn-requestid')
        const length = response.headers.get('x-amzn-remapped-content-length')
        if (length !== null && measured !== null)
          expect(length).toBe(String(encoder.encode(measured).byteLength))
        return [
          response.status,
          response.statusText,
          entries.map(([name, value]) => [name, value === length ? 'N' : value]),
        ]
      }
      answers.push({
        get: shape(get),
        head: shape(head, request.range === undefined ? text : null),
        headText: await head.text(),
        text,
      })
    }
    return answers
  }

  it('a Last-Event-ID no event has: the 409 of streamSse over a plain iterable', async () => {
    const [lambda, mock, handler] = await answersOf(
      (stream, options) => streamSse(stream, events, { ...options, headers }),
      events,
      // The status text of the 200 the mock would send is not the 409's.
      {
        format: 'sse',
        lastEventId: true,
        endMarker: true,
        contentLength: 'remapped',
        statusText: 'OK',
        headers,
      },
      { 'last-event-id': '9' },
    )
    expect(lambda?.get).toEqual([
      409,
      'Conflict',
      [
        ['access-control-allow-origin', '*'],
        ['cache-control', 'no-cache'],
        ['content-type', 'text/plain; charset=utf-8'],
        ['last-modified', headers['last-modified']],
        ['transfer-encoding', 'chunked'],
        ['x-amzn-remapped-content-length', 'N'],
        ['x-content-type-options', 'nosniff'],
      ],
    ])
    for (const answer of [mock, handler]) {
      expect(answer?.get).toEqual(lambda?.get)
      expect(answer?.head).toEqual(lambda?.head)
      expect(answer?.headText).toBe('')
      // One line that says why, quoting the id asked for.
      expect(answer?.text).toMatch(
        /^[^\n]+ cannot continue after the Last-Event-ID: [^\n]+ The request carried Last-Event-ID "9"\.\n$/,
      )
    }
    expect(lambda?.text).toMatch(
      /^sluice\/lambda: streamSse cannot continue after the Last-Event-ID: [^\n]+ The request carried Last-Event-ID "9"\.\n$/,
    )
  })

  /** A case: its helper, the parts and options a mock answers the same with, a request, and (see answersOf) HEAD's. */
  type Case = [string, Helper, unknown[], MockStreamOptions, Record<string, string>, MockStreamOptions?]
  const cases: Case[] = [
    [
      'a Range past the end of a marked body: the 416 of streamNdjson',
      (stream, options) => streamNdjson(stream, rows, { ...options, etag: '"v1"', headers }),
      rows,
      {
        format: 'ndjson',
        endMarker: true,
        range: true,
        contentLength: 'remapped',
        etag: '"v1"',
        statusText: 'OK',
        headers,
      },
      { range: 'bytes=99-' },
      // A HEAD gets the full answer's head, with no length: the mock says the 416's length only with contentLength.
      { format: 'ndjson', endMarker: true, range: true, etag: '"v1"', statusText: 'OK', headers },
    ],
    [
      'a Range past the end of a declared length: the 416 of streamBytes',
      (stream, options) =>
        streamBytes(stream, ['0123456789'], { ...options, etag: '"v1"', length: 10, headers }),
      ['0123456789'],
      { range: true, contentLength: 'remapped', etag: '"v1"', headers },
      { range: 'bytes=10-' },
    ],
    [
      'the 200 of streamSse',
      (stream, options) => streamSse(stream, events, { ...options, headers }),
      events,
      { format: 'sse', lastEventId: true, endMarker: true, headers },
      {},
    ],
    [
      'a known Last-Event-ID: the rest of streamSse',
      (stream, options) => streamSse(stream, events, options),
      events,
      { format: 'sse', lastEventId: true, endMarker: true },
      { 'last-event-id': '1' },
    ],
    [
      'a Range inside a marked body: the 206 of streamNdjson',
      (stream, options) => streamNdjson(stream, rows, { ...options, etag: '"v1"', headers }),
      rows,
      { format: 'ndjson', endMarker: true, range: true, etag: '"v1"', headers },
      { range: 'bytes=8-' },
    ],
    [
      'a Range inside a declared length: the 206 of streamBytes',
      (stream, options) => streamBytes(stream, ['0123456789'], { ...options, etag: '"v1"', length: 10 }),
      ['0123456789'],
      { range: true, contentLength: 'remapped', etag: '"v1"', statusText: 'OK' },
      { range: 'bytes=4-' },
    ],
    [
      'If-Range with another ETag: the whole 200 of streamNdjson',
      (stream, options) => streamNdjson(stream, rows, { ...options, etag: '"v1"' }),
      rows,
      { format: 'ndjson', endMarker: true, range: true, etag: '"v1"' },
      { range: 'bytes=8-', 'if-range': '"v0"' },
    ],
    [
      'an error status: the 500 of streamNdjson, without a range',
      (stream, options) => streamNdjson(stream, rows, { ...options, etag: '"v1"', statusCode: 500 }),
      rows,
      { format: 'ndjson', endMarker: true, range: true, etag: '"v1"', status: 500 },
      { range: 'bytes=8-' },
    ],
    [
      'a status without a body: the 304 of streamNdjson',
      (stream, options) => streamNdjson(stream, [], { ...options, etag: '"v1"', statusCode: 304 }),
      [],
      { format: 'ndjson', endMarker: true, range: true, etag: '"v1"', status: 304 },
      { range: 'bytes=8-' },
    ],
  ]

  it.each(cases)('%s', async (_case, helper, parts, options, request, headOptions) => {
    const [lambda, mock, handler] = await answersOf(helper, parts, options, request, headOptions)
    // A HEAD is never answered by range: it gets the status of the full answer, never a 206 or 416.
    expect(lambda?.head[0]).toBe(options.status ?? 200)
    for (const answer of [mock, handler]) {
      expect(answer?.get).toEqual(lambda?.get)
      expect(answer?.head).toEqual(lambda?.head)
      expect(answer?.headText).toBe('')
      expect(answer?.text).toBe(lambda?.text)
    }
  })
})
