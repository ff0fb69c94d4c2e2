import { describe, expect, it } from 'vitest'
import { createClient, isTimeoutError, sluice } from '../src/index.ts'
import { fetchWith, responseOf } from './support/streams.ts'

/** What `promise` rejected with. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.fail('resolved'),
    (error: unknown) => error,
  )

const fetch = fetchWith(() => responseOf(['{"n":1}\n']))
const throwing = {
  beforeRequest: [
    () => {
      throw new TypeError('bad hook')
    },
  ],
}

describe('errors raised before anything is sent name the URL the request would have gone to', () => {
  it('a beforeRequest hook that throws, under a `prefix` or a `baseUrl`', async () => {
    for (const [defaults, input, url] of [
      [{ prefix: 'http://127.0.0.1:1/api/' }, 'report', 'http://127.0.0.1:1/api/report'],
      [{ prefix: 'http://127.0.0.1:1/api' }, '/report', 'http://127.0.0.1:1/api/report'],
      [{ baseUrl: 'http://127.0.0.1:1/api/' }, 'report?a=1', 'http://127.0.0.1:1/api/report?a=1'],
      [{ baseUrl: 'http://127.0.0.1:1/api/' }, '/report', 'http://127.0.0.1:1/report'],
      [{ baseUrl: 'http://127.0.0.1:1/api/' }, 'https://other.test/x', 'https://other.test/x'],
    ] as const) {
      const api = createClient({ ...defaults, fetch })
      const error = await rejection(api(input, { hooks: throwing }))
      expect((error as Error).message, input).toBe(
        `Requesting ${url} failed, not for a network error: bad hook.`,
      )
    }
  })

  it('the total timeout during a beforeRequest hook that never settles', async () => {
    const api = createClient({ prefix: 'http://127.0.0.1:1/api/', fetch })
    const error = await rejection(
      api('report', { totalTimeout: 1, hooks: { beforeRequest: [() => new Promise<never>(() => {})] } }),
    )
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect((error as Error).message).toContain('http://127.0.0.1:1/api/report')
  })

  it('a URL or a Request given as the input is named as it is: ky resolves only a string', async () => {
    for (const input of [new URL('https://fn.test/a'), new Request('https://fn.test/a')]) {
      const error = await rejection(
        sluice(input, { prefix: 'http://127.0.0.1:1/api/', fetch, hooks: throwing }),
      )
      expect((error as Error).message).toBe(
        'Requesting https://fn.test/a failed, not for a network error: bad hook.',
      )
    }
  })
})

describe('a relative URL', () => {
  const sent: string[] = []
  const answering = fetchWith((request) => {
    sent.push(request.url)
    return responseOf(['x'])
  })

  it('is refused before anything is sent where no page resolves it, naming the options that do; a page resolves it', async () => {
    sent.length = 0
    const made = sluice('/report', { fetch: answering, retry: 0 })
    if (globalThis.location === undefined) {
      // Node and the edge runtime: not fetch's bare "Failed to parse URL from /report".
      expect(await rejection(made)).toEqual(
        new TypeError(
          `The URL "/report" is relative: outside a browser page nothing resolves it. Pass an absolute URL (https://…), or set ky's \`prefix\` or \`baseUrl\` to one: createClient({ prefix: 'https://…' }).`,
        ),
      )
      expect(sent).toEqual([])
    } else {
      await expect((await made).collect.text()).resolves.toBe('x')
      expect(sent).toEqual([new URL('/report', globalThis.location.href).href])
    }
  })

  it("is sent resolved against ky's `prefix` or `baseUrl`, everywhere", async () => {
    sent.length = 0
    await (await createClient({ prefix: 'https://fn.example', fetch: answering })('/report')).collect.text()
    await (await sluice('report', { baseUrl: 'https://fn.example/api/', fetch: answering })).collect.text()
    expect(sent).toEqual(['https://fn.example/report', 'https://fn.example/api/report'])
  })

  it('under a `prefix` that is relative too, names the URL it makes', async () => {
    const made = sluice('report', { prefix: '/api', fetch: answering })
    if (globalThis.location === undefined)
      expect(((await rejection(made)) as Error).message).toMatch(/^The URL "\/api\/report" is relative: /)
    else await expect((await made).collect.text()).resolves.toBe('x')
  })
})
