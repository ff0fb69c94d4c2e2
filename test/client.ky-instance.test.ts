/**
 * A ky instance given to a client's `extend()` or to one call adds to the client's ky options instead of
 * replacing them, as if its own options were given there: the client's prefix, headers, search params and hooks
 * stay; where both set an option, the instance's wins; headers merge; search params accumulate; hooks run the
 * client's first. The same rule holds for both ways of giving it.
 */
import ky, { type KyInstance } from 'ky'
import { describe, expect, inject, it } from 'vitest'
import { createClient, type SluiceClient, type SluiceOptions } from '../src/index.ts'

/** What the last hook saw of each request: the one that is sent. */
interface Seen {
  url: URL
  token: string | null
  trace: string | null
}

/** A client with ky-level defaults of every kind, and what its hook and a tracing instance's hook saw. */
function setup(defaults: SluiceOptions = {}) {
  const order: string[] = []
  const seen: Seen[] = []
  const api = createClient({
    prefix: inject('serverUrl'),
    headers: { 'x-token': 'secret' },
    searchParams: { body: 'ok' },
    hooks: { beforeRequest: [() => void order.push('client')] },
    idleTimeout: 30_000,
    ...defaults,
  })
  const tracing = (options: Parameters<typeof ky.create>[0] = {}): KyInstance =>
    ky.create({
      headers: { 'x-trace': '1' },
      ...options,
      hooks: {
        beforeRequest: [
          ({ request }) => {
            order.push('tracing')
            seen.push({
              url: new URL(request.url),
              token: request.headers.get('x-token'),
              trace: request.headers.get('x-trace'),
            })
          },
        ],
      },
    })
  return { api, tracing, order, seen }
}

const ways: Array<
  [string, (api: SluiceClient, instance: KyInstance, input: string) => ReturnType<SluiceClient>]
> = [
  ['to extend()', (api, instance, input) => api.extend({ ky: instance })(input)],
  ['to one call', (api, instance, input) => api(input, { ky: instance })],
]

describe.each(ways)('a ky instance given %s', (_, call) => {
  it("keeps the client's prefix, headers, search params and hooks, and adds its own", async () => {
    const { api, tracing, order, seen } = setup()
    const res = await call(api, tracing(), 'text')
    expect(await res.collect.text()).toBe('ok')
    expect(seen).toHaveLength(1)
    expect(seen[0]?.url.pathname).toBe('/text')
    expect(seen[0]?.token).toBe('secret')
    expect(seen[0]?.trace).toBe('1')
    // The client's hooks run first, as those of an option given to extend() run after the client's.
    expect(order).toEqual(['client', 'tracing'])
  })

  it('wins where it sets the same option as the client: its prefix, and its value of a header', async () => {
    const server = inject('serverUrl')
    const { api, tracing, seen } = setup({ prefix: `${server}/nowhere` })
    const res = await call(api, tracing({ prefix: server, headers: { 'x-token': 'its own' } }), 'text')
    expect(await res.collect.text()).toBe('ok')
    expect(seen[0]?.url.pathname).toBe('/text')
    expect(seen[0]?.token).toBe('its own')
  })

  it("adds its search params to the client's, as ky's extend() accumulates them", async () => {
    const { api, tracing, seen } = setup()
    const res = await call(api, tracing({ searchParams: { type: 'text/plain' } }), 'text')
    expect(await res.collect.text()).toBe('ok')
    expect(res.headers.get('content-type')).toBe('text/plain')
    expect(seen[0]?.url.searchParams.get('body')).toBe('ok')
  })
})

describe('a ky instance given to extend()', () => {
  it('applies to every call of the derived client, under the options given with it', async () => {
    const { api, tracing, order, seen } = setup()
    const derived = api.extend({ ky: tracing(), headers: { 'x-trace': 'given with it' } })
    expect(await (await derived('text')).collect.text()).toBe('ok')
    expect(await (await derived('text', { headers: { 'x-trace': 'the call' } })).collect.text()).toBe('ok')
    expect(seen.map((s) => [s.token, s.trace])).toEqual([
      ['secret', 'given with it'],
      ['secret', 'the call'],
    ])
    expect(order).toEqual(['client', 'tracing', 'client', 'tracing'])
  })

  it('leaves the client it derives from as it was', async () => {
    const { api, tracing, order } = setup()
    api.extend({ ky: tracing() })
    expect(await (await api('text')).collect.text()).toBe('ok')
    expect(order).toEqual(['client'])
  })
})

describe('an instance key held as undefined was never set', () => {
  it("leaves the client's prefix alone: ky.create({ prefix: undefined }) given to a call or to extend()", async () => {
    const urls: string[] = []
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      urls.push(new Request(input, init).url)
      return new Response('ok')
    }) as typeof globalThis.fetch
    const api = createClient({ prefix: 'https://fn.example/api/', retry: 0, fetch })
    const unset = ky.create({ prefix: undefined, headers: { 'x-trace': '1' } } as unknown as Parameters<
      typeof ky.create
    >[0])
    expect(await (await api('report', { ky: unset })).collect.text()).toBe('ok')
    expect(await (await api.extend({ ky: unset })('report')).collect.text()).toBe('ok')
    expect(urls).toEqual(['https://fn.example/api/report', 'https://fn.example/api/report'])
  })
})
