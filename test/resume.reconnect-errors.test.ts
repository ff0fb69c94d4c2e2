/**
 * A reconnect is asked again only when the network failed it. What no network caused — a header value `Headers`
 * refuses, a bug of a `fetch` option or a hook, an HTTPError of a ky call inside a hook — fails the same way
 * every time: the stream ends at once with a ResumeError whose cause is that error, rather than after every
 * attempt and its backoff. The same holds for the first request of a `resumeFrom` checkpoint.
 *
 * The server is an injected `fetch`: its first answer drops mid-body (range-resumable: Accept-Ranges, a
 * Content-Length, an ETag), and the script says what each reconnect meets.
 */
import ky from 'ky'
import { describe, expect, inject, it } from 'vitest'
import {
  type Checkpoint,
  fromResponse,
  isNetworkError,
  isResumeError,
  type NetworkError,
  type Progress,
  type ResumeError,
  type SluiceOptions,
  sluice,
} from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { responseOf } from './support/streams.ts'

const URL_ = 'https://fn.example/report'
const LINES = ['{"i":0}', '{"i":1}', '{"i":2}', '{"i":3}']
const BODY = `${LINES.join('\n')}\n`
/** Inside the third line: two records are delivered before the drop. */
const CUT = BODY.indexOf('{"i":2}') + 3
const ETAG = '"v1"'
const RESUME = { strategy: 'range', attempts: 3, backoff: FAST } as const

/** The answer for the bytes from `from` on: the whole body (a 200 that drops at `cut`), or a 206 of the rest. */
function answer(from: number, cut?: number): Response {
  const headers: Record<string, string> = {
    'accept-ranges': 'bytes',
    etag: ETAG,
    'content-type': 'application/x-ndjson',
    'content-length': String(BODY.length - from),
  }
  if (from > 0) headers['content-range'] = `bytes ${from}-${BODY.length - 1}/${BODY.length}`
  const text = BODY.slice(from, cut)
  return responseOf([text], {
    status: from > 0 ? 206 : 200,
    headers,
    ...(cut === undefined ? {} : { error: new TypeError('terminated') }),
  })
}

/** Where a Range asks to start, or 0 without one. */
function startOf(request: Request): number {
  const range = request.headers.get('range')
  return range === null ? 0 : Number(/bytes=(\d+)-/.exec(range)?.[1])
}

/**
 * A server whose first answer drops after `CUT` bytes; the n-th reconnect (1-based) meets `reconnect(n)`: the
 * error it throws, a promise it waits for instead of answering, or the plain 206 when it returns nothing.
 * `calls` counts every fetch.
 */
function server(reconnect: (n: number) => unknown): { fetch: typeof fetch; calls: () => number } {
  let calls = 0
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init)
    calls++
    if (calls === 1) return answer(0, CUT)
    const met = reconnect(calls - 1)
    if (met instanceof Promise) return met
    if (met !== undefined) throw met
    return answer(startOf(request))
  }
  return { fetch, calls: () => calls }
}

/** The records an iteration delivered, the error it ended with (if any), and the last progress state. */
async function read(options: SluiceOptions): Promise<{ items: unknown[]; error: unknown; state: string }> {
  const seen: Progress[] = []
  const res = await sluice(URL_, {
    resume: RESUME,
    onProgress: (p) => seen.push(p),
    progressInterval: 0,
    ...options,
  })
  const items: unknown[] = []
  let error: unknown
  try {
    for await (const item of res.ndjson()) items.push(item)
  } catch (e) {
    error = e
  }
  return { items, error, state: seen.at(-1)?.state ?? 'none' }
}

const RECORDS = LINES.map((line) => JSON.parse(line) as unknown)

function expectNotRetried(
  run: { items: unknown[]; error: unknown; state: string },
  cause: unknown,
): asserts run is { items: unknown[]; error: ResumeError; state: string } {
  expect(isResumeError(run.error)).toBe(true)
  const error = run.error as ResumeError
  expect(error.reason).toBe('not-resumable')
  expect(error.attempts).toBe(1)
  expect(error.cause).toBe(cause)
  expect(error.message).toMatch(
    new RegExp(
      `^The connection to ${URL_} dropped after ${CUT} bytes of the body \\(terminated\\); reconnecting to ${URL_} failed, not for a network error \\(`,
    ),
  )
  expect(error.message).toContain('so it was not tried again')
  expect(run.items).toEqual(RECORDS.slice(0, 2))
  expect(run.state).toBe('error')
}

