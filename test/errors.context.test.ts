/**
 * Errors name the request and response they are about (DESIGN, "Errors"): an error a consumer finds in the body
 * (ParseError, ValidationError, LimitError) carries the response it was read from, and after a reconnect every
 * error carries the reconnect's Request and Response, not the first ones.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  fromResponse,
  isNetworkError,
  isResumeError,
  isSluiceError,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'
import { bodyOf, collect } from './support/streams.ts'

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof Error)) throw new Error(`expected an error, got ${String(error)}`)
  return error
}

const URL_NAMED = 'https://fn.example/report'

describe('an error found in the body carries the request and response it was read from', () => {
  const cases: Record<
    string,
    [Array<string | Uint8Array>, (res: StreamResponse) => Promise<unknown>, string]
  > = {
    'ndjson(): a line that is not JSON': [
      ['{"n":1}\n', '{oops\n'],
      (res) => collect(res.ndjson()),
      'ParseError',
    ],
    'ndjson(schema): a record that fails it': [
      ['{"n":1}\n', '{"n":"two"}\n'],
      (res) => collect(res.ndjson(z.object({ n: z.number() }))),
      'ValidationError',
    ],
    'lines(): a line over maxLineBytes': [
      ['short\n', `${'x'.repeat(64)}\n`],
      (res) => collect(res.lines()),
      'LimitError',
    ],
    'events({ json }): data that is not JSON': [
      ['data: {"n":1}\n\n', 'data: {oops\n\n'],
      (res) => collect(res.events({ json: true })),
      'ParseError',
    ],
    'text({ fatal }): invalid UTF-8': [
      ['ok ', new Uint8Array([0xff, 0x41])],
      (res) => collect(res.text({ fatal: true })),
      'ParseError',
    ],
    'json(): a document that is not JSON': [['{"a": [1, 2', '}'], (res) => res.json().final, 'ParseError'],
    'collect.json(): a body that is not JSON': [['{"a": nope}'], (res) => res.collect.json(), 'ParseError'],
    'tee(): a branch that finds a bad line': [
      ['{"n":1}\n', '{oops\n'],
      async (res) => {
        const [a, b] = res.tee()
        const [first] = await Promise.allSettled([collect(a.ndjson()), collect(b.bytes())])
        if (first.status === 'rejected') throw first.reason
      },
      'ParseError',
    ],
  }
  for (const [name, [chunks, consume, kind]] of Object.entries(cases)) {
    it(name, async () => {
      const response = new Response(bodyOf(chunks).stream)
      const res = await fromResponse(response, { url: URL_NAMED, maxLineBytes: 32 })
      const error = await failure(consume(res))
      expect(isSluiceError(error) && error.name).toBe(kind)
      if (!isSluiceError(error)) return
      expect(error.response).toBe(response)
      expect(error.request?.url).toBe(URL_NAMED)
    })
  }

  it('over a real connection, the request sluice sent', async () => {
    const s = await scripted({ kind: 'range', body: base64(encode('{"n":1}\n{oops\n')) })
    const res = await sluice(s.url, { headers: { 'x-trace': 'abc' } })
    const error = await failure(collect(res.ndjson()))
    expect(isSluiceError(error) && error.name).toBe('ParseError')
    if (!isSluiceError(error)) return
    expect(error.request?.url).toBe(s.url)
    expect(error.request?.headers.get('x-trace')).toBe('abc')
    expect(error.response?.status).toBe(200)
  })
})

describe('after a reconnect, errors carry the reconnect’s request and response', () => {
  const lines = Array.from({ length: 8 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(20) }))
  const good = encode(lines.map((l) => `${l}\n`).join(''))
  const DROP = 70

  it('a ParseError in the resumed part', async () => {
    const body = encode(`${lines.slice(0, 6).join('\n')}\n{oops\n`)
    const s = await scripted({ kind: 'range', body: base64(body), attempts: [{ drop: DROP }] })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await failure(collect(res.ndjson()))
    expect(isSluiceError(error) && error.name).toBe('ParseError')
    if (!isSluiceError(error)) return
    expect(error.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(error.response?.status).toBe(206)
  })

  it('attempts exhausted after a second drop: the connection that dropped last', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(good),
      attempts: [{ drop: DROP }, { drop: DROP * 2 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST, attempts: 1 } })
    const error = await failure(collect(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    if (!isResumeError(error)) return
    expect(error.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(error.response?.status).toBe(206)
  })

  it('a refused reconnect: the request that was refused, and its answer', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(good),
      attempts: [{ drop: DROP }, { status: 404 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    const error = await failure(collect(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    if (!isResumeError(error)) return
    expect(error.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(error.response?.status).toBe(404)
  })

  it('a busy answer to a reconnect: the NetworkError kept as cause names its request and response', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(good),
      attempts: [{ drop: DROP }, { status: 503 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST, attempts: 1 } })
    const error = await failure(collect(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    const cause = error.cause
    expect(isNetworkError(cause)).toBe(true)
    if (!isNetworkError(cause)) return
    expect(cause.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(cause.response?.status).toBe(503)
  })
})
