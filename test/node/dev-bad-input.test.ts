import { describe, expect, it } from 'vitest'
import { serve } from '../../src/dev/index.ts'
import { awslambda } from '../../src/runtime/index.ts'
import { fixture, startEmulator } from '../support/emulator.ts'

describe('sluice/dev explains bad handlers and responses', () => {
  it('rejects a module path that does not exist, naming the path', async () => {
    await expect(serve('./test/fixtures/missing.mjs', { log: false })).rejects.toThrow(
      /The handler module \.\/test\/fixtures\/missing\.mjs was not found/,
    )
  })

  it('rejects a module that fails to load, with its error', async () => {
    await expect(serve(fixture('throws-on-load.mjs'), { log: false })).rejects.toThrow(
      /could not be loaded: the database URL is not configured/,
    )
  })

  it('rejects a module without a handler, listing its exports', async () => {
    await expect(serve(fixture('no-handler.mjs'), { log: false })).rejects.toThrow(
      /has no handler.*Its exports: notAHandler\./,
    )
  })

  it('answers 502 with the reason when the prelude is not valid', async () => {
    const server = await startEmulator(fixture('invalid-prelude-handler.mjs'))
    const response = await fetch(server.url)
    expect(response.status).toBe(502)
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidPrelude')
    expect(((await response.json()) as { Message: string }).Message).toMatch(
      /prelude is invalid: the prelude is not valid JSON/,
    )
  })

  it('runs a handler not wrapped in streamifyResponse buffered, sending its result as the response', async () => {
    const server = await startEmulator(fixture('buffered-handler.mjs'))
    const response = await fetch(new URL('/plain', server.url))
    expect(response.status).toBe(202)
    expect(response.headers.get('content-type')).toBe('text/plain')
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('14')
    expect(response.headers.getSetCookie()).toEqual(['buffered=yes'])
    expect(await response.text()).toBe('buffered /plain')
  })

  it('sends a buffered handler result without statusCode as a JSON body', async () => {
    const server = await startEmulator(async () => ({ rows: 3 }))
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.json()).toEqual({ rows: 3 })
  })

  it('renames Content-Length to x-amzn-remapped-content-length and drops Content-Encoding', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, {
        headers: { 'Content-Length': '5', 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' },
      })
      responseStream.end('hello')
    })
    const server = await startEmulator(handler)
    const response = await fetch(server.url)
    expect(response.headers.get('x-amzn-remapped-content-length')).toBe('5')
    expect(response.headers.get('content-length')).toBeNull()
    expect(response.headers.get('content-encoding')).toBeNull()
    expect(await response.text()).toBe('hello')
  })
})
