import { type IncomingMessage, request } from 'node:http'
import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { awslambda, type FunctionUrlEvent } from '../../src/dev/index.ts'
import { fixture, startEmulator } from '../support/emulator.ts'

interface Echo {
  event: Record<string, unknown> & {
    headers: Record<string, string>
    requestContext: Record<string, unknown> & { http: Record<string, string> }
  }
  context: Record<string, unknown>
}

async function echo(path: string, init?: RequestInit): Promise<Echo> {
  const server = await startEmulator(fixture('echo-event-handler.mjs'), { functionName: 'report' })
  const response = await fetch(new URL(path, server.url), init)
  expect(response.status).toBe(200)
  return (await response.json()) as Echo
}

/**
 * Sends `target` as the request line's target, byte for byte, with header lines exactly as given, through
 * node:http: fetch and `new URL` would normalise the target, merge repeated names and drop some. Raw header lines
 * get no Host added for them.
 */
async function echoRaw(target: string, headers: string[] = []): Promise<Echo> {
  const server = await startEmulator(fixture('echo-event-handler.mjs'))
  const { host, hostname, port } = new URL(server.url)
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request({ host: hostname, port, path: target, headers: ['Host', host, ...headers] }, resolve)
      .on('error', reject)
      .end()
  })
  return JSON.parse(await text(response)) as Echo
}

