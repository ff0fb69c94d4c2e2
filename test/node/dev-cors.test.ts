// serve({ cors }) answers CORS as a function URL's CORS setting does: preflights without invoking the function,
// the Access-Control-* headers added to the function's answers to an allowed origin.
import { describe, expect, it } from 'vitest'
import { awslambda, type Cors, serve, sluiceCors } from '../../src/dev/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'

const PAGE = 'http://localhost:5173'
const CORS: Cors = {
  allowOrigins: [PAGE],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['range', 'if-range'],
  exposeHeaders: ['x-sluice-end', 'etag'],
  maxAge: 300,
}

/** A handler that answers `hello` with the prelude it is given, counting its invocations. */
async function counting(cors: Cors | undefined, prelude: Record<string, unknown> = {}) {
  let invocations = 0
  const server = await startEmulator(
    awslambda.streamifyResponse(async (_event, stream) => {
      const body = awslambda.HttpResponseStream.from(stream, { statusCode: 200, ...prelude })
      body.write('hello')
      body.end()
    }),
    { ...(cors === undefined ? {} : { cors }), onInvocation: () => invocations++ },
  )
  return { url: server.url, invocations: () => invocations }
}

const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'if-range' },
  })

/** The response's Access-Control-* and Vary headers, by name. */
const corsOf = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => /^(access-control-|vary$)/.test(name)))

describe('serve({ cors })', () => {
  it('answers a preflight from an allowed origin itself, with the setting, without invoking the function', async () => {
    const { url, invocations } = await counting(CORS)
    const response = await preflight(url, PAGE)
    expect(response.status).toBe(200)
    expect(corsOf(response)).toEqual({
      'access-control-allow-origin': PAGE,
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'range,if-range',
      'access-control-max-age': '300',
      vary: 'Origin',
    })
    expect(await response.text()).toBe('')
    expect(invocations()).toBe(0)
  })

  it('answers a preflight from another origin without Access-Control-* headers, and invokes nothing either', async () => {
    const { url, invocations } = await counting(CORS)
    const response = await preflight(url, 'http://localhost:8080')
    expect(response.status).toBe(200)
    expect(corsOf(response)).toEqual({ vary: 'Origin' })
    expect(invocations()).toBe(0)
  })

  it("adds Allow-Origin, Expose-Headers and Vary to the function's answer to an allowed origin", async () => {
    const { url, invocations } = await counting(CORS, { headers: { 'x-custom': 'kept' } })
    const response = await fetch(url, { headers: { origin: PAGE } })
    expect(corsOf(response)).toEqual({
      'access-control-allow-origin': PAGE,
      'access-control-expose-headers': 'x-sluice-end,etag',
      vary: 'Origin',
    })
    expect(response.headers.get('x-custom')).toBe('kept')
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    expect(await response.text()).toBe('hello')
    expect(invocations()).toBe(1)
  })

  it('adds no Access-Control-* header to the answer to another origin, or to a request without Origin', async () => {
    const { url, invocations } = await counting(CORS)
    for (const headers of [{ origin: 'http://localhost:8080' }, {}]) {
      const response = await fetch(url, { headers })
      expect(corsOf(response)).toEqual({ vary: 'Origin' })
      expect(await response.text()).toBe('hello')
    }
    expect(invocations()).toBe(2)
  })

  it("answers any origin with * for '*', and with the origin itself when credentials are allowed", async () => {
    const any = await counting({ allowOrigins: ['*'] })
    expect(
      (await fetch(any.url, { headers: { origin: PAGE } })).headers.get('access-control-allow-origin'),
    ).toBe('*')
    const credentials = await counting({ allowOrigins: ['*'], allowCredentials: true })
    const response = await fetch(credentials.url, { headers: { origin: PAGE } })
    expect(corsOf(response)).toEqual({
      'access-control-allow-origin': PAGE,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    })
  })

  it('passes an OPTIONS request that is no preflight (no Access-Control-Request-Method) to the function', async () => {
    const { url, invocations } = await counting(CORS)
    const response = await fetch(url, { method: 'OPTIONS', headers: { origin: PAGE } })
    expect(await response.text()).toBe('hello')
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE)
    expect(invocations()).toBe(1)
  })

  it('without cors, passes a preflight to the function and adds no CORS header, as a function URL without CORS', async () => {
    const { url, invocations } = await counting(undefined)
    const response = await preflight(url, PAGE)
    expect(corsOf(response)).toEqual({})
    expect(await response.text()).toBe('hello')
    expect(invocations()).toBe(1)
  })

  it("keeps a function's own Access-Control-Allow-Origin beside the one it adds: sent twice, as the service sends it", async () => {
    const { url } = await counting(CORS, { headers: { 'access-control-allow-origin': '*' } })
    const response = await fetch(url, { headers: { origin: PAGE } })
    expect(response.headers.get('access-control-allow-origin')).toBe(`*, ${PAGE}`)
  })

  it('sends the headers at the prelude, while the function still streams', async () => {
    const { promise: released, resolve: release } = Promise.withResolvers<void>()
    try {
      const server = await startEmulator(
        awslambda.streamifyResponse(async (_event, stream) => {
          const body = awslambda.HttpResponseStream.from(stream, { statusCode: 200 })
          body.write('first ')
          await released
          body.end('last')
        }),
        { cors: CORS },
      )
      const response = await fetch(server.url, { headers: { origin: PAGE } })
      expect(response.headers.get('access-control-allow-origin')).toBe(PAGE)
      const reader = response.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('first ')
      release()
      reader.releaseLock()
      expect(await drain(response)).toEqual({ bytes: 4, error: undefined })
    } finally {
      release()
    }
  })

  it.each([
    [
      { AllowOrigins: ['*'] },
      "serve: unknown cors setting 'AllowOrigins'. Write it allowOrigins, in camelCase.",
    ],
    [
      { allowOrigins: ['http://localhost:5173/'] },
      "serve: cors.allowOrigins must be an array of origins such as 'http://localhost:5173' (no path), or '*'; \"http://localhost:5173/\" is not one.",
    ],
    [{ allowOrigins: 'http://localhost:5173' }, 'serve: cors.allowOrigins must be an array of origins'],
    [
      { allowHeaders: ['if range'] },
      "serve: cors.allowHeaders must be an array of header names such as 'range'",
    ],
    [{ maxAge: 86401 }, 'serve: cors.maxAge must be a whole number of seconds from 0 to 86400, got 86401.'],
    [{ allowCredentials: 'yes' }, 'serve: cors.allowCredentials must be a boolean'],
    [['*'], 'serve: cors must be an object such as'],
  ])('refuses %j with a TypeError that names the setting', async (cors, message) => {
    const error = await serve(
      awslambda.streamifyResponse(async () => {}),
      { cors: cors as Cors, log: false },
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toContain(message)
  })
})

