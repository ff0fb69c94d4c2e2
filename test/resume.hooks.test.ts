/**
 * A reconnect goes through the same ky instance as the first request: its hooks (auth refresh, signing) run
 * for every reconnect too.
 */
import ky from 'ky'
import { expect, it } from 'vitest'
import { createClient, isResumeError, sluice } from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { bodyOf, collect } from './support/streams.ts'

const BODY = 'one\ntwo\nthree\nfour\n'

/** A server that drops the first answer after 8 bytes and honours Range after that; it records each request. */
function server(seen: Request[]): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    seen.push(request)
    const range = /^bytes=(\d+)-$/.exec(request.headers.get('range') ?? '')
    const headers = { 'accept-ranges': 'bytes', etag: '"v1"' }
    if (seen.length === 1) {
      return new Response(bodyOf([BODY.slice(0, 8)], { error: new TypeError('terminated') }).stream, {
        headers,
      })
    }
    const start = range ? Number(range[1]) : 0
    return new Response(BODY.slice(start), {
      status: range ? 206 : 200,
      headers: { ...headers, 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` },
    })
  }) as typeof fetch
}

it("runs the ky instance's hooks again for a reconnect, so a refreshed token signs it", async () => {
  const seen: Request[] = []
  let token = 0
  const api = createClient({
    ky: ky.create({
      hooks: {
        beforeRequest: [({ request }) => void request.headers.set('authorization', `Bearer ${++token}`)],
      },
    }),
    fetch: server(seen),
    retry: 0,
    resume: { backoff: { initial: 1, jitter: 0 } },
  })
  const res = await api('https://fn.test/lines')
  expect(await collect(res.lines())).toEqual(['one', 'two', 'three', 'four'])
  expect(seen.map((request) => request.headers.get('authorization'))).toEqual(['Bearer 1', 'Bearer 2'])
  expect(seen[1]?.headers.get('range')).toBe('bytes=8-')
})

it('keeps the request options (method, headers, search params) on a reconnect', async () => {
  const seen: Request[] = []
  const res = await sluice('https://fn.test/lines', {
    method: 'POST',
    json: { month: '2026-10' },
    headers: { 'x-app': 'demo' },
    searchParams: { region: 'eu' },
    fetch: server(seen),
    retry: 0,
    resume: { backoff: { initial: 1, jitter: 0 } },
  })
  expect(await collect(res.lines())).toEqual(['one', 'two', 'three', 'four'])
  expect(seen).toHaveLength(2)
  const again = seen[1]!
  expect(again.method).toBe('POST')
  expect(again.headers.get('x-app')).toBe('demo')
  expect(new URL(again.url).searchParams.get('region')).toBe('eu')
  expect(await again.json()).toEqual({ month: '2026-10' })
})

it('says where a refresh belongs when a reconnect is refused for its credentials (401)', async () => {
  let calls = 0
  const refusing = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (++calls === 1) return server([])(input, init)
    return new Response('expired', { status: 401 })
  }) as typeof fetch
  const res = await sluice('https://fn.example/report', {
    fetch: refusing,
    retry: 0,
    resume: { backoff: FAST },
  })
  const error = await collect(res.lines()).catch((e: unknown) => e)
  expect(isResumeError(error) && error.reason).toBe('not-resumable')
  expect((error as Error).message).toContain('status 401, refusing its credentials')
  expect((error as Error).message).toContain('`beforeRequest` hook')
})

it.each([
  ['in the options, throwing', 'options', false],
  ['in the options, rejecting', 'options', true],
  ["on the client's ky instance, throwing", 'instance', false],
  ["on the client's ky instance, rejecting", 'instance', true],
] as const)(
  'an afterResponse hook that fails on a reconnect (%s): one attempt, a ResumeError that keeps it as the cause',
  async (_, where, async) => {
    const seen: Request[] = []
    const failure = new Error('the signature does not verify')
    const hook = ({ request }: { request: Request }) => {
      if (!request.headers.has('range')) return
      if (async) return Promise.reject(failure)
      throw failure
    }
    const hooks = { afterResponse: [hook] }
    const api = createClient({
      ...(where === 'instance' ? { ky: ky.create({ hooks }) } : { hooks }),
      fetch: server(seen),
      retry: 0,
      resume: { backoff: { initial: 1, jitter: 0 } },
    })
    const res = await api('https://fn.test/lines')
    const lines: string[] = []
    const error = await (async () => {
      for await (const line of res.lines()) lines.push(line)
    })().catch((e: unknown) => e)
    expect(lines).toEqual(['one', 'two'])
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    expect((error as Error).cause).toBe(failure)
    expect((error as Error).message).toContain(
      '(Error: the signature does not verify), so it was not tried again',
    )
    expect(seen).toHaveLength(2)
    expect(res.progress.state).toBe('error')
  },
)