describe('a reconnect that fails for no network error is not asked again', () => {
  it('a TypeError of an invalid request (a header value Headers refuses): one attempt, the cause kept', async () => {
    const failure = new TypeError('bad header')
    const { fetch, calls } = server(() => failure)
    const run = await read({ fetch })
    expectNotRetried(run, failure)
    expect(calls()).toBe(2)
    expect(run.error.message).toContain('(TypeError: bad header)')
    expect(run.error.request?.url).toBe(URL_)
    expect(run.error.request?.headers.get('range')).toBe(`bytes=${CUT}-`)
  })

  it('a plain Error (a bug of the fetch option): one attempt, the cause kept', async () => {
    const failure = new Error('bug')
    const { fetch, calls } = server(() => failure)
    const run = await read({ fetch })
    expectNotRetried(run, failure)
    expect(calls()).toBe(2)
    expect(run.error.message).toContain('(Error: bug)')
  })

  it.each([
    // Node's own API errors carry `ERR_…` codes: Bun's network failures name a system error (`ECONNREFUSED`).
    [
      'a TypeError with a Node API code (ERR_INVALID_ARG_TYPE)',
      () => Object.assign(new TypeError('bad argument'), { code: 'ERR_INVALID_ARG_TYPE' }),
      '(TypeError: bad argument)',
    ],
    // workerd's network failure says `retryable: true`; one that says false is not the network's.
    [
      'an Error that says `retryable: false`',
      () => Object.assign(new Error('Network connection lost.'), { retryable: false }),
      '(Error: Network connection lost)',
    ],
  ])('%s: one attempt, the cause kept', async (_what, make, clause) => {
    const failure = make()
    const { fetch, calls } = server(() => failure)
    const run = await read({ fetch })
    expectNotRetried(run, failure)
    expect(calls()).toBe(2)
    expect(run.error.message).toContain(clause)
  })

  it('a beforeRequest hook that throws on the reconnect: one attempt, the cause kept', async () => {
    const failure = new Error('the token store is closed')
    const { fetch, calls } = server(() => undefined)
    let hooked = 0
    const run = await read({
      fetch,
      hooks: {
        beforeRequest: [
          ({ request }) => {
            hooked++
            if (request.headers.has('range')) throw failure
          },
        ],
      },
    })
    expectNotRetried(run, failure)
    expect(hooked).toBe(2)
    expect(calls()).toBe(1)
  })

  it('an HTTPError of a ky call inside a hook: one attempt, the cause kept', async () => {
    const { fetch, calls } = server(() => undefined)
    let hooked = 0
    let thrown: unknown
    const run = await read({
      fetch,
      hooks: {
        beforeRequest: [
          async ({ request }) => {
            hooked++
            if (!request.headers.has('range')) return
            try {
              await ky('https://auth.example/token', {
                retry: 0,
                fetch: async () => new Response('expired', { status: 401 }),
              })
            } catch (error) {
              thrown = error
              throw error
            }
          },
        ],
      },
    })
    expect((thrown as Error).name).toBe('HTTPError')
    expectNotRetried(run, thrown)
    expect(run.error.message).toContain('(HTTPError: ')
    expect(hooked).toBe(2)
    expect(calls()).toBe(1)
  })

  it('after a network failure, a failure of another kind ends the stream at once', async () => {
    const failure = new TypeError('bad header')
    const { fetch, calls } = server((n) => (n === 1 ? new TypeError('fetch failed') : failure))
    const run = await read({ fetch })
    expect(isResumeError(run.error) && run.error.reason).toBe('not-resumable')
    expect((run.error as ResumeError).cause).toBe(failure)
    expect((run.error as ResumeError).attempts).toBe(2)
    expect(calls()).toBe(3)
  })
})

/** Answers that are no fresh Response, as a `fetch` option or fromResponse's `request` may resolve to by mistake. */
const UNUSABLE: Array<[string, () => unknown, string]> = [
  ['undefined', () => undefined, 'undefined'],
  ['a plain object', () => ({ status: 206, ok: true }), 'an object (Object)'],
  [
    'a Response whose body was read',
    () => {
      const response = answer(CUT)
      void response.text()
      return response
    },
    'a Response whose body was already read',
  ],
]

