/**
 * What a request is made of, wherever it was set — client defaults, a ky instance, the Request itself, the
 * call — applies to the whole logical stream: signals end it, bodies are sent again on a reconnect, timeouts
 * and URLs are the ones ky used, and errors carry the Request that was sent.
 */
import ky from 'ky'
import { describe, expect, it } from 'vitest'
import { mergeResume } from '../src/core/resume/options.ts'
import {
  createClient,
  isLimitError,
  isNetworkError,
  isResumeError,
  isTimeoutError,
  type SluiceClient,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { dropping, URL_R } from './support/ranged-drop.ts'
import { base64, FAST, type Script, scripted } from './support/scripted.ts'
import { bodyOf, fetchWith, silentFetch } from './support/streams.ts'

const BODY = Uint8Array.from({ length: 1000 }, (_, i) => 97 + (i % 26))
const TEXT = new TextDecoder().decode(BODY)
/** A range stream whose first answer sends 100 bytes, then stays silent until the client goes away. */
const STALLS: Script = { kind: 'range', body: base64(BODY), etag: ['"v1"'], attempts: [{ stall: 100 }] }
/** A range stream whose first answer drops after 100 bytes; a Range request gets the rest. */
const DROPS: Script = { kind: 'range', body: base64(BODY), etag: ['"v1"'], attempts: [{ drop: 100 }] }

/** Reads until the first chunk, aborts `controller` with `reason`, and returns how reading then ended. */
async function abortMidBody(
  res: StreamResponse,
  controller: AbortController,
  reason: Error,
): Promise<unknown> {
  try {
    for await (const _ of res.bytes()) controller.abort(reason)
  } catch (error) {
    return error
  }
  return undefined
}

async function requests(log: () => Promise<Array<{ event: string }>>): Promise<number> {
  return (await log()).filter((entry) => entry.event === 'request').length
}

describe('a signal set anywhere ends the logical stream, as a per-call signal does', () => {
  it('a client default signal aborted mid-body rejects with its reason at once, without reconnecting', async () => {
    const { url, log } = await scripted(STALLS)
    const controller = new AbortController()
    const reason = new Error('user logged out')
    const api = createClient({ signal: controller.signal, resume: { backoff: FAST } })
    const res = await api(url)
    expect(await abortMidBody(res, controller, reason)).toBe(reason)
    expect(res.progress.state).toBe('cancelled')
    expect(await requests(log)).toBe(1)
  })

  it("an extended client keeps its parent's signal next to its own", async () => {
    const { url, log } = await scripted(STALLS)
    const parent = new AbortController()
    const reason = new Error('user logged out')
    const api = createClient({ signal: parent.signal, resume: { backoff: FAST } }).extend({
      signal: new AbortController().signal,
    })
    const res = await api(url)
    expect(await abortMidBody(res, parent, reason)).toBe(reason)
    expect(await requests(log)).toBe(1)
  })

  it('a signal of the ky instance aborted mid-body rejects with its reason, without reconnecting', async () => {
    const { url, log } = await scripted(STALLS)
    const controller = new AbortController()
    const reason = new Error('user logged out')
    const res = await sluice(url, { ky: ky.create({ signal: controller.signal }), resume: { backoff: FAST } })
    expect(await abortMidBody(res, controller, reason)).toBe(reason)
    expect(await requests(log)).toBe(1)
  })

  it("the Request's own signal aborted mid-body rejects with its reason", async () => {
    const { url } = await scripted(STALLS)
    const controller = new AbortController()
    const reason = new Error('user left')
    // Without the abort, the stall would end in an idle reconnect and a complete body.
    const res = await sluice(new Request(url, { signal: controller.signal }), {
      idleTimeout: 500,
      resume: { backoff: FAST },
    })
    expect(await abortMidBody(res, controller, reason)).toBe(reason)
  })
})

describe('a request body is sent again on a reconnect', () => {
  it('a Request with a POST body resumes after a drop, sending the same body again', async () => {
    const { url, log } = await scripted(DROPS)
    const bodies: string[] = []
    const res = await sluice(new Request(url, { method: 'POST', body: 'payload' }), {
      resume: { backoff: FAST },
      fetch: async (input, init) => {
        const request = new Request(input, init)
        bodies.push(await request.clone().text())
        return fetch(request)
      },
    })
    expect(await res.collect.text()).toBe(TEXT)
    expect(bodies).toEqual(['payload', 'payload'])
    expect((await log()).filter((entry) => entry.event === 'request').map((entry) => entry.range)).toEqual([
      null,
      'bytes=100-',
    ])
  })

  it('a Request whose body was already read is refused before any request, with a TypeError that says so', async () => {
    const request = new Request('https://fn.example/report', { method: 'POST', body: 'payload' })
    await request.text()
    const error = await sluice(request, { fetch: silentFetch }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toContain('was already read')
  })

  it('a body given as a stream cannot be sent again: the drop ends in a not-resumable ResumeError', async () => {
    const seen: Request[] = []
    const fetchOnce = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init))
      const headers = { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '20' }
      return new Response(bodyOf(['0123456789'], { error: new TypeError('terminated') }).stream, { headers })
    }) as typeof fetch
    const res = await sluice('https://fn.example/upload', {
      method: 'POST',
      body: bodyOf(['payload']).stream,
      fetch: fetchOnce,
      retry: 0,
      resume: { backoff: FAST },
    })
    const error = await res.collect.text().catch((e: unknown) => e)
    // Thrown by the reconnect without a request, at once: no backoff is spent on a request that cannot be made.
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as Error).message).toContain('is a stream')
    expect(seen).toHaveLength(1)
  })
})

