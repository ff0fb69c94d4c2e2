/**
 * Header names are case-insensitive: a header set at one level (a ky instance, `createClient()`, `extend()`, the
 * call) replaces, or with `undefined` removes, the same header set at another whatever the case each is written
 * in — on the first request and on a reconnect alike — rather than both values being sent, joined by a comma.
 */
import ky, { replaceOption } from 'ky'
import { describe, expect, it } from 'vitest'
import { createClient, type SluiceOptions, type StreamResponse, sluice } from '../src/index.ts'
import { collect, fetchWith, responseOf } from './support/streams.ts'

const url = 'https://fn.example/stream'

/** A fetch that answers `ok` and records the `x-key` header of each request (null when absent). */
function recording() {
  const seen: Array<string | null> = []
  const fetch = fetchWith((request) => {
    seen.push(request.headers.get('x-key'))
    return responseOf(['ok'])
  })
  return { seen, fetch }
}

/** A fetch whose first answer drops after `hel` of `hello` and whose Range answer sends the rest. */
function droppingOnce(see: (request: Request) => void): typeof globalThis.fetch {
  return fetchWith((request) => {
    see(request)
    return request.headers.has('range')
      ? responseOf(['lo'], { status: 206, headers: { etag: '"v1"', 'content-range': 'bytes 3-4/5' } })
      : responseOf(['hel'], {
          headers: { 'accept-ranges': 'bytes', etag: '"v1"', 'content-length': '5' },
          error: new TypeError('terminated'),
        })
  })
}

describe('a header set again in another case', () => {
  const ways: Array<
    [
      string,
      (
        fetch: typeof globalThis.fetch,
        headers: Record<string, string | undefined>,
      ) => Promise<StreamResponse>,
    ]
  > = [
    [
      "by a call, over the client's",
      (fetch, headers) => createClient({ headers: { 'X-Key': 'a' }, fetch })(url, { headers }),
    ],
    [
      "by extend(), over the client's",
      (fetch, headers) => createClient({ headers: { 'X-Key': 'a' }, fetch }).extend({ headers })(url),
    ],
    [
      "by the client's defaults, over its ky instance's",
      (fetch, headers) => createClient({ ky: ky.create({ headers: { 'X-Key': 'a' }, fetch }), headers })(url),
    ],
    [
      "by a ky instance given to a call, over the client's",
      (fetch, headers) =>
        createClient({ headers: { 'X-Key': 'a' }, fetch })(url, { ky: ky.create({ headers }) }),
    ],
    [
      "by a ky instance given to extend(), over the client's ky instance's",
      (fetch, headers) =>
        createClient({ ky: ky.create({ headers: { 'X-Key': 'a' }, fetch }) }).extend({
          ky: ky.create({ headers }),
        })(url),
    ],
    [
      "by a call to sluice(), over its ky instance's",
      (fetch, headers) => sluice(url, { ky: ky.create({ headers: { 'X-Key': 'a' }, fetch }), headers }),
    ],
  ]

  it.each(ways)('%s replaces it', async (_, call) => {
    const { seen, fetch } = recording()
    await (await call(fetch, { 'x-key': 'b' })).cancel()
    expect(seen).toEqual(['b'])
  })

  // (ky.create() drops a header given as undefined: an instance cannot carry a removal.)
  it.each(ways.filter(([name]) => !name.includes('ky instance given')))(
    '%s as undefined removes it',
    async (_, call) => {
      const { seen, fetch } = recording()
      await (await call(fetch, { 'x-KEY': undefined })).cancel()
      expect(seen).toEqual([null])
    },
  )

  it('is replaced on a reconnect as on the first request', async () => {
    const seen: Array<string | null> = []
    const api = createClient({ headers: { 'X-Key': 'a' }, resume: { backoff: { initial: 1, max: 1 } } })
    const res = await api(url, {
      headers: { 'x-key': 'b' },
      fetch: droppingOnce((request) => seen.push(request.headers.get('x-key'))),
    })
    expect(await res.collect.text()).toBe('hello')
    expect(seen).toEqual(['b', 'b'])
  })
})

describe("headers given with ky's replaceOption()", () => {
  it("replace the client's, given to a call or to extend()", async () => {
    const seen: Array<[string | null, string | null]> = []
    const api = createClient({
      headers: { 'x-key': 'a' },
      fetch: fetchWith((request) => {
        seen.push([request.headers.get('x-key'), request.headers.get('x-other')])
        return responseOf(['ok'])
      }),
    })
    const headers = replaceOption({ 'x-other': '1' })
    await (await api(url, { headers })).cancel()
    await (await api.extend({ headers })(url)).cancel()
    expect(seen).toEqual([
      [null, '1'],
      [null, '1'],
    ])
  })

  it('replace them on a reconnect as on the first request, with no header made of the marker', async () => {
    const seen: Array<[string | null, string | null, string | null]> = []
    const api = createClient({ headers: { 'x-key': 'a' }, resume: { backoff: { initial: 1, max: 1 } } })
    const res = await api(url, {
      headers: replaceOption({ 'x-other': '1' }),
      fetch: droppingOnce((request) =>
        seen.push([
          request.headers.get('x-key'),
          request.headers.get('x-other'),
          request.headers.get('value'),
        ]),
      ),
    })
    expect(await res.collect.text()).toBe('hello')
    expect(seen).toEqual([
      [null, '1', null],
      [null, '1', null],
    ])
  })
})

