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
