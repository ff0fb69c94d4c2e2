import { setupWorker } from 'msw/browser'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { streamHandler } from '../../src/mock/stream-handler.ts'
import { readUntilError } from '../support/streams.ts'

// streamHandler behind msw's service worker in Chromium, read with the page's real fetch. The worker script is
// served by msw's Vite plugin (vitest.config.ts, chromium project).
const worker = setupWorker()
let started = false
const url = `${location.origin}/sluice-mock/stream`
const decode = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes)

beforeAll(async () => {
  // Vitest's own module requests pass through the worker too, so unhandled requests must go to the network.
  await worker.start({ quiet: true, onUnhandledFrame: 'bypass' })
  started = true
})
afterEach(() => {
  worker.resetHandlers()
})
afterAll(async () => {
  // stop() on a worker that never started waits 30 s for it.
  if (started) await worker.stop()
})

describe('streamHandler behind the msw browser worker', () => {
  test('answers a GET with the streamed parts', async () => {
    worker.use(streamHandler('GET', url, ['a', 'b', 'c']))
    const response = await fetch(url)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('abc')
  })

  test('delivers the first part before the source has produced the next', async () => {
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    worker.use(
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
    worker.use(
      streamHandler(
        'POST',
        url,
        async ({ request }) => {
          const { count } = (await request.json()) as { count: number }
          return Array.from({ length: count }, (_, n) => ({ n }))
        },
        { format: 'ndjson' },
      ),
    )
    const response = await fetch(url, { method: 'POST', body: JSON.stringify({ count: 3 }) })
    expect(await response.text()).toBe('{"n":0}\n{"n":1}\n{"n":2}\n')
  })

  test('dropAfterBytes reaches the page as TypeError network error after the delivered bytes', async () => {
    worker.use(streamHandler('GET', url, ['abcdef', 'ghij'], { dropAfterBytes: 7 }))
    const { text, error } = await readUntilError(await fetch(url))
    expect(text).toBe('abcdefg')
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toBe('network error')
  })

  test('errorAfterBytes reaches the page as TypeError network error', async () => {
    worker.use(streamHandler('GET', url, ['abc', 'def'], { errorAfterBytes: 4 }))
    const { text, error } = await readUntilError(await fetch(url))
    expect(text).toBe('abcd')
    expect((error as TypeError).message).toBe('network error')
  })

  test('truncate reaches the page as a clean, short end', async () => {
    worker.use(streamHandler('GET', url, ['abc', 'def'], { truncate: 5, endMarker: true }))
    const response = await fetch(url)
    expect(response.headers.get('x-sluice-end')).toBe('marker')
    expect(await response.text()).toBe('abcde')
  })
})

describe('resuming behind the msw browser worker', () => {
  const lines = Array.from({ length: 20 }, (_, n) => `line ${n}\n`)
  const whole = lines.join('')

  test('faults can break only the first attempt, and a Range request resumes where it dropped', async () => {
    worker.use(
      streamHandler('GET', url, lines, {
        range: true,
        faults: (attempt) => (attempt === 1 ? { dropAfterBytes: 50 } : undefined),
      }),
    )
    const first = await fetch(url)
    const etag = first.headers.get('etag')!
    const { text: head, error } = await readUntilError(first)
    expect(head).toBe(whole.slice(0, 50))
    expect(error).toBeInstanceOf(TypeError)

    const second = await fetch(url, { headers: { range: 'bytes=50-', 'if-range': etag } })
    expect(second.status).toBe(206)
    expect(second.headers.get('content-range')).toBe(`bytes 50-${whole.length - 1}/${whole.length}`)
    expect(head + (await second.text())).toBe(whole)
  })

  test('a Last-Event-ID request gets the events after that id', async () => {
    const events = [
      { id: '1', data: 'a' },
      { id: '2', data: 'b' },
    ]
    worker.use(streamHandler('GET', url, events, { format: 'sse', lastEventId: true }))
    const resumed = await fetch(url, { headers: { 'last-event-id': '1' } })
    expect(await resumed.text()).toBe('id: 2\ndata: b\n\n')
  })
})