describe("extend() with a function, as ky's extend() takes one", () => {
  /** A client whose requests `seen` collects, answered with "ok". */
  function recording(defaults: SluiceOptions) {
    const seen: Request[] = []
    const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      seen.push(new Request(input, init))
      return new Response('ok')
    }
    return { api: createClient({ fetch, ...defaults }), seen }
  }

  it("gets the client's defaults, and what it returns is merged with them as an object would be", async () => {
    const order: string[] = []
    const { api, seen } = recording({
      ky: ky.create({ prefix: 'https://fn.example/v1' }),
      headers: { 'x-token': 't' },
      hooks: { beforeRequest: [() => void order.push('parent')] },
      idleTimeout: 5_000,
    })
    let parent: SluiceOptions = {}
    const users = api.extend((options) => {
      parent = options
      return {
        prefix: `${options.prefix}/users`,
        headers: { 'x-a': '1' },
        hooks: { beforeRequest: [() => void order.push('child')] },
      }
    })
    expect(parent.prefix).toBe('https://fn.example/v1')
    expect((parent.headers as Headers).get('x-token')).toBe('t')
    expect(parent.idleTimeout).toBe(5_000)
    await expect((await users('list')).collect.text()).resolves.toBe('ok')
    expect(seen.map((request) => request.url)).toEqual(['https://fn.example/v1/users/list'])
    expect(seen[0]!.headers.get('x-a')).toBe('1')
    expect(seen[0]!.headers.get('x-token')).toBe('t')
    expect(order).toEqual(['parent', 'child'])
  })

  it("its sluice options apply as extend()'s would, and the parent client is left as it was", async () => {
    const { api, seen } = recording({ headers: { 'x-token': 't' } })
    const strict = api.extend(() => ({ headers: { 'x-token': undefined }, maxBytes: 1 }))
    const error = await (await strict('https://fn.example/a')).collect.text().catch((e: unknown) => e)
    expect(isLimitError(error)).toBe(true)
    await expect((await api('https://fn.example/b')).collect.text()).resolves.toBe('ok')
    expect(seen.map((request) => request.headers.get('x-token'))).toEqual([null, 't'])
  })
})