describe('a `fetch` option that resolves to no fresh Response', () => {
  it.each(UNUSABLE)(
    '(%s) fails the first request with a TypeError that says so',
    async (_what, make, said) => {
      const error = await sluice(URL_, { fetch: (async () => make()) as typeof fetch }).catch(
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toBe(
        `Requesting ${URL_} failed, not for a network error: The \`fetch\` option resolved to ${said}; it must resolve to a fresh Response.`,
      )
    },
  )

  it('that throws synchronously fails the first request with its error', async () => {
    const failure = new Error('bug')
    const fetch = (() => {
      throw failure
    }) as typeof globalThis.fetch
    await expect(sluice(URL_, { fetch, retry: 0 })).rejects.toBe(failure)
  })

  it.each(UNUSABLE)('(%s) on a reconnect: one attempt, and the error says so', async (_what, make, said) => {
    const { fetch, calls } = server(() => Promise.resolve(make()))
    const run = await read({ fetch })
    expect(isResumeError(run.error) && run.error.reason).toBe('not-resumable')
    expect((run.error as Error).message).toContain(
      `not for a network error (TypeError: The \`fetch\` option resolved to ${said}; it must resolve to a fresh Response)`,
    )
    expect(run.items).toEqual(RECORDS.slice(0, 2))
    expect(run.state).toBe('error')
    expect(calls()).toBe(2)
  })
})

describe('a reconnect that the network failed is asked again', () => {
  it.each([
    ['undici (Node, the edge runtime)', () => new TypeError('fetch failed')],
    ['Chromium', () => new TypeError('Failed to fetch')],
    ['Bun', () => Object.assign(new TypeError('Unable to connect'), { code: 'ECONNREFUSED' })],
    // What workerd rejected a refused, reset or closed connection with (seen through miniflare).
    [
      'workerd',
      () => Object.assign(new Error('Network connection lost.'), { retryable: true, remote: true }),
    ],
  ])('as %s reports it: resumes, and delivers everything once', async (_runtime, failure) => {
    const { fetch, calls } = server((n) => (n === 1 ? failure() : undefined))
    const run = await read({ fetch })
    expect(run.error).toBeUndefined()
    expect(run.items).toEqual(RECORDS)
    expect(run.state).toBe('done')
    expect(calls()).toBe(3)
  })

  it("as this runtime's own fetch reports a refused connection: resumes, and delivers everything once", async () => {
    // Node's and the edge runtime's `TypeError: fetch failed`, Chromium's `TypeError: Failed to fetch`.
    const refusing = inject('refusingUrl')
    const { fetch, calls } = server((n) => (n === 1 ? globalThis.fetch(refusing) : undefined))
    const run = await read({ fetch })
    expect(run.error).toBeUndefined()
    expect(run.items).toEqual(RECORDS)
    expect(calls()).toBe(3)
  })

  it('a reconnect that gets no answer in time (ky’s timeout) is asked again', async () => {
    let signal: AbortSignal | undefined
    // Never answers: only ky's timeout ends the wait, by aborting the request's signal.
    const silent = (): Promise<never> =>
      new Promise((_, reject) => {
        signal?.addEventListener('abort', () => reject(signal?.reason), { once: true })
      })
    const { fetch, calls } = server((n) => (n === 1 ? silent() : undefined))
    const watched = ((input: RequestInfo | URL, init?: RequestInit) => {
      signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
      return fetch(input, init)
    }) as typeof fetch
    const run = await read({ fetch: watched, timeout: 50 })
    expect(run.error).toBeUndefined()
    expect(run.items).toEqual(RECORDS)
    expect(calls()).toBe(3)
  })
})

describe('the first request of a resumeFrom checkpoint', () => {
  /** A checkpoint after the first record of the body, taken from a stream of `url` that reads it whole. */
  async function checkpoint(url = URL_): Promise<Checkpoint> {
    const res = await sluice(url, { fetch: async () => answer(0) })
    for await (const _ of res.ndjson()) {
      const saved = res.checkpoint()
      await res.cancel()
      return saved
    }
    throw new Error('no record')
  }

  /** A fetch whose n-th call (1-based) meets `failure(n)`, or the plain 206 when it returns nothing. */
  function flaky(failure: (n: number) => unknown): { fetch: typeof fetch; calls: () => number } {
    let calls = 0
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const request = new Request(input, init)
      const thrown = failure(++calls)
      if (thrown !== undefined) throw thrown
      return answer(startOf(request))
    }
    return { fetch, calls: () => calls }
  }

  it('is not asked again after a plain Error: it rejects with it, as a first request does', async () => {
    const failure = new Error('bug')
    const { fetch, calls } = flaky(() => failure)
    const error = await sluice(URL_, { resumeFrom: await checkpoint(), resume: RESUME, fetch }).catch(
      (e: unknown) => e,
    )
    expect(error).toBe(failure)
    expect(calls()).toBe(1)
  })

  it('is not asked again after a TypeError of an invalid request: it says so, as a first request does', async () => {
    const failure = new TypeError('bad header')
    const { fetch, calls } = flaky(() => failure)
    const error = await sluice(URL_, { resumeFrom: await checkpoint(), resume: RESUME, fetch }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe(`Requesting ${URL_} failed, not for a network error: bad header.`)
    expect((error as Error).cause).toBe(failure)
    expect(calls()).toBe(1)
  })

  it('is asked again after a network failure, and continues', async () => {
    const { fetch, calls } = flaky((n) => (n === 1 ? new TypeError('fetch failed') : undefined))
    const res = await sluice(URL_, { resumeFrom: await checkpoint(), resume: RESUME, fetch })
    expect(await Array.fromAsync(res.ndjson())).toEqual(RECORDS.slice(1))
    expect(calls()).toBe(2)
  })

  it("gives up with 'attempts-exhausted' when every connection is refused, as a reconnect does: the requests made, the last failure and what to do", async () => {
    // This runtime's own refusal: Node's and the edge runtime's `fetch failed`, Chromium's `Failed to fetch`.
    const refusing = inject('refusingUrl')
    let calls = 0
    let refused: unknown
    const counted = ((input: RequestInfo | URL, init?: RequestInit) => {
      calls++
      return fetch(input, init).catch((e: unknown) => {
        refused = e
        throw e
      })
    }) as typeof fetch
    const saved = await checkpoint(refusing)
    const error = await sluice(refusing, { resumeFrom: saved, resume: RESUME, fetch: counted }).catch(
      (e: unknown) => e,
    )
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as ResumeError).attempts).toBe(4)
    // The last failure, in the runtime's words, is the cause: the message says it between the count and the advice.
    const cause = (error as ResumeError).cause as Error
    expect(isNetworkError(cause)).toBe(true)
    // (In a page, what it may mean follows: CORS, or a coding CORS hides.)
    expect(cause.message).toMatch(/^The resume request to \S+ failed \(.+\)\./)
    expect(cause.message).toContain(`to ${refusing} failed`)
    expect((error as Error).message).toBe(
      `Gave up after 4 resume requests: ${cause.message} Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
    )
    expect((error as ResumeError).request?.url).toBe(refusing)
    // It is at the checkpoint's offset, as a reconnect's is, and keeps the request's failure: ky's, over the
    // runtime's own.
    expect(isNetworkError(cause) && cause.offset).toBe(saved.offset)
    expect(((cause as NetworkError).cause as Error).cause).toBe(refused)
    expect(refused).toBeInstanceOf(TypeError)
    expect(calls).toBe(4)
  })

  it("gives up with 'attempts-exhausted' when no request gets an answer in time (ky's timeout), as a reconnect does", async () => {
    let calls = 0
    // Never answers: only ky's timeout ends the wait, by aborting the request's signal.
    const silent = ((input: RequestInfo | URL, init?: RequestInit) => {
      calls++
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
      return new Promise<never>((_, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    }) as typeof fetch
    const error = await sluice(URL_, {
      resumeFrom: await checkpoint(),
      resume: { ...RESUME, attempts: 1 },
      fetch: silent,
      timeout: 50,
    }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect((error as Error).message).toBe(
      `Gave up after 2 resume requests: The resume request to ${URL_} failed (Request timed out: GET ${URL_}). Try again later from the checkpoint, or allow more \`resume.attempts\`.`,
    )
    expect(isNetworkError((error as ResumeError).cause)).toBe(true)
    expect(calls).toBe(2)
  })
})

