import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
// The same object, typed with Node's streams, for handlers that pipe into their responseStream.
import { awslambda as nodeAwslambda } from '../../src/dev/index.ts'
import {
  awslambda,
  type FunctionUrlEvent,
  functionUrl,
  type Invocation,
  installAwslambdaGlobal,
} from '../../src/mock/function-url.ts'
import { createResponseSink } from '../../src/runtime/response-sink.ts'
import { createWebResponseStream } from '../../src/runtime/response-stream-web.ts'
import { flood } from '../support/flood.ts'
import { functionUrlCases } from '../support/function-url-cases.ts'

const base = 'https://abc123.lambda-url.eu-west-1.on.aws/'
const server = setupServer()

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

functionUrlCases({ where: 'in-process under msw/node', use: (...handlers) => server.use(...handlers), base })

describe('functionUrl under msw/node, in Node only', () => {
  it('runs the documented handler module unchanged once the awslambda global is installed', async () => {
    const uninstall = installAwslambdaGlobal()
    try {
      const { handler } = await import('../fixtures/documented-handler.mjs')
      server.use(functionUrl(base, handler))
      const response = await fetch(base)
      expect(response.status).toBe(201)
      expect(response.headers.get('x-custom-header')).toBe('sluice')
      expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark'])
      expect(await response.text()).toBe('Hello from a streamed function URL.')
    } finally {
      uninstall()
    }
  })

  it("takes sluice/dev's Node-typed awslambda, which is the same object as sluice/mock's", () => {
    expect(nodeAwslambda).toBe(awslambda)
  })

  // Written with sluice/dev's awslambda: `pipeline(…, responseStream)` type-checks without a cast.
  it('builds the event from a POST with a JSON body, on any path under the URL', async () => {
    const handler = nodeAwslambda.streamifyResponse(async (event, responseStream) => {
      responseStream = nodeAwslambda.HttpResponseStream.from(responseStream, {
        headers: { 'content-type': 'application/json' },
      })
      await pipeline(Readable.from([JSON.stringify(event)]), responseStream)
    })
    server.use(functionUrl(base, handler))
    const response = await fetch(`${base}reports/10?format=ndjson`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ month: '2026-10' }),
    })
    const event = (await response.json()) as Record<string, unknown> & {
      requestContext: Record<string, unknown>
    }
    expect(event).toMatchObject({
      version: '2.0',
      rawPath: '/reports/10',
      rawQueryString: 'format=ndjson',
      queryStringParameters: { format: 'ndjson' },
      isBase64Encoded: false,
      body: '{"month":"2026-10"}',
    })
    expect(event.requestContext).toMatchObject({
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.eu-west-1.on.aws',
      http: expect.objectContaining({ method: 'POST', path: '/reports/10' }),
    })
  })

  it.each([204, 304])(
    'sends a %i without transfer-encoding, which has no body to frame',
    async (statusCode) => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        // An empty write sends the prelude: end() alone would not, as on AWS (emulator-parity.prelude.test.ts).
        const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode })
        stream.write('')
        stream.end()
      })
      server.use(functionUrl(base, handler))
      const response = await fetch(base)
      expect(response.status).toBe(statusCode)
      expect(response.headers.get('transfer-encoding')).toBeNull()
    },
  )

  describe('a buffered result is sent with a Content-Length, not chunked, as sluice/dev sends it (dev-buffered-length.test.ts)', () => {
    const buffered = (result: unknown) => async () => result

    it('gives the exact length of the body and no transfer-encoding', async () => {
      server.use(functionUrl(base, buffered({ statusCode: 200, body: 'hello' })))
      const response = await fetch(base)
      expect(response.headers.get('content-length')).toBe('5')
      expect(response.headers.get('transfer-encoding')).toBeNull()
      expect(await response.text()).toBe('hello')
    })

    it('counts the decoded bytes of a base64 body, and the UTF-8 bytes of a text one', async () => {
      const bytes = Uint8Array.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f])
      server.use(
        functionUrl(
          base,
          buffered({ statusCode: 200, body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true }),
        ),
      )
      const response = await fetch(base)
      expect(response.headers.get('content-length')).toBe('7')
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes)

      server.use(functionUrl(base, buffered({ statusCode: 200, body: 'olé ✓' })))
      const text = await fetch(base)
      expect(text.headers.get('content-length')).toBe(String(Buffer.byteLength('olé ✓')))
      expect(await text.text()).toBe('olé ✓')
    })

    it('answers HEAD with the Content-Length GET would have, and no body', async () => {
      server.use(functionUrl(base, buffered({ statusCode: 200, body: 'hello' })))
      const response = await fetch(base, { method: 'HEAD' })
      expect(response.headers.get('content-length')).toBe('5')
      expect(response.headers.get('transfer-encoding')).toBeNull()
      expect(await response.text()).toBe('')
    })

    it.each([204, 304])(
      'sends a %i result with neither a length nor a body, even when the result has one',
      async (statusCode) => {
        server.use(functionUrl(base, buffered({ statusCode, headers: { etag: '"v1"' }, body: 'ignored' })))
        const response = await fetch(base)
        expect(response.status).toBe(statusCode)
        expect(response.headers.get('content-length')).toBeNull()
        expect(response.headers.get('transfer-encoding')).toBeNull()
        expect(response.headers.get('etag')).toBe('"v1"')
        expect(await response.text()).toBe('')
      },
    )
  })

  it('answers only its own origin, and paths under its path, not paths that merely start with it', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => responseStream.end('fn'))
    server.use(
      functionUrl('https://fn.test/api', handler),
      http.all('*', () => HttpResponse.text('elsewhere')),
    )
    const answers = async (url: string) => (await fetch(url)).text()
    expect(await answers('https://fn.test/api')).toBe('fn')
    expect(await answers('https://fn.test/api/reports')).toBe('fn')
    expect(await answers('https://fn.test/apiary')).toBe('elsewhere')
    expect(await answers('https://other.test/api')).toBe('elsewhere')
  })

  it.each([/fn\.test\/api/g, /https:\/\/fn\.test\/api/y])(
    'matches every request with a RegExp whose test() is stateful (%s), as msw matches its own',
    async (pattern) => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => responseStream.end('fn'))
      server.use(
        functionUrl(pattern, handler),
        http.all('*', () => HttpResponse.text('elsewhere')),
      )
      const answers: string[] = []
      for (let n = 0; n < 3; n++) answers.push(await (await fetch('https://fn.test/api/reports')).text())
      expect(answers).toEqual(['fn', 'fn', 'fn'])
      expect(await (await fetch('https://other.test/api')).text()).toBe('elsewhere')
      // The caller's RegExp is left as it was.
      expect(pattern.lastIndex).toBe(0)
    },
  )

  it('keeps query parameters named after Object.prototype members as their own values', async () => {
    const seen = Promise.withResolvers<FunctionUrlEvent>()
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      seen.resolve(event)
      responseStream.end()
    })
    server.use(functionUrl(base, handler))
    await (await fetch(`${base}?constructor=z&toString=q&x=1&x=2`)).arrayBuffer()
    const event = await seen.promise
    expect(event.queryStringParameters).toEqual({ constructor: 'z', toString: 'q', x: '1,2' })
    expect(Object.getPrototypeOf(event.queryStringParameters)).toBe(Object.prototype)
  })

  it.each([
    [base, 'https', '443'],
    ['http://fn.test:8080/', 'http', '8080'],
  ])('adds the x-forwarded-* headers the service adds, for %s', async (url, proto, port) => {
    const seen = Promise.withResolvers<FunctionUrlEvent>()
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      seen.resolve(event)
      responseStream.end()
    })
    server.use(functionUrl(url, handler))
    await (await fetch(url)).arrayBuffer()
    const event = await seen.promise
    expect(event.headers).toMatchObject({
      'x-forwarded-for': event.requestContext.http.sourceIp,
      'x-forwarded-proto': proto,
      'x-forwarded-port': port,
    })
  })

  it('keeps the handler running after the client cancels the body', async () => {
    const gate = Promise.withResolvers<void>()
    const started = Promise.withResolvers<Invocation>()
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('first')
      await gate.promise
      for (let i = 0; i < 64; i++) responseStream.write(new Uint8Array(64 * 1024))
      responseStream.end()
    })
    server.use(functionUrl(base, handler, { onInvocation: (invocation) => started.resolve(invocation) }))
    const response = await fetch(base)
    const reader = response.body!.getReader()
    await reader.read()
    await reader.cancel()
    gate.resolve()
    expect(await (await started.promise).finished).toEqual({ state: 'succeeded' })
  })

  it('keeps the handler running after the client aborts before its first byte', async () => {
    const gate = Promise.withResolvers<void>()
    const started = Promise.withResolvers<Invocation>()
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      await gate.promise
      await flood(responseStream)
    })
    server.use(
      functionUrl(base, handler, {
        limits: { timeoutMs: 2_000 },
        onInvocation: (invocation) => started.resolve(invocation),
      }),
    )
    const abort = new AbortController()
    const request = fetch(base, { signal: abort.signal })
    const invocation = await started.promise
    abort.abort()
    await expect(request).rejects.toThrow()
    gate.resolve()
    expect(await invocation.finished).toEqual({ state: 'succeeded' })
  })

  it.each([
    ['a header name with a space', { headers: { 'bad name': 'v' } }, /header name "bad name" is not a valid/],
    ['a header value with LF', { headers: { 'x-a': 'a\nb' } }, /header "x-a" has a value with CR, LF/],
    ['a 1xx status', { statusCode: 103 }, /statusCode 103 is not a final HTTP status/],
  ])(
    'answers 502 InvalidPrelude to a prelude with %s, and ends the invocation without waiting for its timeout',
    async (_, metadata, reason) => {
      const started = Promise.withResolvers<Invocation>()
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream = awslambda.HttpResponseStream.from(responseStream, metadata)
        await flood(responseStream)
      })
      server.use(
        functionUrl(base, handler, {
          limits: { timeoutMs: 2_000 },
          onInvocation: (invocation) => started.resolve(invocation),
        }),
      )
      const response = await fetch(base)
      expect(response.status).toBe(502)
      expect(response.headers.get('x-amzn-errortype')).toBe('InvalidPrelude')
      expect(((await response.json()) as { Message: string }).Message).toMatch(reason)
      expect((await (await started.promise).finished).state).toBe('failed')
    },
  )

  it('sends the head from the prelude before a failure that comes ahead of the first body byte, then cuts the body', async () => {
    // msw/node sends a mocked head with the first chunk written: without one, fetch() itself rejected here.
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201 })
      responseStream.write('')
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('failed after the head')
    })
    server.use(functionUrl(base, handler))
    const response = await fetch(base)
    expect(response.status).toBe(201)
    await expect(response.arrayBuffer()).rejects.toThrow(TypeError)
  })

  it.each([
    ['a HEAD request', 'HEAD', 200],
    ['a 204', 'GET', 204],
  ])('answers %s with its head, complete, when the handler fails after it', async (_, method, statusCode) => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode })
      responseStream.write('body nobody gets')
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('failed after the head')
    })
    server.use(functionUrl(base, handler))
    const response = await fetch(base, { method })
    expect(response.status).toBe(statusCode)
    expect(await response.text()).toBe('')
  })

  it('fails a handler at setContentType with a value HTTP headers cannot carry: a 502, not msw’s 500', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.setContentType('text/plain\nx-injected: yes')
      responseStream.end('hello')
    })
    server.use(functionUrl(base, handler))
    const response = await fetch(base)
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('Unhandled')
    expect(((await response.json()) as { Message: string }).Message).toMatch(
      /setContentType: the content type/,
    )
  })

  it('gives the browser’s minimal writable the same check of setContentType as the Node one', () => {
    const stream = createWebResponseStream(createResponseSink(1024), 1024)
    expect(() => stream.setContentType('text/plain\r\nx-injected: yes')).toThrow(
      /setContentType: the content type .* has CR, LF or another character/,
    )
    stream.setContentType('text/plain; charset=utf-8')
  })

  it('answers 413 to a streamed request body over limits.maxRequestBytes', async () => {
    server.use(functionUrl(base, async () => 'not invoked', { limits: { maxRequestBytes: 4 } }))
    // Still sending when the limit is crossed: the 413 must not wait for the rest.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(6))
      },
    })
    // The guard turns the hang this was into a failure of the test rather than of its timeout.
    const response = await fetch(base, {
      method: 'POST',
      body,
      duplex: 'half',
      signal: AbortSignal.timeout(5_000),
    } as RequestInit)
    expect(response.status).toBe(413)
    expect(response.headers.get('x-amzn-errortype')).toBe('RequestEntityTooLargeException')
  })

  it('answers 502 InvalidResponse to a buffered handler that returns a 1xx status', async () => {
    server.use(functionUrl(base, async () => ({ statusCode: 101, body: 'x' })))
    const response = await fetch(base, { signal: AbortSignal.timeout(2_000) })
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidResponse')
  })

  it('keeps the handler running when onInvocation throws', async () => {
    const started = Promise.withResolvers<Invocation>()
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      await flood(responseStream)
    })
    server.use(
      functionUrl(base, handler, {
        limits: { timeoutMs: 2_000 },
        onInvocation: (invocation) => {
          started.resolve(invocation)
          throw new Error('a bug in the hook')
        },
      }),
    )
    // msw answers the hook's error with a 500 of its own.
    expect((await fetch(base)).status).toBe(500)
    expect(await (await started.promise).finished).toEqual({ state: 'succeeded' })
  })

  it('takes limits.timeoutMs: Infinity as no timeout', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      responseStream.end('ok')
    })
    server.use(functionUrl(base, handler, { limits: { timeoutMs: Number.POSITIVE_INFINITY } }))
    const response = await fetch(base)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('ok')
  })
})

