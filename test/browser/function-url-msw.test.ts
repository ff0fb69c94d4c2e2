import { setupWorker } from 'msw/browser'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { awslambda, functionUrl } from '../../src/mock/function-url.ts'

// Same origin as the test page: the worker intercepts it without any CORS question.
const base = new URL('/function-url-msw/', location.href).href
const worker = setupWorker()
let started = false

beforeAll(async () => {
  await worker.start({ onUnhandledFrame: 'bypass', quiet: true })
  started = true
})
afterEach(() => worker.resetHandlers())
afterAll(() => {
  // Stopping a worker that never started hangs the hook (TOOLCHAIN.md).
  if (started) worker.stop()
})

describe('functionUrl runs a Lambda handler in the page under the msw worker', () => {
  it('turns the prelude into status and headers and streams the body', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 201,
        headers: { 'content-type': 'application/x-ndjson', 'content-length': '16' },
      })
      responseStream.write('{"n":1}\n')
      responseStream.end('{"n":2}\n')
    })
    worker.use(functionUrl(base, handler))
    const response = await fetch(base)
    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('16')
    expect(await response.text()).toBe('{"n":1}\n{"n":2}\n')
  })

  it('builds the event from a POST with a JSON body', async () => {
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      responseStream.end(JSON.stringify(event))
    })
    worker.use(functionUrl(base, handler))
    const response = await fetch(`${base}report?month=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows: 3 }),
    })
    expect(response.headers.get('content-type')).toBe('application/octet-stream')
    const event = (await response.json()) as Record<string, unknown>
    expect(event).toMatchObject({
      rawPath: '/function-url-msw/report',
      queryStringParameters: { month: '10' },
      body: '{"rows":3}',
      isBase64Encoded: false,
      requestContext: expect.objectContaining({ http: expect.objectContaining({ method: 'POST' }) }),
    })
  })

  it('gives the handler a writable with backpressure signals and drain events', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const ok = responseStream.write(new Uint8Array(64 * 1024))
      if (!ok) await new Promise((resolve) => responseStream.once('drain', resolve))
      responseStream.end(ok ? 'no backpressure' : 'drained')
    })
    worker.use(functionUrl(base, handler))
    const body = new Uint8Array(await (await fetch(base)).arrayBuffer())
    expect(new TextDecoder().decode(body.subarray(64 * 1024))).toBe('drained')
  })

  it('surfaces a failure after the first byte as an error of the body read', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('partial')
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('lost the database midway')
    })
    worker.use(functionUrl(base, handler))
    const response = await fetch(base)
    expect(response.status).toBe(200)
    await expect(response.text()).rejects.toThrow(TypeError)
  })

  it('answers 502 with a JSON message for a failure before the first byte', async () => {
    const handler = awslambda.streamifyResponse(async () => {
      throw new Error('no credentials')
    })
    worker.use(functionUrl(base, handler))
    const response = await fetch(base)
    expect(response.status).toBe(502)
    expect(((await response.json()) as { Message: string }).Message).toMatch(/no credentials/)
  })
})