describe("workerd's network failure on a first request", () => {
  it('is a NetworkError that keeps it as the cause', async () => {
    const failure = Object.assign(new Error('Network connection lost.'), { retryable: true, remote: true })
    const error = await sluice(URL_, {
      retry: 0,
      fetch: async () => {
        throw failure
      },
    }).catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect((error as Error).message).toBe(
      `Could not connect to ${URL_} (Network connection lost). Check the URL and the network.`,
    )
    expect((error as Error).cause).toBe(failure)
  })
})

describe("fromResponse: a reconnect by the caller's own request, which ky never sees", () => {
  /** fromResponse() over the server's first answer, reconnecting with `request` through the same server. */
  async function readFromResponse(reconnect: (n: number) => unknown) {
    const { fetch, calls } = server(reconnect)
    const res = await fromResponse(await fetch(URL_), {
      url: URL_,
      resume: RESUME,
      request: ({ headers, signal }) => fetch(URL_, { headers, signal }),
    })
    const items: unknown[] = []
    let error: unknown
    try {
      for await (const item of res.ndjson()) items.push(item)
    } catch (e) {
      error = e
    }
    return { items, error, calls: calls() }
  }

  it.each([
    ['undici (Node, the edge runtime)', new TypeError('fetch failed')],
    ['Chromium', new TypeError('Failed to fetch')],
  ])(
    "a runtime's bare TypeError, as %s reports a network failure, is asked again",
    async (_runtime, failure) => {
      const run = await readFromResponse((n) => (n === 1 ? failure : undefined))
      expect(run.error).toBeUndefined()
      expect(run.items).toEqual(RECORDS)
      expect(run.calls).toBe(3)
    },
  )

  it.each(UNUSABLE)(
    'a `request` that resolves to %s: not asked again, and the error says what it resolved to',
    async (_what, make, said) => {
      const run = await readFromResponse((n) => (n === 1 ? Promise.resolve(make()) : undefined))
      expect(isResumeError(run.error) && run.error.reason).toBe('not-resumable')
      expect((run.error as Error).message).toBe(
        `The connection to ${URL_} dropped after ${CUT} bytes of the body (terminated); the reconnect to ${URL_} resolved to ${said}, not a fresh Response, so it was not tried again: \`request\` must resolve to a new fetch() of the resource.`,
      )
      expect(isNetworkError((run.error as ResumeError).cause)).toBe(true)
      expect(run.items).toEqual(RECORDS.slice(0, 2))
      expect(run.calls).toBe(2)
    },
  )

  it('an error of another kind is not asked again', async () => {
    const failure = new Error('bug')
    const run = await readFromResponse(() => failure)
    expect(isResumeError(run.error) && run.error.reason).toBe('not-resumable')
    expect((run.error as ResumeError).cause).toBe(failure)
    expect(run.items).toEqual(RECORDS.slice(0, 2))
    expect(run.calls).toBe(2)
  })
})

