/**
 * Bad input is refused at the call, with a message that names the option and the value (a string quoted, so that
 * "10" and 10 differ): never accepted to fail mid-stream, and never silently ignored.
 */
import { describe, expect, inject, it, vi } from 'vitest'
import {
  type Checkpoint,
  createClient,
  createStreamStore,
  type FromResponseOptions,
  fromResponse,
  isHTTPError,
  isNetworkError,
  isResumeError,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { FAST, scripted } from './support/scripted.ts'
import { fetchWith, responseOf } from './support/streams.ts'

const url = 'https://fn.example/stream'
const NDJSON = '{"a":1}\n{"a":2}\n{oops\n{"a":4}\n'
const SSE = 'data: {"a":1}\n\ndata: {oops\n\ndata: {"a":3}\n\n'

const open = (parts: string[]): Promise<StreamResponse> => fromResponse(responseOf(parts))

/** What a loop over `items` delivered, and how it failed: the consumer's call included. */
async function read(items: () => AsyncIterable<unknown>): Promise<{ items: unknown[]; error: unknown }> {
  const got: unknown[] = []
  try {
    for await (const item of items()) got.push(item)
  } catch (error) {
    return { items: got, error }
  }
  return { items: got, error: undefined }
}

/** The rejection of `promise`, as an Error (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  )
  if (!('error' in outcome)) throw new Error('expected a rejection')
  return outcome.error as Error
}

describe('a consumer option it cannot take', () => {
  it('onInvalid that is none of its values fails ndjson() before any record: a typo would skip records', async () => {
    const res = await open([NDJSON])
    const { items, error } = await read(() => res.ndjson(undefined, { onInvalid: 'ignore' as never }))
    expect(items).toEqual([])
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe(
      `ndjson(): onInvalid must be 'throw', 'skip' or a function, got "ignore".`,
    )
  })

  it('a bad option throws at the call, before the body is claimed: it can still be read', async () => {
    const res = await open([NDJSON])
    expect(() => res.ndjson(undefined, { onInvalid: 'ignore' as never })).toThrow(TypeError)
    expect(() => res.events({ until: 5 as never })).toThrow(TypeError)
    expect(await read(() => res.ndjson(undefined, { onInvalid: 'skip' }))).toEqual({
      items: [{ a: 1 }, { a: 2 }, { a: 4 }],
      error: undefined,
    })
  })

  it.each<[string, (res: StreamResponse) => unknown, string]>([
    ['bytes()', (res) => res.bytes({ chunksize: 4 } as never), 'chunkSize'],
    ['text()', (res) => res.text({ fatl: true } as never), 'fatal'],
    ['collect.text()', (res) => res.collect.text({ fatl: true } as never), 'fatal'],
    ['lines()', (res) => res.lines({ fatl: true } as never), 'fatal'],
    ['ndjson()', (res) => res.ndjson(undefined, { oninvalid: 'skip' } as never), 'onInvalid'],
    ['events()', (res) => res.events({ untill: '[DONE]' } as never), 'json, schema, until and onInvalid'],
    ['json()', (res) => res.json(undefined, { throttle: 50 } as never), 'throttleMs and maxDepth'],
    ['tee()', (res) => res.tee({ buffer: 1024 } as never), 'maxBuffer'],
  ])(
    'an option %s does not have is refused at the call, naming its options: a typo would be ignored',
    async (by, call, names) => {
      const res = await open([NDJSON])
      let error: unknown
      try {
        await call(res)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(TypeError)
      const key = (error as Error).message.match(/`(\w+)`/)?.[1]
      expect((error as Error).message).toBe(`${by} has no option \`${key}\`: its options are ${names}.`)
      // Before the body is claimed: it can still be read.
      expect(await res.collect.text()).toBe(NDJSON)
    },
  )

  it('an option set to undefined is absent, whatever its name', async () => {
    const res = await open([NDJSON])
    const options = { fatal: undefined, other: undefined }
    expect(await Array.fromAsync(res.lines(options))).toEqual(NDJSON.trimEnd().split('\n'))
  })

  it('onInvalid that is none of its values fails events() before any event', async () => {
    const res = await open([SSE])
    const { items, error } = await read(() => res.events({ json: true, onInvalid: 'warn' as never }))
    expect(items).toEqual([])
    expect((error as Error).message).toBe(
      `events(): onInvalid must be 'throw', 'skip' or a function, got "warn".`,
    )
  })

  it('until that is neither a string nor a function fails events() before any event', async () => {
    const res = await open([SSE])
    const { items, error } = await read(() => res.events({ until: 5 as never }))
    expect(items).toEqual([])
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/^events\(\): until must be .*a string .*a function.*, got 5\.$/)
  })

  it.each([
    ['maxDepth', 'x', /^json\(\): maxDepth must be .*, got "x"\.$/],
    ['maxDepth', 0, /^json\(\): maxDepth must be a positive integer, got 0\.$/],
    ['throttleMs', -5, /^json\(\): throttleMs must be .*, got -5\.$/],
    ['throttleMs', '5', /^json\(\): throttleMs must be .*, got "5"\.$/],
  ])(
    'json() with %s: %j throws a RangeError at the call, leaving the body to read',
    async (key, value, message) => {
      const res = await open(['{"a":[1,2]}'])
      expect(() => res.json(undefined, { [key]: value })).toThrow(RangeError)
      expect(() => res.json(undefined, { [key]: value })).toThrow(message)
      expect(await res.json().final).toEqual({ a: [1, 2] })
    },
  )

  it('the checks leave good values alone', async () => {
    const lines = await read(async function* () {
      const res = await open([NDJSON])
      yield* res.ndjson(undefined, { onInvalid: 'skip' })
    })
    expect(lines).toEqual({ items: [{ a: 1 }, { a: 2 }, { a: 4 }], error: undefined })
    const res = await open(['{"a":[1,2]}'])
    expect(await res.json(undefined, { maxDepth: 2, throttleMs: 0 }).final).toEqual({ a: [1, 2] })
  })
})

describe('a stream store option it cannot take', () => {
  const res = (): Promise<StreamResponse> => open([NDJSON])

  it.each([
    [
      { as: 'ndjson', onInvalid: 'warn' },
      TypeError,
      `createStreamStore(): onInvalid must be 'throw', 'skip'`,
    ],
    [{ as: 'events', onInvalid: 'ignore' }, TypeError, 'createStreamStore(): onInvalid must be'],
    [{ as: 'events', until: 5 }, TypeError, 'createStreamStore(): until must be'],
    [{ as: 'json', maxDepth: 0 }, RangeError, 'createStreamStore(): maxDepth must be'],
    [{ as: 'xml' }, TypeError, "createStreamStore() needs `as`, one of 'ndjson', 'json', 'text', 'events',"],
    [{ as: 'lines', throttleMs: '5' }, RangeError, 'createStreamStore(): throttleMs must be'],
    [
      { as: 'bytes', chunkSize: 0 },
      RangeError,
      'createStreamStore(): chunkSize must be a positive integer, got 0',
    ],
    [
      { as: 'text', maxItems: 5 },
      TypeError,
      "createStreamStore(): the 'text' mode takes no option maxItems; it takes throttleMs, fatal.",
    ],
    [
      { as: 'text', bogus: 1 },
      TypeError,
      "createStreamStore(): the 'text' mode takes no option bogus; it takes throttleMs, fatal.",
    ],
    [{ as: 'json', maxItems: 5 }, TypeError, "the 'json' mode takes no option maxItems;"],
    [{ as: 'ndjson', fatal: true }, TypeError, "the 'ndjson' mode takes no option fatal;"],
    [{ as: 'lines', maxDepth: 0 }, TypeError, "the 'lines' mode takes no option maxDepth;"],
    [{ as: 'bytes', schema: null }, TypeError, "the 'bytes' mode takes no option schema;"],
    [{ as: 'events', chunkSize: 4 }, TypeError, "the 'events' mode takes no option chunkSize;"],
  ])('%j is an error at creation', (options, type, message) => {
    expect(() => createStreamStore(res(), options as never)).toThrow(type)
    expect(() => createStreamStore(res(), options as never)).toThrow(message)
  })

  it("takes every option of every mode, and an option of another mode's that is undefined (absent)", async () => {
    const schema = { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value }) } }
    for (const options of [
      { as: 'ndjson', throttleMs: 0, maxItems: 2, schema, onInvalid: 'skip' },
      { as: 'events', throttleMs: 0, maxItems: 2, schema, json: true, until: '[DONE]', onInvalid: 'skip' },
      { as: 'lines', throttleMs: 0, maxItems: 2, fatal: true },
      { as: 'bytes', throttleMs: 0, maxItems: 2, chunkSize: 4 },
      { as: 'text', throttleMs: 0, fatal: true, maxItems: undefined },
      { as: 'json', throttleMs: 0, schema, maxDepth: 8, maxItems: undefined },
    ]) {
      const response = await res()
      expect(() => createStreamStore(response, options as never)).not.toThrow()
      await response.cancel()
    }
  })

  it('quotes a string where a number belongs', () => {
    expect(() => createStreamStore(res(), { as: 'lines', throttleMs: '5' as never })).toThrow(/got "5"\.$/)
    expect(() => createStreamStore(res(), { as: 'lines', maxItems: '5' as never })).toThrow(/got "5"\.$/)
  })
})

describe('an option of sluice() it cannot take', () => {
  const fetched: Request[] = []
  const fetch = fetchWith((request) => {
    fetched.push(request)
    return responseOf(['{"a":1}\n'])
  })

  it.each([
    [{ signal: {} }, TypeError, '`signal` must be an AbortSignal, got an object (Object).'],
    [{ signal: 'stop' }, TypeError, '`signal` must be an AbortSignal, got "stop".'],
    [
      { timeout: -1 },
      RangeError,
      '`timeout` must be a number of milliseconds between 1 and 2147483647, got -1.',
    ],
    [
      { timeout: '5' },
      RangeError,
      '`timeout` must be a number of milliseconds between 1 and 2147483647, got "5".',
    ],
    [{ total: -5 }, RangeError, '`total` must be a whole number of bytes, 0 or more, got -5.'],
    [{ total: '3' }, RangeError, '`total` must be a whole number of bytes, 0 or more, got "3".'],
    [{ total: 1.5 }, RangeError, '`total` must be a whole number of bytes, 0 or more, got 1.5.'],
    [{ maxBytes: '10' }, RangeError, '`maxBytes` must be a positive number of bytes, got "10".'],
    [{ resume: 'yes' }, TypeError, `\`resume\` must be false, 'auto' or an object of settings, got "yes".`],
    [{ resume: { cursor: 'x' } }, TypeError, '`resume.cursor` must be a function'],
    [{ resume: { attempts: '3' } }, RangeError, '`resume.attempts` must be a whole number'],
    [{ resume: { strategy: 'cursor' } }, TypeError, "`resume.strategy: 'cursor'` needs `resume.cursor`"],
    [{ maxBytes: 0 }, RangeError, '`maxBytes` must be a positive number of bytes, got 0.'],
    [
      { idleTimeout: 2 ** 31 },
      RangeError,
      '`idleTimeout` must be a number of milliseconds between 1 and 2147483647, got 2147483648.',
    ],
    [
      { resume: { attempts: -1 } },
      RangeError,
      '`resume.attempts` must be a whole number of reconnects (0 or more), or Infinity, got -1.',
    ],
    [
      { resume: { backoff: { jitter: 1.5 } } },
      RangeError,
      '`resume.backoff.jitter` must be a number ≥ 0 and ≤ 1, got 1.5.',
    ],
    [
      { resume: { backoff: { initial: -1 } } },
      RangeError,
      '`resume.backoff.initial` must be a number ≥ 0, got -1.',
    ],
    // A typo would leave the default in force without a word.
    [
      { resume: { attempt: 3 } },
      TypeError,
      '`resume` has no setting `attempt`: its settings are strategy, attempts, backoff, skipOnRestart and cursor.',
    ],
    [
      { resume: { backoff: { initialMs: 100 } } },
      TypeError,
      '`resume.backoff` has no setting `initialMs`: its settings are initial, max, factor and jitter.',
    ],
    [{ resume: { backoff: 100 } }, TypeError, '`resume.backoff` must be an object of settings, got 100.'],
    [
      { ky: {} },
      TypeError,
      '`ky` must be a ky instance (from `ky.create()` or `ky.extend()`), got an object',
    ],
  ])('%j rejects the call, before any request', async (options, type, message) => {
    fetched.length = 0
    const error = await rejection(sluice(url, { fetch, ...(options as object) }))
    expect(error).toBeInstanceOf(type)
    expect(error.message).toContain(message)
    expect(fetched).toEqual([])
  })

  it('a cursor that is not a function is refused even without the cursor strategy', async () => {
    const error = await rejection(sluice(url, { fetch, resume: { cursor: 'x' as never } }))
    expect(error.message).toBe(
      '`resume.cursor` must be a function (lastItem) => ({ searchParams?, headers? }), got "x".',
    )
  })

  it('the checks leave good resume values alone: no reconnect at all, jitter 0 and 1, no wait', async () => {
    for (const resume of [
      { attempts: undefined, backoff: undefined, unknown: undefined },
      { backoff: { initial: undefined, later: undefined } },
      { attempts: 0 },
      { backoff: { initial: 0, max: 0, factor: 0, jitter: 0 } },
      { backoff: { jitter: 1 } },
    ]) {
      const res = await sluice(url, { fetch: fetchWith(() => responseOf(['{"a":1}\n'])), resume })
      expect(await Array.fromAsync(res.ndjson())).toEqual([{ a: 1 }])
    }
  })

  it('the checks leave good values alone: timeout false, total 0, an AbortSignal', async () => {
    const res = await sluice(url, {
      fetch: fetchWith(() => responseOf([])),
      timeout: false,
      total: 0,
      signal: new AbortController().signal,
    })
    expect(await res.collect.text()).toBe('')
  })

  it('a TypeError before any response reads as one sentence, without a doubled period', async () => {
    const error = await rejection(
      sluice(url, {
        retry: 0,
        fetch: fetchWith(() => {
          throw new TypeError('The thing is wrong.')
        }),
      }),
    )
    expect(error.message).toBe(`Requesting ${url} failed, not for a network error: The thing is wrong.`)
  })
})

describe('createClient() and extend()', () => {
  it('check the defaults at creation, not at the first call', () => {
    expect(() => createClient({ maxBytes: -1 })).toThrow(
      '`maxBytes` must be a positive number of bytes, got -1.',
    )
    expect(() => createClient({ ky: {} as never })).toThrow(
      '`ky` must be a ky instance (from `ky.create()` or `ky.extend()`), got an object (Object).',
    )
    expect(() => createClient({ timeout: 0 })).toThrow('`timeout` must be')
    const client = createClient({})
    expect(() => client.extend({ maxBytes: -1 })).toThrow('`maxBytes` must be')
    expect(() => client.extend({ ky: {} as never })).toThrow('`ky` must be a ky instance')
  })

  it('a call with a bad signal rejects, as sluice() does, even when the client has a signal of its own', async () => {
    const client = createClient({ signal: new AbortController().signal })
    const error = await rejection(client(url, { signal: {} as never }))
    expect(error.message).toBe('`signal` must be an AbortSignal, got an object (Object).')
  })
})

describe('options that are no object', () => {
  // What each is called with, and how it reads after "got".
  const bad: Array<[string, unknown, string]> = [
    ['null', null, 'null'],
    ["'POST'", 'POST', '"POST"'],
    ['a function', function post() {}, 'a function (post)'],
    ['an array', [{ method: 'POST' }], 'an array'],
  ]
  const fetched: Request[] = []
  const fetch = fetchWith((request) => {
    fetched.push(request)
    return responseOf(['x'])
  })

  it.each(bad)(
    'sluice(url, %s) and a client call reject with a TypeError, sending nothing',
    async (_, value, got) => {
      fetched.length = 0
      const sent = vi.spyOn(globalThis, 'fetch').mockImplementation(async () => responseOf(['x']))
      try {
        for (const made of [sluice(url, value as never), createClient({ fetch })(url, value as never)]) {
          const error = await rejection(made)
          expect(error).toEqual(new TypeError(`sluice()'s options must be an object, got ${got}.`))
          expect(error).toBeInstanceOf(TypeError)
        }
        expect(sent).not.toHaveBeenCalled()
        expect(fetched).toEqual([])
      } finally {
        sent.mockRestore()
      }
    },
  )

  it.each(bad)('createClient(%s) and extend() throw a TypeError that names the argument', (_, value, got) => {
    expect(() => createClient(value as never)).toThrow(
      new TypeError(`createClient()'s defaults must be an object, got ${got}.`),
    )
    const api = createClient({ fetch })
    expect(() => api.extend(value as never)).toThrow(
      // A function is the form ky's extend() takes too: what it returns are the overrides.
      new TypeError(
        `extend()'s overrides must be an object, got ${typeof value === 'function' ? 'undefined' : got}.`,
      ),
    )
    expect(() => api.extend(() => value as never)).toThrow(
      new TypeError(`extend()'s overrides must be an object, got ${got}.`),
    )
  })

  it.each(bad)(
    'fromResponse(response, %s) rejects with a TypeError and leaves the body unread',
    async (_, value, got) => {
      const response = responseOf(['x'])
      const error = await rejection(fromResponse(response, value as never))
      expect(error).toEqual(new TypeError(`fromResponse()'s options must be an object, got ${got}.`))
      expect(error).toBeInstanceOf(TypeError)
      expect(response.bodyUsed).toBe(false)
    },
  )

  it('undefined means no options, everywhere', async () => {
    fetched.length = 0
    const api = createClient({ fetch })
      .extend(undefined)
      .extend(() => ({ headers: undefined }))
    await expect((await api(url, undefined)).collect.text()).resolves.toBe('x')
    await expect((await fromResponse(responseOf(['y']), undefined)).collect.text()).resolves.toBe('y')
    expect(() => createClient(undefined)).not.toThrow()
    expect(fetched.map((request) => request.url)).toEqual([url])
  })
})

describe('fromResponse()', () => {
  it.each([
    [{ signal: {} }, '`signal` must be an AbortSignal, got an object (Object).'],
    [{ resume: 'yes' }, `\`resume\` must be false, 'auto' or an object of settings, got "yes".`],
    [{ total: -5 }, '`total` must be a whole number of bytes, 0 or more, got -5.'],
    [{ request: 'x' }, '`request` must be a function'],
  ])('refuses %j at the call, with or without `request`', async (options, message) => {
    const error = await rejection(fromResponse(responseOf(['x']), options as never))
    expect(error.message).toContain(message)
  })

  it.each([
    ['totalTimeout', { idleTimeout: 5_000, totalTimeout: 30_000 }],
    ['headers', { headers: { authorization: 'Bearer t' } }],
    ['resumeFrom', { resumeFrom: {} }],
  ])(
    'refuses `%s`, an option of sluice() it would ignore, with a TypeError that lists its own',
    async (name, options) => {
      // Given as a variable, as options shared with sluice() are: TypeScript checks no excess key then.
      const error = await rejection(fromResponse(responseOf(['x']), options as FromResponseOptions))
      expect(error).toBeInstanceOf(TypeError)
      expect(error.message).toBe(
        `fromResponse() has no option \`${name}\`: its options are onProgress, progressInterval, idleTimeout, total, maxBytes, maxLineBytes, maxEventBytes, signal, resume, request, url and method.`,
      )
    },
  )

  it.each([
    // Both fail everywhere: no scheme's URL has an empty host.
    [{ url: 'https://' }, new TypeError('`url` must be an absolute URL, got "https://".')],
    [{ url: 5 }, new TypeError('`url` must be an absolute URL, got 5.')],
    [{ method: 5 }, new TypeError('`method` must be an HTTP method, got 5.')],
    [{ method: 'GET /x' }, new TypeError('`method` must be an HTTP method, got "GET /x".')],
    [{ url, method: 'CONNECT' }, new TypeError('`method` must be an HTTP method, got "CONNECT".')],
  ])('refuses %j at the call, naming the option and the value', async (options, expected) => {
    const error = await rejection(fromResponse(responseOf(['x']), options as never))
    expect(error).toEqual(expected)
    expect(error).toBeInstanceOf(TypeError)
  })

  it('refuses a relative `url` outside a browser, which has no page to resolve it against; a page resolves it', async () => {
    const made = fromResponse(responseOf(['x']), { url: '/report' })
    if (typeof document === 'undefined') {
      // Not the runtime's bare "Failed to parse URL from /report".
      expect(await rejection(made)).toEqual(new TypeError('`url` must be an absolute URL, got "/report".'))
    } else {
      await expect((await made).collect.text()).resolves.toBe('x')
    }
  })

  it('names its `url` option in the HTTPError of a failed response', async () => {
    const error = await rejection(
      fromResponse(new Response('boom', { status: 500 }), { url: 'https://api.example/x' }),
    )
    expect(isHTTPError(error)).toBe(true)
    expect(error.message).toContain('Request to https://api.example/x failed with status 500')
  })
})

describe('a network failure', () => {
  it("names the runtime's own reason, not the wrapper's", async () => {
    const error = await rejection(
      sluice(url, {
        retry: 0,
        fetch: fetchWith(() => {
          throw new TypeError('fetch failed', {
            cause: Object.assign(new Error('getaddrinfo ENOTFOUND fn.example'), { code: 'ENOTFOUND' }),
          })
        }),
      }),
    )
    expect(isNetworkError(error)).toBe(true)
    expect(error.message).toBe(
      `Could not connect to ${url} (fetch failed: getaddrinfo ENOTFOUND fn.example). Check the URL and the network.`,
    )
  })

  it('to a refused 127.0.0.1 port says why, as the runtime does (ECONNREFUSED in Node)', async () => {
    const refusing = inject('refusingUrl')
    const error = await rejection(sluice(refusing, { retry: 0 }))
    expect(isNetworkError(error)).toBe(true)
    expect(error.message).not.toContain('Request failed due to a network error')
    expect(error.message).not.toMatch(/\.\)/)
    if (typeof navigator !== 'undefined' && navigator.userAgent.startsWith('Node.js')) {
      expect(error.message).toContain('ECONNREFUSED')
    }
    // ky's error, and the runtime's under it, stay the cause.
    expect((error.cause as Error).name).toBe('NetworkError')
  })
})

describe('resumeFrom with a fetch option, whose responses have no url', () => {
  const body = '{"a":1}\n{"a":2}\n{"a":3}\n'
  const sent: string[] = []
  const fetch = fetchWith((request) => {
    sent.push(`${request.method} ${request.url}`)
    const range = request.headers.get('range')
    const from = range === null ? 0 : Number(/bytes=(\d+)-/.exec(range)?.[1])
    return responseOf([body.slice(from)], {
      status: range === null ? 200 : 206,
      headers: {
        'accept-ranges': 'bytes',
        etag: '"v1"',
        'content-type': 'application/x-ndjson',
        ...(range === null ? {} : { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` }),
      },
    })
  })
  const client = createClient({ fetch, prefix: 'https://fn.example/api' })

  async function checkpointOf(path: string): Promise<Checkpoint> {
    const res = await client(path)
    for await (const _ of res.ndjson()) return res.checkpoint()
    throw new Error('no record')
  }

  it('continues from a checkpoint for the same URL, resolved against the prefix', async () => {
    const resumeFrom = await checkpointOf('one')
    expect(resumeFrom.url).toBe('https://fn.example/api/one')
    const res = await client('one', { resumeFrom })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ a: 2 }, { a: 3 }])
  })

  it("refuses a checkpoint for another URL as 'invalid-checkpoint', naming both and saying what to do", async () => {
    const resumeFrom = await checkpointOf('one')
    const error = await rejection(client('two', { resumeFrom }))
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect(error.message).toBe(
      'The checkpoint passed as `resumeFrom` was taken for GET https://fn.example/api/one, not for GET https://fn.example/api/two; call sluice() with the same method and URL, or drop `resumeFrom` to start over.',
    )
  })

  it('refuses a checkpoint for another method, naming the URL', async () => {
    const resumeFrom = await checkpointOf('one')
    const error = await rejection(client('one', { method: 'POST', resumeFrom }))
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect(error.message).toContain('not for POST https://fn.example/api/one;')
  })

  it('refuses a checkpoint for another method before anything is sent, whatever its offset', async () => {
    const res = await client('one')
    const taken = [await checkpointOf('one'), res.checkpoint()]
    await res.cancel()
    expect(taken.map((c) => c.offset)).toEqual([8, 0])
    for (const resumeFrom of taken) {
      const before = sent.length
      const error = await rejection(client('one', { method: 'POST', resumeFrom }))
      expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
      expect(error.message).toBe(
        'The checkpoint passed as `resumeFrom` was taken for GET https://fn.example/api/one, not for POST https://fn.example/api/one; call sluice() with the same method and URL, or drop `resumeFrom` to start over.',
      )
      expect(isResumeError(error) && error.answered).toBe(false)
      expect(sent.slice(before)).toEqual([])
    }
  })
})

describe('a resume.cursor that returns no request additions', () => {
  const rows = Array.from({ length: 6 }, (_, i) => JSON.stringify({ i }))
  const drop = encode(`${rows.slice(0, 2).join('\n')}\n`).length + 3

  it.each([
    ['42', () => 42, '`resume.cursor` returned 42, not { searchParams?, headers? } of strings'],
    [
      'URLSearchParams',
      () => ({ searchParams: new URLSearchParams({ after: '1' }) }),
      '`resume.cursor` returned { searchParams: an object (URLSearchParams) }, not',
    ],
    ['a number as a header', () => ({ headers: { after: 1 } }), 'returned { headers: an object (Object) }'],
  ])(
    '(%s) ends the stream with a ResumeError, never a reconnect that starts over',
    async (_, cursor, message) => {
      const s = await scripted({ kind: 'cursor', records: rows, format: 'ndjson', attempts: [{ drop }] })
      const res = await sluice(s.url, { resume: { cursor: cursor as never, backoff: FAST } })
      const { items, error } = await read(() => res.ndjson())
      expect(items).toEqual([{ i: 0 }, { i: 1 }])
      expect(isResumeError(error) && error.reason).toBe('not-resumable')
      expect((error as Error).message).toContain(message)
      expect((error as Error).message).not.toContain('threw')
      expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
    },
  )

  it('(an async cursor) ends the stream with a ResumeError that says it must be synchronous, and its rejection is handled', async () => {
    const s = await scripted({ kind: 'cursor', records: rows, format: 'ndjson', attempts: [{ drop }] })
    const cursor = async () => {
      throw new Error('no position yet')
    }
    const res = await sluice(s.url, { resume: { cursor: cursor as never, backoff: FAST } })
    const { items, error } = await read(() => res.ndjson())
    expect(items).toEqual([{ i: 0 }, { i: 1 }])
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as Error).message).toContain(
      '`resume.cursor` returned a Promise; it must return { searchParams?, headers? } synchronously',
    )
    expect((await s.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  it('makes checkpoint() throw a ResumeError, rather than a checkpoint that would start over', async () => {
    const res = await fromResponse(responseOf(rows.map((r) => `${r}\n`)), {
      url,
      resume: { cursor: () => 42 as never },
      request: () => Promise.reject(new Error('not asked')),
    })
    let checked = false
    for await (const _ of res.ndjson()) {
      checked = true
      const error = (() => {
        try {
          res.checkpoint()
        } catch (e) {
          return e as Error
        }
      })()
      expect(isResumeError(error) && error.reason).toBe('not-resumable')
      expect(error?.message).toContain('returned 42, not { searchParams?, headers? }')
      break
    }
    expect(checked).toBe(true)
  })
})
