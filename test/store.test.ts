import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import {
  createStreamStore,
  fromResponse,
  isHTTPError,
  isNetworkError,
  isValidationError,
  type StreamResponse,
  type StreamSnapshot,
  type StreamStore,
  sluice,
} from '../src/index.ts'
import { mockStream } from '../src/mock/mock-stream.ts'
import { encode } from './support/chunking.ts'
import { bodyOf, fetchWith, gatedBody, type Part, silentFetch } from './support/streams.ts'
import { withUncaught } from './support/uncaught.ts'

const records = (from: number, to: number): string =>
  Array.from({ length: to - from }, (_, i) => `{"n":${from + i}}\n`).join('')

const ENDED = new Set(['done', 'error', 'cancelled'])

/** Resolves with the first snapshot that satisfies `predicate`; subscribing starts an idle store. */
function until<I, D, F>(
  store: StreamStore<I, D, F>,
  predicate: (snapshot: StreamSnapshot<I, D, F>) => boolean,
): Promise<StreamSnapshot<I, D, F>> {
  return new Promise((resolve) => {
    const check = (): void => {
      const snapshot = store.getSnapshot()
      if (!predicate(snapshot)) return
      unsubscribe()
      resolve(snapshot)
    }
    const unsubscribe = store.subscribe(check)
    check()
  })
}

const ended = <I, D, F>(store: StreamStore<I, D, F>): Promise<StreamSnapshot<I, D, F>> =>
  until(store, (s) => ENDED.has(s.status))

/** Every snapshot the store publishes, from now on. */
function record<I, D, F>(store: StreamStore<I, D, F>): StreamSnapshot<I, D, F>[] {
  const seen: StreamSnapshot<I, D, F>[] = []
  store.subscribe(() => seen.push(store.getSnapshot()))
  return seen
}

const respond = (parts: Part[], init?: ResponseInit): Promise<StreamResponse> =>
  fromResponse(new Response(bodyOf(parts).stream, init))

