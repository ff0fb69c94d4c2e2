import { describe, expect, it } from 'vitest'
import {
  buildEvent,
  createPreludeDecoder,
  createShaper,
  encodePrelude,
  HttpResponseStream,
  invoke,
  type Limits,
  MAX_PRELUDE_BYTES,
  type ResponseStream,
  resolveLimits,
  streamifyResponse,
} from '../src/runtime/index.ts'

function decodeInPieces(bytes: Uint8Array, at: number[]) {
  const decoder = createPreludeDecoder()
  let start = 0
  for (const end of [...at, bytes.length]) {
    const step = decoder.push(bytes.subarray(start, end))
    start = end
    if (step.state !== 'pending') return step
  }
  return decoder.end()
}

describe('the function-URL prelude', () => {
  const body = new TextEncoder().encode('body bytes')
  const encoded = encodePrelude({ statusCode: 201, headers: { 'X-A': 'b' }, cookies: ['c=d'] })
  const whole = new Uint8Array([...encoded, ...body])

  it('decodes to the same prelude and body bytes wherever the stream is split', () => {
    for (let split = 0; split <= whole.length; split++) {
      const step = decodeInPieces(whole, [split])
      expect(step.state).toBe('done')
      if (step.state !== 'done') return
      expect(step.prelude).toEqual({ statusCode: 201, headers: [['x-a', 'b']], cookies: ['c=d'] })
      // The body bytes that came with the delimiter's chunk; the rest follows in later chunks.
      expect(new TextDecoder().decode(body).startsWith(new TextDecoder().decode(step.rest))).toBe(true)
    }
  })

  it('calls a body that ends before the delimiter invalid', () => {
    expect(decodeInPieces(new TextEncoder().encode('{"statusCode":200}'), [])).toMatchObject({
      state: 'invalid',
    })
  })

  it('looks for the delimiter in the first MAX_PRELUDE_BYTES bytes, then calls the prelude invalid', () => {
    const json = encodePrelude({ statusCode: 201, headers: { 'x-pad': 'p'.repeat(MAX_PRELUDE_BYTES) } })
    const decoder = createPreludeDecoder()
    expect(decoder.push(json.subarray(0, MAX_PRELUDE_BYTES))).toEqual({ state: 'pending' })
    expect(decoder.push(json.subarray(MAX_PRELUDE_BYTES, MAX_PRELUDE_BYTES + 1))).toEqual({
      state: 'invalid',
      reason: `no 8-NUL-byte delimiter in the first ${MAX_PRELUDE_BYTES} bytes`,
    })
  })

  it.each([99, 101, 103, 600, 200.5])(
    'rejects statusCode %s: only a final status, 200–599, can be sent',
    (statusCode) => {
      expect(decodeInPieces(encodePrelude({ statusCode }), [])).toMatchObject({
        state: 'invalid',
        reason: expect.stringMatching(/not a final HTTP status: it must be a whole number from 200 to 599/),
      })
    },
  )

  it.each([
    ['a header name with a space', { headers: { 'bad name': 'v' } }, /header name "bad name" is not a valid/],
    ['an empty header name', { headers: { '': 'v' } }, /header name "" is not a valid/],
    ['a header value with LF', { headers: { 'x-a': 'a\nb' } }, /header "x-a" has a value with CR, LF/],
    [
      'a header value with CR LF',
      { headers: { 'x-a': 'a\r\nx-b: c' } },
      /header "x-a" has a value with CR, LF/,
    ],
    ['a cookie with CR LF', { cookies: ['a=1\r\nx-b: c'] }, /cookie "a=1\\r\\nx-b: c" has CR, LF/],
  ])('rejects %s, which HTTP headers cannot carry', (_, metadata, reason) => {
    expect(decodeInPieces(encodePrelude(metadata), [])).toMatchObject({
      state: 'invalid',
      reason: expect.stringMatching(reason),
    })
  })
})

