/**
 * An app hands one long-lived AbortSignal to thousands of requests: its own, a client's default, a ky instance's.
 * Every `abort` listener sluice adds to it must be gone once that response is over, whichever way it ended — or
 * each request leaves a listener (and the response it holds) on the signal for as long as the app runs. Each
 * ending runs many times over one signal, which must then hold exactly the listeners it held before.
 * (sluice follows the app's signal with a listener of its own from the request until the stream settles, never
 * through `AbortSignal.any()`, which Node 22 would keep memory for: see test/node/long-lived-signal.test.ts.)
 */
import { getEventListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import ky from 'ky'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createClient,
  createStreamStore,
  fromResponse,
  type SluiceOptions,
  type StandardSchemaV1,
  type StreamResponse,
  type StreamStore,
  sluice,
} from '../../src/index.ts'
import { FAST } from '../support/scripted.ts'
import { collect, fetchWith, responseOf } from '../support/streams.ts'
import { serveOnLoopback, type TestServer } from '../support/test-server.ts'

const RUNS = 20
const URL_ = 'https://fn.test/rows'
const ROWS = '{"n":0}\n{"n":1}\n{"n":2}\n'
const SSE = 'id: 1\ndata: {"n":0}\n\nid: 2\ndata: [DONE]\n\n'

/** The listeners on `signal`: the app's own one, and whatever sluice left. */
const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length

/** A long-lived app-wide signal that already has a listener of the app's own, as a real one would. */
function appSignal(): AbortSignal {
  const { signal } = new AbortController()
  signal.addEventListener('abort', () => {})
  return signal
}

/** Runs `ending` RUNS times over one signal; the listeners it had before, and those it has after. */
async function countAround(signal: AbortSignal, ending: () => Promise<void>): Promise<[number, number]> {
  const before = listeners(signal)
  for (let i = 0; i < RUNS; i++) await ending()
  return [before, listeners(signal)]
}

const answer = (parts: string[], headers: Record<string, string> = {}): typeof fetch =>
  fetchWith(() => responseOf(parts, { headers }))

/** A body that sends `parts`, then nothing, ever. */
const silentAfter = (parts: string[]): typeof fetch =>
  fetchWith(() => {
    let i = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < parts.length) controller.enqueue(new TextEncoder().encode(parts[i++]))
        else return new Promise<void>(() => {})
      },
    })
    return new Response(stream)
  })

/** A ranged body cut after its first row, then answered from where the Range asks. */
function droppingOnce(): typeof fetch {
  let requests = 0
  return fetchWith((request) => {
    const headers = { 'accept-ranges': 'bytes', 'content-length': String(ROWS.length) }
    if (requests++ % 2 === 0)
      return responseOf([ROWS.slice(0, 10)], { headers, error: new TypeError('terminated') })
    const from = Number(/bytes=(\d+)-/.exec(request.headers.get('range') ?? '')?.[1])
    return responseOf([ROWS.slice(from)], {
      status: 206,
      headers: { 'content-range': `bytes ${from}-${ROWS.length - 1}/${ROWS.length}` },
    })
  })
}

/** A schema whose validation of the value at `index` (counted from 0) never settles; `inside` says it started. */
function hangingAt(index: number): { schema: StandardSchemaV1<unknown, unknown>; inside: Promise<void> } {
  let validating!: () => void
  const inside = new Promise<void>((resolve) => {
    validating = resolve
  })
  let seen = 0
  const schema: StandardSchemaV1<unknown, unknown> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => {
        if (seen++ < index) return { value }
        validating()
        return new Promise<never>(() => {})
      },
    },
  }
  return { schema, inside }
}

/** Rejects unless `run` fails with an error of that name. */
async function failsWith(name: string, run: () => Promise<unknown>): Promise<void> {
  await expect(run()).rejects.toMatchObject({ name })
}

type Open = (fetch: typeof globalThis.fetch, options?: SluiceOptions, url?: string) => Promise<StreamResponse>

/** The ways an app hands its signal to sluice. */
const WAYS: Record<string, (signal: AbortSignal) => Open> = {
  "the call's signal":
    (signal) =>
    (fetch, options, url = URL_) =>
      sluice(url, { signal, fetch, ...options }),
  "the call's signal, with an idle and a total timeout":
    (signal) =>
    (fetch, options, url = URL_) =>
      sluice(url, { signal, fetch, idleTimeout: 60_000, totalTimeout: 60_000, ...options }),
  "a client's default signal, beside the call's own": (signal) => {
    const client = createClient({ signal })
    return (fetch, options, url = URL_) =>
      client(url, { signal: new AbortController().signal, fetch, ...options })
  },
  "a ky instance's signal": (signal) => {
    const client = createClient({ ky: ky.create({ signal }) })
    return (fetch, options, url = URL_) => client(url, { fetch, ...options })
  },
}