describe('an option given as undefined is not set', () => {
  it('extend({ headers: undefined, timeout: undefined }) keeps the parent client’s', async () => {
    const seen: Request[] = []
    const api = createClient({
      headers: { 'x-auth': 'token' },
      timeout: 20,
      retry: 0,
      fetch: async (input, init) => {
        const request = new Request(input, init)
        seen.push(request)
        return request.url.endsWith('/silent') ? silentFetch(input, init) : new Response('ok')
      },
    }).extend({ headers: undefined, timeout: undefined })
    await (await api('https://fn.example/a')).collect.text()
    expect(seen[0]!.headers.get('x-auth')).toBe('token')
    const error = await api('https://fn.example/silent').catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.timeoutMs).toBe(20)
  })

  it("a client's call with ky's options given as undefined keeps the client's, as README says", async () => {
    const seen: Request[] = []
    const api = createClient({
      method: 'POST',
      headers: { 'x-auth': 'token' },
      searchParams: { v: '1' },
      fetch: async (input, init) => {
        seen.push(new Request(input, init))
        return new Response('ok')
      },
    })
    const maybe: { method?: string | undefined; headers?: Record<string, string> | undefined } = {}
    const res = await api('https://fn.example/a', {
      method: maybe.method,
      headers: maybe.headers,
      searchParams: undefined,
      hooks: undefined,
    })
    expect(await res.collect.text()).toBe('ok')
    expect([seen[0]!.method, seen[0]!.url, seen[0]!.headers.get('x-auth')]).toEqual([
      'POST',
      'https://fn.example/a?v=1',
      'token',
    ])
  })

  it("a call's idleTimeout: undefined keeps the client's default", async () => {
    const s = await scripted(STALLS)
    const api = createClient({ idleTimeout: 50, resume: false })
    const res = await api(s.url, { idleTimeout: undefined })
    const error = await Array.fromAsync(res.bytes()).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isTimeoutError(error) && error.phase).toBe('idle')
  })

  // sluice hands ky a Headers object for a reconnect (the resume headers added), in which an `undefined` value
  // reads "undefined": ky's header merge takes that text as a removal too. Guards a ky upgrade.
  it("a header a call removes with undefined stays removed on a Range reconnect, and the client's others stay", async () => {
    const s = await scripted(DROPS)
    const seen: string[] = []
    const api = createClient({
      headers: { 'x-remove': 'default', 'x-keep': 'kept' },
      resume: { backoff: FAST },
    })
    const res = await api(s.url, {
      headers: { 'x-remove': undefined, 'x-call': 'call' },
      fetch: async (input, init) => {
        const request = new Request(input, init)
        const h = request.headers
        seen.push([h.get('x-remove'), h.get('x-keep'), h.get('x-call'), h.get('range')].join('|'))
        return fetch(request)
      },
    })
    expect(await res.collect.text()).toBe(TEXT)
    expect(seen).toEqual(['|kept|call|', '|kept|call|bytes=100-'])
  })
})

describe('errors before the headers use the settings and the URL ky used', () => {
  it('a timeout set in the client defaults is the one a TimeoutError reports', async () => {
    const api = createClient({ timeout: 20, retry: 0, fetch: silentFetch })
    const error = await api('https://fn.example/report').catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.timeoutMs).toBe(20)
  })

  it('a timeout set on the ky instance is the one a TimeoutError reports', async () => {
    const error = await sluice('https://fn.example/report', {
      ky: ky.create({ timeout: 20, retry: 0 }),
      fetch: silentFetch,
    }).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.timeoutMs).toBe(20)
    expect((error as Error).message).toContain('within 20 ms')
  })

  it("a TimeoutError names the URL resolved against the ky instance's prefix, and carries the request", async () => {
    const api = createClient({ ky: ky.create({ prefix: 'https://fn.example/api/' }), timeout: 20, retry: 0 })
    const error = await api('report', { fetch: silentFetch }).catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    expect((error as Error).message).toContain('(https://fn.example/api/report)')
    expect((error as { request?: Request }).request?.url).toBe('https://fn.example/api/report')
  })

  it('a NetworkError names the resolved URL and carries the request', async () => {
    const api = createClient({ ky: ky.create({ prefix: 'https://fn.example/api/' }), retry: 0 })
    const error = await api('report', {
      fetch: async () => {
        throw new TypeError('fetch failed')
      },
    }).catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect((error as Error).message).toContain('Could not connect to https://fn.example/api/report')
    expect((error as { request?: Request }).request?.url).toBe('https://fn.example/api/report')
  })
})

