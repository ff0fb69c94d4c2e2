import { afterEach, describe, expect, test, vi } from 'vitest'
import { mockStream } from '../src/mock/mock-stream.ts'
import type { MockStreamOptions } from '../src/mock/options.ts'
import { readUntilError } from './support/streams.ts'

const encoder = new TextEncoder()
const decode = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes)

/** Every chunk of a body, as strings. */
async function chunksOf(response: Response): Promise<string[]> {
  const chunks: string[] = []
  for await (const chunk of response.body!) chunks.push(decode(chunk))
  return chunks
}

/** Lets pending pulls, microtasks and zero-delay timers run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

/** Tracks whether a promise has settled. */
function watch<T>(promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false }
  promise.then(
    () => {
      state.settled = true
    },
    () => {
      state.settled = true
    },
  )
  return state
}

const rangeRequest = (headers: Record<string, string>): Request =>
  new Request('https://mock.test/body', { headers })

afterEach(() => {
  vi.useRealTimers()
})

describe('parts and formats', () => {
  test('streams string parts as UTF-8, one chunk per part', async () => {
    expect(await chunksOf(mockStream(['héllo ', 'wörld']))).toEqual(['héllo ', 'wörld'])
  })

  test('streams Uint8Array parts unchanged', async () => {
    const bytes = new Uint8Array([0, 255, 10, 13])
    const body = new Uint8Array(await mockStream([bytes]).arrayBuffer())
    expect(body).toEqual(bytes)
  })

  test('reads parts from an async iterable', async () => {
    async function* parts(): AsyncGenerator<string> {
      yield 'a'
      yield 'b'
    }
    expect(await chunksOf(mockStream(parts()))).toEqual(['a', 'b'])
  })

  test('ends with CRLF only an SSE line that reads as an end-marker line, as sluice/lambda writes it: bytes and all', async () => {
    const response = mockStream(
      [{ data: '{"$sluice":"end","bytes":7}' }, { data: '{"$sluice":"end","bytes":}' }],
      { format: 'sse' },
    )
    expect(await response.text()).toBe(
      'data: {"$sluice":"end","bytes":7}\r\n\ndata: {"$sluice":"end","bytes":}\n\n',
    )
  })

  test('encodes values as NDJSON lines with format ndjson', async () => {
    const response = mockStream([{ n: 1 }, 'two', [3]], { format: 'ndjson' })
    expect(await response.text()).toBe('{"n":1}\n"two"\n[3]\n')
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
  })

  test('encodes bare values as SSE data events with format sse', async () => {
    const response = mockStream(['hello', { n: 1 }], { format: 'sse' })
    expect(await response.text()).toBe('data: hello\n\ndata: {"n":1}\n\n')
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
  })

  test('sends an SSE body with cache-control: no-cache, unless headers give another', () => {
    expect(mockStream([], { format: 'sse' }).headers.get('cache-control')).toBe('no-cache')
    const headers = { 'cache-control': 'no-store' }
    expect(mockStream([], { format: 'sse', headers }).headers.get('cache-control')).toBe('no-store')
  })

  test('encodes event objects with id, event, retry and multi-line data', async () => {
    const response = mockStream(
      [{ id: '7', event: 'token', retry: 1000, data: 'line 1\nline 2' }, { data: { done: true } }],
      { format: 'sse' },
    )
    expect(await response.text()).toBe(
      'id: 7\nevent: token\nretry: 1000\ndata: line 1\ndata: line 2\n\ndata: {"done":true}\n\n',
    )
  })

  test('takes an object with any of id, event, data, retry or comment for an event, as streamSse does, and sends the same bytes', async () => {
    // An id-only part is a checkpoint, not data: sent as `data: {"id":"1"}`, it would never move a client's
    // Last-Event-ID.
    const response = mockStream(
      [{ id: '1' }, { retry: 5 }, { event: 'e' }, { comment: 'hi', data: 'y' }, { comment: 'a\nb' }],
      { format: 'sse' },
    )
    expect(await response.text()).toBe('id: 1\n\nretry: 5\n\nevent: e\n\n: hi\ndata: y\n\n: a\n: b\n\n')
  })

  test('sends any other value as the data of an event, an object whose event fields are all undefined included', async () => {
    const response = mockStream([{ token: 'Hel' }, { id: undefined, n: 1 }, [1], 5, null], { format: 'sse' })
    expect(await response.text()).toBe(
      'data: {"token":"Hel"}\n\ndata: {"n":1}\n\ndata: [1]\n\ndata: 5\n\ndata: null\n\n',
    )
  })

  test('sends Uint8Array parts as they are in every format, to inject malformed bytes', async () => {
    const response = mockStream([{ ok: 1 }, encoder.encode('{not json\n')], { format: 'ndjson' })
    expect(await response.text()).toBe('{"ok":1}\n{not json\n')
  })
})