describe("a reconnect's network failure counts the bytes delivered, as the drop does", () => {
  it('the drop itself, of a part the caller asked for: the bytes delivered, from the part’s start', async () => {
    const part = responseOf(['0123456789'], {
      status: 206,
      headers: { 'content-range': 'bytes 100-199/200' },
      error: new TypeError('terminated'),
    })
    const res = await fromResponse(part, { url: URL_ })
    const error = await res.collect.bytes().catch((e: unknown) => e)
    expect(isNetworkError(error) && error.offset).toBe(10)
    expect((error as Error).message).toContain('dropped after 10 bytes of the body (terminated)')
  })

  it('for a part the caller asked for: from the part’s start, not the representation’s', async () => {
    const part = responseOf(['0123456789'], {
      status: 206,
      headers: { 'accept-ranges': 'bytes', etag: ETAG, 'content-range': 'bytes 100-199/200' },
      error: new TypeError('terminated'),
    })
    const refused = new TypeError('Failed to fetch')
    const res = await fromResponse(part, {
      url: URL_,
      resume: { strategy: 'range', attempts: 1, backoff: FAST },
      request: async () => {
        throw refused
      },
    })
    const error = await res.collect.bytes().catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    const cause = (error as ResumeError).cause
    expect(isNetworkError(cause) && { offset: cause.offset, cause: cause.cause }).toEqual({
      offset: 10,
      cause: refused,
    })
  })
})