describe('a header that fetch cannot send', () => {
  const bad: Array<[unknown, string]> = [
    [{ 'x-k': 'a\nb' }, '`headers` must be valid header names and values, got "x-k": "a\\nb".'],
    [
      [
        ['x-k', 'ok'],
        ['x-j', '€'],
      ],
      '`headers` must be valid header names and values, got "x-j": "€".',
    ],
    [{ 'x k': 'v' }, '`headers` must be valid header names and values, got "x k": "v".'],
    [[['x-k']], '`headers` must be valid header names and values, got "x-k": undefined.'],
    [5, '`headers` must be a Headers object, a record or name/value pairs, got 5.'],
  ]

  it('is refused by createClient() and extend() with a TypeError that names the option and the header', () => {
    for (const [headers, message] of bad) {
      for (const make of [
        () => createClient({ headers: headers as never }),
        () => createClient({}).extend({ headers: headers as never }),
      ]) {
        let error: unknown
        try {
          make()
        } catch (thrown) {
          error = thrown
        }
        expect(error, message).toBeInstanceOf(TypeError)
        expect((error as Error).message).toBe(message)
        // The runtime's own words, kept.
        expect((error as Error).cause).toBeInstanceOf(TypeError)
      }
    }
  })

  it("is refused by sluice() and a client's call, before anything is sent, in the same words", async () => {
    let sent = 0
    const fetch = fetchWith(() => {
      sent++
      return responseOf(['ok'])
    })
    for (const [headers, message] of bad) {
      for (const call of [sluice, createClient({ fetch })]) {
        const error = await call(url, { fetch, headers: headers as never }).then(
          () => undefined,
          (error: unknown) => error,
        )
        expect(error, message).toBeInstanceOf(TypeError)
        expect((error as Error).message).toBe(message)
        expect((error as Error).cause).toBeInstanceOf(TypeError)
      }
    }
    expect(sent).toBe(0)
  })
})

/**
 * Every way a request gets a header — the call's `headers` (a record, in any case, a Headers object, pairs, ky's
 * replaceOption()), a client's defaults, `extend()`, a ky instance, a `Request`, a `beforeRequest` hook — is
 * judged the same way for the headers sluice manages when it resumes: the caller's own value goes on the first
 * request and says where the stream starts, and a reconnect sends sluice's in its place, so that the server is
 * never asked again for what was delivered.
 */