/** How a response ends, given how to open one. */
const ENDINGS: Record<string, (open: Open) => Promise<void>> = {
  'collect.text() to the end': async (open) => {
    expect(await (await open(answer([ROWS]))).collect.text()).toBe(ROWS)
  },
  'collect.bytes() to the end': async (open) => {
    expect((await (await open(answer([ROWS]))).collect.bytes()).length).toBe(ROWS.length)
  },
  'collect.json() to the end': async (open) => {
    expect(await (await open(answer(['{"a":', '[1]}']))).collect.json()).toEqual({ a: [1] })
  },
  'bytes() to the end': async (open) => {
    expect(await collect((await open(answer([ROWS]))).bytes())).toHaveLength(1)
  },
  'text() to the end': async (open) => {
    expect((await collect((await open(answer([ROWS]))).text())).join('')).toBe(ROWS)
  },
  'lines() to the end': async (open) => {
    expect(await collect((await open(answer([ROWS]))).lines())).toHaveLength(3)
  },
  'ndjson() to the end': async (open) => {
    expect(await collect((await open(answer([ROWS]))).ndjson())).toHaveLength(3)
  },
  'events() to the end': async (open) => {
    expect(await collect((await open(answer([SSE]))).events())).toHaveLength(2)
  },
  'events() to its `until` event, the body not read to its end': async (open) => {
    expect(await collect((await open(answer([SSE, SSE]))).events({ until: '[DONE]' }))).toHaveLength(1)
  },
  'json() to the end': async (open) => {
    expect((await collect((await open(answer(['{"a":[1,', '2]}']))).json())).at(-1)).toEqual({ a: [1, 2] })
  },
  'json().final with a schema that never settles, cancelled while it validates': async (open) => {
    // Past the body's end, sluice follows the signal again for as long as the validation holds the consumer.
    const { schema, inside } = hangingAt(0)
    const res = await open(answer(['{"a":', '[1]}']))
    // Waited on, `final` reads the body.
    const final = res.json(schema).final.then(
      () => 'fulfilled',
      (error: unknown) => error,
    )
    await inside
    await res.cancel()
    expect(await final).toMatchObject({ name: 'AbortError' })
  },
  'json().final alone': async (open) => {
    expect(await (await open(answer(['{"a":[1,', '2]}']))).json().final).toEqual({ a: [1, 2] })
  },
  'json() with a throttle, to the end': async (open) => {
    await collect((await open(answer(['{"a":[1,', '2]}']))).json(undefined, { throttleMs: 50 }))
  },
  'the body stream read to the end': async (open) => {
    expect(await new Response((await open(answer([ROWS]))).body).text()).toBe(ROWS)
  },
  'break out of for await': async (open) => {
    for await (const _ of (await open(silentAfter([ROWS]))).ndjson()) break
  },
  'res.cancel() while a read waits': async (open) => {
    const res = await open(silentAfter([ROWS]))
    for await (const _ of res.ndjson()) void res.cancel()
  },
  'res.cancel() of a body never read': async (open) => {
    await (await open(silentAfter([ROWS]))).cancel()
  },
  'the body stream cancelled, never read': async (open) => {
    await (await open(silentAfter([ROWS]))).body.cancel()
  },
  'detach()': async (open) => {
    ;(await open(silentAfter([ROWS]))).detach()
  },
  'a TypeError for a body already read': (open) =>
    failsWith('TypeError', () =>
      open(
        fetchWith(async () => {
          const response = responseOf([ROWS])
          await response.text()
          return response
        }),
      ),
    ),
  'a ParseError': (open) =>
    failsWith('ParseError', async () => collect((await open(answer(['{"n":0}\nnope\n', ROWS]))).ndjson())),
  'a LimitError on a line (maxLineBytes)': (open) =>
    failsWith('LimitError', async () =>
      collect((await open(answer([ROWS, ROWS]), { maxLineBytes: 4 })).lines()),
    ),
  'a LimitError on the body (maxBytes)': (open) =>
    failsWith('LimitError', async () => collect((await open(answer([ROWS, ROWS]), { maxBytes: 4 })).lines())),
  'a TruncatedError': (open) =>
    failsWith('TruncatedError', async () =>
      (await open(answer([ROWS], { 'content-length': '99' }), { resume: false })).collect.text(),
    ),
  'an idle TimeoutError': (open) =>
    failsWith('TimeoutError', async () =>
      (await open(silentAfter([ROWS]), { idleTimeout: 5, resume: false })).collect.text(),
    ),
  'an HTTPError from await sluice()': (open) =>
    failsWith('HTTPError', () => open(fetchWith(() => new Response('no such report', { status: 404 })))),
  'an HTTPError after ky retried': (open) =>
    failsWith('HTTPError', () =>
      open(
        fetchWith(() => new Response('busy', { status: 503 })),
        { retry: { limit: 1, delay: () => 0 } },
      ),
    ),
  'a NetworkError before the headers': (open) =>
    failsWith('NetworkError', () =>
      open(
        fetchWith(() => Promise.reject(new TypeError('fetch failed'))),
        { retry: 0 },
      ),
    ),
  'the end after a reconnect': async (open) => {
    const res = await open(droppingOnce(), { resume: { backoff: FAST } })
    expect(await collect(res.ndjson())).toHaveLength(3)
    expect(res.progress.attempt).toBe(2)
  },
  'a ResumeError once reconnects are spent': (open) =>
    failsWith('ResumeError', async () => {
      const cut = fetchWith(() =>
        responseOf([ROWS.slice(0, 10)], {
          headers: { 'accept-ranges': 'bytes', 'content-length': String(ROWS.length) },
          error: new TypeError('terminated'),
        }),
      )
      return (await open(cut, { resume: { attempts: 2, backoff: FAST } })).collect.text()
    }),
  'tee(): both branches to the end': async (open) => {
    const [a, b] = (await open(answer([ROWS]))).tee()
    await Promise.all([a.collect.text(), b.collect.text()])
  },
  'tee(): one branch broken out of, the other to the end': async (open) => {
    const [a, b] = (await open(answer([ROWS, ROWS]))).tee()
    await Promise.all([
      (async () => {
        for await (const _ of a.lines()) break
      })(),
      b.collect.text(),
    ])
  },
  'tee(): both branches broken out of': async (open) => {
    const [a, b] = (await open(silentAfter([ROWS]))).tee()
    for await (const _ of a.lines()) break
    for await (const _ of b.lines()) break
  },
  'tee(): a ParseError on one branch, a break on the other': async (open) => {
    const [a, b] = (await open(silentAfter(['nope\n', ROWS]))).tee()
    await failsWith('ParseError', () => collect(a.ndjson()))
    for await (const _ of b.lines()) break
  },
  'tee(): a branch cancelled while its schema validates the document, after the other read the body': async (
    open,
  ) => {
    const { schema, inside } = hangingAt(0)
    const [a, b] = (await open(answer(['{"a":', '[1]}']))).tee()
    const final = a.json(schema).final.then(
      () => 'fulfilled',
      (error: unknown) => error,
    )
    expect(await b.collect.text()).toBe('{"a":[1]}')
    await inside
    await a.cancel()
    expect(await final).toMatchObject({ name: 'AbortError' })
  },
  'tee(): a branch cancelled while its schema validates a record, then the other read to the end': async (
    open,
  ) => {
    const { schema, inside } = hangingAt(1)
    const [a, b] = (await open(answer([ROWS]))).tee()
    const records = a.ndjson(schema)[Symbol.asyncIterator]()
    expect((await records.next()).done).toBe(false)
    const second = records.next()
    await inside
    await a.cancel()
    expect(await second).toEqual({ done: true, value: undefined })
    expect(await b.collect.text()).toBe(ROWS)
  },
  'tee(): the whole response cancelled': async (open) => {
    const res = await open(silentAfter([ROWS]))
    res.tee()
    await res.cancel()
  },
}

