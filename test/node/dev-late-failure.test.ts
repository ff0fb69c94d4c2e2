/**
 * `serve({ lateFailure: 'trailers' })`: a failure after the first byte ends the body cleanly, the error in the
 * trailers the Lambda runtime API names, as a function URL may show it; `fetch` sees a complete-looking body, so
 * only a client that proves the end tells it from a whole one. The default still cuts the connection.
 */
import { get } from 'node:http'
import { describe, expect, it } from 'vitest'
import { isTruncatedError, sluice } from '../../src/index.ts'
import { sluiceHandler } from '../../src/lambda/index.ts'
import { type AnyLambdaHandler, awslambda } from '../../src/runtime/index.ts'
import { drain, startEmulator } from '../support/emulator.ts'

const writesThenThrows = awslambda.streamifyResponse(async (_event, responseStream) => {
  responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 })
  responseStream.write('x'.repeat(30_000))
  responseStream.write('last rows')
  await new Promise((resolve) => setTimeout(resolve, 10))
  throw new TypeError('lost the database midway')
})

interface Received {
  body: string
  trailers: Record<string, string | undefined>
  declared: string | undefined
}

/** Reads a response with node:http, which reads trailers: the body, the trailers, the `Trailer` header. */
function receive(url: string): Promise<Received> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ body, trailers: res.trailers, declared: res.headers.trailer }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

/** The error report of the `Lambda-Runtime-Function-Error-Body` trailer (base64 JSON). */
function reported(received: Received): { errorType: string; errorMessage: string; trace: string[] } {
  const body = received.trailers['lambda-runtime-function-error-body'] ?? ''
  return JSON.parse(Buffer.from(body, 'base64').toString('utf8'))
}

async function trailersServer(handler: AnyLambdaHandler, limits = {}) {
  return startEmulator(handler, { lateFailure: 'trailers', limits })
}

describe("serve({ lateFailure: 'trailers' }) ends a failed body cleanly, the error in trailers", () => {
  it('lets fetch read every byte written before a handler error, then a clean end', async () => {
    const server = await trailersServer(writesThenThrows)
    const response = await fetch(server.url)
    expect(response.status).toBe(200)
    expect(response.headers.get('trailer')).toBe(
      'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    )
    const { bytes, error } = await drain(response)
    expect(error).toBeUndefined()
    expect(bytes).toBe(30_000 + 'last rows'.length)
  })

  it('reports the handler error in the trailers a node:http client reads', async () => {
    const server = await trailersServer(writesThenThrows)
    const received = await receive(server.url)
    expect(received.body).toBe(`${'x'.repeat(30_000)}last rows`)
    expect(received.trailers['lambda-runtime-function-error-type']).toBe('TypeError')
    const report = reported(received)
    expect(report.errorType).toBe('TypeError')
    expect(report.errorMessage).toBe('lost the database midway')
    expect(report.trace[0]).toBe('TypeError: lost the database midway')
  })

  it('ends the body cleanly at the timeout, reported as Sandbox.Timedout', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('started ')
      await new Promise(() => {})
    })
    const server = await trailersServer(handler, { timeoutMs: 200 })
    const received = await receive(server.url)
    expect(received.body).toBe('started ')
    expect(received.trailers['lambda-runtime-function-error-type']).toBe('Sandbox.Timedout')
    expect(reported(received).errorMessage).toMatch(/^Task timed out after 0\.20 seconds/)
    const { bytes, error } = await drain(await fetch(server.url))
    expect({ bytes, error }).toEqual({ bytes: 'started '.length, error: undefined })
  })

  it('ends the body cleanly at maxResponseBytes, reported as Function.ResponseSizeTooLarge', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.write('12345')
      responseStream.end('6789012345')
    })
    const server = await trailersServer(handler, { maxResponseBytes: 10 })
    const received = await receive(server.url)
    expect(received.body).toBe('12345')
    expect(received.trailers['lambda-runtime-function-error-type']).toBe('Function.ResponseSizeTooLarge')
    expect(reported(received).errorMessage).toMatch(/exceeded limits\.maxResponseBytes \(10 bytes\)/)
  })

  it('declares no trailers on a buffered result, whose length frames it', async () => {
    const server = await trailersServer(async () => ({ statusCode: 200, body: 'whole' }))
    const received = await receive(server.url)
    expect(received).toEqual({ body: 'whole', trailers: {}, declared: undefined })
  })
})

describe('sluice against a late failure that ends the body cleanly', () => {
  const row = (n: number) => ({ n, pad: 'y'.repeat(40) })

  it('fails with a TruncatedError after the complete rows, never taking the clean end for the whole', async () => {
    const handler = sluiceHandler(
      () => ({
        ndjson: (async function* () {
          for (let n = 0; n < 200; n++) yield row(n)
          throw new Error('db lost')
        })(),
      }),
      { awslambda },
    )
    const server = await trailersServer(handler)
    const res = await sluice(server.url, { resume: false })
    const rows: unknown[] = []
    const error = await (async () => {
      for await (const item of res.ndjson()) rows.push(item)
    })().catch((e: unknown) => e)
    expect(isTruncatedError(error)).toBe(true)
    expect(rows.length).toBeGreaterThan(0)
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, n) => row(n)))
  })

  it('resumes by Range when the first invocation fails, and gets the body whole', async () => {
    const ranges: Array<string | undefined> = []
    const handler = sluiceHandler(
      (event) => {
        ranges.push(event.headers.range)
        const fails = ranges.length === 1
        return {
          bytes: (async function* () {
            yield 'abcde'
            yield 'fghij'
            if (fails) throw new Error('lost midway')
            yield 'klmno'
          })(),
          etag: '"letters-v1"',
        }
      },
      { awslambda },
    )
    const server = await trailersServer(handler)
    const res = await sluice(server.url, {
      resume: { strategy: 'range', backoff: { initial: 1, max: 1, jitter: 0 } },
    })
    expect(await res.collect.text()).toBe('abcdefghijklmno')
    expect(ranges).toHaveLength(2)
    expect(ranges[0]).toBeUndefined()
    expect(ranges[1]).toMatch(/^bytes=\d+-$/)
  })
})

describe('serve() without lateFailure', () => {
  it('still cuts the connection after the bytes written, and declares no trailers', async () => {
    const server = await startEmulator(writesThenThrows)
    const response = await fetch(server.url)
    expect(response.headers.get('trailer')).toBeNull()
    const { bytes, error } = await drain(response)
    expect(bytes).toBe(30_000 + 'last rows'.length)
    expect(error).toBeInstanceOf(TypeError)
  })

  it("refuses a lateFailure other than 'cut' or 'trailers', naming the option", async () => {
    await expect(
      startEmulator(writesThenThrows, { lateFailure: 'clean' as unknown as 'cut' }),
    ).rejects.toThrow(new TypeError(`serve: lateFailure must be 'cut' or 'trailers', got "clean".`))
  })
})
