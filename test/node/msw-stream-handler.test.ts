import type { RequestHandler } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { isResumeError, type ResumeError, sluice } from '../../src/index.ts'
import { streamNdjson } from '../../src/lambda/index.ts'
import { awslambda, functionUrl } from '../../src/mock/index.ts'
import { mockStream } from '../../src/mock/mock-stream.ts'
import type { MockEvent } from '../../src/mock/parts.ts'
import { type StreamSourceInfo, streamHandler } from '../../src/mock/stream-handler.ts'
import { streamHandlerCancelCases, streamHandlerCases } from '../support/msw-stream-cases.ts'
import { FAST } from '../support/scripted.ts'
import { drain, PLENTY, readUntilError, watchedSource } from '../support/streams.ts'

// streamHandler under msw/node, read with Node's real fetch: what a client sees over (mocked) HTTP.
const server = setupServer()
const url = 'https://fn.test/stream'
const decode = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes)

beforeAll(() => {
  server.listen({ onUnhandledFrame: 'error' })
})
afterEach(() => {
  server.resetHandlers()
})
afterAll(() => {
  server.close()
})

const transport = {
  where: 'under msw/node',
  reader: 'the client',
  use: (...handlers: RequestHandler[]) => server.use(...handlers),
  url,
  failure: 'terminated',
  wide: true,
}
streamHandlerCases(transport)
streamHandlerCancelCases(transport)