describe('errors of the body carry the request that was sent', () => {
  it('a drop that cannot be resumed carries the request, with the headers its hooks set', async () => {
    const { url } = await scripted(DROPS)
    const api = createClient({
      ky: ky.create({
        hooks: { beforeRequest: [({ request }) => void request.headers.set('x-signed', 'sig')] },
      }),
      resume: false,
    })
    const res = await api(url)
    const error = await res.collect.text().catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    const request = (error as { request?: Request }).request
    expect(request?.url).toBe(url)
    expect(request?.headers.get('x-signed')).toBe('sig')
  })

  it('a total timeout while streaming carries the request and the response', async () => {
    const { url } = await scripted(STALLS)
    const res = await sluice(url, { totalTimeout: 300 })
    const error = await res.collect.text().catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect((error as { request?: Request }).request?.url).toBe(url)
    expect((error as { response?: Response }).response?.status).toBe(200)
  })
})

/** A fetch whose every answer drops after a partial line, and the methods it was sent. */
function dropsEarly(): { methods: string[]; fetchDrops: typeof fetch } {
  const methods: string[] = []
  const fetchDrops = (async (input: RequestInfo | URL, init?: RequestInit) => {
    methods.push(new Request(input, init).method)
    return new Response(bodyOf(['partial'], { error: new TypeError('terminated') }).stream)
  }) as typeof fetch
  return { methods, fetchDrops }
}

describe("the method a client or ky instance sets counts as the call's", () => {
  it('a POST set in createClient defaults is not sent again from the start after an early drop', async () => {
    const { methods, fetchDrops } = dropsEarly()
    const api = createClient({ method: 'POST', json: { month: '2026-10' }, fetch: fetchDrops, retry: 0 })
    const res = await api('https://fn.example/report', { resume: { backoff: FAST } })
    const error = await (async () => {
      for await (const _ of res.lines());
    })().catch((e: unknown) => e)
    // As with `sluice(url, { method: 'POST' })`: one request, and a NetworkError that says why.
    expect(methods).toEqual(['POST'])
    expect(isNetworkError(error)).toBe(true)
  })

  it('a POST set on the ky instance is not sent again from the start after an early drop', async () => {
    const { methods, fetchDrops } = dropsEarly()
    const res = await sluice('https://fn.example/report', {
      ky: ky.create({ method: 'post', json: { x: 1 }, fetch: fetchDrops, retry: 0 }),
      resume: { backoff: FAST },
    })
    await (async () => {
      for await (const _ of res.lines());
    })().catch((e: unknown) => e)
    expect(methods).toEqual(['POST'])
  })

  it("a POST set in createClient defaults counts over a Request input's own method, as ky sends it", async () => {
    const { methods, fetchDrops } = dropsEarly()
    const api = createClient({ method: 'POST', json: { month: '2026-10' }, fetch: fetchDrops, retry: 0 })
    // A Request made without a method says GET; ky sends the client's POST all the same, which a drop before the
    // first line must not send again from the start.
    const res = await api(new Request('https://fn.example/report'), { resume: { backoff: FAST } })
    const error = await (async () => {
      for await (const _ of res.lines());
    })().catch((e: unknown) => e)
    expect(methods).toEqual(['POST'])
    expect(isNetworkError(error)).toBe(true)
  })
})

