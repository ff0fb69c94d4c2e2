// The functionUrl behaviours both msw transports must show: msw/node (test/node) and the browser worker in
// Chromium (test/browser) register these with their own server and function URL.
import type { RequestHandler } from 'msw'
import { describe, expect, test } from 'vitest'
import { awslambda, functionUrl } from '../../src/mock/function-url.ts'

export interface FunctionUrlTransport {
  /** Where the tests run, for their names: "under msw/node", "in the page under the msw worker". */
  where: string
  use(...handlers: RequestHandler[]): void
  /** The function URL, ending with `/`; the transport intercepts it and every path below it. */
  base: string
}

export function functionUrlCases({ where, use, base }: FunctionUrlTransport): void {
  describe(`functionUrl runs a Lambda handler ${where}`, () => {
    test('turns the prelude into status and headers and streams the body', async () => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream = awslambda.HttpResponseStream.from(responseStream, {
          statusCode: 201,
          headers: { 'content-type': 'application/x-ndjson', 'content-length': '16' },
        })
        responseStream.write('{"n":1}\n')
        responseStream.end('{"n":2}\n')
      })
      use(functionUrl(base, handler))
      const response = await fetch(base)
      expect(response.status).toBe(201)
      expect(response.headers.get('content-type')).toBe('application/x-ndjson')
      expect(response.headers.get('x-amzn-remapped-content-length')).toBe('16')
      expect(await response.text()).toBe('{"n":1}\n{"n":2}\n')
    })

    test('builds the event from a POST with a JSON body, on a path under the URL', async () => {
      const handler = awslambda.streamifyResponse(async (event, responseStream) => {
        responseStream.end(JSON.stringify(event))
      })
      use(functionUrl(base, handler))
      const response = await fetch(`${base}report?month=10`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows: 3 }),
      })
      expect(response.headers.get('content-type')).toBe('application/octet-stream')
      const event = (await response.json()) as Record<string, unknown>
      expect(event).toMatchObject({
        version: '2.0',
        rawPath: `${new URL(base).pathname}report`,
        rawQueryString: 'month=10',
        queryStringParameters: { month: '10' },
        body: '{"rows":3}',
        isBase64Encoded: false,
        requestContext: expect.objectContaining({
          domainName: new URL(base).host,
          http: expect.objectContaining({ method: 'POST', path: `${new URL(base).pathname}report` }),
        }),
      })
    })

    test('holds the event, as JSON, to limits.maxRequestBytes: a binary body counts as its base64', async () => {
      const invoked: string[] = []
      const handler = awslambda.streamifyResponse(async (event, responseStream) => {
        responseStream.end(String(event.body?.length))
      })
      use(
        functionUrl(base, handler, {
          limits: { maxRequestBytes: 8192 },
          onInvocation: (i) => invoked.push(i.requestId),
        }),
      )
      // 7000 bytes are within the limit, their 9336 of base64 are not: a function URL refuses the invoke payload.
      const binary = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(7000),
      })
      expect(binary.status).toBe(413)
      expect(binary.headers.get('x-amzn-errortype')).toBe('RequestEntityTooLargeException')
      expect(((await binary.json()) as { Message: string }).Message).toMatch(
        /its binary body as base64, 4\/3 its size, .* is larger than limits\.maxRequestBytes \(8192 bytes\), so the function was not invoked/,
      )
      expect(invoked).toEqual([])
      const text = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'a'.repeat(6000),
      })
      expect(text.status).toBe(200)
      expect(await text.text()).toBe('6000')
    })

    test('gives the handler a writable with backpressure signals and drain events', async () => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        const ok = responseStream.write(new Uint8Array(64 * 1024))
        if (!ok) await new Promise((resolve) => responseStream.once('drain', resolve))
        responseStream.end(ok ? 'no backpressure' : 'drained')
      })
      use(functionUrl(base, handler))
      const body = new Uint8Array(await (await fetch(base)).arrayBuffer())
      expect(new TextDecoder().decode(body.subarray(64 * 1024))).toBe('drained')
    })

    test('surfaces a failure after the first byte as an error of the body read', async () => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.write('partial')
        await new Promise((resolve) => setTimeout(resolve, 10))
        throw new Error('lost the database midway')
      })
      use(functionUrl(base, handler))
      const response = await fetch(base)
      expect(response.status).toBe(200)
      await expect(response.text()).rejects.toThrow(TypeError)
    })

    test('answers 502 with a JSON message for a failure before the first byte', async () => {
      const handler = awslambda.streamifyResponse(async () => {
        throw new Error('no credentials')
      })
      use(functionUrl(base, handler))
      const response = await fetch(base)
      expect(response.status).toBe(502)
      expect(((await response.json()) as { Message: string }).Message).toMatch(/no credentials/)
    })

    test('cuts the body past the size cap', async () => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.write(new Uint8Array(800))
        responseStream.end(new Uint8Array(800))
      })
      use(functionUrl(base, handler, { limits: { maxResponseBytes: 1000 } }))
      const response = await fetch(base)
      await expect(response.arrayBuffer()).rejects.toThrow(TypeError)
    })

    test('stops a handler that awaits its writes once its signal is aborted, and refuses later requests', async () => {
      let stopped!: (error: unknown) => void
      const loopEnded = new Promise<unknown>((resolve) => {
        stopped = resolve
      })
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        try {
          for (;;) {
            await new Promise((resolve) => setTimeout(resolve, 1))
            await new Promise<void>((resolve, reject) =>
              responseStream.write('tick\n', (error) => (error ? reject(error) : resolve())),
            )
          }
        } catch (error) {
          stopped(error)
        }
      })
      const stop = new AbortController()
      use(functionUrl(base, handler, { signal: stop.signal }))
      const reader = (await fetch(base)).body!.getReader()
      await reader.read()
      await reader.cancel()
      stop.abort()
      expect(await loopEnded).toMatchObject({
        message: expect.stringMatching(/^functionUrl's signal was aborted while the function was running/),
      })
      // As from a server that was shut down: a network error, and the function is not invoked.
      await expect(fetch(base)).rejects.toThrow(TypeError)
    })
  })
}