// In Node the response stream is a stream.Writable; in browsers and edge runtimes it is the minimal writable of
// response-stream-web.ts: both send the prelude as the Lambda runtime does, from the first write() only.
describe('the prelude of HttpResponseStream.from, sent from the first write() only', () => {
  const input = () => buildEvent({ method: 'GET', url: 'https://fn.test/', headers: [] })
  const metadata = { statusCode: 201, headers: { 'x-custom': 'sluice' } }

  async function run(act: (stream: ResponseStream) => void) {
    const log: string[] = []
    const handler = streamifyResponse(async (_event, responseStream) => {
      act(HttpResponseStream.from(responseStream, metadata))
    })
    const invocation = invoke(handler, input(), { log: (line) => log.push(line) })
    const { status, headers, body } = await invocation.response
    const text = await new Response(body).text()
    return { status, headers: new Map(headers), text, log, outcome: await invocation.finished }
  }

  it('answers from() then end() with a 200 and default headers, as the runtime sends no prelude', async () => {
    const answer = await run((stream) => stream.end())
    expect(answer).toMatchObject({ status: 200, text: '', outcome: { state: 'succeeded' } })
    expect(answer.headers.get('content-type')).toBe('application/octet-stream')
    expect(answer.headers.has('x-custom')).toBe(false)
    expect(answer.log).toEqual([
      expect.stringMatching(/ without a write, so its status, headers and cookies were not sent/),
    ])
  })

  it("answers from() then end('Not Found') with a 502 that says the prelude comes from write()", async () => {
    const answer = await run((stream) => stream.end('Not Found'))
    expect(answer.status).toBe(502)
    expect(answer.headers.get('x-amzn-errortype')).toBe('InvalidPrelude')
    expect(JSON.parse(answer.text).Message).toMatch(
      /end\(chunk\) after HttpResponseStream\.from\(\) without a write sends no prelude — call write\(chunk\) then end\(\)\.$/,
    )
    expect(answer.outcome.state).toBe('failed')
  })

  it("sends the metadata for from(), write(''), end()", async () => {
    const answer = await run((stream) => {
      stream.write('')
      stream.end()
    })
    expect(answer).toMatchObject({ status: 201, text: '', log: [], outcome: { state: 'succeeded' } })
    expect(answer.headers.get('x-custom')).toBe('sluice')
  })

  it("sends 'ab' under the metadata for from(), write('a'), end('b')", async () => {
    const answer = await run((stream) => {
      stream.write('a')
      stream.end('b')
    })
    expect(answer).toMatchObject({ status: 201, text: 'ab', log: [], outcome: { state: 'succeeded' } })
    expect(answer.headers.get('x-custom')).toBe('sluice')
  })
})

describe('the service limits', () => {
  const input = () => buildEvent({ method: 'GET', url: 'https://fn.test/', headers: [] })

  it('takes timeoutMs: Infinity as no timeout', async () => {
    const handler = streamifyResponse(async (_event, responseStream) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      responseStream.end('ok')
    })
    const invocation = invoke(handler, input(), { limits: { timeoutMs: Number.POSITIVE_INFINITY } })
    expect(await invocation.finished).toEqual({ state: 'succeeded' })
    expect(await new Response((await invocation.response).body).text()).toBe('ok')
  })

  it('rejects a finite timeoutMs longer than a timer can wait, pointing to Infinity', () => {
    expect(() => resolveLimits({ timeoutMs: 2 ** 31 })).toThrow(RangeError)
    expect(() => resolveLimits({ timeoutMs: 2 ** 31 })).toThrow(
      /at most 2147483647 ms.*Pass Infinity for no timeout/,
    )
  })

  it('rejects an unknown limit name instead of ignoring it', () => {
    expect(() => resolveLimits({ timeout: 500 } as Limits)).toThrow(
      "limits: unknown limit 'timeout'. Known limits: maxResponseBytes, timeoutMs, maxRequestBytes, maxBufferedResponseBytes.",
    )
  })

  it('answers 502 when a buffered handler returns a 1xx status', async () => {
    const { status, headers, body } = await invoke(async () => ({ statusCode: 103, body: 'x' }), input())
      .response
    expect(status).toBe(502)
    expect(headers).toContainEqual(['x-amzn-errortype', 'InvalidResponse'])
    expect(await new Response(body).text()).toMatch(/statusCode 103 is not a final HTTP status/)
  })
})

describe('the shaping planner', () => {
  it('sends the burst at once, then paces pieces at the configured rate', () => {
    const shaper = createShaper({ burstBytes: 100, bytesPerSecond: 1000 })
    expect(shaper.plan(200, 0)).toEqual([
      { length: 100, atMs: 0 },
      { length: 50, atMs: 0 },
      { length: 50, atMs: 50 },
    ])
    expect(shaper.plan(50, 60)).toEqual([{ length: 50, atMs: 100 }])
  })
})
