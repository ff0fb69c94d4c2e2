/**
 * A HEAD request gets the head its GET would get, and no body, without the helper reading its source: the service
 * drops a HEAD's body, so reading (and pacing) the source would cost the function the GET's time for nothing, and
 * a source that is slow to start would hold the head back. A HEAD is never answered by range (RFC 9110 §14.2
 * defines ranges for GET; the helpers also answer other methods' by range, HEAD excepted): it gets the head of the
 * full answer. A request the GET would refuse gets the 409's head.
 */
import { Readable } from 'node:stream'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvocationOutcome } from '../../src/dev/index.ts'
import {
  type HttpResponseMetadata,
  type RefusalReport,
  type RequestLike,
  type SseMessage,
  sluiceHandler,
  streamBytes,
  streamNdjson,
  streamSse,
} from '../../src/lambda/index.ts'
import { functionUrl, awslambda as mockAwslambda } from '../../src/mock/index.ts'
import { awslambda as runtime } from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'
import { setup, until } from './lambda-recorder.ts'

/** A function-URL request with the given method and headers. */
function asked(method: string, headers: Record<string, string> = {}, rawQueryString = ''): RequestLike {
  return { headers, rawQueryString, requestContext: { http: { method } } }
}

/** A source that says whether it was ever pulled, and that would never end if it were. */
function watched<T>(): { source: AsyncGenerator<T>; pulled: () => boolean } {
  let pulled = false
  async function* source(): AsyncGenerator<T> {
    pulled = true
    await new Promise(() => {})
  }
  return { source: source(), pulled: () => pulled }
}

/** What a helper sent for one request: its preludes, and the text written after them. */
async function answer(
  write: (
    stream: ReturnType<typeof setup>['stream'],
    awslambda: ReturnType<typeof setup>['awslambda'],
  ) => Promise<void>,
): Promise<{ preludes: HttpResponseMetadata[]; text: string; writes: number }> {
  const { stream, awslambda, preludes, log } = setup()
  await write(stream, awslambda)
  return { preludes, text: stream.text, writes: log.filter((happening) => happening.type === 'write').length }
}

/** The prelude of streamSse's 200: what a HEAD gets without the source being read. */
const SSE_HEAD = {
  statusCode: 200,
  headers: {
    'cache-control': 'no-cache',
    'content-type': 'text/event-stream; charset=utf-8',
    'x-sluice-end': 'marker',
  },
}