describe('messages and options', () => {
  it("a headers timeout bounded by the ky instance's totalTimeout names that option too", async () => {
    const error = await sluice('https://fn.example/report', {
      ky: ky.create({ timeout: false, totalTimeout: 30, retry: 0 }),
      fetch: silentFetch,
    }).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.timeoutMs).toBe(30)
    expect((error as Error).message).toContain("a ky instance's `totalTimeout`")
  })

  it("a call's `timeout: undefined` overrides the instance's timeout, as ky takes it: the figure is ky's own", async () => {
    // ky spreads the call's options over the instance's: its 20 ms are gone, each attempt may take 10 s, and the
    // instance's totalTimeout is what ends the wait.
    const error = await sluice('https://fn.example/report', {
      ky: ky.create({ timeout: 20, totalTimeout: 60, retry: 0 }),
      fetch: silentFetch,
      timeout: undefined,
    }).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.timeoutMs).toBe(60)
  })

  it('progressInterval NaN is refused like a bad idleTimeout, not turned into a 1 ms timer', async () => {
    const error = await sluice('https://fn.example/x', {
      fetch: (async () => new Response('a\n')) as typeof fetch,
      progressInterval: Number.NaN,
      onProgress: () => {},
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RangeError)
  })
})

describe('refusals and aborts', () => {
  it('the not-resumable refusal of a stream request body keeps the drop as its cause, and counts one attempt', async () => {
    const fetchDrops = (async () =>
      new Response(bodyOf(['0123456789'], { error: new TypeError('terminated') }).stream, {
        headers: { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '20' },
      })) as typeof fetch
    const res = await sluice('https://fn.example/upload', {
      method: 'POST',
      body: bodyOf(['payload']).stream,
      fetch: fetchDrops,
      retry: 0,
      resume: { backoff: FAST },
    })
    const error = await res.collect.text().catch((e: unknown) => e)
    expect(isNetworkError((error as { cause?: unknown }).cause)).toBe(true)
    // It counts the one connection made before it.
    expect(isResumeError(error) && { reason: error.reason, attempts: error.attempts }).toEqual({
      reason: 'not-resumable',
      attempts: 1,
    })
  })

  it('`json` is what ky sends, beside a stream `body`: a reconnect sends it again', async () => {
    const bodies: string[] = []
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      bodies.push(await request.text())
      if (!request.headers.has('range'))
        return new Response(bodyOf(['01234'], { error: new TypeError('terminated') }).stream, {
          headers: { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '10' },
        })
      return new Response('56789', {
        status: 206,
        headers: { etag: '"v1"', 'content-range': 'bytes 5-9/10' },
      })
    }) as typeof globalThis.fetch
    const res = await sluice('https://fn.example/upload', {
      method: 'POST',
      json: { month: '2026-10' },
      body: bodyOf(['ignored']).stream,
      fetch,
      retry: 0,
      resume: { strategy: 'range', attempts: 2, backoff: FAST },
    })
    expect(await res.collect.text()).toBe('0123456789')
    expect(bodies).toEqual(['{"month":"2026-10"}', '{"month":"2026-10"}'])
  })

  it("a Request's body is sent again whole on every reconnect, not only the first", async () => {
    const whole = '0123456789abcdefghij'
    const bodies: string[] = []
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      bodies.push(await request.text())
      const from = Number(/bytes=(\d+)-/.exec(request.headers.get('range') ?? '')?.[1] ?? 0)
      // Each answer drops 7 bytes after where it starts, until the last one.
      const to = Math.min(from + 7, whole.length)
      const headers: Record<string, string> = { 'accept-ranges': 'bytes', etag: '"v1"' }
      if (from > 0) headers['content-range'] = `bytes ${from}-${whole.length - 1}/${whole.length}`
      else headers['content-length'] = String(whole.length)
      return new Response(
        bodyOf([whole.slice(from, to)], to < whole.length ? { error: new TypeError('terminated') } : {})
          .stream,
        { status: from > 0 ? 206 : 200, headers },
      )
    }) as typeof globalThis.fetch
    const res = await sluice(new Request('https://fn.example/upload', { method: 'PUT', body: 'payload' }), {
      fetch,
      retry: 0,
      resume: { strategy: 'range', attempts: 3, backoff: FAST },
    })
    expect(await res.collect.text()).toBe(whole)
    expect(bodies).toEqual(['payload', 'payload', 'payload'])
  })

  it('an abort before the headers ends in state cancelled, as the signal option documents', async () => {
    const controller = new AbortController()
    const states: string[] = []
    const pending = sluice('https://fn.example/x', {
      fetch: silentFetch,
      signal: controller.signal,
      onProgress: (p) => states.push(p.state),
    }).catch((e: unknown) => e)
    controller.abort(new Error('bye'))
    await pending
    expect(states.at(-1)).toBe('cancelled')
  })
})

