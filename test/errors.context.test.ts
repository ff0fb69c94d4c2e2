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
import { type AttemptScript, base64, FAST, scripted } from './support/scripted.ts'
import { bodyOf, collect, failure } from './support/streams.ts'

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
  /**
   * A Range stream of `body` whose first answer drops after DROP bytes once the client has read them, then answers
   * as `later` says, and the options that let the drop happen then. (A loaded Chromium loses the bytes it has not
   * read when a connection fails: the reconnect would then ask from before DROP.)
   */
  async function dropping(body: Uint8Array, ...later: AttemptScript[]) {
    const s = await scripted({
      kind: 'range',
      body: base64(body),
      attempts: [{ drop: DROP, release: true }, ...later],
    })
    const onProgress = (p: { loaded: number; attempt: number }) => {
      if (p.loaded >= DROP && p.attempt === 1) void s.release()
    }
    return { s, options: { progressInterval: 0, onProgress } }
  }

  it('a ParseError in the resumed part', async () => {
    const { s, options } = await dropping(encode(`${lines.slice(0, 6).join('\n')}\n{oops\n`))
    const res = await sluice(s.url, { ...options, resume: { backoff: FAST } })
    const error = await failure(collect(res.ndjson()))
    expect(isSluiceError(error) && error.name).toBe('ParseError')
    if (!isSluiceError(error)) return
    expect(error.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(error.response?.status).toBe(206)
  })

  it('attempts exhausted after a second drop: the connection that dropped last', async () => {
    const { s, options } = await dropping(good, { drop: DROP * 2 })
    const res = await sluice(s.url, { ...options, resume: { backoff: FAST, attempts: 1 } })
    const error = await failure(collect(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    if (!isResumeError(error)) return
    expect(error.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(error.response?.status).toBe(206)
  })

  it('a refused reconnect: the request that was refused, and its answer', async () => {
    const { s, options } = await dropping(good, { status: 404 })
    const res = await sluice(s.url, { ...options, resume: { backoff: FAST } })
    const error = await failure(collect(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('not-resumable')
    if (!isResumeError(error)) return
    expect(error.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(error.response?.status).toBe(404)
  })

  it('a busy answer to a reconnect: the NetworkError kept as cause names its request and response', async () => {
    const { s, options } = await dropping(good, { status: 503 })
    const res = await sluice(s.url, { ...options, resume: { backoff: FAST, attempts: 1 } })
    const error = await failure(collect(res.ndjson()))
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    const cause = error.cause
    expect(isNetworkError(cause)).toBe(true)
    if (!isNetworkError(cause)) return
    expect(cause.request?.headers.get('range')).toBe(`bytes=${DROP}-`)
    expect(cause.response?.status).toBe(503)
  })
})

describe('what a connection carried is named by that connection', () => {
  // A bad record in the first 100 bytes, then good ones; the first connection drops after 100 bytes.
  const body = encode(
    `{"n":0}\n{oops\n${Array.from({ length: 20 }, (_, i) => `${JSON.stringify({ n: i + 1, pad: 'x'.repeat(10) })}\n`).join('')}`,
  )
  const headers = { 'content-type': 'application/x-ndjson', 'accept-ranges': 'bytes', etag: '"v1"' }
  /** `cut`: where the first answer's first 100 bytes are split in two chunks, if they are. */
  const answer = (range: string | null, cut?: number): Response => {
    const start = range === null ? 0 : Number(/bytes=(\d+)-/.exec(range)?.[1])
    const head = body.slice(start, Math.max(start, 100))
    const firsts = cut === undefined || range !== null ? [head] : [head.slice(0, cut), head.slice(cut)]
    const stream = bodyOf([...firsts, body.slice(Math.max(start, 100))]).stream
    if (range === null) {
      const reader = stream.getReader()
      let sent = 0
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent >= 100) return controller.error(new TypeError('network error (scripted drop)'))
            const { value } = await reader.read()
            sent += value?.length ?? 0
            if (value) controller.enqueue(value)
          },
        }),
        { headers: { ...headers, 'content-length': String(body.length) } },
      )
    }
    return new Response(stream, {
      status: 206,
      headers: { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` },
    })
  }

  it('fromResponse: a reconnect’s error names the URL with the Range sluice asked for', async () => {
    const again = await fromResponse(answer(null), {
      url: URL_NAMED,
      resume: { strategy: 'range', backoff: FAST },
      request: () => Promise.resolve(new Response('nope', { status: 404 })),
    })
    const error = await failure(collect(again.bytes()))
    expect(isResumeError(error) && error.request?.headers.get('range')).toBe('bytes=100-')
    expect(isResumeError(error) && error.request?.url).toBe(URL_NAMED)
  })

  // The bad record in the first connection's first chunk, or in a later one (8: after the first record).
  it.each([undefined, 8])(
    'tee(): a branch behind names the connection its bad record came from, not the reconnect (first chunk cut at %s)',
    async (cut) => {
      const seen: Request[] = []
      const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init)
        seen.push(request)
        return answer(request.headers.get('range'), cut)
      }) as typeof globalThis.fetch
      const res = await sluice('https://fn.example/tee', {
        fetch,
        resume: { strategy: 'range', backoff: FAST },
      })
      const [ahead, behind] = res.tee({ maxBuffer: 1 << 20 })
      expect(await ahead.collect.bytes()).toHaveLength(body.length)
      expect(seen).toHaveLength(2)
      const error = await failure(collect(behind.ndjson()))
      expect(isSluiceError(error) && error.name).toBe('ParseError')
      // The first request asked for no Range; the reconnect asked for bytes=100-.
      expect(isSluiceError(error) && error.request?.url).toBe('https://fn.example/tee')
      expect(isSluiceError(error) && error.request?.headers.get('range')).toBeNull()
      expect(isSluiceError(error) && error.response?.status).toBe(200)
    },
  )

  it('onInvalid: the callback’s error names the request and response, as a thrown one does', async () => {
    const response = new Response(bodyOf(['{"n":1}\n', '{oops\n', '{"n":2}\n']).stream)
    const res = await fromResponse(response, { url: URL_NAMED })
    const told: unknown[] = []
    expect(await collect(res.ndjson(undefined, { onInvalid: (e) => told.push(e) }))).toHaveLength(2)
    expect(told).toHaveLength(1)
    expect(isSluiceError(told[0]) && told[0].response).toBe(response)
    expect(isSluiceError(told[0]) && told[0].request?.url).toBe(URL_NAMED)
  })
})
