/**
 * Parts a mock answers without reading them — a HEAD, a `409` or `416`, a status that has no body, a body
 * cancelled before its first read — are released, as sluice/lambda releases a source it answers without reading:
 * a web `ReadableStream` cancelled, a Node `Readable` destroyed, a started generator closed (its `finally` runs).
 * Parts given to streamHandler as they are serve every request, and stay as they are.
 */
import { Readable } from 'node:stream'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { mockStream } from '../../src/mock/mock-stream.ts'
import { streamHandler } from '../../src/mock/stream-handler.ts'
import { watchedSource } from '../support/streams.ts'

const server = setupServer()
const url = 'https://fn.test/release'

beforeAll(() => {
  server.listen({ onUnhandledFrame: 'error' })
})
afterEach(() => {
  server.resetHandlers()
})
afterAll(() => {
  server.close()
})

/** A web stream of parts that records whether it was cancelled. */
function upstream(): { parts: ReadableStream<string>; cancelled: Promise<void> } {
  let cancel!: () => void
  const cancelled = new Promise<void>((resolve) => {
    cancel = resolve
  })
  const parts = new ReadableStream<string>({
    pull(controller) {
      controller.enqueue('x'.repeat(10))
    },
    cancel() {
      cancel()
    },
  })
  return { parts, cancelled }
}

/** Resolves once `readable` is destroyed. */
function destroyed(readable: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (readable.destroyed) resolve()
    else readable.once('close', () => resolve())
  })
}

describe('parts a function returns to streamHandler, answered without being read', () => {
  it('cancels a web ReadableStream for a HEAD', async () => {
    const { parts, cancelled } = upstream()
    server.use(streamHandler('HEAD', url, () => parts))
    const response = await fetch(url, { method: 'HEAD' })
    expect(response.status).toBe(200)
    await cancelled
  })

  it('destroys a Node Readable for a HEAD', async () => {
    const rows = new Readable({ objectMode: true, read() {} })
    server.use(streamHandler('HEAD', url, () => rows, { format: 'ndjson' }))
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200)
    await destroyed(rows)
  })

  it('cancels a web ReadableStream for a status that has no body', async () => {
    const { parts, cancelled } = upstream()
    server.use(streamHandler('GET', url, () => parts, { status: 204 }))
    expect((await fetch(url)).status).toBe(204)
    await cancelled
  })

  it('closes a generator pulled toward a Range that a stated Content-Length then refuses with 416', async () => {
    // Without end: only the 416's release stops it.
    const { parts, finished: closed } = watchedSource(() => 'y'.repeat(10), Number.POSITIVE_INFINITY)
    server.use(streamHandler('GET', url, parts, { range: true, headers: { 'content-length': '20' } }))
    const response = await fetch(url, { headers: { range: 'bytes=20-' } })
    expect(response.status).toBe(416)
    await response.text()
    await closed
  })

  it('closes a generator pulled toward a Range whose part cannot be encoded', async () => {
    let close!: () => void
    const closed = new Promise<void>((resolve) => {
      close = resolve
    })
    server.use(
      streamHandler(
        'GET',
        url,
        async function* () {
          try {
            yield 'ok'
            yield { not: 'raw' }
            yield 'more'
          } finally {
            close()
          }
        },
        { range: true },
      ),
    )
    // The body is cut at the part, which streamHandler prints.
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    let messages: unknown[]
    try {
      await fetch(url, { headers: { range: 'bytes=5-' } }).then(
        (response) => response.text(),
        () => '',
      )
      messages = printed.mock.calls.flat()
    } finally {
      printed.mockRestore()
    }
    expect(messages).toEqual([expect.stringContaining('part 1 is an object')])
    await closed
  })

  it('cancels a web ReadableStream when the request fails before the answer: a faults function that throws', async () => {
    const { parts, cancelled } = upstream()
    server.use(
      streamHandler('GET', url, () => parts, {
        faults: () => {
          throw new Error('faults failed')
        },
      }),
    )
    // msw answers a handler that throws with a 500, and prints the error.
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      expect((await fetch(url)).status).toBe(500)
    } finally {
      printed.mockRestore()
    }
    await cancelled
  })

  it('cancels a web ReadableStream a source function returns after the client aborted the request', async () => {
    const { parts, cancelled } = upstream()
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    let called!: () => void
    const calledBack = new Promise<void>((resolve) => {
      called = resolve
    })
    server.use(
      streamHandler('GET', url, async () => {
        called()
        await gate
        return parts
      }),
    )
    const abort = new AbortController()
    const request = fetch(url, { signal: abort.signal })
    await calledBack
    abort.abort()
    await expect(request).rejects.toThrow()
    open()
    await cancelled
  })

  it('leaves parts given as they are alone: they serve the next request', async () => {
    const parts = new ReadableStream<string>({
      start(controller) {
        controller.enqueue('abc')
        controller.close()
      },
    })
    server.use(streamHandler('ALL', url, parts))
    expect(await (await fetch(url, { method: 'HEAD' })).text()).toBe('')
    expect(await (await fetch(url)).text()).toBe('abc')
  })
})

describe('mockStream parts answered without being read', () => {
  it('cancels a web ReadableStream for a HEAD', async () => {
    const { parts, cancelled } = upstream()
    const response = mockStream(parts, { request: new Request(url, { method: 'HEAD' }) })
    expect(response.body).toBeNull()
    await cancelled
  })

  it('cancels a web ReadableStream when the body is cancelled before its first read', async () => {
    const { parts, cancelled } = upstream()
    await mockStream(parts).body!.cancel()
    await cancelled
  })
})