describe('streamHandler under msw/node, beyond what both transports share', () => {
  test('tells the source function the path params and the attempt number', async () => {
    server.use(
      streamHandler('GET', 'https://fn.test/users/:id', ({ params, attempt }) => [`${params.id}#${attempt}`]),
    )
    expect(await (await fetch('https://fn.test/users/7')).text()).toBe('7#1')
    expect(await (await fetch('https://fn.test/users/8')).text()).toBe('8#2')
  })

  // Node only: browsers drop Set-Cookie from a Response built in script.
  test('sends every Set-Cookie header of the headers option', async () => {
    const headers = new Headers([
      ['set-cookie', 'a=1; Path=/'],
      ['set-cookie', 'b=2; HttpOnly'],
    ])
    expect(mockStream(['ok'], { headers }).headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly'])
    server.use(streamHandler('GET', url, ['ok'], { headers: [...headers] }))
    expect((await fetch(url)).headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly'])
  })

  test('what faults returns replaces the fault options given beside it, an empty answer included', async () => {
    server.use(
      streamHandler('GET', url, ['abcdef'], {
        dropAfterBytes: 2,
        faults: (attempt) => (attempt === 1 ? { truncate: 3 } : {}),
      }),
    )
    expect(await readUntilError(await fetch(url))).toEqual({ text: 'abc', error: undefined })
    expect(await readUntilError(await fetch(url))).toEqual({ text: 'abcdef', error: undefined })
  })

  // Spread as it was, a number (meant as an offset) added no fault: the test passed with its body unbroken.
  test('answers a faults that returns no faults object with a 500 that says what to return, not an unbroken body', async () => {
    server.use(
      streamHandler('GET', url, ['abcdef'], {
        faults: ((attempt: number) => (attempt === 1 ? 2 : false)) as never,
      }),
    )
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const response = await fetch(url)
      expect(response.status).toBe(500)
      expect(await response.text()).toContain(
        'streamHandler: faults(1, request) returned 2; return the faults of this request, such as { dropAfterBytes: 64 }, or undefined for none.',
      )
    } finally {
      printed.mockRestore()
    }
    // false, as from `attempt === 1 && { … }`, is no fault.
    expect(await readUntilError(await fetch(url))).toEqual({ text: 'abcdef', error: undefined })
  })

  test('truncate under a declared Content-Length reaches the client as an error, not a hang', async () => {
    server.use(streamHandler('GET', url, ['abc', 'def'], { truncate: 5, contentLength: true }))
    const { text, error } = await readUntilError(await fetch(url))
    expect(text).toBe('abcde')
    expect((error as TypeError).message).toBe('terminated')
  })

  test('a Content-Length declared in headers fits the 206 and the end marker, so the client reads every byte', async () => {
    const parts = async function* () {
      yield '01234'
      yield '56789'
    }
    const headers = { 'content-length': '10' }
    server.use(
      streamHandler('GET', `${url}/ranged`, parts, { headers, range: true }),
      streamHandler('GET', `${url}/marked`, parts, { headers, endMarker: true }),
    )
    const signal = AbortSignal.timeout(2_000)
    const ranged = await fetch(`${url}/ranged`, { headers: { range: 'bytes=4-' }, signal })
    expect(ranged.status).toBe(206)
    expect(await ranged.text()).toBe('456789')
    expect(await (await fetch(`${url}/marked`, { signal })).text()).toBe(
      '0123456789{"$sluice":"end","bytes":10}\n',
    )
  })

  test("a client's abort releases a stalled source", async () => {
    const { parts, finished } = watchedSource((n) => ['abc', 'def'][n]!, 2)
    server.use(streamHandler('GET', url, parts, { stallAfterBytes: 3 }))
    const controller = new AbortController()
    const reader = (await fetch(url, { signal: controller.signal })).body!.getReader()
    expect(decode((await reader.read()).value)).toBe('abc')
    controller.abort()
    await expect(reader.read()).rejects.toThrow()
    await finished
  })

  test.each([
    ['a Range past what has come', { range: 'bytes=100000000-' }],
    ['a Last-Event-ID not seen yet', { 'last-event-id': 'later' }],
  ])('a client that aborts while %s is pulled stops the pull and the source', async (_, headers) => {
    let produced = 0
    const stopped = Promise.withResolvers<void>()
    const pulled = Promise.withResolvers<void>()
    // Paced by a timer, as a real source is: the pull would go on long after the client left.
    async function* parts(): AsyncGenerator<MockEvent> {
      try {
        for (; ; produced++) {
          if (produced === 3) pulled.resolve()
          await new Promise((resolve) => setTimeout(resolve, 1))
          yield { id: String(produced), data: produced }
        }
      } finally {
        stopped.resolve()
      }
    }
    server.use(streamHandler('GET', url, parts, { format: 'sse', range: true, lastEventId: true }))
    const controller = new AbortController()
    const request = fetch(url, { headers, signal: controller.signal })
    await pulled.promise
    controller.abort()
    await expect(request).rejects.toThrow()
    const settled = await Promise.race([
      stopped.promise.then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 2_000, 'still pulling')),
    ])
    expect(settled).toBe('stopped')
    expect(produced).toBeLessThan(100)
  })

  test('cancelling a ranged body over async parts stops the source', async () => {
    const { parts, finished, produced } = watchedSource((n) => `line ${n}\n`, PLENTY)
    server.use(streamHandler('GET', url, parts, { range: true }))
    const response = await fetch(url, { headers: { range: 'bytes=20-' } })
    const reader = response.body!.getReader()
    // The body starts at byte 20, in the part that holds it.
    const from20 = Array.from({ length: 20_000 }, (_, n) => `line ${n}\n`)
      .join('')
      .slice(20)
    const first = decode((await reader.read()).value)
    expect(first.length).toBeGreaterThan(0)
    expect(from20.startsWith(first)).toBe(true)
    await reader.cancel()
    await finished
    // Stopped by the cancel, long before the source ran out.
    expect(produced()).toBeLessThan(PLENTY)
  })
})