describe('functionUrl checks its arguments when it is called', () => {
  const handler = awslambda.streamifyResponse(async (_event, responseStream) => responseStream.end())

  it.each([
    [
      'an unknown limit',
      { limits: { timeout: 500 } },
      "functionUrl: unknown limit 'timeout'. Known limits: maxResponseBytes, timeoutMs, maxRequestBytes, maxBufferedResponseBytes.",
    ],
    [
      'a limit given as an option',
      { timeoutMs: 500 },
      "functionUrl: unknown option 'timeoutMs'. timeoutMs is a limit: pass limits: { timeoutMs }.",
    ],
    [
      'shaping: null',
      { shaping: null },
      "functionUrl: shaping must be 'lambda', false or { burstBytes, bytesPerSecond }, got null.",
    ],
    [
      'a shaping with a misspelt key',
      { shaping: { burst: 1, bytesPerSecond: 1 } },
      'got an object with burst, bytesPerSecond',
    ],
    [
      'a timeoutMs longer than a timer can wait',
      { limits: { timeoutMs: 2 ** 31 } },
      'Pass Infinity for no timeout',
    ],
    [
      'an onInvocation that is not a function',
      { onInvocation: true },
      'functionUrl: onInvocation must be a function, got true.',
    ],
    ['options that are not an object', null, 'functionUrl: options must be an object, got null.'],
    // Names that every object inherits are no options either: not a crash ("rule[1] is not a function").
    ['an option named as an inherited property', { toString: 1 }, "functionUrl: unknown option 'toString'."],
    [
      'a limit named as an inherited property',
      { limits: { constructor: 1 } },
      "functionUrl: unknown limit 'constructor'.",
    ],
  ])('rejects %s', (_, options, message) => {
    expect(() => functionUrl(base, handler, options as never)).toThrow(message)
  })

  it.each([
    ['a path', '/api', '"/api"'],
    ['a URL without its scheme', 'abc.lambda-url.eu-west-1.on.aws', '"abc.lambda-url.eu-west-1.on.aws"'],
    ['nothing', undefined, 'undefined'],
  ])('rejects %s for url, naming what it got', (_, url, got) => {
    expect(() => functionUrl(url as never, handler)).toThrow(
      `functionUrl: url must be the function URL, absolute (https://…), as a string or URL, or a RegExp; got ${got}.`,
    )
  })

  it('rejects a handler that is not a function, naming the fix for a module', () => {
    expect(() => functionUrl(base, { handler } as never)).toThrow(
      /functionUrl: handler must be a function .* got an object \(Object\)\. For a module, pass its export/,
    )
  })
})
