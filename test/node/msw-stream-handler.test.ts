import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { streamHandler } from '../../src/mock/stream-handler.ts'
import { readUntilError } from '../support/streams.ts'

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

describe('streamHandler under msw/node', () => {
  test('answers a GET with the streamed parts', async () => {
    server.use(streamHandler('GET', url, ['a', 'b', 'c'], { format: 'raw' }))
    const response = await fetch(url)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('abc')
  })

  test('delivers the first part before the source has produced the next', async () => {
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    server.use(
      streamHandler('GET', url, async function* () {
        yield 'first'
        await gate
        yield 'second'
      }),
    )
    const reader = (await fetch(url)).body!.getReader()
    expect(decode((await reader.read()).value)).toBe('first')
    open()
    expect(decode((await reader.read()).value)).toBe('second')
  })

  test('answers a POST with parts built from the request body', async () => {
    server.use(
      streamHandler(
        'post',
        url,
        async ({ request }) => {
          const { count } = (await request.json()) as { count: number }
          return Array.from({ length: count }, (_, n) => ({ n }))
        },
        { format: 'ndjson' },
      ),
    )
    const response = await fetch(url, { method: 'POST', body: JSON.stringify({ count: 3 }) })
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
    expect(await response.text()).toBe('{"n":0}\n{"n":1}\n{"n":2}\n')
  })

  test('tells the source function the path params and the attempt number', async () => {
    server.use(
      streamHandler('GET', 'https://fn.test/users/:id', ({ params, attempt }) => [`${params.id}#${attempt}`]),
    )
    expect(await (await fetch('https://fn.test/users/7')).text()).toBe('7#1')
    expect(await (await fetch('https://fn.test/users/8')).text()).toBe('8#2')
  })

  test('dropAfterBytes reaches the client as TypeError terminated after the delivered bytes', async () => {
    server.use(streamHandler('GET', url, ['abcdef', 'ghij'], { dropAfterBytes: 7 }))
    const { text, error } = await readUntilError(await fetch(url))
    expect(text).toBe('abcdefg')
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe('terminated')
  })

  test('errorAfterBytes reaches the client as TypeError terminated', async () => {
    server.use(
      streamHandler('GET', url, ['abc', 'def'], { errorAfterBytes: 4, error: new Error('handler threw') }),
    )
    const { text, error } = await readUntilError(await fetch(url))
    expect(text).toBe('abcd')
    expect((error as TypeError).message).toBe('terminated')
  })

  test('truncate reaches the client as a clean, short end', async () => {
    server.use(streamHandler('GET', url, ['abc', 'def'], { truncate: 5, endMarker: true }))
    const response = await fetch(url)
    expect(response.headers.get('x-sluice-end')).toBe('marker')
    expect(await response.text()).toBe('abcde')
  })

  test('truncate under a declared Content-Length reaches the client as an error, not a hang', async () => {
    server.use(streamHandler('GET', url, ['abc', 'def'], { truncate: 5, contentLength: true }))
    const { text, error } = await readUntilError(await fetch(url))
    expect(text).toBe('abcde')
    expect((error as TypeError).message).toBe('terminated')
  })

  test("a client's abort releases a stalled source", async () => {
    let released!: () => void
    const release = new Promise<void>((resolve) => {
      released = resolve
    })
    server.use(
      streamHandler(
        'GET',
        url,
        async function* () {
          try {
            yield 'abc'
            yield 'def'
          } finally {
            released()
          }
        },
        { stallAfterBytes: 3 },
      ),
    )
    const controller = new AbortController()
    const reader = (await fetch(url, { signal: controller.signal })).body!.getReader()
    expect(decode((await reader.read()).value)).toBe('abc')
    controller.abort()
    await expect(reader.read()).rejects.toThrow()
    await release
  })
})

describe('resuming through msw/node', () => {
  const lines = Array.from({ length: 20 }, (_, n) => `line ${n}\n`)
  const whole = lines.join('')

  test('faults can break only the first attempt, and a Range request resumes where it dropped', async () => {
    server.use(
      streamHandler('GET', url, lines, {
        range: true,
        faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 50 } : undefined),
      }),
    )
    const first = await fetch(url)
    const etag = first.headers.get('etag')!
    expect(first.headers.get('accept-ranges')).toBe('bytes')
    const { text: head, error } = await readUntilError(first)
    expect(head).toBe(whole.slice(0, 50))
    expect(error).toBeInstanceOf(TypeError)

    const second = await fetch(url, { headers: { range: 'bytes=50-', 'if-range': etag } })
    expect(second.status).toBe(206)
    expect(second.headers.get('content-range')).toBe(`bytes 50-${whole.length - 1}/${whole.length}`)
    expect(head + (await second.text())).toBe(whole)
  })

  test('answers 416 when the range starts past the end', async () => {
    server.use(streamHandler('GET', url, lines, { range: true }))
    const response = await fetch(url, { headers: { range: `bytes=${whole.length}-` } })
    expect(response.status).toBe(416)
    expect(response.headers.get('content-range')).toBe(`bytes */${whole.length}`)
  })

  test('a Last-Event-ID request gets the events after that id', async () => {
    const events = [
      { id: '1', data: 'a' },
      { id: '2', data: 'b' },
      { id: '3', data: 'c' },
    ]
    server.use(
      streamHandler('GET', url, events, {
        format: 'sse',
        lastEventId: true,
        faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 'id: 1\ndata: a\n\n'.length } : {}),
      }),
    )
    const { text, error } = await readUntilError(await fetch(url))
    expect(text).toBe('id: 1\ndata: a\n\n')
    expect(error).toBeInstanceOf(TypeError)
    const resumed = await fetch(url, { headers: { 'last-event-id': '1' } })
    expect(await resumed.text()).toBe('id: 2\ndata: b\n\nid: 3\ndata: c\n\n')
  })
})

describe('streamHandler arguments', () => {
  test('rejects invalid options when the handler is created', () => {
    expect(() => streamHandler('GET', url, [], { chunkSize: 0 })).toThrow(RangeError)
    expect(() => streamHandler('GET', url, [], { faults: 3 as never })).toThrow(/faults must be a function/)
  })

  test('rejects an unknown method with the list of methods', () => {
    expect(() => streamHandler('FETCH' as never, url, [])).toThrow(/method must be one of get, post/)
    expect(() => streamHandler('constructor' as never, url, [])).toThrow(TypeError)
  })
})