describe('a header sluice manages, given through each route', () => {
  type Given = Record<string, string>
  const routes: Array<[string, (headers: Given, options: SluiceOptions) => Promise<StreamResponse>]> = [
    ["the call's record", (headers, options) => sluice(url, { ...options, headers })],
    [
      "the call's record, upper case",
      (headers, options) =>
        sluice(url, {
          ...options,
          headers: Object.fromEntries(Object.entries(headers).map(([n, v]) => [n.toUpperCase(), v])),
        }),
    ],
    ["the call's Headers", (headers, options) => sluice(url, { ...options, headers: new Headers(headers) })],
    ["the call's pairs", (headers, options) => sluice(url, { ...options, headers: Object.entries(headers) })],
    [
      "the call's replaceOption()",
      (headers, options) => sluice(url, { ...options, headers: replaceOption(headers) }),
    ],
    ["a client's defaults", (headers, options) => createClient({ headers })(url, options)],
    [
      "a client's replaceOption()",
      (headers, options) => createClient({ headers: replaceOption(headers) })(url, options),
    ],
    ['extend()', (headers, options) => createClient({}).extend({ headers })(url, options)],
    ['a ky instance', (headers, options) => sluice(url, { ...options, ky: ky.create({ headers }) })],
    [
      "a client's ky instance",
      (headers, options) => createClient({ ky: ky.create({ headers }) })(url, options),
    ],
    ['a Request', (headers, options) => sluice(new Request(url, { headers }), options)],
    [
      'a beforeRequest hook',
      (headers, options) =>
        sluice(url, {
          ...options,
          hooks: {
            beforeRequest: [
              ({ request }) => {
                for (const [name, value] of Object.entries(headers)) request.headers.set(name, value)
              },
            ],
          },
        }),
    ],
  ]
  const again = { retry: 0, resume: { backoff: { initial: 1, max: 1 } } } as const

  it.each(routes)(
    "%s: the caller's Range, then Range and If-Range from where it dropped",
    async (_, call) => {
      const seen: Array<[string | null, string | null]> = []
      const BODY = '0123456789'
      // Answers the Range it is asked for; the first answer drops after three bytes.
      const fetch = fetchWith((request) => {
        seen.push([request.headers.get('range'), request.headers.get('if-range')])
        const start = Number(/^bytes=(\d+)-$/.exec(request.headers.get('range') ?? '')?.[1] ?? 0)
        const first = seen.length === 1
        return responseOf([BODY.slice(start, first ? start + 3 : undefined)], {
          status: 206,
          headers: { etag: '"v1"', 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-9/10` },
          ...(first && { error: new TypeError('terminated') }),
        })
      })
      const res = await call({ range: 'bytes=2-', 'if-range': '"v0"' }, { ...again, fetch })
      expect(await res.collect.text()).toBe('23456789')
      expect(seen).toEqual([
        ['bytes=2-', '"v0"'],
        ['bytes=5-', '"v1"'],
      ])
    },
  )

  it.each(routes)("%s: the caller's Last-Event-ID, then the last event's", async (_, call) => {
    const seen: Array<string | null> = []
    // Sends the events after the id it is asked with; the first answer drops inside the third.
    const fetch = fetchWith((request) => {
      const id = request.headers.get('last-event-id')
      seen.push(id)
      const events = [1, 2, 3, 4].filter((n) => n > Number(id)).map((n) => `id: ${n}\ndata: ${n}\n\n`)
      return responseOf(seen.length === 1 ? [events.slice(0, 2).join(''), 'id: 3\nda'] : events, {
        headers: { 'content-type': 'text/event-stream' },
        ...(seen.length === 1 && { error: new TypeError('terminated') }),
      })
    })
    const res = await call({ 'last-event-id': '1' }, { ...again, fetch })
    expect((await collect(res.events())).map((event) => event.data)).toEqual(['2', '3', '4'])
    expect(seen).toEqual(['1', '3'])
  })

  it.each(routes)("%s: the caller's cursor header, then the cursor's", async (_, call) => {
    const seen: Array<string | null> = []
    // Sends the records after the cursor it is asked with; the first answer drops inside the third.
    const fetch = fetchWith((request) => {
      const after = request.headers.get('x-cursor')
      seen.push(after)
      const records = [1, 2, 3, 4].filter((n) => n > Number(after)).map((n) => `{"n":${n}}\n`)
      return responseOf(seen.length === 1 ? [records.slice(0, 2).join(''), '{"n'] : records, {
        headers: { 'content-type': 'application/x-ndjson' },
        ...(seen.length === 1 && { error: new TypeError('terminated') }),
      })
    })
    const cursor = (item: unknown) => ({ headers: { 'X-Cursor': String((item as { n: number }).n) } })
    const res = await call({ 'x-cursor': '0' }, { ...again, resume: { ...again.resume, cursor }, fetch })
    expect((await collect(res.ndjson())).map((item) => (item as { n: number }).n)).toEqual([1, 2, 3, 4])
    expect(seen).toEqual(['0', '2'])
  })
})

describe('a header that fetch cannot send, given through each route sluice is handed', () => {
  const bad = { 'x-k': 'a\nb' }
  const ours = '`headers` must be valid header names and values, got "x-k": "a\\nb".'
  const instance = 'The `ky` instance\'s `headers` must be valid header names and values, got "x-k": "a\\nb".'
  // (A Request or a hook that holds one fails in the caller's own code, as `new Headers()` does.)
  const routes: Array<[string, string, (fetch: typeof globalThis.fetch) => Promise<unknown>]> = [
    [
      "the call's replaceOption()",
      ours,
      async (fetch) => sluice(url, { fetch, headers: replaceOption(bad) }),
    ],
    [
      "a client's call's replaceOption()",
      ours,
      async (fetch) => createClient({ fetch })(url, { headers: replaceOption(bad) }),
    ],
    [
      "a client's replaceOption()",
      ours,
      async (fetch) => createClient({ fetch, headers: replaceOption(bad) }),
    ],
    [
      "extend()'s replaceOption()",
      ours,
      async (fetch) => createClient({ fetch }).extend({ headers: replaceOption(bad) }),
    ],
    ['a ky instance', instance, async (fetch) => sluice(url, { fetch, ky: ky.create({ headers: bad }) })],
    [
      "a client's ky instance",
      instance,
      async (fetch) => createClient({ fetch, ky: ky.create({ headers: bad }) }),
    ],
    [
      "a call's ky instance, extended with replaceOption()",
      instance,
      async (fetch) =>
        createClient({ fetch })(url, { ky: ky.create({}).extend({ headers: replaceOption(bad) as never }) }),
    ],
  ]

  it.each(routes)('%s is refused before anything is sent, naming where', async (_, message, call) => {
    let sent = 0
    const fetch = fetchWith(() => {
      sent++
      return responseOf(['ok'])
    })
    const error = await call(fetch).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe(message)
    expect((error as Error).cause).toBeInstanceOf(TypeError)
    expect(sent).toBe(0)
  })
})