describe("resume given to a call or to extend() merges into the client's, as ky merges nested options", () => {
  /** A body served by Range that drops after 4 bytes, and then every request fails: only attempts end it. */
  const alwaysDropping = () => {
    let calls = 0
    const fetch = fetchWith(() => {
      calls++
      if (calls === 1) return dropping({ etag: '"v1"' })
      throw new TypeError('fetch failed')
    })
    return { fetch, calls: () => calls }
  }
  const giveUp = async (res: StreamResponse): Promise<unknown> =>
    Array.fromAsync(res.bytes()).then(
      () => undefined,
      (error: unknown) => error,
    )

  it.each([
    ['a call', (client: SluiceClient, url: string) => client(url, { resume: { skipOnRestart: true } })],
    [
      'extend()',
      (client: SluiceClient, url: string) => client.extend({ resume: { skipOnRestart: true } })(url),
    ],
    [
      'extend() then a call',
      (client: SluiceClient, url: string) =>
        client.extend({ resume: { backoff: { max: 5 } } })(url, { resume: { skipOnRestart: true } }),
    ],
  ])("keeps the client's attempts and backoff when %s adds another setting", async (_, open) => {
    const server = alwaysDropping()
    const client = createClient({ fetch: server.fetch, resume: { attempts: 1, backoff: FAST } })
    const error = await giveUp(await open(client, URL_R))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(server.calls()).toBe(2)
  })

  it("replaces the client's with false, 'auto' or a setting of its own", async () => {
    const server = alwaysDropping()
    const client = createClient({ fetch: server.fetch, resume: { attempts: 1, backoff: FAST } })
    // false: no reconnect at all.
    expect(isNetworkError(await giveUp(await client(URL_R, { resume: false })))).toBe(true)
    expect(server.calls()).toBe(1)
    const again = alwaysDropping()
    const other = createClient({ fetch: again.fetch, resume: { attempts: 1, backoff: FAST } })
    await giveUp(await other(URL_R, { resume: { attempts: 2 } }))
    expect(again.calls()).toBe(3)
  })
})

describe('mergeResume', () => {
  it('merges two objects, backoff included; false, auto and undefined replace or keep', () => {
    const base = { attempts: 1, backoff: { initial: 5, max: 50 } }
    expect(mergeResume(base, { skipOnRestart: true, backoff: { max: 9 } })).toEqual({
      attempts: 1,
      skipOnRestart: true,
      backoff: { initial: 5, max: 9 },
    })
    expect(mergeResume(base, { attempts: undefined })).toEqual(base)
    expect(mergeResume(base, undefined)).toBe(base)
    expect(mergeResume(base, false)).toBe(false)
    expect(mergeResume(base, 'auto')).toBe('auto')
    expect(mergeResume(false, { attempts: 3 })).toEqual({ attempts: 3 })
  })
})