describe.each(Object.entries(WAYS))('no listener is left on %s', (_, way) => {
  it.each(Object.entries(ENDINGS))('after %s', async (_, ending) => {
    const signal = appSignal()
    const open = way(signal)
    const [before, after] = await countAround(signal, () => ending(open))
    expect(after).toBe(before)
  })
})

describe("no listener is left on a client's or a ky instance's signal once the call's own aborts", () => {
  it.each([
    ["a client's default signal", (signal: AbortSignal) => createClient({ signal })],
    ["a ky instance's signal", (signal: AbortSignal) => createClient({ ky: ky.create({ signal }) })],
  ])('%s, the body never read', async (_, clientOf) => {
    const signal = appSignal()
    const client = clientOf(signal)
    const [before, after] = await countAround(signal, async () => {
      const call = new AbortController()
      const res = await client(URL_, { signal: call.signal, fetch: silentAfter([ROWS]) })
      // Aborted with nothing reading: no read will ever fail with it and end the stream.
      call.abort()
      expect(res.status).toBe(200)
    })
    expect(after).toBe(before)
  })
})

describe("no listener is left on fromResponse()'s signal", () => {
  it.each([
    [
      'after collect.text() to the end',
      async (signal: AbortSignal) => {
        await (await fromResponse(responseOf([ROWS]), { signal, idleTimeout: 60_000 })).collect.text()
      },
    ],
    [
      'after res.cancel()',
      async (signal: AbortSignal) => {
        await (await fromResponse(responseOf([ROWS]), { signal })).cancel()
      },
    ],
    [
      'after a ParseError',
      (signal: AbortSignal) =>
        failsWith('ParseError', async () =>
          collect((await fromResponse(responseOf(['nope\n']), { signal })).ndjson()),
        ),
    ],
    [
      'after a TypeError for a body already read',
      async (signal: AbortSignal) => {
        const response = responseOf([ROWS])
        await response.text()
        await failsWith('TypeError', () => fromResponse(response, { signal }))
      },
    ],
    [
      'after an HTTPError',
      (signal: AbortSignal) =>
        failsWith('HTTPError', () => fromResponse(new Response('gone', { status: 410 }), { signal })),
    ],
  ])('%s', async (_, ending) => {
    const signal = appSignal()
    const [before, after] = await countAround(signal, () => ending(signal))
    expect(after).toBe(before)
  })
})