describe('parts that cannot be sent', () => {
  // An array is checked at the call: a mistake in a test's input is a TypeError there, not a network error mid-body.
  test.each([
    [
      'an object among raw parts',
      () => mockStream(['a\n', { x: 1 }]),
      TypeError,
      "mockStream: part 1 is an object (Object), but format 'raw' sends only strings and Uint8Arrays. Pass format: 'ndjson' or 'sse' to encode values, or encode the part yourself.",
    ],
    [
      'undefined among NDJSON values',
      () => mockStream([{ n: 1 }, undefined], { format: 'ndjson' }),
      TypeError,
      'mockStream: part 1 is undefined, which has no JSON form for format ndjson; pass a JSON value.',
    ],
    [
      'a bigint among NDJSON values',
      () => mockStream([1n], { format: 'ndjson' }),
      TypeError,
      'mockStream: part 0 cannot be encoded as JSON for format ndjson: Do not know how to serialize a BigInt. Pass a JSON value.',
    ],
    [
      'an SSE id with a line break in the first part',
      () => mockStream([{ id: 'a\nb', data: 'x' }], { format: 'sse' }),
      TypeError,
      'mockStream got, as part 0, an event whose id contains a line break or NUL; remove it (only data may span lines).',
    ],
    [
      'an SSE event type that is not a string',
      () => mockStream([{ data: 'x' }, { event: 7, data: 'y' }], { format: 'sse' }),
      TypeError,
      'mockStream got, as part 1, an event with event 7; pass a string, such as String(value).',
    ],
    [
      'an SSE retry given as a string',
      () => mockStream([{ retry: '5', data: 'x' }], { format: 'sse' }),
      TypeError,
      'mockStream got, as part 0, an event with retry "5"; pass a non-negative whole number of milliseconds.',
    ],
    [
      'a negative SSE retry',
      () => mockStream([{ retry: -1, data: 'x' }], { format: 'sse' }),
      RangeError,
      'mockStream got, as part 0, an event with retry -1; pass a non-negative whole number of milliseconds.',
    ],
    [
      'an SSE id that begins with a space, which a Last-Event-ID header cannot carry back',
      () => mockStream([{ id: ' 7', data: 'x' }], { format: 'sse' }),
      TypeError,
      'mockStream got, as part 0, the event id " 7", which begins or ends with a space or tab that a Last-Event-ID header cannot carry back (HTTP trims header values), so a client could not resume after it; trim the id.',
    ],
    [
      'an SSE id with a control character',
      () => mockStream([{ id: 'a\u0001', data: 'x' }], { format: 'sse' }),
      TypeError,
      'mockStream got, as part 0, the event id "a\\u0001", whose character U+0001 a Last-Event-ID header cannot carry back (HTTP refuses control characters in headers, and UTF-8 a lone surrogate), so a client could not resume after it; remove it, or send encodeURIComponent(id).',
    ],
    [
      'an SSE id with a lone surrogate',
      () => mockStream([{ id: '\ud800' }], { format: 'sse' }),
      TypeError,
      /^mockStream got, as part 0, the event id "\\ud800", whose character U\+D800 a Last-Event-ID header cannot carry back/,
    ],
    [
      'an SSE comment that is not a string',
      () => mockStream([{ comment: 5 }], { format: 'sse' }),
      TypeError,
      'mockStream got, as part 0, an event with comment 5; pass a string, such as String(value).',
    ],
    [
      'SSE event data with no JSON form',
      () => mockStream([{ id: '1', data: 1n }], { format: 'sse' }),
      TypeError,
      'mockStream got, as part 0, event data of type bigint, which JSON cannot represent (Do not know how to serialize a BigInt); send a string or plain data.',
    ],
    [
      'an SSE event whose data is undefined',
      () => mockStream([{ data: undefined }], { format: 'sse' }),
      TypeError,
      'mockStream: the data of part 0 is undefined, which has no JSON form for an SSE event; pass a JSON value.',
    ],
    [
      'a bad part before the Last-Event-ID',
      () =>
        mockStream(
          [
            { id: 'x\ny', data: 'a' },
            { id: '1', data: 'b' },
          ],
          {
            format: 'sse',
            lastEventId: true,
            request: rangeRequest({ 'last-event-id': '1' }),
          },
        ),
      TypeError,
      /^mockStream got, as part 0, an event whose id/,
    ],
  ])('%s throws at the call, naming the part', (_, call, type, message) => {
    expect(call).toThrow(type)
    expect(call).toThrow(message)
  })

  test('async parts are checked as they are sent: the body fails at the bad part, with the same message', async () => {
    async function* parts(): AsyncGenerator<unknown> {
      yield 'a\n'
      yield 42
    }
    const { text, error } = await readUntilError(mockStream(parts()))
    expect(text).toBe('a\n')
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toMatch(/^mockStream: part 1 is 42, but format 'raw'/)
  })

  test('a bad async part after a Last-Event-ID is named by its index among all the parts', async () => {
    async function* parts(): AsyncGenerator<unknown> {
      yield { id: '1', data: 'a' }
      yield { id: '2', data: 'b' }
      yield { id: 3, data: 'c' }
    }
    const request = rangeRequest({ 'last-event-id': '1' })
    const { text, error } = await readUntilError(
      mockStream(parts(), { format: 'sse', lastEventId: true, request }),
    )
    expect(text).toBe('id: 2\ndata: b\n\n')
    expect((error as TypeError).message).toBe(
      'mockStream got, as part 2, an event with id 3; pass a string, such as String(value).',
    )
  })
})

describe('status and headers', () => {
  test('answers with the given status, statusText and headers', () => {
    const response = mockStream([], {
      status: 201,
      statusText: 'Created',
      headers: { 'x-request-id': 'r1', 'content-type': 'text/plain' },
    })
    expect(response.status).toBe(201)
    expect(response.statusText).toBe('Created')
    expect(response.headers.get('x-request-id')).toBe('r1')
    expect(response.headers.get('content-type')).toBe('text/plain')
  })

  test('takes any statusText a Response takes: tabs, spaces, visible ASCII and U+0080–U+00FF', () => {
    const statusText = 'a\tb ~ é\u00ff\u0080'
    expect(mockStream([], { statusText }).statusText).toBe(statusText)
  })

  test('gives statusText to that status only: a 206, 409 or 416 answered in its place gets the default, not another status’s text', () => {
    const options = { statusText: 'OK', range: true } as const
    const ranged = mockStream(['0123456789'], { ...options, request: rangeRequest({ range: 'bytes=4-' }) })
    const past = mockStream(['0123456789'], { ...options, request: rangeRequest({ range: 'bytes=10-' }) })
    const refused = mockStream([{ id: '1', data: 'a' }], {
      ...options,
      format: 'sse',
      lastEventId: true,
      request: rangeRequest({ 'last-event-id': '9' }),
    })
    expect([ranged, past, refused].map((r) => [r.status, r.statusText])).toEqual([
      [206, ''],
      [416, ''],
      [409, ''],
    ])
    expect(mockStream(['0123456789'], { ...options, request: rangeRequest({}) }).statusText).toBe('OK')
  })

  test('frames a body of unknown length as chunked', () => {
    expect(mockStream(['a']).headers.get('transfer-encoding')).toBe('chunked')
  })

  test('declares the body length as Content-Length with contentLength true', async () => {
    const response = mockStream(['héllo', ' world'], { contentLength: true })
    expect(response.headers.get('content-length')).toBe('12')
    expect(response.headers.get('transfer-encoding')).toBeNull()
    expect((await response.arrayBuffer()).byteLength).toBe(12)
  })

  test('declares an empty body as Content-Length 0, not chunked', async () => {
    const response = mockStream([], { contentLength: true })
    expect(response.headers.get('content-length')).toBe('0')
    expect(response.headers.get('transfer-encoding')).toBeNull()
    expect(await response.text()).toBe('')
  })

  test("declares the length as x-amzn-remapped-content-length with contentLength 'remapped'", () => {
    const response = mockStream(['hello'], { contentLength: 'remapped' })
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('5')
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
  })

  test('answers HEAD with the headers of GET and no body', () => {
    const request = new Request('https://mock.test/body', { method: 'HEAD' })
    const response = mockStream(['abc'], { request, contentLength: true, endMarker: true })
    expect(response.body).toBeNull()
    expect(response.headers.get('content-length')).toBe(String('abc{"$sluice":"end","bytes":3}\n'.length))
    expect(response.headers.get('x-sluice-end')).toBe('marker')
  })

  test('sends no body with a 204', async () => {
    const response = mockStream([], { status: 204 })
    expect(response.body).toBeNull()
  })
})

