/**
 * A request that continues a stream — a reconnect, or the request of `resumeFrom` — goes with `cache: 'no-store'`:
 * an HTTP cache keys an answer by its URL, not by the Last-Event-ID, cursor or Range the continuation carries, and
 * could give it the stream from its start (test/browser/resume-http-cache.test.ts shows Chromium's doing so). The
 * first request keeps the runtime's default, and a cache mode the caller chose is kept by every request. The server
 * is an injected `fetch`, which records each Request's `cache`.
 */
import ky from 'ky'
import { describe, expect, it } from 'vitest'
import { createClient, type SluiceOptions, sluice } from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { eventData, fetchWith, responseOf } from './support/streams.ts'

const URL_ = 'https://fn.example/tokens'
const SSE = { 'content-type': 'text/event-stream' }

/** An SSE server whose first answer is event 1 then a drop, and whose later answers are event 2. */
function server() {
  const modes: RequestCache[] = []
  const fetch = fetchWith((request) => {
    modes.push(request.cache)
    if (modes.length === 1)
      return responseOf(['id: 1\ndata: a\n\n'], { headers: SSE, error: new TypeError('terminated') })
    return responseOf(['id: 2\ndata: b\n\n'], { headers: SSE })
  })
  return { fetch, modes }
}

const RESUME = { attempts: 3, backoff: FAST } as const

describe('a request that continues the stream', () => {
  it('goes with no-store after a drop; the first request keeps the default', async () => {
    const { fetch, modes } = server()
    const res = await sluice(URL_, { fetch, resume: RESUME })
    expect(await eventData(res.events())).toEqual({ data: ['a', 'b'], error: undefined })
    expect(modes).toEqual(['default', 'no-store'])
  })

  it('goes with no-store from a checkpoint, asked again after a busy answer too', async () => {
    const { fetch, modes } = server()
    const first = await sluice(URL_, { fetch, resume: false })
    expect((await eventData(first.events())).data).toEqual(['a'])
    let busy = true
    const again = await sluice(URL_, {
      resumeFrom: first.checkpoint(),
      resume: RESUME,
      fetch: async (input, init) => {
        if (!busy) return fetch(input, init)
        busy = false
        modes.push(new Request(input, init).cache)
        return new Response('busy', { status: 503 })
      },
    })
    expect(await eventData(again.events())).toEqual({ data: ['b'], error: undefined })
    expect(modes).toEqual(['default', 'no-store', 'no-store'])
  })

  it('goes with no-store under a cursor sent as a header, and under Range', async () => {
    const asked: Array<[RequestCache, string | null]> = []
    const cursor = await sluice(URL_, {
      resume: {
        ...RESUME,
        cursor: (last) => ({ headers: { 'x-after': String((last as { i: number }).i) } }),
      },
      fetch: fetchWith((request) => {
        asked.push([request.cache, request.headers.get('x-after')])
        return asked.length === 1
          ? responseOf(['{"i":1}\n'], { error: new TypeError('terminated') })
          : responseOf(['{"i":2}\n'])
      }),
    })
    expect(await Array.fromAsync(cursor.ndjson())).toEqual([{ i: 1 }, { i: 2 }])
    const body = 'abcdef'
    const range = await sluice(URL_, {
      resume: RESUME,
      fetch: fetchWith((request) => {
        const from = Number(/^bytes=(\d+)-$/.exec(request.headers.get('range') ?? '')?.[1] ?? 0)
        asked.push([request.cache, request.headers.get('range')])
        const headers = {
          'accept-ranges': 'bytes',
          etag: '"v1"',
          'content-length': String(body.length - from),
        }
        if (from === 0) return responseOf(['abc'], { headers, error: new TypeError('terminated') })
        return responseOf([body.slice(from)], {
          status: 206,
          headers: { ...headers, 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` },
        })
      }),
    })
    expect(await range.collect.text()).toBe(body)
    expect(asked).toEqual([
      ['default', null],
      ['no-store', '1'],
      ['default', null],
      ['no-store', 'bytes=3-'],
    ])
  })

  it('of a checkpoint taken before the first unit is a first request: it keeps the default', async () => {
    const { fetch, modes } = server()
    const first = await sluice(URL_, { fetch: server().fetch, resume: false })
    const checkpoint = first.checkpoint()
    expect(checkpoint).toMatchObject({ offset: 0, items: 0 })
    await first.cancel()
    const res = await sluice(URL_, { fetch, resume: RESUME, resumeFrom: checkpoint })
    expect(await eventData(res.events())).toEqual({ data: ['a', 'b'], error: undefined })
    expect(modes).toEqual(['default', 'no-store'])
  })
})

describe('a cache mode the caller chose', () => {
  const chosen: Array<[string, (fetch: typeof globalThis.fetch) => ReturnType<typeof sluice>]> = [
    ['in the call', (fetch) => sluice(URL_, { fetch, resume: RESUME, cache: 'no-cache' })],
    ['in a client', (fetch) => createClient({ cache: 'no-cache' })(URL_, { fetch, resume: RESUME })],
    [
      'in a ky instance',
      (fetch) => sluice(URL_, { fetch, resume: RESUME, ky: ky.create({ cache: 'no-cache' }) }),
    ],
    [
      "in the call, over the client's",
      (fetch) => createClient({ cache: 'reload' })(URL_, { fetch, resume: RESUME, cache: 'no-cache' }),
    ],
    ['in a Request', (fetch) => sluice(new Request(URL_, { cache: 'no-cache' }), { fetch, resume: RESUME })],
  ]
  for (const [where, open] of chosen) {
    it(`${where} is every request's, a reconnect's too`, async () => {
      const { fetch, modes } = server()
      const res = await open(fetch)
      expect(await eventData(res.events())).toEqual({ data: ['a', 'b'], error: undefined })
      expect(modes).toEqual(['no-cache', 'no-cache'])
    })
  }

  it("set to undefined in the call is none: the instance's is dropped, and a reconnect goes with no-store", async () => {
    const { fetch, modes } = server()
    const options: SluiceOptions = { fetch, resume: RESUME, cache: undefined }
    const res = await sluice(URL_, { ...options, ky: ky.create({ cache: 'no-cache' }) })
    expect(await eventData(res.events())).toEqual({ data: ['a', 'b'], error: undefined })
    expect(modes).toEqual(['default', 'no-store'])
  })
})