describe('sluiceCors(origins), exported for serve({ cors }) and for the setting to deploy', () => {
  it('lets a page on the origin resume: the resume headers allowed, the headers sluice reads exposed', async () => {
    const { url } = await counting(sluiceCors([PAGE]), {
      headers: { 'x-sluice-end': 'marker', etag: '"v1"' },
    })
    const answer = await preflight(url, PAGE)
    expect(answer.headers.get('access-control-allow-headers')).toBe(
      'content-type,range,if-range,last-event-id,x-sluice-cursor',
    )
    const response = await fetch(url, { headers: { origin: PAGE } })
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE)
    expect(response.headers.get('access-control-expose-headers')?.split(',')).toEqual(
      expect.arrayContaining(['x-sluice-end', 'x-amzn-remapped-content-length', 'content-range', 'etag']),
    )
    expect(await response.text()).toBe('hello')
  })

  it('copies the origins, so that changing the array later changes no server', () => {
    const origins = [PAGE]
    const cors = sluiceCors(origins)
    origins.push('*')
    expect(cors.allowOrigins).toEqual([PAGE])
  })

  it('refuses a single origin given as a string, rather than take its characters for origins', () => {
    expect(() => sluiceCors(PAGE as unknown as string[])).toThrow(
      `sluiceCors(): origins must be an array of origins, such as ['http://localhost:5173'], got "${PAGE}".`,
    )
  })
})