describe('resuming through msw/node', () => {
  const lines = Array.from({ length: 20 }, (_, n) => `line ${n}\n`)
  const whole = lines.join('')

  test('answers 416 when the range starts past the end', async () => {
    server.use(streamHandler('GET', url, lines, { range: true }))
    const response = await fetch(url, { headers: { range: `bytes=${whole.length}-` } })
    expect(response.status).toBe(416)
    expect(response.headers.get('content-range')).toBe(`bytes */${whole.length}`)
  })

  test('answers 416 over async parts when If-Range names the etag option, as without If-Range', async () => {
    async function* parts(): AsyncGenerator<string> {
      yield* lines
    }
    server.use(streamHandler('GET', url, parts, { range: true, etag: '"v1"' }))
    const response = await fetch(url, { headers: { range: `bytes=${whole.length}-`, 'if-range': '"v1"' } })
    expect(response.status).toBe(416)
    expect(response.headers.get('content-range')).toBe(`bytes */${whole.length}`)
  })

  test("answers the Range of a POST over async parts as a GET's, as sluice/lambda does: pulled, 416 past the end", async () => {
    async function* parts(): AsyncGenerator<string> {
      yield* lines
    }
    server.use(streamHandler('POST', url, parts, { range: true, etag: '"v1"' }))
    const ask = (range: string) => fetch(url, { method: 'POST', body: '{}', headers: { range } })
    const ranged = await ask('bytes=5-')
    expect([ranged.status, ranged.headers.get('content-range')]).toEqual([206, 'bytes 5-*/*'])
    expect(await ranged.text()).toBe(whole.slice(5))
    const past = await ask(`bytes=${whole.length}-`)
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${whole.length}`])
  })

  test('counts a marker-like record of async parts as it is sent, escaped, when it looks for a range start', async () => {
    // In a marked body the record goes as `{ "$sluice"…`, a byte longer than its JSON: its last byte is there.
    const sent = '{ "$sluice":"end","bytes":0}\n'
    async function* parts(): AsyncGenerator<unknown> {
      yield { $sluice: 'end', bytes: 0 }
    }
    server.use(streamHandler('GET', url, parts, { format: 'ndjson', range: true, endMarker: true }))
    const response = await fetch(url, { headers: { range: `bytes=${sent.length - 1}-` } })
    expect(response.status).toBe(206)
    expect((await response.text()).startsWith('\n')).toBe(true)
  })
})

describe('the cursor protocol through msw/node', () => {
  const rows = Array.from({ length: 5 }, (_, id) => ({ id }))
  const resume = {
    strategy: 'cursor',
    cursor: (row: unknown) => ({ searchParams: { cursor: String((row as { id: number }).id) } }),
    attempts: 5,
    backoff: FAST,
  } as const
  /** Inside the third row: rows 0 and 1 are delivered, and the reconnect carries ?cursor=1. */
  const firstDrops = (attempt: number) => (attempt === 1 ? { dropAfterBytes: 20 } : undefined)

  test("tells a function source the request's cursor, read where sluice/lambda reads it", async () => {
    const seen: Array<string | undefined> = []
    const source = ({ cursor }: StreamSourceInfo) => {
      seen.push(cursor)
      return []
    }
    server.use(
      streamHandler('GET', url, source, { cursor: true }),
      streamHandler('GET', `${url}/renamed`, source, {
        cursor: true,
        cursorParam: 'after',
        cursorHeader: 'x-after',
      }),
      streamHandler('GET', `${url}/off`, source),
    )
    for (const [target, headers] of [
      [`${url}?cursor=3`, { 'x-sluice-cursor': '9' }],
      [url, { 'x-sluice-cursor': '4' }],
      [`${url}?cursor=`, { 'x-sluice-cursor': '9' }],
      [url, {}],
      [`${url}/renamed?after=5&cursor=9`, { 'x-sluice-cursor': '9' }],
      [`${url}/renamed`, { 'x-after': '6', 'x-sluice-cursor': '9' }],
      [`${url}/off?cursor=7`, { 'x-sluice-cursor': '7' }],
    ] as const) {
      expect((await fetch(target, { headers })).status).toBe(200)
    }
    expect(seen).toEqual(['3', '4', '', undefined, '5', '6', undefined])
  })

  test("a client resumed by cursor from parts given as they are fails with a ResumeError that quotes sluice/lambda's 409", async () => {
    const lambda = awslambda.streamifyResponse(async (event, responseStream) => {
      await streamNdjson(responseStream, rows, { request: event, awslambda, onRefusal: false })
    })
    const answers: number[] = []
    const listener = ({ response }: { response: Response }): void => {
      answers.push(response.status)
    }
    server.use(
      functionUrl('https://fn.test/lambda', lambda),
      streamHandler('GET', url, rows, {
        format: 'ndjson',
        cursor: true,
        endMarker: true,
        faults: firstDrops,
      }),
    )
    const refusal = await (await fetch('https://fn.test/lambda?cursor=1')).text()
    expect(refusal).toMatch(/^sluice\/lambda: streamNdjson cannot continue after a cursor: /)
    server.events.on('response:mocked', listener)
    const res = await sluice(url, { resume })
    const { items, error } = await drain(res.ndjson())
    server.events.removeListener('response:mocked', listener)
    expect(items).toEqual(rows.slice(0, 2))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as ResumeError).excerpt).toBe(
      refusal.replace('sluice/lambda: streamNdjson', 'streamHandler'),
    )
    expect((error as Error).message).toContain(
      'status 409; the stream cannot be continued; the server said: "streamHandler cannot continue after a cursor',
    )
    // One reconnect, not one per attempt.
    expect(answers).toEqual([200, 409])
  })

  test('refuses a cursor for async parts given as they are without pulling them, a Range beside it too', async () => {
    let pulled = 0
    const { parts } = watchedSource((id) => {
      pulled++
      return { id }
    }, 5)
    server.use(streamHandler('GET', url, parts(), { format: 'ndjson', cursor: true, range: true }))
    const response = await fetch(`${url}?cursor=1`, { headers: { range: 'bytes=5-' } })
    expect(response.status).toBe(409)
    expect(await response.text()).toMatch(/^streamHandler cannot continue after a cursor: /)
    expect(pulled).toBe(0)
  })
})

describe('streamHandler arguments', () => {
  test("a source that is not parts gets mockStream's message, with or without a Range to answer", async () => {
    for (const headers of [{}, { range: 'bytes=3-' }]) {
      server.use(streamHandler('GET', url, () => 'abc' as never, { range: true }))
      const response = await fetch(url, { headers })
      // msw answers a resolver that threw with a 500 that carries the error.
      expect(response.status).toBe(500)
      expect(await response.text()).toContain('must be an array or (async) iterable of parts')
    }
  })

  test('rejects parts that are not parts when the handler is created, not with a 500 at each request', () => {
    expect(() => streamHandler('GET', url, 'abc' as never)).toThrow(
      /^streamHandler: the parts \(source, or what it returns\) must be an array or \(async\) iterable of parts, got "abc"\. Wrap a single part in an array: \[part\]\.$/,
    )
  })

  test('rejects a part of an array that cannot be sent when the handler is created, naming it', () => {
    expect(() => streamHandler('GET', url, ['a\n', { x: 1 }])).toThrow(
      /^streamHandler: part 1 is an object \(Object\), but format 'raw' sends only strings/,
    )
    expect(() => streamHandler('GET', url, [{ id: 'a\nb', data: 1 }], { format: 'sse' })).toThrow(
      'streamHandler got, as part 0, an event whose id contains a line break or NUL; remove it (only data may span lines).',
    )
  })

  test('rejects a statusText that a Response cannot carry when the handler is created, naming the option', () => {
    expect(() => streamHandler('GET', url, [], { statusText: 'x\ny' })).toThrow(
      new TypeError(
        'streamHandler: statusText must be an HTTP reason phrase, which a Response takes only of tabs, spaces, visible ASCII and characters U+0080–U+00FF, got "x\\ny"; remove its line breaks and other characters.',
      ),
    )
  })

  test('answers a Last-Event-ID over async parts from after an id-only part, which it pulls up to', async () => {
    async function* parts(): AsyncGenerator<unknown> {
      yield { id: '1', data: 'a' }
      yield 'b'
      yield { id: '2' }
      yield 'c'
    }
    server.use(streamHandler('GET', url, parts, { format: 'sse', lastEventId: true }))
    const response = await fetch(url, { headers: { 'last-event-id': '2' } })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('data: c\n\n')
  })

  test('rejects invalid options when the handler is created', () => {
    expect(() => streamHandler('GET', url, [], { chunkSize: 0 })).toThrow(RangeError)
    expect(() => streamHandler('GET', url, [], { faults: 3 as never })).toThrow(/faults must be a function/)
    expect(() => streamHandler('GET', url, [], { cursorHeader: 'x-after' })).toThrow(
      'streamHandler: cursorParam and cursorHeader name where cursor: true reads the cursor; pass cursor: true too.',
    )
    expect(() => streamHandler('GET', url, [], { cursor: true, cursorParam: '' })).toThrow(
      'streamHandler: cursorParam must be a query parameter name, got "".',
    )
  })

  test('takes cursor: true without a request, which it passes for each request', () => {
    expect(() => streamHandler('GET', url, [], { cursor: true })).not.toThrow()
  })

  test('rejects an unknown method with the list of methods', () => {
    expect(() => streamHandler('FETCH' as never, url, [])).toThrow(/method must be one of get, post/)
    expect(() => streamHandler('constructor' as never, url, [])).toThrow(TypeError)
  })
})