describe('createStreamStore: accumulating each mode', () => {
  it('ndjson mode appends every record to items, in order', async () => {
    const store = createStreamStore(respond(['{"n":0}\n{"n"', ':1}\n', '{"n":2}']), { as: 'ndjson' })
    const done = await ended(store)
    expect(done.status).toBe('done')
    expect(done.items).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
  })

  it('ndjson mode validates each record with the schema and keeps its output', async () => {
    const Row = z.object({ n: z.number() }).transform((row) => row.n * 10)
    const store = createStreamStore(respond([records(0, 3)]), { as: 'ndjson', schema: Row })
    expect((await ended(store)).items).toEqual([0, 10, 20])
  })

  it("ndjson mode without a schema passes onInvalid on: 'skip' leaves out a line that is not JSON", async () => {
    const store = createStreamStore(respond(['{"n":0}\noops\n{"n":2}\n']), {
      as: 'ndjson',
      onInvalid: 'skip',
    })
    const done = await ended(store)
    expect(done.status).toBe('done')
    expect(done.items).toEqual([{ n: 0 }, { n: 2 }])
  })

  it('lines mode appends every line without its terminator', async () => {
    const store = createStreamStore(respond(['a\r\nb', '\nc']), { as: 'lines' })
    expect((await ended(store)).items).toEqual(['a', 'b', 'c'])
  })

  it('events mode appends every event, with its data parsed when json is set', async () => {
    const body = ['id: 1\ndata: {"t":"he', 'y"}\n\n', 'data: {"t":"!"}\n\n', 'data: [DONE]\n\n']
    const store = createStreamStore(respond(body), { as: 'events', json: true, until: '[DONE]' })
    const done = await ended(store)
    expect(done.status).toBe('done')
    expect(done.items.map((event) => [event.id, event.data])).toEqual([
      ['1', { t: 'hey' }],
      ['1', { t: '!' }], // the last event id carries over, as the SSE spec says
    ])
  })

  it('bytes mode appends the chunks as they arrive', async () => {
    const store = createStreamStore(respond(['ab', 'cd', 'e']), { as: 'bytes', chunkSize: 2 })
    const done = await ended(store)
    expect(done.items.map((chunk) => new TextDecoder().decode(chunk))).toEqual(['ab', 'cd', 'e'])
  })

  it('text mode accumulates the decoded text, never breaking a character split across chunks', async () => {
    const euro = encode('€')
    const store = createStreamStore(respond(['price: ', euro.slice(0, 1), euro.slice(1), '5']), {
      as: 'text',
    })
    const done = await ended(store)
    expect(done.text).toBe('price: €5')
    expect(done.items).toEqual([])
  })

  it('json mode shows partial data, which paths are complete, and the validated final value', async () => {
    const Report = z.object({ title: z.string(), rows: z.array(z.object({ id: z.number() })) })
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'json', schema: Report })
    body.push('{"title":"October","rows":[{"id":1},')
    const partial = await until(store, (s) => s.data?.rows?.length === 1)
    expect(partial.status).toBe('streaming')
    expect(partial.data).toEqual({ title: 'October', rows: [{ id: 1 }] })
    expect(partial.isComplete(['title'])).toBe(true)
    expect(partial.isComplete(['rows'])).toBe(false)
    expect(partial.isComplete()).toBe(false)
    expect(partial.final).toBeUndefined()
    body.push('{"id":2}]}')
    body.close()
    const done = await ended(store)
    expect(done.status).toBe('done')
    expect(done.final).toEqual({ title: 'October', rows: [{ id: 1 }, { id: 2 }] })
    expect(done.data).toEqual(done.final)
    expect(done.isComplete()).toBe(true)
  })

  it('json mode reports a document that fails its schema as an error, with the partial data kept', async () => {
    const store = createStreamStore(respond(['{"title":', '42}']), {
      as: 'json',
      schema: z.object({ title: z.string() }),
    })
    const done = await ended(store)
    expect(done.status).toBe('error')
    expect(isValidationError(done.error)).toBe(true)
    expect(done.data).toEqual({ title: 42 })
    expect(done.final).toBeUndefined()
  })

  it('json mode with throttleMs: a failure shows the document as parsed up to it, not as the throttle last let through', async () => {
    const body = bodyOf(['{"title":"Oct', 'ober","rows":[1,2,'], { error: new TypeError('network error') })
    const store = createStreamStore(fromResponse(new Response(body.stream)), {
      as: 'json',
      throttleMs: 60_000,
    })
    const done = await ended(store)
    expect(done.status).toBe('error')
    expect(done.data).toEqual({ title: 'October', rows: [1, 2] })
    expect([done.isComplete(['title']), done.isComplete(['rows'])]).toEqual([true, false])
  })

  it('json mode: a published snapshot answers isComplete from its own data, whatever the parser reads next', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), {
      as: 'json',
      throttleMs: 60_000,
    })
    body.push('{"title":"Octo')
    const first = await until(store, (s) => s.data !== undefined)
    expect(first.data).toEqual({ title: 'Octo' })
    const answers = (): boolean[] => [
      first.isComplete(['title']),
      first.isComplete(['rows']),
      first.isComplete(['rows', 2]),
      first.isComplete(),
    ]
    expect(answers()).toEqual([false, false, false, false])
    // The consumer reads on while the store's throttle holds the next snapshot back.
    body.push('ber","rows":[1,2,3]')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(store.getSnapshot()).toBe(first)
    expect(answers()).toEqual([false, false, false, false])
    body.push('}')
    body.close()
    const done = await ended(store)
    expect([done.isComplete(['title']), done.isComplete(['rows', 2]), done.isComplete()]).toEqual([
      true,
      true,
      true,
    ])
    expect(answers()).toEqual([false, false, false, false])
  })
})