describe('a HEAD on a helper, on a response stream double', () => {
  it('streamBytes sends the head of its GET, length, ETag and Accept-Ranges included, without pulling its source', async () => {
    const options = { length: 26, etag: '"v1"', headers: { 'x-a': '1' } }
    const { source, pulled } = watched<Uint8Array>()
    const head = await answer((stream, awslambda) =>
      streamBytes(stream, source, { ...options, awslambda, request: asked('HEAD') }),
    )
    expect(pulled()).toBe(false)
    const get = await answer((stream, awslambda) =>
      streamBytes(stream, 'abcdefghijklmnopqrstuvwxyz', { ...options, awslambda, request: asked('GET') }),
    )
    expect(head.preludes).toEqual(get.preludes)
    expect(head.preludes[0]).toMatchObject({
      statusCode: 200,
      headers: { 'content-length': '26', etag: '"v1"', 'accept-ranges': 'bytes', 'x-a': '1' },
    })
    // The prelude goes out from a write (the runtime never sends it from end()): one empty chunk.
    expect([head.text, head.writes]).toEqual(['', 1])
  })

  it('streamBytes answers a HEAD with a Range with the 200 head: a HEAD is never answered by range, so no 206 or 416', async () => {
    for (const range of ['bytes=4-', 'bytes=26-']) {
      const { source, pulled } = watched<Uint8Array>()
      const head = await answer((stream, awslambda) =>
        streamBytes(stream, source, {
          length: 26,
          etag: '"v1"',
          awslambda,
          request: asked('HEAD', { range, 'if-range': '"v1"' }),
          onRefusal: false,
        }),
      )
      expect(pulled(), range).toBe(false)
      expect(head.preludes[0], range).toEqual({
        statusCode: 200,
        headers: {
          'content-type': 'application/octet-stream',
          'accept-ranges': 'bytes',
          etag: '"v1"',
          'content-length': '26',
        },
      })
    }
  })

  it('releases the source it does not read: a Node stream is destroyed', async () => {
    const file = new Readable({ read() {} })
    const { stream, awslambda, preludes } = setup()
    await streamBytes(stream, file, { awslambda, length: 10, request: asked('HEAD') })
    expect(preludes[0]?.statusCode).toBe(200)
    await until(() => file.destroyed)
  })

  it('streamNdjson announces the end marker of a body of unknown length, and calls no function source', async () => {
    let calls = 0
    const head = await answer((stream, awslambda) =>
      streamNdjson(
        stream,
        () => {
          calls++
          return [{ n: 1 }]
        },
        { awslambda, request: asked('HEAD', {}, 'cursor=4') },
      ),
    )
    expect(calls).toBe(0)
    expect(head.preludes).toEqual([
      { statusCode: 200, headers: { 'content-type': 'application/x-ndjson', 'x-sluice-end': 'marker' } },
    ])
    expect(head.text).toBe('')
  })

  it("streamNdjson answers a cursor its plain iterable cannot start after with its GET's 409 head, and reports it", async () => {
    const reports: RefusalReport[] = []
    const respond = (method: string) => {
      const { source, pulled } = watched<unknown>()
      return {
        pulled,
        sent: answer((stream, awslambda) =>
          streamNdjson(stream, source, {
            awslambda,
            request: asked(method, {}, 'cursor=42'),
            onRefusal: (report) => reports.push(report),
          }),
        ),
      }
    }
    const head = respond('HEAD')
    const get = respond('GET')
    const [headSent, getSent] = await Promise.all([head.sent, get.sent])
    expect(head.pulled()).toBe(false)
    expect(headSent.preludes).toEqual(getSent.preludes)
    expect(headSent.preludes[0]?.statusCode).toBe(409)
    expect(headSent.preludes[0]?.headers?.['content-length']).toBe(String(Buffer.byteLength(getSent.text)))
    expect(headSent.text).toBe('')
    expect(reports.map((report) => report.status)).toEqual([409, 409])
  })

  it('streamSse sends its head at once, with no heartbeat, without pulling a source that has no event yet', async () => {
    const { source, pulled } = watched<SseMessage>()
    const head = await answer((stream, awslambda) =>
      streamSse(stream, source, { awslambda, request: asked('HEAD') }),
    )
    expect(pulled()).toBe(false)
    expect(head.preludes).toEqual([SSE_HEAD])
    expect(head.text).toBe('')
  })

  it('streamSse answers a HEAD with a Last-Event-ID at once, replaying none of an async plain source', async () => {
    // A live source: its first event, then nothing for as long as the function runs. Replaying it up to the id
    // would hold the head back until the invocation times out.
    let pulled = 0
    async function* events(): AsyncGenerator<SseMessage> {
      pulled++
      yield { id: '1', data: 'x' }
      await new Promise(() => {})
    }
    for (const id of ['1', '2']) {
      const head = await answer((stream, awslambda) =>
        streamSse(stream, events(), { awslambda, request: asked('HEAD', { 'last-event-id': id }) }),
      )
      expect(head.preludes, id).toEqual([SSE_HEAD])
      expect(head.text).toBe('')
    }
    expect(pulled).toBe(0)
  })

  it('streamSse searches events in memory for the Last-Event-ID of a HEAD: the 409 head its GET gets, or the 200', async () => {
    const events = [
      { id: '1', data: 'a' },
      { id: '2', data: 'b' },
    ]
    const reports: RefusalReport[] = []
    const head = (id: string, source: Iterable<SseMessage>) =>
      answer((stream, awslambda) =>
        streamSse(stream, source, {
          awslambda,
          request: asked('HEAD', { 'last-event-id': id }),
          onRefusal: (report) => reports.push(report),
        }),
      )
    let closed = false
    function* replay(): Generator<SseMessage> {
      try {
        yield* events
      } finally {
        closed = true
      }
    }
    expect((await head('9', events)).preludes[0]?.statusCode).toBe(409)
    expect((await head('1', events)).preludes[0]?.statusCode).toBe(200)
    // A generator is searched up to the event, then closed.
    expect((await head('1', replay())).preludes[0]?.statusCode).toBe(200)
    expect(closed).toBe(true)
    expect(reports.map((report) => [report.status, report.asked])).toEqual([[409, { lastEventId: '9' }]])
  })

  it('a status without a body gets its head alone, its source not read', async () => {
    const { source, pulled } = watched<SseMessage>()
    const head = await answer((stream, awslambda) =>
      streamSse(stream, source, { awslambda, statusCode: 204, request: asked('HEAD') }),
    )
    expect(pulled()).toBe(false)
    expect(head.preludes).toEqual([
      {
        statusCode: 204,
        headers: { 'cache-control': 'no-cache', 'content-type': 'text/event-stream; charset=utf-8' },
      },
    ])
  })
})