describe('sluice/dev builds the payload-2.0 event of a function URL', () => {
  it('passes rawPath and rawQueryString as the client sent them, neither normalised nor re-encoded', async () => {
    const { event } = await echoRaw(`/a/../b/%7e/./c?q=it's&r=%27&s="x"&t=a+b&u=%E2%82%AC&v=?`)
    expect(event).toMatchObject({
      rawPath: '/a/../b/%7e/./c',
      rawQueryString: `q=it's&r=%27&s="x"&t=a+b&u=%E2%82%AC&v=?`,
      queryStringParameters: { q: "it's", r: "'", s: '"x"', t: 'a b', u: '€', v: '?' },
    })
    expect(event.requestContext.http.path).toBe('/a/../b/%7e/./c')
  })

  it('passes the path and query of an absolute-form target, as a proxy sends it, not the whole URL', async () => {
    // RFC 9112 §3.2.2: a server must accept `GET http://host/path?x=1 HTTP/1.1`; the function sees `/path` and `x=1`.
    const { event } = await echoRaw('http://example.com/reports/%7e/./2026?month=10&tag=a&tag=b')
    expect(event).toMatchObject({
      rawPath: '/reports/%7e/./2026',
      rawQueryString: 'month=10&tag=a&tag=b',
      queryStringParameters: { month: '10', tag: 'a,b' },
    })
    expect(event.requestContext.http.path).toBe('/reports/%7e/./2026')
    expect(event.headers['x-forwarded-proto']).toBe('http')
    const { event: bare } = await echoRaw('HTTP://example.com:8080?x=1')
    expect(bare).toMatchObject({ rawPath: '/', rawQueryString: 'x=1', queryStringParameters: { x: '1' } })
  })

  it('carries the path, the raw query string and the decoded query parameters, repeated ones joined', async () => {
    const { event } = await echo('/reports/2026?month=10&tag=a&tag=b%20c')
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/reports/2026',
      rawQueryString: 'month=10&tag=a&tag=b%20c',
      queryStringParameters: { month: '10', tag: 'a,b c' },
    })
  })

  it('lower-cases headers, joins repeated ones with commas and moves cookies to their own field', async () => {
    const { event } = await echoRaw('/', ['X-Trace', 'one', 'X-Trace', 'two', 'Cookie', 'a=1; b=2'])
    expect(event.headers['x-trace']).toBe('one,two')
    expect(event.headers.cookie).toBeUndefined()
    expect(event.cookies).toEqual(['a=1', 'b=2'])
  })

  it("leaves out the headers of the client's connection, which end at the service", async () => {
    const { event } = await echoRaw('/', [
      'Connection',
      'keep-alive',
      'Keep-Alive',
      'timeout=5',
      'TE',
      'trailers',
    ])
    expect(event.headers).not.toHaveProperty('connection')
    expect(event.headers).not.toHaveProperty('keep-alive')
    expect(event.headers).not.toHaveProperty('te')
    expect(event.headers.host).toBeDefined()
  })

  it('keeps query parameters and headers named after Object.prototype members as their own values', async () => {
    const { event } = await echoRaw('/?constructor=z&toString=q&__proto__=p&hasOwnProperty=h', [
      'Constructor',
      'c',
      '__proto__',
      'p',
    ])
    const query = event.queryStringParameters as Record<string, string>
    expect(Object.entries(query)).toEqual([
      ['constructor', 'z'],
      ['toString', 'q'],
      ['__proto__', 'p'],
      ['hasOwnProperty', 'h'],
    ])
    expect(Object.hasOwn(event.headers, 'constructor')).toBe(true)
    expect(event.headers.constructor).toBe('c')
    expect(Object.getOwnPropertyDescriptor(event.headers, '__proto__')?.value).toBe('p')
  })

  it('hands the handler plain objects, as the JSON the service parses would be', async () => {
    const seen = Promise.withResolvers<FunctionUrlEvent>()
    const handler = awslambda.streamifyResponse(async (event, responseStream) => {
      seen.resolve(event)
      responseStream.end()
    })
    const server = await startEmulator(handler)
    await (await fetch(new URL('/?a=1', server.url), { headers: { 'x-a': '1' } })).arrayBuffer()
    const event = await seen.promise
    expect(Object.getPrototypeOf(event.headers)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(event.queryStringParameters)).toBe(Object.prototype)
    expect(JSON.parse(JSON.stringify(event))).toEqual(event)
  })

  it('gives an empty userAgent to a request without a user-agent header', async () => {
    const { event } = await echoRaw('/')
    expect(event.headers).not.toHaveProperty('user-agent')
    expect(event.requestContext.http.userAgent).toBe('')
  })

  it('adds the x-forwarded-for, -proto and -port headers the service adds, from the connection', async () => {
    const { event } = await echo('/')
    const port = new URL(`http://${event.requestContext.domainName as string}`).port
    expect(event.headers).toMatchObject({
      'x-forwarded-for': event.requestContext.http.sourceIp,
      'x-forwarded-proto': 'http',
      'x-forwarded-port': port,
    })
  })

  it('keeps the x-forwarded-* headers a request already carries', async () => {
    const { event } = await echo('/', {
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443' },
    })
    expect(event.headers).toMatchObject({
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
    })
  })

  it('fills the request context as a function URL with AuthType NONE does', async () => {
    const { event } = await echo('/ctx', {
      method: 'PUT',
      body: 'x',
      headers: { 'user-agent': 'sluice-test' },
    })
    expect(event.requestContext).toMatchObject({
      accountId: 'anonymous',
      routeKey: '$default',
      stage: '$default',
      http: {
        method: 'PUT',
        path: '/ctx',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'sluice-test',
      },
    })
    expect(event.requestContext.domainName).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/)
    expect(typeof event.requestContext.timeEpoch).toBe('number')
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('passes a JSON body as text', async () => {
    const { event } = await echo('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ month: '2026-10' }),
    })
    expect(event.isBase64Encoded).toBe(false)
    expect(JSON.parse(event.body as string)).toEqual({ month: '2026-10' })
  })

  it('passes a text body with every character the client sent, a leading byte-order mark included', async () => {
    // The body is the client's: a handler that checks a signature over it must see the bytes that were signed.
    const { event } = await echo('/', {
      method: 'POST',
      headers: { 'content-type': 'text/csv; charset=utf-8' },
      body: new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x2c, 0x62]),
    })
    expect(event.isBase64Encoded).toBe(false)
    expect(event.body).toBe('\ufeffa,b')
  })

  it('passes a text body that is not valid UTF-8 as base64, not decoded into U+FFFD', async () => {
    // Decoded, the invalid bytes would be lost: a handler could not get back the bytes the client sent.
    const { event } = await echo('/', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0xc3]),
    })
    expect(event).toMatchObject({ body: 'Yf/+YsM=', isBase64Encoded: true })
  })

  it('passes a binary body as base64', async () => {
    const { event } = await echo('/', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0, 1, 2, 255]),
    })
    expect(event.isBase64Encoded).toBe(true)
    expect(event.body).toBe('AAEC/w==')
  })

  it('passes a form body as base64, as a function URL does', async () => {
    const { event } = await echo('/', { method: 'POST', body: new URLSearchParams({ token: 'abc' }) })
    expect(event.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8')
    expect(event).toMatchObject({ body: 'dG9rZW49YWJj', isBase64Encoded: true })
  })

  it('gives a context with the request id, the function identity and the time left', async () => {
    const { event, context } = await echo('/')
    expect(context).toMatchObject({
      awsRequestId: event.requestContext.requestId,
      functionName: 'report',
      functionVersion: '$LATEST',
      memoryLimitInMB: '128',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:report',
      callbackWaitsForEmptyEventLoop: true,
    })
    expect(context.remaining).toBeGreaterThan(0)
    expect(context.remaining).toBeLessThanOrEqual(15 * 60 * 1000)
  })

  it('names the region and the function it was given in the context', async () => {
    const server = await startEmulator(fixture('echo-event-handler.mjs'), {
      functionName: 'report',
      functionVersion: '7',
      region: 'eu-west-1',
    })
    const { context } = (await (await fetch(server.url)).json()) as Echo
    expect(context).toMatchObject({
      functionVersion: '7',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:report',
      logGroupName: '/aws/lambda/report',
    })
  })
})
