import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
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
        awslambda.HttpResponseStream.from(responseStream, { statusCode }).end()
      })
      server.use(functionUrl(base, handler))
      const response = await fetch(base)
      expect(response.status).toBe(statusCode)
      expect(response.headers.get('transfer-encoding')).toBeNull()
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
      for (let i = 0; i < 64; i++) {
        if (!responseStream.write(new Uint8Array(64 * 1024)))
          await new Promise((resolve) => responseStream.once('drain', resolve))
      }
      responseStream.end()
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
})