describe('end marker', () => {
  test('appends the end-marker line with the body length and announces it in x-sluice-end', async () => {
    const response = mockStream(['{"a":1}\n', '{"a":2}\n'], { endMarker: true })
    expect(response.headers.get('x-sluice-end')).toBe('marker')
    expect(await response.text()).toBe('{"a":1}\n{"a":2}\n{"$sluice":"end","bytes":16}\n')
  })

  test('counts the end marker in a declared Content-Length', async () => {
    const response = mockStream(['abc'], { endMarker: true, contentLength: true })
    const text = await response.text()
    expect(text).toBe('abc{"$sluice":"end","bytes":3}\n')
    expect(response.headers.get('content-length')).toBe(String(text.length))
  })
})

describe('chunking and pacing', () => {
  test('re-chunks the body to chunkSize bytes, joining and splitting parts', async () => {
    expect(await chunksOf(mockStream(['ab', 'cdef', 'g'], { chunkSize: 4 }))).toEqual(['abcd', 'efg'])
  })

  test('sends one byte per chunk with chunkSize 1, multi-byte characters included', async () => {
    const text = 'é🌊\n'
    const reader = mockStream([text], { chunkSize: 1 }).body!.getReader()
    const lengths: number[] = []
    const decoder = new TextDecoder()
    let decoded = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      lengths.push(r.value.length)
      decoded += decoder.decode(r.value, { stream: true })
    }
    expect(lengths).toEqual(Array(encoder.encode(text).length).fill(1))
    expect(decoded + decoder.decode()).toBe(text)
  })

  test('keeps chunkSize when bytesPerSecond is set too', async () => {
    const response = mockStream(['ab', 'cdef', 'g'], { chunkSize: 4, bytesPerSecond: 1e9 })
    expect(await chunksOf(response)).toEqual(['abcd', 'efg'])
  })

  test('waits delayMs before each chunk after the first', async () => {
    vi.useFakeTimers()
    const reader = mockStream(['a', 'b'], { delayMs: 100 }).body!.getReader()
    expect(decode((await reader.read()).value)).toBe('a')
    const second = reader.read()
    const state = watch(second)
    await vi.advanceTimersByTimeAsync(99)
    expect(state.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(decode((await second).value)).toBe('b')
  })

  test('paces the body to bytesPerSecond from its first chunk', async () => {
    vi.useFakeTimers()
    const reader = mockStream(['aaaaa', 'bbbbb'], { bytesPerSecond: 50 }).body!.getReader()
    expect(decode((await reader.read()).value)).toBe('aaaaa')
    const second = reader.read()
    const state = watch(second)
    await vi.advanceTimersByTimeAsync(99)
    expect(state.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(decode((await second).value)).toBe('bbbbb')
  })

  test("cuts chunks to a tenth of a second's worth when shaping without chunkSize", async () => {
    vi.useFakeTimers()
    const reader = mockStream(['x'.repeat(100)], { bytesPerSecond: 100 }).body!.getReader()
    expect((await reader.read()).value?.length).toBe(10)
    await reader.cancel()
  })
})

describe('faults', () => {
  test('dropAfterBytes delivers exactly N bytes, then fails with a TypeError', async () => {
    const { text, error } = await readUntilError(mockStream(['abcdef', 'ghij'], { dropAfterBytes: 7 }))
    expect(text).toBe('abcdefg')
    expect(error).toBeInstanceOf(TypeError)
    expect(String(error)).toMatch(/after 7 bytes/)
  })

  test('errorAfterBytes fails with the given error after N bytes', async () => {
    const failure = new Error('handler threw')
    const { text, error } = await readUntilError(
      mockStream(['abc', 'def'], { errorAfterBytes: 4, error: failure }),
    )
    expect(text).toBe('abcd')
    expect(error).toBe(failure)
  })

  test('errorAfterBytes fails with an Error that names the offset by default', async () => {
    const { error } = await readUntilError(mockStream(['abc'], { errorAfterBytes: 2 }))
    expect(error).toBeInstanceOf(Error)
    expect(String(error)).toMatch(/after 2 bytes/)
  })

  test('truncate ends the body cleanly after N bytes, without the end marker', async () => {
    const response = mockStream(['abc', 'def'], { truncate: 5, endMarker: true })
    expect(await response.text()).toBe('abcde')
  })

  test('truncate under a declared Content-Length fails as HTTP clients do', async () => {
    const { text, error } = await readUntilError(
      mockStream(['abc', 'def'], { truncate: 5, contentLength: true }),
    )
    expect(text).toBe('abcde')
    expect(error).toBeInstanceOf(TypeError)
  })

  test.each([
    ['truncate', { truncate: 6 }],
    ['dropAfterBytes', { dropAfterBytes: 6 }],
    ['errorAfterBytes', { errorAfterBytes: 6 }],
    ['stallAfterBytes', { stallAfterBytes: 6 }],
  ] as const)(
    '%s at the declared Content-Length ends the body cleanly, as an HTTP client sees it complete',
    async (_, fault) => {
      const { text, error } = await readUntilError(
        mockStream(['abc', 'def'], { ...fault, contentLength: true }),
      )
      expect(text).toBe('abcdef')
      expect(error).toBeUndefined()
    },
  )

  test("truncate under contentLength 'remapped' ends cleanly short of the declared length", async () => {
    const response = mockStream(['abc', 'def'], { truncate: 5, contentLength: 'remapped' })
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('6')
    expect(await response.text()).toBe('abcde')
  })

  test('stallAfterBytes sends N bytes, then neither data nor an end until the reader cancels', async () => {
    let released = false
    async function* parts(): AsyncGenerator<string> {
      try {
        yield 'abc'
        yield 'def'
      } finally {
        released = true
      }
    }
    const reader = mockStream(parts(), { stallAfterBytes: 3 }).body!.getReader()
    expect(decode((await reader.read()).value)).toBe('abc')
    const next = reader.read()
    const state = watch(next)
    await settle()
    expect(state.settled).toBe(false)
    await reader.cancel()
    await expect(next).resolves.toEqual({ done: true, value: undefined })
    await settle()
    expect(released).toBe(true)
  })

  test('a fault at the body length fires after the last byte', async () => {
    const { text, error } = await readUntilError(mockStream(['abc'], { dropAfterBytes: 3 }))
    expect(text).toBe('abc')
    expect(error).toBeInstanceOf(TypeError)
  })

  test('a fault past the end of the body never fires', async () => {
    expect(await mockStream(['abc'], { dropAfterBytes: 4 }).text()).toBe('abc')
  })

  test('a signal aborted before the call fails the body with its reason at the first read', async () => {
    const reason = new Error('server gave up')
    const reader = mockStream(['a'], { signal: AbortSignal.abort(reason) }).body!.getReader()
    await expect(reader.read()).rejects.toBe(reason)
  })

  test('aborting the signal fails the body with its reason', async () => {
    const controller = new AbortController()
    const reader = mockStream(['a', 'b'], { signal: controller.signal }).body!.getReader()
    await reader.read()
    const reason = new Error('server gave up')
    controller.abort(reason)
    await expect(reader.read()).rejects.toBe(reason)
  })
})

describe('Range', () => {
  const parts = ['0123456789', 'abcdef']

  test('answers Range: bytes=N- with 206 and Content-Range over the known length', async () => {
    const response = mockStream(parts, { range: true, request: rangeRequest({ range: 'bytes=4-' }) })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe('bytes 4-15/16')
    expect(await response.text()).toBe('456789abcdef')
  })

  test('honours Range for any success status with a body, as sluice/lambda does, and not for an error status', async () => {
    const created = mockStream(parts, {
      status: 201,
      range: true,
      request: rangeRequest({ range: 'bytes=4-' }),
    })
    expect(created.status).toBe(206)
    expect(await created.text()).toBe('456789abcdef')
    const failed = mockStream(parts, {
      status: 500,
      range: true,
      request: rangeRequest({ range: 'bytes=4-' }),
    })
    expect(failed.status).toBe(500)
    expect(failed.headers.get('accept-ranges')).toBeNull()
    expect(await failed.text()).toBe('0123456789abcdef')
  })

  test('announces Accept-Ranges and a strong ETag that is stable for the same parts', () => {
    const first = mockStream(parts, { range: true, request: rangeRequest({}) })
    const again = mockStream(parts, { range: true, request: rangeRequest({}) })
    const other = mockStream(['other'], { range: true, request: rangeRequest({}) })
    expect(first.status).toBe(200)
    expect(first.headers.get('accept-ranges')).toBe('bytes')
    expect(first.headers.get('etag')).toMatch(/^"[^"]+"$/)
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'))
    expect(other.headers.get('etag')).not.toBe(first.headers.get('etag'))
  })

  test('gives bodies of the same length but other bytes another ETag, so If-Range from the old one gets the full 200', async () => {
    const old = mockStream(['abcd'], { range: true, request: rangeRequest({}) }).headers.get('etag')!
    const request = rangeRequest({ range: 'bytes=2-', 'if-range': old })
    const changed = mockStream(['abce'], { range: true, request })
    expect(changed.headers.get('etag')).not.toBe(old)
    expect(changed.status).toBe(200)
    expect(await changed.text()).toBe('abce')
  })

  test('answers 416 with Content-Range bytes */L when the range starts at or past the end', () => {
    const response = mockStream(parts, { range: true, request: rangeRequest({ range: 'bytes=16-' }) })
    expect(response.status).toBe(416)
    expect(response.headers.get('content-range')).toBe('bytes */16')
    expect(response.headers.get('accept-ranges')).toBe('bytes')
  })

  test('answers a HEAD with a Range with the 200 head of the full answer: Range is for GET only (RFC 9110 §14.2)', () => {
    for (const range of ['bytes=16-', 'bytes=4-']) {
      const request = new Request('https://mock.test/body', { method: 'HEAD', headers: { range } })
      const response = mockStream(parts, { range: true, request })
      expect(response.status, range).toBe(200)
      expect(response.headers.get('content-range'), range).toBeNull()
      expect(response.headers.get('accept-ranges'), range).toBe('bytes')
      expect(response.body).toBeNull()
    }
  })

  test.each(['bytes=0-1,5-6', 'bytes=4-,8-', 'bytes=-5', 'bytes=10-5', 'bytes=0-4'])(
    'ignores the range form %s, answering the full 200 as sluice/lambda does',
    async (range) => {
      const response = mockStream(parts, { range: true, request: rangeRequest({ range }) })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-range')).toBeNull()
      expect(await response.text()).toBe('0123456789abcdef')
    },
  )

  test("answers the Range of a POST or PUT as a GET's, as sluice/lambda does: sluice resumes a POST by Range", async () => {
    for (const method of ['POST', 'PUT']) {
      const ask = (range: string) =>
        mockStream(parts, {
          range: true,
          request: new Request('https://mock.test/body', { method, headers: { range }, body: '{}' }),
        })
      const ranged = ask('bytes=4-')
      expect([ranged.status, ranged.headers.get('content-range')], method).toEqual([206, 'bytes 4-15/16'])
      expect(await ranged.text()).toBe('456789abcdef')
      expect(ask('bytes=16-').status, method).toBe(416)
    }
  })

  test('answers a 204 as a 204 without Accept-Ranges, whatever Range asks: it has no body to range', () => {
    const response = mockStream([], {
      status: 204,
      range: true,
      request: rangeRequest({ range: 'bytes=0-' }),
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('accept-ranges')).toBeNull()
    expect(response.body).toBeNull()
  })

  test('answers the full 200 when If-Range names another ETag', async () => {
    const request = rangeRequest({ range: 'bytes=4-', 'if-range': '"old"' })
    const response = mockStream(parts, { range: true, etag: '"new"', request })
    expect(response.status).toBe(200)
    expect(response.headers.get('etag')).toBe('"new"')
    expect(await response.text()).toBe('0123456789abcdef')
  })

  test('answers 206 when If-Range matches the ETag', async () => {
    const request = rangeRequest({ range: 'bytes=10-', 'if-range': '"v1"' })
    const response = mockStream(parts, { range: true, etag: '"v1"', request })
    expect(response.status).toBe(206)
    expect(await response.text()).toBe('abcdef')
  })

  test("answers the full 200 when If-Range is a caller's ETag header that is no entity tag (a lone quote, one unclosed)", async () => {
    for (const etag of ['"', '"v1']) {
      const request = rangeRequest({ range: 'bytes=10-', 'if-range': etag })
      const response = mockStream(parts, { range: true, headers: { etag }, request })
      expect(response.status, etag).toBe(200)
      expect(await response.text()).toBe('0123456789abcdef')
    }
  })

  test('answers 206 with Content-Range bytes N-*/* over async parts of unknown length', async () => {
    async function* async(): AsyncGenerator<string> {
      yield* parts
    }
    const response = mockStream(async(), { range: true, request: rangeRequest({ range: 'bytes=12-' }) })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe('bytes 12-*/*')
    expect(await response.text()).toBe('cdef')
  })

  test("takes no length over async parts from a caller's Content-Length that is not digits: 1e1 is not 10 bytes", async () => {
    async function* async(): AsyncGenerator<string> {
      yield* parts
    }
    const request = rangeRequest({ range: 'bytes=12-' })
    const response = mockStream(async(), { range: true, headers: { 'content-length': '1e1' }, request })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe('bytes 12-*/*')
  })

  test('answers If-Range with the full 200 over async parts, which have no ETag to match', async () => {
    async function* async(): AsyncGenerator<string> {
      yield* parts
    }
    const request = rangeRequest({ range: 'bytes=12-', 'if-range': '"v1"' })
    const response = mockStream(async(), { range: true, request })
    expect(response.status).toBe(200)
    expect(response.headers.get('etag')).toBeNull()
    expect(await response.text()).toBe('0123456789abcdef')
  })

  test('answers 206 over async parts when If-Range is the Last-Modified date it sends, as sluice/lambda does without an ETag', async () => {
    async function* async(): AsyncGenerator<string> {
      yield* parts
    }
    const date = 'Wed, 21 Oct 2015 07:28:00 GMT'
    const options = { range: true, headers: { 'last-modified': date } } as const
    const same = mockStream(async(), {
      ...options,
      request: rangeRequest({ range: 'bytes=12-', 'if-range': date }),
    })
    expect(same.status).toBe(206)
    expect(await same.text()).toBe('cdef')
    const other = rangeRequest({ range: 'bytes=12-', 'if-range': 'Thu, 22 Oct 2015 07:28:00 GMT' })
    expect(mockStream(async(), { ...options, request: other }).status).toBe(200)
    // With an ETag, a date never validates the range (sluice sends the ETag then).
    const tagged = mockStream(parts, {
      ...options,
      request: rangeRequest({ range: 'bytes=12-', 'if-range': date }),
    })
    expect(tagged.headers.get('etag')).not.toBeNull()
    expect(tagged.status).toBe(200)
  })

  test("names a 416's length as a function URL does under contentLength: 'remapped'", async () => {
    const request = rangeRequest({ range: 'bytes=16-' })
    const response = mockStream(parts, { range: true, contentLength: 'remapped', request })
    const text = 'Range not satisfiable: the body is 16 bytes long.\n'
    expect(response.status).toBe(416)
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe(String(text.length))
    expect(response.headers.get('content-length')).toBeNull()
    expect(await response.text()).toBe(text)
  })

  test("gives a 416 under contentLength: 'remapped' no Content-Length of the caller's, which states the body's", async () => {
    const request = rangeRequest({ range: 'bytes=16-' })
    const headers = { 'content-length': '16' }
    const response = mockStream(parts, { range: true, contentLength: 'remapped', headers, request })
    const text = 'Range not satisfiable: the body is 16 bytes long.\n'
    expect(response.status).toBe(416)
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe(String(text.length))
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    expect(await response.text()).toBe(text)
  })

  test('counts fault offsets from the start of the ranged body', async () => {
    const request = rangeRequest({ range: 'bytes=4-' })
    const { text, error } = await readUntilError(
      mockStream(parts, { range: true, request, dropAfterBytes: 3 }),
    )
    expect(text).toBe('456')
    expect(error).toBeInstanceOf(TypeError)
  })

  test("keeps the end marker's byte count absolute in a ranged body", async () => {
    const request = rangeRequest({ range: 'bytes=10-' })
    const response = mockStream(parts, { range: true, endMarker: true, request })
    expect(await response.text()).toBe('abcdef{"$sluice":"end","bytes":16}\n')
  })

  test('answers a range of a marked body with Content-Range bytes N-*/*, which the marker does not contradict', async () => {
    const request = rangeRequest({ range: 'bytes=10-' })
    const response = mockStream(parts, { range: true, endMarker: true, contentLength: true, request })
    const body = 'abcdef{"$sluice":"end","bytes":16}\n'
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe('bytes 10-*/*')
    expect(response.headers.get('content-length')).toBe(String(body.length))
    expect(await response.text()).toBe(body)
  })

  test("sends the ranged body's length as the Content-Length the caller declared in headers", async () => {
    const request = rangeRequest({ range: 'bytes=10-' })
    const response = mockStream(parts, { range: true, request, headers: { 'content-length': '16' } })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-length')).toBe('6')
    expect(await response.text()).toBe('abcdef')
  })

  test('counts the end marker in a Content-Length the caller declared in headers, over async parts', async () => {
    async function* lazy(): AsyncGenerator<string> {
      yield* parts
    }
    const body = '0123456789abcdef{"$sluice":"end","bytes":16}\n'
    const whole = mockStream(lazy(), { endMarker: true, headers: { 'content-length': '16' } })
    expect(whole.headers.get('content-length')).toBe(String(body.length))
    expect(await whole.text()).toBe(body)
    const request = rangeRequest({ range: 'bytes=10-' })
    const part = mockStream(lazy(), {
      range: true,
      request,
      endMarker: true,
      headers: { 'content-length': '16' },
    })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-length')).toBe(String(body.length - 10))
    expect(await part.text()).toBe(body.slice(10))
  })

  test('sends the length of the ranged body as Content-Length', () => {
    const request = rangeRequest({ range: 'bytes=10-' })
    expect(
      mockStream(parts, { range: true, contentLength: true, request }).headers.get('content-length'),
    ).toBe('6')
  })

  test('ignores Range unless range is true', async () => {
    const response = mockStream(parts, { request: rangeRequest({ range: 'bytes=4-' }) })
    expect(response.status).toBe(200)
    expect(response.headers.get('accept-ranges')).toBeNull()
    expect(await response.text()).toBe('0123456789abcdef')
  })

  test('answers forms other than bytes=N- with the full body', async () => {
    const response = mockStream(parts, { range: true, request: rangeRequest({ range: 'bytes=0-3' }) })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('0123456789abcdef')
  })
})

describe('Last-Event-ID', () => {
  const events = [
    { id: '1', data: 'a' },
    { id: '2', data: 'b' },
    { id: '3', data: 'c' },
  ]

  test('starts after the event named by Last-Event-ID', async () => {
    const request = rangeRequest({ 'last-event-id': '2' })
    const response = mockStream(events, { format: 'sse', lastEventId: true, request })
    expect(await response.text()).toBe('id: 3\ndata: c\n\n')
  })

  test('resumes after an id-only part, a checkpoint event, over parts in an array and async ones alike', async () => {
    const parts = [{ id: '1', data: 'a' }, 'b', { id: '2' }, 'c']
    async function* later(): AsyncGenerator<unknown> {
      yield* parts
    }
    const request = rangeRequest({ 'last-event-id': '2' })
    expect(await mockStream(parts, { format: 'sse', lastEventId: true, request }).text()).toBe('data: c\n\n')
    expect(await mockStream(later(), { format: 'sse', lastEventId: true, request }).text()).toBe(
      'data: c\n\n',
    )
  })

  test('sends every event when the request has no Last-Event-ID', async () => {
    const response = mockStream(events, { format: 'sse', lastEventId: true, request: rangeRequest({}) })
    expect(await response.text()).toBe('id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n')
  })

  test('counts the end marker over the events actually sent', async () => {
    const request = rangeRequest({ 'last-event-id': '2' })
    const response = mockStream(events, { format: 'sse', lastEventId: true, endMarker: true, request })
    expect(await response.text()).toBe('id: 3\ndata: c\n\n{"$sluice":"end","bytes":15}\n')
  })

  const noSuchId =
    'mockStream cannot continue after the Last-Event-ID: no event of its parts has that id; replay the same events with the same ids. The request carried Last-Event-ID "9".\n'

  test('answers 409 with why when no event has the Last-Event-ID, as sluice/lambda does, never a marked empty end', async () => {
    const request = rangeRequest({ 'last-event-id': '9' })
    const response = mockStream(events, { format: 'sse', lastEventId: true, endMarker: true, request })
    expect(response.status).toBe(409)
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(response.headers.get('x-sluice-end')).toBeNull()
    expect(await response.text()).toBe(noSuchId)
  })

  test("answers the 409 with sluice/lambda's refusal headers: the caller's, none that describe the stream, and nosniff", () => {
    const request = rangeRequest({ 'last-event-id': '9' })
    const headers = { 'access-control-allow-origin': '*', etag: '"caller"', 'accept-ranges': 'bytes' }
    const response = mockStream(events, { format: 'sse', lastEventId: true, etag: '"v1"', headers, request })
    expect(response.status).toBe(409)
    expect([...response.headers]).toEqual([
      ['access-control-allow-origin', '*'],
      ['cache-control', 'no-cache'],
      ['content-length', String(encoder.encode(noSuchId).byteLength)],
      ['content-type', 'text/plain; charset=utf-8'],
      ['x-content-type-options', 'nosniff'],
    ])
  })

  test('answers a HEAD with the 409 headers and no body when no event has the Last-Event-ID', () => {
    const request = new Request('https://mock.test/body', {
      method: 'HEAD',
      headers: { 'last-event-id': '9' },
    })
    const response = mockStream(events, { format: 'sse', lastEventId: true, request })
    expect(response.status).toBe(409)
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(0)
    expect(response.body).toBeNull()
  })

  test('quotes a long Last-Event-ID cut to 200 characters, with its length, as sluice/lambda does', async () => {
    const id = 'i'.repeat(250)
    const response = mockStream(events, {
      format: 'sse',
      lastEventId: true,
      request: rangeRequest({ 'last-event-id': id }),
    })
    expect(await response.text()).toMatch(
      / The request carried Last-Event-ID "i{200}"… \(250 characters\)\.\n$/,
    )
  })

  test('ends the body of async parts with the 409 as an error event, then a cut, when no event had the Last-Event-ID, as sluice/lambda does once its 200 went out', async () => {
    async function* parts(): AsyncGenerator<unknown> {
      yield* events
    }
    const request = rangeRequest({ 'last-event-id': '9' })
    const response = mockStream(parts(), { format: 'sse', lastEventId: true, endMarker: true, request })
    expect(response.status).toBe(200)
    const { text, error } = await readUntilError(response)
    // The text sluice/lambda's streamSse sends in-band: no marker after it (a cut, not an end).
    const message = noSuchId.trimEnd()
    expect(text).toBe(`event: error\ndata: ${JSON.stringify({ status: 409, message })}\n\n`)
    expect((error as Error).message).toBe(message)
  })
})

describe('cursor', () => {
  const rows = [{ id: 0 }, { id: 1 }, { id: 2 }]
  const ndjson = '{"id":0}\n{"id":1}\n{"id":2}\n'
  const cursorRequest = (query: string, headers: Record<string, string> = {}, method = 'GET'): Request =>
    new Request(`https://mock.test/rows${query}`, { method, headers })
  /** The refusal's text, as sluice/lambda's streamNdjson words it but for who refused. */
  const conflictText = (cursor: string, where: string): string =>
    `mockStream cannot continue after a cursor: its source is a plain iterable, which starts from its first item; pass a function (cursor) => items after it as the source (a handler that reads the cursor itself can pass () => items). The request carried cursor ${cursor} in ${where}.\n`

  test("answers 409 for parts given as they are when the request carries a cursor, in sluice/lambda's words, never the rows again", async () => {
    const request = cursorRequest('?cursor=1')
    const response = mockStream(rows, { format: 'ndjson', cursor: true, endMarker: true, request })
    expect(response.status).toBe(409)
    expect(response.headers.get('x-sluice-end')).toBeNull()
    expect(await response.text()).toBe(conflictText('"1"', 'the ?cursor= query parameter'))
  })

  test("answers the 409 with sluice/lambda's refusal headers: the caller's, none that describe the stream, and nosniff", () => {
    const headers = { 'access-control-allow-origin': '*', etag: '"caller"', 'accept-ranges': 'bytes' }
    const request = cursorRequest('', { 'x-sluice-cursor': '1' })
    const response = mockStream(rows, {
      format: 'ndjson',
      cursor: true,
      range: true,
      etag: '"v1"',
      headers,
      request,
    })
    expect(response.status).toBe(409)
    expect([...response.headers]).toEqual([
      ['access-control-allow-origin', '*'],
      [
        'content-length',
        String(encoder.encode(conflictText('"1"', 'the x-sluice-cursor header')).byteLength),
      ],
      ['content-type', 'text/plain; charset=utf-8'],
      ['x-content-type-options', 'nosniff'],
    ])
  })

  test('reads the query parameter first, then the header, under the names cursorParam and cursorHeader give', async () => {
    const cases: Array<[Request, MockStreamOptions, string]> = [
      [cursorRequest('', { 'x-sluice-cursor': 'h' }), {}, '"h" in the x-sluice-cursor header'],
      [cursorRequest('?cursor=q', { 'x-sluice-cursor': 'h' }), {}, '"q" in the ?cursor= query parameter'],
      [cursorRequest('?after=q&cursor=x'), { cursorParam: 'after' }, '"q" in the ?after= query parameter'],
      [
        cursorRequest('', { 'x-after': 'h', 'x-sluice-cursor': 'x' }),
        { cursorHeader: 'X-After' },
        '"h" in the X-After header',
      ],
    ]
    for (const [request, names, said] of cases) {
      const response = mockStream(rows, { format: 'ndjson', cursor: true, ...names, request })
      expect(response.status, said).toBe(409)
      expect(await response.text()).toMatch(new RegExp(`cursor ${said.replace(/[?.]/g, '\\$&')}\\.\\n$`))
    }
  })

  test('joins the values of a repeated query parameter with commas, as a function URL does', async () => {
    const response = mockStream(rows, {
      format: 'ndjson',
      cursor: true,
      request: cursorRequest('?cursor=1&cursor=2'),
    })
    expect(await response.text()).toBe(conflictText('"1,2"', 'the ?cursor= query parameter'))
  })

  test('quotes a long cursor cut to 200 characters, with its length, as sluice/lambda does', async () => {
    const cursor = 'c'.repeat(250)
    const response = mockStream(rows, {
      format: 'ndjson',
      cursor: true,
      request: cursorRequest(`?cursor=${cursor}`),
    })
    expect(await response.text()).toBe(
      conflictText(`"${'c'.repeat(200)}"… (250 characters)`, 'the ?cursor= query parameter'),
    )
  })

  test('sends every row for a request without a cursor, or with an empty one, whose header is then not read', async () => {
    for (const request of [
      cursorRequest(''),
      cursorRequest('?cursor='),
      cursorRequest('?cursor=', { 'x-sluice-cursor': '1' }),
      cursorRequest('?other=1', { 'x-sluice-cursor': '' }),
    ]) {
      const response = mockStream(rows, { format: 'ndjson', cursor: true, request })
      expect(response.status, request.url).toBe(200)
      expect(await response.text()).toBe(ndjson)
    }
  })

  test('without cursor: true, sends every row whatever cursor the request carries, as before', async () => {
    const request = cursorRequest('?cursor=1', { 'x-sluice-cursor': '1' })
    expect(await mockStream(rows, { format: 'ndjson', request }).text()).toBe(ndjson)
  })

  test('refuses a cursor whatever the status and the parts, async ones included, and a HEAD gets the head alone', async () => {
    async function* parts(): AsyncGenerator<unknown> {
      yield* rows
    }
    const request = cursorRequest('?cursor=1')
    expect(mockStream(parts(), { format: 'ndjson', cursor: true, request }).status).toBe(409)
    expect(mockStream([], { status: 304, cursor: true, request }).status).toBe(409)
    expect(mockStream(rows, { format: 'ndjson', status: 500, cursor: true, request }).status).toBe(409)
    const head = mockStream(rows, {
      format: 'ndjson',
      cursor: true,
      request: cursorRequest('?cursor=1', {}, 'HEAD'),
    })
    expect(head.status).toBe(409)
    expect(Number(head.headers.get('content-length'))).toBe(
      encoder.encode(conflictText('"1"', 'the ?cursor= query parameter')).byteLength,
    )
    expect(head.body).toBeNull()
  })

  test('answers a Range past a declared length with its 416 first, as sluice/lambda does before it pulls its source', () => {
    const request = cursorRequest('?cursor=1', { range: 'bytes=99-' })
    const declared = mockStream(rows, {
      format: 'ndjson',
      cursor: true,
      range: true,
      contentLength: true,
      request,
    })
    expect(declared.status).toBe(416)
    // A marked body has no length until the source is pulled, and the cursor stops it first.
    const marked = mockStream(rows, { format: 'ndjson', cursor: true, range: true, endMarker: true, request })
    expect(marked.status).toBe(409)
  })

  test('answers an SSE request that carries a Last-Event-ID by it, cursor or not, as streamSse does', async () => {
    const events = [
      { id: '1', data: 'a' },
      { id: '2', data: 'b' },
    ]
    const both = cursorRequest('?cursor=1', { 'last-event-id': '1' })
    const replayed = mockStream(events, { format: 'sse', cursor: true, lastEventId: true, request: both })
    expect(await replayed.text()).toBe('id: 2\ndata: b\n\n')
    // Without lastEventId the mock reads no Last-Event-ID, and the cursor is refused.
    expect(mockStream(events, { format: 'sse', cursor: true, request: both }).status).toBe(409)
  })
})

describe('backpressure and cancellation', () => {
  test('produces parts no faster than the consumer reads them', async () => {
    let produced = 0
    async function* parts(): AsyncGenerator<string> {
      for (let i = 0; i < 100; i++) {
        produced++
        yield `part ${i}\n`
      }
    }
    const reader = mockStream(parts()).body!.getReader()
    await settle()
    expect(produced).toBe(0)
    for (let reads = 1; reads <= 5; reads++) {
      await reader.read()
      await settle()
      expect(produced).toBeLessThanOrEqual(reads + 1)
    }
    await reader.cancel()
  })

  test('stops producing and releases the source when the reader cancels', async () => {
    let produced = 0
    let released = false
    async function* parts(): AsyncGenerator<string> {
      try {
        for (;;) {
          produced++
          yield 'x'
        }
      } finally {
        released = true
      }
    }
    const reader = mockStream(parts()).body!.getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    await settle()
    const atCancel = produced
    await settle()
    expect(released).toBe(true)
    expect(produced).toBe(atCancel)
  })
})

describe('parts that can be read only once', () => {
  test('refuses a generator an earlier mockStream() was given, which would send nothing as the whole body', async () => {
    async function* rows(): AsyncGenerator<{ n: number }> {
      yield { n: 1 }
    }
    // As in an msw resolver that serves one generator, made outside it, to every request.
    const shared = rows()
    const first = mockStream(shared, { format: 'ndjson', endMarker: true })
    expect(await first.text()).toBe('{"n":1}\n{"$sluice":"end","bytes":8}\n')
    expect(() => mockStream(shared, { format: 'ndjson', endMarker: true })).toThrow(
      new TypeError(
        'mockStream: its parts, an object (AsyncGenerator), can be read only once, and an earlier mockStream() was given them: this response would get what is left as the whole body. Make new parts for each, such as mockStream(rows()).',
      ),
    )
    // Parts read afresh each time serve any number of responses.
    const again = new Set(['a', 'b'])
    expect(await mockStream(again).text()).toBe('ab')
    expect(await mockStream(again).text()).toBe('ab')
    expect(await mockStream(rows(), { format: 'ndjson' }).text()).toBe('{"n":1}\n')
  })
})

describe('invalid arguments', () => {
  test.each([
    ['a string as parts', () => mockStream('abc' as never), TypeError, /Wrap a single part in an array/],
    [
      'a misspelt option',
      () => mockStream([], { dropAfter: 3 } as never),
      TypeError,
      /unknown option 'dropAfter'/,
    ],
    [
      'an unknown format',
      () => mockStream([], { format: 'json' as never }),
      TypeError,
      /'raw', 'ndjson' or 'sse'/,
    ],
    ['chunkSize 0', () => mockStream([], { chunkSize: 0 }), RangeError, /chunkSize must be ≥ 1.*Pass 1/],
    ['a fractional chunkSize', () => mockStream([], { chunkSize: 1.5 }), TypeError, /whole number/],
    ['a negative delayMs', () => mockStream([], { delayMs: -1 }), RangeError, /delayMs must be ≥ 0/],
    [
      'bytesPerSecond 0',
      () => mockStream([], { bytesPerSecond: 0 }),
      RangeError,
      /bytesPerSecond must be > 0/,
    ],
    [
      'a 1xx status',
      () => mockStream([], { status: 101 }),
      RangeError,
      'mockStream: status must be ≥ 200 and ≤ 599, got 101. A Response cannot carry a 1xx status; pass a final status.',
    ],
    // No word of 1xx for a status above the range.
    [
      'status 600',
      () => mockStream([], { status: 600 }),
      RangeError,
      /^mockStream: status must be ≥ 200 and ≤ 599, got 600\.$/,
    ],
    [
      'a statusText with a line break',
      () => mockStream([], { statusText: 'x\ny' }),
      TypeError,
      'mockStream: statusText must be an HTTP reason phrase, which a Response takes only of tabs, spaces, visible ASCII and characters U+0080–U+00FF, got "x\\ny"; remove its line breaks and other characters.',
    ],
    [
      'a statusText with DEL',
      () => mockStream([], { statusText: 'a\x7f' }),
      TypeError,
      /^mockStream: statusText must be an HTTP reason phrase/,
    ],
    [
      'a statusText beyond U+00FF',
      () => mockStream([], { statusText: 'Ā' }),
      TypeError,
      /^mockStream: statusText must be an HTTP reason phrase/,
    ],
    ['two faults', () => mockStream([], { truncate: 1, dropAfterBytes: 2 }), TypeError, /one fault/],
    [
      'error without errorAfterBytes',
      () => mockStream([], { error: new Error() }),
      TypeError,
      /errorAfterBytes/,
    ],
    ['range without a request', () => mockStream([], { range: true }), TypeError, /Pass request/],
    [
      'lastEventId without a request',
      () => mockStream([], { format: 'sse', lastEventId: true }),
      TypeError,
      /lastEventId: true reads the request, but no request was given\. Pass request/,
    ],
    [
      'error beside another fault',
      () => mockStream([], { dropAfterBytes: 1, error: new Error() }),
      TypeError,
      /error is the error raised by errorAfterBytes; pass errorAfterBytes too/,
    ],
    [
      'a fractional fault offset',
      () => mockStream(['abc'], { dropAfterBytes: 1.5 }),
      TypeError,
      /dropAfterBytes must be a whole number, got 1\.5/,
    ],
    [
      'a signal that is not an AbortSignal',
      () => mockStream([], { signal: 'stop' as never }),
      TypeError,
      /signal must be an AbortSignal, got "stop"/,
    ],
    [
      'lastEventId outside SSE',
      () => mockStream([], { lastEventId: true, request: rangeRequest({}) }),
      TypeError,
      /format: 'sse'/,
    ],
    [
      'cursor without a request',
      () => mockStream([], { cursor: true }),
      TypeError,
      /cursor: true reads the request, but no request was given\. Pass request/,
    ],
    [
      'a cursor that is not a boolean',
      () => mockStream([], { cursor: 'yes' as never }),
      TypeError,
      /cursor must be a boolean, got "yes"/,
    ],
    [
      'an empty cursorParam',
      () => mockStream([], { cursor: true, cursorParam: '', request: rangeRequest({}) }),
      TypeError,
      /cursorParam must be a query parameter name, got ""/,
    ],
    [
      'a cursorHeader that is no header name',
      () => mockStream([], { cursor: true, cursorHeader: 'x cursor', request: rangeRequest({}) }),
      TypeError,
      /cursorHeader must be a header name, such as "x-sluice-cursor", got "x cursor"/,
    ],
    [
      'cursorParam without cursor: true',
      () => mockStream([], { cursorParam: 'after', request: rangeRequest({}) }),
      TypeError,
      /cursorParam and cursorHeader name where cursor: true reads the cursor; pass cursor: true too/,
    ],
    [
      'cursorHeader beside cursor: false',
      () => mockStream([], { cursor: false, cursorHeader: 'x-after', request: rangeRequest({}) }),
      TypeError,
      /pass cursor: true too/,
    ],
    ['a weak etag', () => mockStream([], { etag: 'W/"1"' }), TypeError, /strong entity tag/],
    ['an etag without quotes', () => mockStream([], { etag: 'v1' }), TypeError, /strong entity tag/],
    [
      'contentLength over async parts',
      () => mockStream((async function* () {})(), { contentLength: true }),
      TypeError,
      /sync iterable/,
    ],
    ['a body for a 204', () => mockStream(['a'], { status: 204 }), TypeError, /no body/],
  ])('rejects %s with a sentence that says what to pass', (_, call, type, message) => {
    expect(call).toThrow(type)
    expect(call).toThrow(message)
  })
})