describe('createStreamStore: snapshots', () => {
  it('getSnapshot returns the same object until something changes', async () => {
    const store = createStreamStore(respond([records(0, 3)]), { as: 'ndjson' })
    expect(store.getSnapshot()).toBe(store.getSnapshot())
    const done = await ended(store)
    expect(store.getSnapshot()).toBe(done)
    store.subscribe(() => {})
    store.start()
    store.cancel()
    expect(store.getSnapshot()).toBe(done)
  })

  it('snapshots are frozen, and an older snapshot keeps its items when more arrive', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'ndjson' })
    body.push(records(0, 2))
    const first = await until(store, (s) => s.items.length === 2)
    body.push(records(2, 4))
    body.close()
    const done = await ended(store)
    expect(Object.isFrozen(first)).toBe(true)
    expect(first.items).toHaveLength(2)
    expect(done.items).toHaveLength(4)
    expect(done.items).not.toBe(first.items)
    expect(done.items[0]).toBe(first.items[0])
  })

  it("what a snapshot owns is frozen too: its items, progress and response can't be changed through it", async () => {
    const store = createStreamStore(respond([records(0, 2)], { status: 203 }), { as: 'ndjson' })
    const idle = store.getSnapshot()
    const done = await ended(store)
    for (const snapshot of [idle, done]) {
      expect(Object.isFrozen(snapshot.items)).toBe(true)
      expect(Object.isFrozen(snapshot.progress)).toBe(true)
    }
    expect(Object.isFrozen(done.response)).toBe(true)
    // ES modules run in strict mode: a write to a frozen object throws instead of being ignored.
    expect(() => (done.items as unknown[]).push({ i: 9 })).toThrow(TypeError)
    const { loaded } = done.progress
    expect(() => Object.assign(done.progress, { loaded: 0 })).toThrow(TypeError)
    expect(done.items).toHaveLength(2)
    expect(done.progress.loaded).toBe(loaded)
    expect(loaded).toBeGreaterThan(0)
  })

  it('10 000 records in a few chunks make a few notifications, not one per record', async () => {
    const chunks = [records(0, 2500), records(2500, 5000), records(5000, 7500), records(7500, 10_000)]
    const store = createStreamStore(respond(chunks), { as: 'ndjson' })
    let notifications = 0
    store.subscribe(() => notifications++)
    const done = await ended(store)
    expect(done.items).toHaveLength(10_000)
    // connecting, streaming, at most one batch per chunk, done
    expect(notifications).toBeLessThanOrEqual(chunks.length + 3)
  })

  it('throttleMs never delays the final snapshot', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), {
      as: 'lines',
      throttleMs: 600_000,
    })
    const seen = record(store)
    body.push('a\n')
    await until(store, (s) => s.items.length === 1)
    body.push('b\n')
    body.push('c\n')
    body.close()
    const done = await ended(store)
    expect(done.items).toEqual(['a', 'b', 'c'])
    // The second batch waited for the throttle, and the end overtook it: one snapshot carries b and c.
    expect(seen.map((s) => s.items.length)).not.toContain(2)
  })

  it('maxItems keeps the last items and counts the dropped ones', async () => {
    const store = createStreamStore(respond([records(0, 50), records(50, 100), records(100, 103)]), {
      as: 'ndjson',
      maxItems: 10,
    })
    const done = await ended(store)
    expect(done.items).toEqual(Array.from({ length: 10 }, (_, i) => ({ n: 93 + i })))
    expect(done.dropped).toBe(93)
  })

  it('maxItems counts the items dropped while the first batch waits, when what is left fits exactly', async () => {
    // Four records in one chunk with maxItems 2: the batch is cut to its last 2 before any is published.
    const store = createStreamStore(respond([records(0, 4)]), { as: 'ndjson', maxItems: 2 })
    const done = await ended(store)
    expect(done.items).toEqual([{ n: 2 }, { n: 3 }])
    expect(done.dropped).toBe(2)
  })

  it('progress grows with the body and ends at 100 percent of a declared length', async () => {
    const text = records(0, 40)
    const body = gatedBody()
    const response = new Response(body.stream, { headers: { 'content-length': String(text.length) } })
    const store = createStreamStore(fromResponse(response), { as: 'ndjson' })
    body.push(text.slice(0, 100))
    const partial = await until(store, (s) => s.items.length > 0)
    body.push(text.slice(100))
    body.close()
    const done = await ended(store)
    expect(partial.progress.loaded).toBe(100)
    expect(partial.progress.total).toBe(text.length)
    expect(partial.progress.percent).toBeLessThan(100)
    expect(done.progress).toMatchObject({ loaded: text.length, percent: 100, items: 40, state: 'done' })
  })

  it('a listener is never called before subscribe() has returned, and hears of the start exactly once', async () => {
    let requests = 0
    const store = createStreamStore(
      (signal) => {
        requests++
        return sluice('http://sluice.test/a', { fetch: fetchWith(() => new Response('a\n')), signal })
      },
      { as: 'lines' },
    )
    let returned = false
    const calls: [boolean, string][] = []
    const unsubscribe = store.subscribe(() => {
      calls.push([returned, store.getSnapshot().status])
      unsubscribe() // the function subscribe() returned is there to call
    })
    returned = true
    // Starting is still synchronous: the request is made and the snapshot says so.
    expect([requests, store.getSnapshot().status]).toEqual([1, 'connecting'])
    expect(calls).toEqual([])
    await ended(store)
    expect(calls).toEqual([[true, 'connecting']])
    // A request function that throws at once: its error, too, waits for subscribe() to return.
    const failing = createStreamStore(
      (() => {
        throw new Error('no network')
      }) as never,
      { as: 'lines' },
    )
    let inside = true
    const seen: [boolean, string][] = []
    failing.subscribe(() => seen.push([inside, failing.getSnapshot().status]))
    inside = false
    expect(failing.getSnapshot().status).toBe('error')
    await Promise.resolve()
    expect(seen).toEqual([[false, 'error']])
  })

  it('a listener that another one unsubscribes during a notification is not called in it', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'lines' })
    const calls: string[] = []
    // The first listener unmounts the component the second one belongs to, as a parent might.
    const first = (): void => {
      calls.push(`first ${store.getSnapshot().status}`)
      stopSecond()
    }
    const second = (): void => {
      calls.push(`second ${store.getSnapshot().status}`)
    }
    store.subscribe(first)
    const stopSecond = store.subscribe(second)
    await until(store, (s) => s.status === 'streaming')
    store.cancel()
    expect(calls).not.toContain('second cancelled')
    expect(calls.filter((call) => call.startsWith('second'))).toEqual([])
  })

  it('a listener that cancels or retries during a notification: the others hear of the new snapshot once', async () => {
    // Cancelling at the first streaming snapshot ("stop after the first rows").
    const body = gatedBody()
    const cancelling = createStreamStore(fromResponse(new Response(body.stream)), { as: 'lines' })
    cancelling.subscribe(() => {
      if (cancelling.getSnapshot().status === 'streaming') cancelling.cancel()
    })
    const seen = record(cancelling)
    await ended(cancelling)
    expect(seen.map((s) => s.status)).toEqual(['connecting', 'cancelled'])
    // Retrying at the first error ("try again once"): the second request waits.
    let requests = 0
    const retrying = createStreamStore(
      () =>
        ++requests === 1 ? Promise.reject(new Error('no network')) : new Promise<StreamResponse>(() => {}),
      { as: 'lines' },
    )
    retrying.subscribe(() => {
      if (retrying.getSnapshot().status === 'error') retrying.retry()
    })
    const again = record(retrying)
    // The rejection, the retry and the second request all happen in microtasks.
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(requests).toBe(2)
    // The error was replaced before this listener's turn came: it hears of the new run's start instead, once.
    expect(again.map((s) => s.status)).toEqual(['connecting', 'connecting'])
    expect(new Set(again).size).toBe(2)
  })

  it('a listener that throws does not stop the others, and its error is thrown on its own, as uncaught', async () => {
    // What the store throws in a microtask of its own is caught into `thrown` rather than failing the test run.
    await withUncaught(async (thrown) => {
      const failure = new Error('the listener failed')
      const store = createStreamStore(respond(['a\nb\n']), { as: 'lines' })
      const statuses: string[] = []
      store.subscribe(() => {
        throw failure
      })
      store.subscribe(() => statuses.push(store.getSnapshot().status))
      const done = await ended(store)
      await Promise.resolve()
      expect(done.items).toEqual(['a', 'b'])
      expect(statuses.at(-1)).toBe('done')
      // One report per notification the throwing listener heard, each the error it threw.
      expect(thrown).toEqual(statuses.map(() => failure))
    })
  })

  it('a change right after the first subscribe() is notified once, not lost behind the deferred start', async () => {
    const store = createStreamStore(() => new Promise<StreamResponse>(() => {}), { as: 'lines' })
    const seen: string[] = []
    store.subscribe(() => seen.push(store.getSnapshot().status))
    store.cancel()
    expect(seen).toEqual(['cancelled'])
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(seen).toEqual(['cancelled'])
  })

  it('an unsubscribe ends its own subscription only, not another one of the same function', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'lines' })
    const heard: string[] = []
    const render = (): void => {
      heard.push(store.getSnapshot().items.join())
    }
    // Two widgets share one render callback; the first leaves, and its cleanup happens to run twice.
    const leave = store.subscribe(render)
    const stay = store.subscribe(render)
    leave()
    leave()
    body.push('a\n')
    await until(store, (s) => s.items.length === 1)
    expect(heard.at(-1)).toBe('a')
    stay()
    body.push('b\n')
    await until(store, (s) => s.items.length === 2)
    expect(heard.at(-1)).toBe('a')
    store.cancel()
  })

  // The system clock corrected by an hour after a batch (NTP after a sleep, a user setting it right): the next
  // batch's wait is measured from the last one on a monotonic clock, so it does not become an hour.
  it.each([
    ['lines', 0, ['a\n', 'b\n'], (s: StreamSnapshot) => s.items.length === 2],
    // json: the consumer's own throttle too.
    ['json', 20, ['{"a":[1,', '2,'], (s: StreamSnapshot) => (s.data as { a?: unknown[] })?.a?.length === 2],
  ] as const)(
    'a clock set back while streaming holds the next %s batch back by throttleMs (%i) at most, not by the step',
    async (as, throttleMs, [first, second], ready) => {
      const body = gatedBody()
      const store = createStreamStore(fromResponse(new Response(body.stream)), { as, throttleMs })
      body.push(first)
      await until(store, (s) => s.status === 'streaming' && (s.items.length > 0 || s.data !== undefined))
      vi.setSystemTime(Date.now() - 3_600_000)
      try {
        body.push(second)
        const late = new Promise<undefined>((resolve) => setTimeout(resolve, 1000))
        expect(await Promise.race([until(store, ready), late])).toBeDefined()
      } finally {
        vi.useRealTimers()
        store.cancel()
      }
    },
  )

  it('the first streaming snapshot has the progress of a body being read', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'lines' })
    const streaming = await until(store, (s) => s.status === 'streaming')
    expect(streaming.progress.state).toBe('streaming')
    store.cancel()
  })

  // With two drops, the second reconnect is published with its new attempt though the state stays reconnecting.
  it.each([
    [1, ['streaming 1', 'reconnecting 2', 'streaming 2']],
    [2, ['streaming 1', 'reconnecting 2', 'reconnecting 3', 'streaming 3']],
  ])(
    'a reconnect is published promptly with its state and attempt, though no data arrives and a throttle holds data back (%i drops)',
    async (drops, expected) => {
      const later = gatedBody()
      let requests = 0
      const fetch = fetchWith(() => {
        requests++
        // The first connections drop before their first byte; the last one stays open until the test closes it.
        return requests <= drops
          ? new Response(bodyOf([], { error: new TypeError('connection reset') }).stream)
          : new Response(later.stream)
      })
      const store = createStreamStore(
        (signal) =>
          sluice('http://sluice.test/rows', {
            fetch,
            retry: 0,
            signal,
            resume: { backoff: { initial: 20, max: 20, jitter: 0 } },
          }),
        { as: 'lines', throttleMs: 60_000 },
      )
      const seen = record(store)
      const back = await until(
        store,
        (s) => s.progress.state === 'streaming' && s.progress.attempt === drops + 1,
      )
      expect(back.status).toBe('streaming')
      later.push('a\n')
      later.close()
      await ended(store)
      const moves = seen
        .filter((s) => s.status === 'streaming')
        .map((s) => `${s.progress.state} ${s.progress.attempt}`)
        .filter((move, i, all) => move !== all[i - 1])
      expect(moves).toEqual(expected)
    },
  )

  it('the response status and headers are in the snapshot once they arrive', async () => {
    const store = createStreamStore(respond(['x'], { status: 203, headers: { 'x-report': 'october' } }), {
      as: 'text',
    })
    const done = await ended(store)
    expect(done.response?.status).toBe(203)
    expect(done.response?.headers.get('x-report')).toBe('october')
  })
  it('a finished stream in a mode other than json is complete at every path', async () => {
    for (const as of ['lines', 'text', 'bytes'] as const) {
      const done = await ended(createStreamStore(respond(['a\nb\n']), { as }))
      expect([as, done.status, done.isComplete(), done.isComplete(['x', 0])]).toEqual([
        as,
        'done',
        true,
        true,
      ])
    }
  })
})