/** The first snapshot whose status is one of `statuses`; subscribing starts an idle store. */
function reaches(store: StreamStore, ...statuses: string[]): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!statuses.includes(store.getSnapshot().status)) return
      unsubscribe()
      resolve()
    }
    const unsubscribe = store.subscribe(check)
    check()
  })
}

describe("no listener is left on the app's signal by a stream store", () => {
  // Its requests are sent with the app's signal alone, which sluice then listens to itself.
  const storeOf = (signal: AbortSignal, fetch: typeof globalThis.fetch): StreamStore =>
    createStreamStore(() => sluice(URL_, { signal, fetch }), { as: 'ndjson' })

  it('run to the end', async () => {
    const signal = appSignal()
    const [before, after] = await countAround(signal, async () => {
      const store = storeOf(signal, answer([ROWS]))
      await reaches(store, 'done')
      expect(store.getSnapshot().items).toHaveLength(3)
    })
    expect(after).toBe(before)
  })

  it('cancelled while it streams', async () => {
    const signal = appSignal()
    const [before, after] = await countAround(signal, async () => {
      const store = storeOf(signal, silentAfter([ROWS]))
      await reaches(store, 'streaming')
      store.cancel()
    })
    expect(after).toBe(before)
  })

  it('cancelled while it connects, answered after', async () => {
    // The request function did not pass the store's signal on: the request goes on, following the app's signal,
    // until its answer comes, which the store then cancels.
    const signal = appSignal()
    const [before, after] = await countAround(signal, async () => {
      let answer!: (response: Response) => void
      const asked = new Promise<void>((resolve) => {
        const fetch = fetchWith(
          () =>
            new Promise<Response>((answered) => {
              answer = answered
              resolve()
            }),
        )
        const store = storeOf(signal, fetch)
        store.start()
        store.cancel()
      })
      await asked
      await new Promise((cancelled) => answer(new Response(new ReadableStream({ cancel: cancelled }))))
    })
    expect(after).toBe(before)
  })

  it('retried while it streams, then run to the end', async () => {
    const signal = appSignal()
    let requests = 0
    const fetch = fetchWith(() => (requests++ % 2 === 0 ? silentAfter([ROWS]) : answer([ROWS]))(URL_))
    const [before, after] = await countAround(signal, async () => {
      const store = storeOf(signal, fetch)
      await reaches(store, 'streaming', 'done')
      store.retry()
      await reaches(store, 'done')
    })
    expect(after).toBe(before)
  })
})

/**
 * A real connection that drops after the first row, and a reconnect that a real server answers with the rest: the
 * reconnect adds its own listener while it waits for its headers, which must go too.
 */
describe('no listener is left after a reconnect over a real connection', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await serveOnLoopback(async (req: IncomingMessage, res: ServerResponse) => {
      const range = /bytes=(\d+)-/.exec(req.headers.range ?? '')
      if (range === null) {
        res.writeHead(200, { 'accept-ranges': 'bytes', 'content-length': String(ROWS.length) })
        res.write(ROWS.slice(0, 10))
        // Let the first row land before the connection fails.
        setTimeout(() => res.destroy(), 20)
        return
      }
      const from = Number(range[1])
      res.writeHead(206, { 'content-range': `bytes ${from}-${ROWS.length - 1}/${ROWS.length}` })
      res.end(ROWS.slice(from))
    })
  })
  afterAll(() => server.close())

  it.each(Object.entries(WAYS))('on %s', async (_, way) => {
    const signal = appSignal()
    const open = way(signal)
    const [before, after] = await countAround(signal, async () => {
      const res = await open(globalThis.fetch, { resume: { backoff: FAST } }, server.url)
      const rows = await collect(res.ndjson())
      expect(rows).toHaveLength(3)
      expect(res.progress.attempt).toBe(2)
    })
    expect(after).toBe(before)
  })
})
