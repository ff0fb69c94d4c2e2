/**
 * Header names are case-insensitive: a header set at one level (a ky instance, `createClient()`, `extend()`, the
 * call) replaces, or with `undefined` removes, the same header set at another whatever the case each is written
 * in — on the first request and on a reconnect alike — rather than both values being sent, joined by a comma.
 */
import ky, { replaceOption } from 'ky'
import { describe, expect, it } from 'vitest'
import { createClient, type StreamResponse, sluice } from '../src/index.ts'
import { fetchWith, responseOf } from './support/streams.ts'

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