describe('createStreamStore: lifecycle', () => {
  it('nothing is requested until the first subscriber, or start()', async () => {
    let requests = 0
    const request = (signal: AbortSignal): Promise<StreamResponse> => {
      requests++
      return sluice('http://sluice.test/a', { fetch: fetchWith(() => new Response('hi')), signal })
    }
    const lazy = createStreamStore(request, { as: 'text' })
    expect(lazy.getSnapshot().status).toBe('idle')
    expect(requests).toBe(0)
    expect((await ended(lazy)).text).toBe('hi')
    expect(requests).toBe(1)
    const explicit = createStreamStore(request, { as: 'text' })
    explicit.start()
    explicit.start()
    expect(explicit.getSnapshot().status).toBe('connecting')
    expect((await ended(explicit)).text).toBe('hi')
    expect(requests).toBe(2)
  })

  it('a failing body becomes status error with the error, keeping the items before it', async () => {
    const body = bodyOf([records(0, 2)], { error: new TypeError('connection reset') })
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'ndjson' })
    const done = await ended(store)
    expect(done.status).toBe('error')
    expect(isNetworkError(done.error)).toBe(true)
    expect(done.items).toEqual([{ n: 0 }, { n: 1 }])
    expect(done.progress.state).toBe('error')
  })

  it('an HTTP error status becomes status error with the HTTPError, without throwing', async () => {
    const store = createStreamStore(
      (signal) =>
        sluice('http://sluice.test/a', {
          fetch: fetchWith(() => new Response('nope', { status: 503 })),
          retry: 0,
          signal,
        }),
      { as: 'ndjson' },
    )
    const done = await ended(store)
    expect(done.status).toBe('error')
    expect(isHTTPError(done.error)).toBe(true)
    expect(done.response).toBeUndefined()
  })

  it('a request function that throws a non-Error becomes status error with an Error whose cause is the value', async () => {
    const store = createStreamStore(
      async () => {
        throw 'offline'
      },
      { as: 'ndjson' },
    )
    const done = await ended(store)
    expect(done.status).toBe('error')
    expect(done.error).toBeInstanceOf(Error)
    expect(done.error?.message).toBe('offline')
    expect(done.error?.cause).toBe('offline')
  })

  it('a request function that throws a value String() cannot convert becomes status error too, rather than hang', async () => {
    // A null-prototype object (a record from a parser or a cache), whose String() throws a TypeError.
    const thrown = Object.assign(Object.create(null) as object, { code: 'E_OFFLINE' })
    const store = createStreamStore(
      async () => {
        throw thrown
      },
      { as: 'ndjson' },
    )
    const done = await ended(store)
    expect(done.status).toBe('error')
    expect(done.error).toBeInstanceOf(Error)
    expect(done.error?.message).toBe('[object Object]')
    expect(done.error?.cause).toBe(thrown)
  })

  it("an abort of the caller's own signal, combined into the request, ends with status cancelled", async () => {
    const body = gatedBody()
    const own = new AbortController()
    const store = createStreamStore(
      (signal) =>
        sluice('http://sluice.test/a', {
          fetch: fetchWith(() => new Response(body.stream)),
          retry: 0,
          signal: AbortSignal.any([own.signal, signal]),
        }),
      { as: 'lines' },
    )
    body.push('a\nb\n')
    await until(store, (s) => s.items.length === 2)
    own.abort()
    const done = await ended(store)
    expect([done.status, done.error, done.progress.state]).toEqual(['cancelled', undefined, 'cancelled'])
    expect(done.items).toEqual(['a', 'b'])
  })

  it("an abort of the caller's own signal while connecting ends with status cancelled, not error", async () => {
    // A server that never answers: the request is still connecting when the caller aborts.
    const hanging = silentFetch
    const storeWith = (own: AbortSignal): StreamStore =>
      createStreamStore(
        (signal) =>
          sluice('http://sluice.test/a', {
            fetch: hanging,
            retry: 0,
            signal: AbortSignal.any([own, signal]),
          }),
        { as: 'lines' },
      )
    const aborted = new AbortController()
    const store = storeWith(aborted.signal)
    store.start()
    aborted.abort()
    const done = await ended(store)
    expect([done.status, done.error, done.progress.state]).toEqual(['cancelled', undefined, 'cancelled'])
    // AbortSignal.timeout()'s reason is an abort too; sluice's own timeouts are not (they are errors).
    const timedOut = storeWith(AbortSignal.timeout(1))
    expect((await ended(timedOut)).status).toBe('cancelled')
    // A custom reason cannot be told from a failure of the request: it stays an error, with that reason.
    const custom = new AbortController()
    const other = storeWith(custom.signal)
    other.start()
    custom.abort(new Error('left the page'))
    const failed = await ended(other)
    expect([failed.status, failed.error?.message]).toEqual(['error', 'left the page'])
  })

  it('a request function resolving to a plain Response ends with a TypeError that says what to return, and releases its body', async () => {
    const body = bodyOf(['{"n":1}\n'])
    const store = createStreamStore(async () => new Response(body.stream) as never, { as: 'ndjson' })
    const done = await ended(store)
    expect(done.status).toBe('error')
    expect(done.error).toBeInstanceOf(TypeError)
    expect(done.error?.message).toMatch(
      /resolved to a Response, not a StreamResponse.*sluice\(.*fromResponse\(/,
    )
    expect(done.progress.state).toBe('error')
    expect(() => store.cancel()).not.toThrow()
    await vi.waitFor(() => expect(body.cancels()).toBe(1))
    // Nothing at all is the same mistake, and the message says what came back.
    const empty = createStreamStore(async () => undefined as never, { as: 'text' })
    const none = await ended(empty)
    expect([none.status, none.progress.state]).toEqual(['error', 'error'])
    expect(none.error?.message).toMatch(/resolved to undefined, not a StreamResponse/)
    expect(() => empty.retry()).not.toThrow()
    expect(() => empty.cancel()).not.toThrow()
    expect(empty.getSnapshot().progress).toBeDefined()
  })

  it('getServerSnapshot is the idle snapshot, also once the stream runs', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'lines' })
    const idle = store.getServerSnapshot()
    expect(idle).toBe(store.getSnapshot())
    body.push('a\n')
    await until(store, (s) => s.items.length === 1)
    expect(store.getServerSnapshot()).toBe(idle)
    expect([idle.status, idle.items]).toEqual(['idle', []])
    store.cancel()
  })

  it('cancel() releases the body once and ends with status cancelled', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'ndjson' })
    body.push(records(0, 2))
    await until(store, (s) => s.items.length === 2)
    store.cancel('user left')
    store.cancel('again')
    const done = store.getSnapshot()
    expect(done.status).toBe('cancelled')
    expect(done.items).toHaveLength(2)
    expect(done.progress.state).toBe('cancelled')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(body.cancels()).toBe(1)
    expect(store.getSnapshot()).toBe(done)
  })

  it('cancel() while connecting aborts the request signal', async () => {
    let seen: AbortSignal | undefined
    const store = createStreamStore(
      (signal) => {
        seen = signal
        return new Promise<StreamResponse>(() => {})
      },
      { as: 'text' },
    )
    store.start()
    store.cancel()
    expect(seen?.aborted).toBe(true)
    expect(store.getSnapshot().status).toBe('cancelled')
  })

  it('a run that a listener cancels or replaces from its connecting snapshot never calls the request function', async () => {
    const signals: AbortSignal[] = []
    const store = createStreamStore(
      (signal) => {
        signals.push(signal)
        return new Promise<StreamResponse>(() => {})
      },
      { as: 'text' },
    )
    store.start()
    // Retrying once from the connecting snapshot of a retry: the run it replaces asks for nothing.
    let retried = false
    const stop = store.subscribe(() => {
      if (store.getSnapshot().status !== 'connecting' || retried) return
      retried = true
      store.retry()
    })
    store.retry()
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false])
    stop()
    // Cancelling from the connecting snapshot: nothing is asked at all.
    store.subscribe(() => {
      if (store.getSnapshot().status === 'connecting') store.cancel()
    })
    store.retry()
    expect(store.getSnapshot().status).toBe('cancelled')
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true])
  })

  it('cancel() while connecting releases the response that arrives afterwards', async () => {
    const body = gatedBody()
    let answer!: (res: StreamResponse) => void
    const store = createStreamStore(
      () =>
        new Promise<StreamResponse>((resolve) => {
          answer = resolve
        }),
      { as: 'lines' },
    )
    store.start()
    store.cancel()
    answer(await fromResponse(new Response(body.stream)))
    await vi.waitFor(() => expect(body.cancels()).toBe(1))
    expect(store.getSnapshot()).toMatchObject({ status: 'cancelled', items: [] })
  })

  it('cancel() before start releases the response it was given', async () => {
    const body = bodyOf([records(0, 2)])
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'ndjson' })
    store.cancel()
    await vi.waitFor(() => expect(body.cancels()).toBe(1))
    expect(store.getSnapshot().status).toBe('cancelled')
    store.start()
    expect(store.getSnapshot().status).toBe('cancelled')
  })

  it('cancelling the response itself ends the store as cancelled, not done', async () => {
    const body = gatedBody()
    const res = await fromResponse(new Response(body.stream))
    const store = createStreamStore(res, { as: 'lines' })
    body.push('a\n')
    await until(store, (s) => s.items.length === 1)
    await res.cancel()
    expect((await ended(store)).status).toBe('cancelled')
  })

  it('detach() publishes at once every item the checkpoint covers, though a throttle held them back', async () => {
    // Saving on pagehide: what the page shows and where it will continue must agree, with no task in between.
    const body = gatedBody()
    let res: StreamResponse | undefined
    const store = createStreamStore(
      async (signal) =>
        (res = await sluice('https://api.test/rows', {
          signal,
          fetch: fetchWith(
            () => new Response(body.stream, { headers: { 'accept-ranges': 'bytes', etag: '"v1"' } }),
          ),
        })),
      { as: 'ndjson', throttleMs: 600_000 },
    )
    body.push(records(0, 2))
    await until(store, (s) => s.items.length === 2)
    // Read by the consumer, held back by the throttle.
    body.push(records(2, 5))
    await vi.waitFor(() => expect(res?.progress.items).toBe(5))
    res?.detach()
    const saved = { items: store.getSnapshot().items, checkpoint: res?.checkpoint() }
    expect(saved.items).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })))
    expect(saved.checkpoint?.offset).toBe(records(0, 5).length)
    expect(store.getSnapshot().status).toBe('cancelled')
  })

  it('retry() requests again and starts from a fresh snapshot', async () => {
    let requests = 0
    const fetch = fetchWith(() => {
      requests++
      const failing = requests === 1
      return mockStream([{ n: 1 }, { n: 2 }], {
        format: 'ndjson',
        ...(failing ? { dropAfterBytes: 9 } : {}),
      })
    })
    const store = createStreamStore((signal) => sluice('http://sluice.test/rows', { fetch, signal }), {
      as: 'ndjson',
    })
    const failed = await ended(store)
    expect(failed.status).toBe('error')
    expect(failed.items).toEqual([{ n: 1 }])
    store.retry()
    expect(store.getSnapshot()).toMatchObject({ status: 'connecting', items: [], error: undefined })
    const done = await ended(store)
    expect(done.status).toBe('done')
    expect(done.items).toEqual([{ n: 1 }, { n: 2 }])
    expect(requests).toBe(2)
  })

  it('retry() while streaming cancels the current body before requesting again, also when the request function ignores its signal', async () => {
    for (const passesSignal of [true, false]) {
      const bodies: ReturnType<typeof gatedBody>[] = []
      const fetch = fetchWith(() => {
        const body = gatedBody()
        bodies.push(body)
        return new Response(body.stream)
      })
      // Without the signal passed on, only the store's own cancel() of the response can release the first body.
      const store = createStreamStore(
        (signal) => sluice('http://sluice.test/rows', passesSignal ? { fetch, signal } : { fetch }),
        { as: 'lines' },
      )
      await until(store, (s) => s.status === 'streaming')
      bodies[0]!.push('old\n')
      await until(store, (s) => s.items.length === 1)
      store.retry()
      await until(store, (s) => s.status === 'streaming')
      expect(bodies[0]!.cancels(), `signal passed: ${passesSignal}`).toBe(1)
      bodies[1]!.push('new\n')
      bodies[1]!.close()
      const done = await ended(store)
      expect(done.items).toEqual(['new'])
      expect(bodies[0]!.cancels()).toBe(1)
      expect(bodies).toHaveLength(2)
    }
  })

  it('retry() drops the items of the old stream that a throttle still held back', async () => {
    const bodies: ReturnType<typeof gatedBody>[] = []
    const responses: StreamResponse[] = []
    const fetch = fetchWith(() => {
      const body = gatedBody()
      bodies.push(body)
      return new Response(body.stream)
    })
    const store = createStreamStore(
      async (signal) => {
        const res = await sluice('http://sluice.test/rows', { fetch, signal })
        responses.push(res)
        return res
      },
      { as: 'lines', throttleMs: 600_000 },
    )
    await until(store, (s) => s.status === 'streaming')
    bodies[0]!.push('a\n')
    await until(store, (s) => s.items.length === 1)
    // The throttle holds this one back: read by the consumer, not yet published.
    bodies[0]!.push('b\n')
    await vi.waitFor(() => expect(responses[0]!.progress.items).toBe(2))
    expect(store.getSnapshot().items).toEqual(['a'])
    store.retry()
    await until(store, (s) => s.status === 'streaming')
    bodies[1]!.push('new\n')
    bodies[1]!.close()
    const done = await ended(store)
    expect(done.items).toEqual(['new'])
    expect(done.dropped).toBe(0)
  })

  it('a request already sent that fails before the store starts is its error once started, not an unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onNode = (reason: unknown): void => {
      unhandled.push(reason)
    }
    const onPage = (event: PromiseRejectionEvent): void => {
      unhandled.push(event.reason)
    }
    const node = (globalThis as { process?: NodeJS.Process }).process
    node?.on?.('unhandledRejection', onNode)
    globalThis.addEventListener?.('unhandledrejection', onPage)
    try {
      // Made in a router loader, say, and rendered once the page is there: the request fails before that.
      const store = createStreamStore(
        sluice('http://sluice.test/a', {
          fetch: fetchWith(() => new Response('no', { status: 404 })),
          retry: 0,
        }),
        { as: 'lines' },
      )
      for (let task = 0; task < 3; task++) await new Promise((resolve) => setTimeout(resolve, 0))
      expect(store.getSnapshot().status).toBe('idle')
      const done = await ended(store)
      expect(done.status).toBe('error')
      expect(isHTTPError(done.error)).toBe(true)
      expect(unhandled).toEqual([])
    } finally {
      node?.off?.('unhandledRejection', onNode)
      globalThis.removeEventListener?.('unhandledrejection', onPage)
    }
  })

  it('retry() on a store made from a response throws a TypeError that says what to do', async () => {
    const store = createStreamStore(respond(['x']), { as: 'text' })
    await ended(store)
    expect(() => store.retry()).toThrow(/request function/)
  })

  it('the last subscriber leaving does not cancel the stream', async () => {
    const body = gatedBody()
    const store = createStreamStore(fromResponse(new Response(body.stream)), { as: 'lines' })
    const unsubscribe = store.subscribe(() => {})
    unsubscribe()
    body.push('a\nb\n')
    body.close()
    const done = await ended(store)
    expect(done.status).toBe('done')
    expect(done.items).toEqual(['a', 'b'])
    expect(body.cancels()).toBe(0)
  })

  it('an unknown mode, a bad maxItems or a schema that is not one is a clear error at creation', async () => {
    const res = respond(['x'])
    // @ts-expect-error not a mode
    expect(() => createStreamStore(res, { as: 'xml' })).toThrow(/`as`, one of 'ndjson'/)
    expect(() => createStreamStore(res, { as: 'lines', maxItems: 0 })).toThrow(RangeError)
    for (const [options, got] of [
      ['ndjson', '"ndjson"'],
      [null, 'null'],
      [[], 'an array'],
    ] as const) {
      expect(() => createStreamStore(res, options as never)).toThrow(
        new TypeError(`createStreamStore(): its options must be an object, got ${got}.`),
      )
    }
    expect(() => createStreamStore(res, { as: 'ndjson', schema: 'Row' as never })).toThrow(
      /^createStreamStore\(\): schema must be a Standard Schema .*got "Row"\.$/,
    )
    ;(await res).cancel()
  })
})
