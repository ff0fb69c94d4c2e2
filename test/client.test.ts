import ky from 'ky'
import { describe, expect, inject, it, vi } from 'vitest'
import { z } from 'zod'
import {
  createClient,
  fromResponse,
  isHTTPError,
  isNetworkError,
  isSluiceError,
  isTimeoutError,
  sluice,
} from '../src/index.ts'
import { totalSeen } from './support/scripted.ts'
import { collect, fetchWith, gatedBody, responseOf } from './support/streams.ts'

const url = 'https://fn.example/stream'

describe('sluice()', () => {
  it('resolves at the headers with status, headers and url of the response', async () => {
    const res = await sluice(url, {
      fetch: fetchWith(() => responseOf(['a'], { status: 201, headers: { 'x-thing': 'yes' } })),
    })
    expect(res.status).toBe(201)
    expect(res.ok).toBe(true)
    expect(res.headers.get('x-thing')).toBe('yes')
    await res.cancel()
  })

  it('sends a method that is no string as ky and fetch do, made a string, rather than failing on it', async () => {
    let seen: string | undefined
    const res = await sluice(url, {
      // Untyped JavaScript, or a value from a config file.
      method: 5 as never,
      fetch: fetchWith((request) => {
        seen = request.method
        return responseOf(['a'], { headers: { 'accept-ranges': 'bytes', 'content-length': '1' } })
      }),
    })
    expect(seen).toBe('5')
    expect(res.checkpoint()).toMatchObject({ method: '5' })
    await res.cancel()
  })

  it('sends ky options: method, json body, headers and search params', async () => {
    let seen: Request | undefined
    let body = ''
    const res = await sluice(url, {
      method: 'POST',
      json: { month: '2026-10' },
      headers: { authorization: 'Bearer t' },
      searchParams: { page: 2 },
      fetch: fetchWith(async (request) => {
        seen = request
        body = await request.text()
        return responseOf(['ok'])
      }),
    })
    await res.collect.text()
    expect(seen?.method).toBe('POST')
    expect(new URL(seen!.url).searchParams.get('page')).toBe('2')
    expect(seen?.headers.get('authorization')).toBe('Bearer t')
    expect(JSON.parse(body)).toEqual({ month: '2026-10' })
  })

  it('rejects a non-2xx status with an HTTPError carrying the response and an excerpt of its body', async () => {
    const error = await sluice(url, {
      retry: 0,
      fetch: fetchWith(
        () =>
          new Response('{"message":"no such report"}', {
            status: 404,
            headers: { 'content-type': 'application/json' },
          }),
      ),
    }).catch((e: unknown) => e)
    expect(isHTTPError(error)).toBe(true)
    if (!isHTTPError(error)) return
    expect(error.status).toBe(404)
    expect(error.response.status).toBe(404)
    expect(error.excerpt).toContain('no such report')
    expect(error.message).toContain('404')
  })

  it('bounds the HTTPError excerpt to 1 KiB', async () => {
    const error = await sluice(url, {
      retry: 0,
      fetch: fetchWith(() => new Response('x'.repeat(100_000), { status: 500 })),
    }).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.excerpt.length).toBe(1024)
  })

  it('keeps whole characters in the HTTPError excerpt of an error body that crosses 1 KiB in a later chunk', async () => {
    // 200 bytes, then 2 000: the excerpt is the first 1 024 bytes, 512 two-byte characters.
    const error = await sluice(url, {
      retry: 0,
      fetch: fetchWith(() => responseOf(['é'.repeat(100), 'é'.repeat(1000)], { status: 500 })),
    }).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.excerpt).toBe('é'.repeat(512))
  })

  it('leaves out of the HTTPError excerpt a character that the 1 KiB bound cuts, rather than a U+FFFD', async () => {
    // 1 + 2 × 1 000 bytes: byte 1 024 is the first half of an "é", which the server sent whole.
    const body = `a${'é'.repeat(1000)}`
    for (const wrap of [
      () => sluice(url, { retry: 0, fetch: fetchWith(() => responseOf([body], { status: 500 })) }),
      () => fromResponse(new Response(body, { status: 500 })),
    ]) {
      const error = await wrap().catch((e: unknown) => e)
      expect(isHTTPError(error) && error.excerpt).toBe(`a${'é'.repeat(511)}`)
    }
  })

  it('bounds the excerpt of an error response an afterResponse hook made to 1 KiB of whole characters', async () => {
    // Not the response sluice bounded as it arrived: only ky's `data` is left of it, 2 001 characters here.
    const error = await sluice(url, {
      retry: 0,
      fetch: fetchWith(() => responseOf(['ok'])),
      hooks: { afterResponse: [() => new Response(`a${'é'.repeat(1000)}`, { status: 500 })] },
    }).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.status).toBe(500)
    expect(isHTTPError(error) && error.excerpt).toBe(`a${'é'.repeat(511)}`)
  })

  it('reads at most 1 MiB of an error body that keeps streaming, then cancels it', async () => {
    const KiB64 = new Uint8Array(64 * 1024).fill(120)
    let produced = 0
    let cancels = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        produced += KiB64.length
        controller.enqueue(KiB64)
      },
      cancel() {
        cancels++
      },
    })
    const error = await sluice(url, {
      retry: 0,
      fetch: fetchWith(() => new Response(endless, { status: 500 })),
    }).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.excerpt).toBe('x'.repeat(1024))
    expect(cancels).toBe(1)
    // 1 MiB, and what the streams read ahead of it: a chunk or two, not the rest of a second.
    expect(produced).toBeGreaterThanOrEqual(1024 * 1024)
    expect(produced).toBeLessThanOrEqual(1024 * 1024 + 4 * KiB64.length)
  })

  it('leaves the end-marker line out of the HTTPError excerpt of a body that announces one', async () => {
    for (const wrap of [
      (response: Response) => sluice(url, { retry: 0, fetch: fetchWith(() => response) }),
      (response: Response) => fromResponse(response),
    ]) {
      const error = await wrap(
        new Response('no such report\n{"$sluice":"end","bytes":15}\n', {
          status: 404,
          headers: { 'x-sluice-end': 'marker' },
        }),
      ).catch((e: unknown) => e)
      expect(isHTTPError(error) && error.excerpt).toBe('no such report')
    }
  })

  it("names the request's URL in an HTTPError's message when the response has none of its own", async () => {
    const error = await fromResponse(new Response('gone', { status: 410 }), { url }).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.message).toBe(`Request to ${url} failed with status 410: gone`)
  })

  it("counts in an HTTPError's message the requests ky's `retry` sent, and says how to send one", async () => {
    let calls = 0
    const busy = fetchWith(() => {
      calls++
      return new Response('busy', { status: 503 })
    })
    // ky's default limit (2 retries of a GET answered 503), without its waits.
    const error = await sluice(url, { retry: { delay: () => 0 }, fetch: busy }).catch((e: unknown) => e)
    expect(calls).toBe(3)
    expect(isHTTPError(error) && error.attempts).toBe(3)
    expect(isHTTPError(error) && error.message).toBe(
      `Request to ${url} failed with status 503 after 3 attempts (ky's \`retry\`; set \`retry: 0\` to send one): busy`,
    )
    calls = 0
    const once = await sluice(url, { retry: 0, fetch: busy }).catch((e: unknown) => e)
    expect(calls).toBe(1)
    expect(isHTTPError(once) && once.attempts).toBe(1)
    expect(isHTTPError(once) && once.message).toBe(`Request to ${url} failed with status 503: busy`)
  })

  it("counts the requests of a ky instance's `retry`, whose beforeRetry hooks still run", async () => {
    let calls = 0
    const retried: number[] = []
    const instance = ky.create({
      retry: { limit: 1, delay: () => 0 },
      hooks: { beforeRetry: [({ retryCount }) => void retried.push(retryCount)] },
    })
    const error = await createClient({ ky: instance })(url, {
      fetch: fetchWith(() => {
        calls++
        return new Response(null, { status: 502, statusText: 'Bad Gateway' })
      }),
    }).catch((e: unknown) => e)
    expect([calls, retried]).toEqual([2, [1]])
    expect(isHTTPError(error) && error.message).toBe(
      `Request to ${url} failed with status 502 Bad Gateway after 2 attempts (ky's \`retry\`; set \`retry: 0\` to send one)`,
    )
  })

  it("counts in a NetworkError's message the connections ky's `retry` tried, and says how to try one", async () => {
    let calls = 0
    const down = fetchWith(() => {
      calls++
      throw new TypeError('fetch failed')
    })
    const error = await sluice(url, { retry: { delay: () => 0 }, fetch: down }).catch((e: unknown) => e)
    expect(calls).toBe(3)
    expect(isNetworkError(error) && error.message).toBe(
      `Could not connect to ${url} (fetch failed) after 3 attempts (ky's \`retry\`; set \`retry: 0\` to send one). Check the URL and the network.`,
    )
    calls = 0
    const once = await sluice(url, { retry: 0, fetch: down }).catch((e: unknown) => e)
    expect(calls).toBe(1)
    expect(isNetworkError(once) && once.message).toBe(
      `Could not connect to ${url} (fetch failed). Check the URL and the network.`,
    )
  })

  it('rejects a failed connection with a NetworkError that keeps the cause', async () => {
    const cause = new TypeError('fetch failed')
    const error = await sluice(url, {
      retry: 0,
      fetch: fetchWith(() => {
        throw cause
      }),
    }).catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect((error as Error).cause).toBeDefined()
  })

  it('rejects a connection refused by 127.0.0.1 with a NetworkError that keeps the runtime error as its cause', async () => {
    const refusing = inject('refusingUrl')
    const error = await sluice(refusing, { retry: 0 }).catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    if (!isNetworkError(error)) return
    expect(error.message).toContain(`Could not connect to ${refusing}`)
    // Node's and the edge runtime's `TypeError: fetch failed`, Chromium's `TypeError: Failed to fetch`,
    // wrapped by ky.
    expect((error.cause as Error).name).toBe('NetworkError')
    const refused = (error.cause as Error).cause as Error
    expect(refused.name).toBe('TypeError')
    // Only a browser's words may hide a CORS refusal: this runtime's own refusal names CORS there alone.
    expect(error.message.endsWith(", or the server's CORS."), refused.message).toBe(
      refused.message === 'Failed to fetch',
    )
  })

  it("names no CORS for a page's request to its own origin, which CORS does not govern: first request or reconnect", async () => {
    // The page's origin where there is a page (Chromium), else one played for the test.
    const played = globalThis.location === undefined
    if (played) vi.stubGlobal('location', { origin: 'https://app.example' })
    try {
      const own = `${globalThis.location.origin}/stream`
      const refused = () => {
        throw new TypeError('Failed to fetch')
      }
      const first = await sluice(own, { retry: 0, fetch: fetchWith(refused) }).catch((e: unknown) => e)
      expect((first as Error).message).toBe(
        `Could not connect to ${own} (Failed to fetch). Check the URL and the network.`,
      )
      let calls = 0
      const dropsThenRefuses = fetchWith(() =>
        ++calls === 1
          ? responseOf(['abcd'], {
              headers: { 'accept-ranges': 'bytes', 'content-length': '8', etag: '"v1"' },
              error: new TypeError('network error (scripted drop)'),
            })
          : refused(),
      )
      const res = await sluice(own, {
        fetch: dropsThenRefuses,
        resume: { attempts: 1, backoff: { initial: 1 } },
      })
      const error = await collect(res.bytes()).catch((e: unknown) => e)
      expect((error as Error).message).toContain(`Reconnecting to ${own} failed (Failed to fetch). `)
      expect((error as Error).message).not.toContain('CORS')
      // Another origin's, from the same page: CORS may be why.
      const other = await sluice('https://fn.example/stream', { retry: 0, fetch: fetchWith(refused) }).catch(
        (e: unknown) => e,
      )
      expect((other as Error).message).toContain(", or the server's CORS.")
    } finally {
      if (played) vi.unstubAllGlobals()
    }
  })

  it.each([
    ['Chromium', new TypeError('Failed to fetch'), true],
    ['Chromium, naming the host', new TypeError('Failed to fetch (fn.example)'), true],
    ['Firefox', new TypeError('NetworkError when attempting to fetch resource.'), true],
    // Safari's words are a network error's only without a stack (ky's rule).
    ['Safari', Object.assign(new TypeError('Load failed'), { stack: undefined }), true],
    [
      'Node',
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      }),
      false,
    ],
    [
      'Bun',
      Object.assign(new TypeError('Unable to connect. Is the computer able to access the url?'), {
        code: 'ECONNREFUSED',
      }),
      false,
    ],
    ['Deno', new TypeError('error sending request for url (https://fn.example/stream): client error'), false],
    ['workerd', Object.assign(new Error('Network connection lost.'), { retryable: true }), false],
  ])(
    'a connection that fails as %s reports it names CORS only after the words of a browser, which a CORS refusal shares',
    async (_runtime, failure, cors) => {
      const error = await sluice(url, {
        retry: 0,
        fetch: fetchWith(() => {
          throw failure
        }),
      }).catch((e: unknown) => e)
      expect(isNetworkError(error)).toBe(true)
      const reason = `${failure.message.replace(/\.$/, '')}${failure.cause ? `: ${(failure.cause as Error).message}` : ''}`
      expect((error as Error).message).toBe(
        `Could not connect to ${url} (${reason}). Check the URL and the network${cors ? ", or the server's CORS" : ''}.`,
      )
    },
  )

  it.each([
    [
      'Bun',
      Object.assign(
        new TypeError('ECONNREFUSED: Unable to connect. Is the computer able to access the url?'),
        { code: 'ECONNREFUSED' },
      ),
    ],
    [
      'Node',
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('getaddrinfo ENOTFOUND fn.example'), { code: 'ENOTFOUND' }),
      }),
    ],
    ['Chromium', new TypeError('Failed to fetch')],
    ['Firefox', new TypeError('NetworkError when attempting to fetch resource.')],
  ])('a network failure as %s reports it is a NetworkError', async (_runtime, failure) => {
    const error = await sluice(url, {
      retry: 0,
      fetch: fetchWith(() => {
        throw failure
      }),
    }).catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect((error as Error).message).toContain(`Could not connect to ${url}`)
  })

  it.each([
    ['a bug of its own', () => (undefined as unknown as () => void)()],
    ['an invalid request', () => new Request(url, { method: 'GET', body: 'x' })],
    ['an invalid header', () => new Headers({ 'x-bad': 'a\nb' })],
    ['an unparsable URL', () => new Request('http://[not a host/')],
  ])(
    'a TypeError that the fetch option throws for %s is not disguised as a NetworkError',
    async (_what, fail) => {
      let thrown: unknown
      const error = await sluice(url, {
        retry: 0,
        fetch: fetchWith(() => {
          try {
            fail()
          } catch (e) {
            thrown = e
            throw e
          }
          throw new Error('expected a TypeError')
        }),
      }).catch((e: unknown) => e)
      expect(thrown).toBeInstanceOf(TypeError)
      expect(isNetworkError(error)).toBe(false)
      expect(isSluiceError(error)).toBe(false)
      expect(error).toBeInstanceOf(TypeError)
      const { message, cause } = error as TypeError
      expect(cause).toBe(thrown)
      expect(message).toContain((thrown as Error).message)
      expect(message).toContain(url)
      expect(message).not.toContain('Could not connect')
    },
  )

  it('rejects with a TimeoutError in phase headers when the headers take longer than timeout', async () => {
    const error = await sluice(url, {
      retry: 0,
      timeout: 20,
      fetch: fetchWith(() => new Promise<Response>(() => {})),
    }).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('headers')
  })

  it('rejects with the abort reason when the signal aborts before the headers', async () => {
    const controller = new AbortController()
    const pending = sluice(url, {
      signal: controller.signal,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          const request = new Request(input, init)
          if (request.signal.aborted) reject(request.signal.reason)
          request.signal.addEventListener('abort', () => reject(request.signal.reason))
        })) as typeof fetch,
    })
    controller.abort(new Error('user left'))
    await expect(pending).rejects.toThrow('user left')
  })

  it('given a signal aborted already, runs no hook and calls no `fetch` option: nothing is sent', async () => {
    const reason = new Error('user left')
    const seen: string[] = []
    const states: string[] = []
    const error = await sluice(url, {
      signal: AbortSignal.abort(reason),
      hooks: { beforeRequest: [() => void seen.push('beforeRequest')] },
      // A `fetch` that does not look at the signal, as a test double or a wrapper may not.
      fetch: async () => {
        seen.push('fetch')
        return responseOf(['data'])
      },
      onProgress: (progress) => states.push(progress.state),
    }).catch((e: unknown) => e)
    expect(error).toBe(reason)
    // ky runs its hooks and its fetch in microtasks: a timer's turn comes after all of them.
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(seen).toEqual([])
    expect(states.at(-1)).toBe('cancelled')
  })

  it('resolves a response with no content (204) as an empty stream, and stops the totalTimeout timer at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const states: string[] = []
      const res = await sluice(url, {
        fetch: fetchWith(() => new Response(null, { status: 204 })),
        totalTimeout: 600_000,
        onProgress: (p) => states.push(p.state),
      })
      expect(res.status).toBe(204)
      // A timer left running would keep a Node process alive for ten minutes for a body nobody need read.
      expect(vi.getTimerCount()).toBe(0)
      expect(await res.collect.text()).toBe('')
      expect(states.at(-1)).toBe('done')
    } finally {
      vi.useRealTimers()
    }
  })
  it('stops the totalTimeout timer when the signal aborts a response nobody reads', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const controller = new AbortController()
      const res = await sluice(url, {
        signal: controller.signal,
        fetch: fetchWith(() => responseOf(['{"n":0}\n', '{"n":1}\n'])),
        totalTimeout: 600_000,
      })
      expect(vi.getTimerCount()).toBe(1)
      // No read will fail with the abort: the stream is over all the same, and its timer would keep a Node
      // process alive for ten minutes.
      controller.abort(new Error('user left'))
      expect(vi.getTimerCount()).toBe(0)
      await expect(res.collect.text()).rejects.toThrow('user left')
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('createClient()', () => {
  it('applies defaults and the hooks of a ky instance to every request', async () => {
    const seen: string[] = []
    const client = createClient({
      headers: { 'x-app': 'demo' },
      hooks: { beforeRequest: [({ request }) => void request.headers.set('x-signed', 'sig')] },
      fetch: fetchWith((request) => {
        seen.push(`${request.headers.get('x-app')}/${request.headers.get('x-signed')}`)
        return responseOf(['x'])
      }),
    })
    await (await client(url)).collect.text()
    const extended = client.extend({ headers: { 'x-app': 'other' } })
    await (await extended(url)).collect.text()
    expect(seen).toEqual(['demo/sig', 'other/sig'])
  })
})

describe('a `fetch` option that answers Response.error()', () => {
  it('rejects with a NetworkError that names it, as a fetch that failed does, not an HTTPError for status 0', async () => {
    const error = await sluice(url, { fetch: async () => Response.error(), retry: 0 }).catch(
      (e: unknown) => e,
    )
    expect(isNetworkError(error)).toBe(true)
    expect((error as Error).message).toBe(
      `Could not connect to ${url} (network error: Response.error()). Check the URL and the network.`,
    )
  })

  it("is asked again as a network failure is, within ky's retry", async () => {
    let calls = 0
    const res = await sluice(url, {
      fetch: async () => (++calls === 1 ? Response.error() : responseOf(['ok'])),
      retry: { limit: 1, delay: () => 0 },
    })
    expect(await res.collect.text()).toBe('ok')
    expect(calls).toBe(2)
  })
})

describe('fromResponse()', () => {
  it('wraps a Response obtained elsewhere with the same consumers', async () => {
    const res = await fromResponse(responseOf(['{"id":1}\n{"id"', ':2}\n']))
    expect(await collect(res.ndjson(z.object({ id: z.number() })))).toEqual([{ id: 1 }, { id: 2 }])
  })

  it('gives res.url the `url` option when the Response, made in code, has none; its tee branches too', async () => {
    const res = await fromResponse(responseOf(['a']), { url })
    expect(res.url).toBe(url)
    const [left, right] = res.tee()
    expect([left.url, right.url]).toEqual([url, url])
    await Promise.all([left.cancel(), right.cancel()])
    // Resolved as a Request resolves it, as the checkpoint names it.
    const bare = await fromResponse(responseOf(['a'], { headers: { 'accept-ranges': 'bytes' } }), {
      url: 'https://fn.example',
    })
    expect([bare.url, bare.checkpoint().url]).toEqual(['https://fn.example/', 'https://fn.example/'])
    await bare.cancel()
    const unnamed = await fromResponse(responseOf(['a']))
    expect(unnamed.url).toBe('')
    await unnamed.cancel()
  })

  it("keeps a fetched response's own url over the `url` option", async () => {
    const fetched = await fetch(`${inject('serverUrl')}/text?body=x`)
    const res = await fromResponse(fetched, { url: 'https://other.example/report' })
    expect(res.url).toBe(fetched.url)
    expect(res.url).not.toBe('')
    await res.cancel()
  })

  it('rejects Response.error() with a NetworkError that names it, not an HTTPError for status 0', async () => {
    const error = await fromResponse(Response.error(), { url }).catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect(error).toMatchObject({
      message: `Request to ${url} failed with a network error: Response.error().`,
      offset: 0,
      request: { url },
    })
  })

  it('rejects a non-2xx Response with an HTTPError', async () => {
    await expect(fromResponse(new Response('gone', { status: 410 }))).rejects.toMatchObject({
      name: 'HTTPError',
      status: 410,
      excerpt: 'gone',
    })
  })

  it('rejects with what an error body sent within a second, when the body then stalls', async () => {
    const body = gatedBody()
    body.push('Internal error: database unavailable\n')
    const error = await fromResponse(new Response(body.stream, { status: 500 })).catch((e: unknown) => e)
    expect(isHTTPError(error) && error.excerpt).toBe('Internal error: database unavailable\n')
    expect(body.cancels()).toBe(1)
  })

  it('refuses a Response whose body is locked, or no Response at all, with a TypeError that says so', async () => {
    const locked = new Response('abc')
    locked.body!.getReader()
    // Not the runtime's bare "ReadableStream is locked", nor a property read of null.
    await expect(fromResponse(locked)).rejects.toThrow(
      new TypeError('fromResponse() got a Response whose body was already read.'),
    )
    await expect(fromResponse(null as never)).rejects.toThrow(new TypeError('fromResponse() got null.'))
  })

  it('given a signal aborted already, ends as a cancellation: reads reject with its reason, the body is cancelled', async () => {
    const body = gatedBody()
    body.push('a\n')
    const reason = new Error('left the page')
    const states: string[] = []
    const res = await fromResponse(new Response(body.stream), {
      signal: AbortSignal.abort(reason),
      onProgress: (progress) => states.push(progress.state),
    })
    await expect(res.collect.text()).rejects.toBe(reason)
    // As an abort while it streams, or sluice() given an aborted signal: the user's stop, not a failure.
    expect(res.progress.state).toBe('cancelled')
    expect(states.at(-1)).toBe('cancelled')
    expect(body.cancels()).toBe(1)
  })

  it('given a signal aborted already, rejects a non-2xx Response with its reason, without reading the error page', async () => {
    // An error page that keeps streaming: read for a second, it would end in an HTTPError.
    const body = gatedBody()
    body.push('Internal error\n')
    const reason = new Error('left the page')
    const states: string[] = []
    const error = await fromResponse(new Response(body.stream, { status: 500 }), {
      signal: AbortSignal.abort(reason),
      onProgress: (progress) => states.push(progress.state),
    }).catch((e: unknown) => e)
    expect(error).toBe(reason)
    expect(states.at(-1)).toBe('cancelled')
    expect(body.cancels()).toBe(1)
  })

  it('rejects with the reason of a signal aborted while the error page is read, as sluice() does', async () => {
    const body = gatedBody()
    body.push('Internal error\n')
    const controller = new AbortController()
    const reason = new Error('left the page')
    const pending = fromResponse(new Response(body.stream, { status: 500 }), { signal: controller.signal })
    controller.abort(reason)
    expect(await pending.catch((e: unknown) => e)).toBe(reason)
    expect(body.cancels()).toBe(1)
  })

  it('reports a non-2xx Response to onProgress as an error, as sluice() does', async () => {
    const states: string[] = []
    const error = await fromResponse(new Response('gone', { status: 410 }), {
      onProgress: (progress) => states.push(progress.state),
    }).catch((e: unknown) => e)
    expect(isHTTPError(error)).toBe(true)
    expect(states).toEqual(['error'])
  })
})

describe('against a real server on 127.0.0.1', () => {
  it('streams a body of known length completely', async () => {
    const res = await sluice(`${inject('serverUrl')}/bytes?size=100000&chunk=7000`)
    const body = await res.collect.bytes()
    expect(body.length).toBe(100_000)
    expect(body[99_999]).toBe(99_999 % 251)
    expect(res.progress).toMatchObject({ loaded: 100_000, state: 'done' })
    expect(res.progress.total).toBe(totalSeen(100_000))
    expect(res.progress.percent).toBe(totalSeen(100))
  })
})