/** The headers that describe the answer (not the date, the request id or the connection). */
const described = (headers: Headers) =>
  Object.fromEntries(
    [...headers].filter(([name]) => !['date', 'x-amzn-requestid', 'connection', 'keep-alive'].includes(name)),
  )

describe('a HEAD behind the emulator and sluice/mock', () => {
  /** A handler whose source, once pulled, never produces anything: a GET would never get its head. */
  const stuck = (started: { count: number }) => () => ({
    bytes: (async function* () {
      started.count++
      await new Promise(() => {})
      yield new Uint8Array(0)
    })(),
    length: 26,
    etag: '"v1"',
  })

  it('serve() sends the head of the full answer and the invocation ends, the source never pulled', async () => {
    const started = { count: 0 }
    const outcomes: Promise<InvocationOutcome>[] = []
    const server = await startEmulator(sluiceHandler(stuck(started), { awslambda: runtime }), {
      onInvocation: (invocation) => outcomes.push(invocation.finished),
    })
    for (const headers of [{}, { range: 'bytes=4-' }]) {
      const response = await fetch(server.url, { method: 'HEAD', headers })
      expect(response.status).toBe(200)
      expect(described(response.headers)).toEqual({
        'accept-ranges': 'bytes',
        'content-type': 'application/octet-stream',
        etag: '"v1"',
        'transfer-encoding': 'chunked',
        'x-amzn-remapped-content-length': '26',
      })
      expect(await response.text()).toBe('')
    }
    expect((await Promise.all(outcomes)).map((outcome) => outcome.state)).toEqual(['succeeded', 'succeeded'])
    expect(started.count).toBe(0)
  })

  describe("sluice/mock's functionUrl", () => {
    const server = setupServer()
    beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
    afterAll(() => server.close())

    it('sends the same head, the source never pulled', async () => {
      const started = { count: 0 }
      server.use(
        functionUrl('https://fn.test/file', sluiceHandler(stuck(started), { awslambda: mockAwslambda })),
      )
      const response = await fetch('https://fn.test/file', {
        method: 'HEAD',
        headers: { range: 'bytes=30-' },
      })
      expect(response.status).toBe(200)
      expect(described(response.headers)).toMatchObject({
        'accept-ranges': 'bytes',
        etag: '"v1"',
        'x-amzn-remapped-content-length': '26',
      })
      expect(await response.text()).toBe('')
      expect(started.count).toBe(0)
    })
  })
})
