/**
 * When the prelude of `HttpResponseStream.from` goes out, in `serve()` (sluice/dev, real HTTP) and `functionUrl()`
 * (sluice/mock, msw/node) alike, as the Lambda Node.js runtime sends it: before the first `write()` — any write, an
 * empty one too — and never from `end()` (aws-lambda-nodejs-runtime-interface-client, src/ResponseStream.js:
 * `req.end = function (cb) { origEnd(cb) }`; issue #97). A handler that loses its status on AWS loses it here.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awslambda as nodeAwslambda } from '../../src/dev/index.ts'
import { streamBytes, streamNdjson } from '../../src/lambda/index.ts'
import { type AnyLambdaHandler, awslambda, type ResponseStream } from '../../src/runtime/index.ts'
import { createResponseSink, type ResponseSink } from '../../src/runtime/response-sink.ts'
import { createResponseStream } from '../../src/runtime/response-stream.ts'
import { createWebResponseStream } from '../../src/runtime/response-stream-web.ts'
import { drainSink, functionUrlTwins, type Seen } from '../support/function-url-twins.ts'

const twins = functionUrlTwins()
beforeAll(() => twins.listen())
afterAll(() => twins.close())

const options = { limits: { timeoutMs: 2_000 }, shaping: false as const }
const GET = { method: 'GET', path: './', headers: [] }
const text = (seen: Seen) => new TextDecoder().decode(seen.body)

const metadata = {
  statusCode: 201,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'x-custom': 'sluice' },
  cookies: ['session=abc'],
}

/** Runs one handler behind both function URLs. */
async function both(handler: AnyLambdaHandler, request = GET): Promise<Seen[]> {
  const { dev, mock } = await twins.run(() => handler, request, options)
  return [dev, mock]
}

function expectMetadata(seen: Seen): void {
  expect(seen.status).toBe(201)
  expect(seen.headers).toContainEqual(['content-type', 'text/plain; charset=utf-8'])
  expect(seen.headers).toContainEqual(['x-custom', 'sluice'])
  expect(seen.setCookies).toEqual(['session=abc'])
}

function expectDefaults(seen: Seen): void {
  expect(seen.status).toBe(200)
  expect(seen.headers).toContainEqual(['content-type', 'application/octet-stream'])
  expect(seen.headers.map(([name]) => name)).not.toContain('x-custom')
  expect(seen.setCookies).toEqual([])
}

const LOST =
  "<id> the function ended its response stream after awslambda.HttpResponseStream.from() without a write, so its status, headers and cookies were not sent: the prelude is sent by the first write(), and the service answered 200 with default headers. Call write(chunk) (write('') for an empty body) then end()."
const NO_PRELUDE =
  'The prelude is sent by the first write(); end(chunk) after HttpResponseStream.from() without a write sends no prelude — call write(chunk) then end().'

describe('HttpResponseStream.from sends its prelude from the first write() only, in the emulator and the mock alike', () => {
  it('answers from() then end() with a 200 and default headers, not the metadata, and logs why', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      awslambda.HttpResponseStream.from(responseStream, metadata).end()
    })
    for (const seen of await both(handler)) {
      expectDefaults(seen)
      expect(seen.ending).toBe('end')
      expect(seen.body).toHaveLength(0)
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
      expect(seen.log).toEqual([LOST])
    }
  })

  it('answers a pipeline of an empty source into from() the same way: pipeline only ends the stream', async () => {
    // sluice/dev's awslambda, typed with Node's streams (the same object as sluice/mock's).
    const handler = nodeAwslambda.streamifyResponse(async (_event, responseStream) => {
      await pipeline(Readable.from([]), nodeAwslambda.HttpResponseStream.from(responseStream, metadata))
    })
    for (const seen of await both(handler)) {
      expectDefaults(seen)
      expect(seen.body).toHaveLength(0)
      expect(seen.log).toEqual([LOST])
    }
  })

  it("answers from() then end('Not Found') with a 502: the chunk went out without a prelude, and the message says so", async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      awslambda.HttpResponseStream.from(responseStream, { ...metadata, statusCode: 404 }).end('Not Found')
    })
    for (const seen of await both(handler)) {
      expect(seen.status).toBe(502)
      expect(seen.headers).toContainEqual(['x-amzn-errortype', 'InvalidPrelude'])
      const message = `The function's response prelude is invalid: the response ended before the 8 NUL bytes that close the prelude. ${NO_PRELUDE}`
      expect(JSON.parse(text(seen))).toEqual({ Message: message, Type: 'InvalidPrelude' })
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['failed'])
      expect(seen.log).toEqual([`<id> failed: ${message}`])
    }
  })

  it("sends the metadata's status, headers and cookies for from(), write(''), end(): an empty write sends the prelude", async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, metadata)
      stream.write('')
      stream.end()
    })
    for (const seen of await both(handler)) {
      expectMetadata(seen)
      expect(seen.ending).toBe('end')
      expect(seen.body).toHaveLength(0)
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
      expect(seen.log).toEqual([])
    }
  })

  it("sends 'ab' under the metadata for from(), write('a'), end('b')", async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const stream = awslambda.HttpResponseStream.from(responseStream, metadata)
      stream.write('a')
      stream.end('b')
    })
    for (const seen of await both(handler)) {
      expectMetadata(seen)
      expect(seen.ending).toBe('end')
      expect(text(seen)).toBe('ab')
      expect(seen.log).toEqual([])
    }
  })
})

describe('sluice/lambda answers a status without a body through the emulator and the mock with its head', () => {
  it.each([
    ['streamNdjson', 204],
    ['streamBytes', 304],
  ] as const)('keeps the status and headers of a %s %i', async (helper, statusCode) => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      const answer = {
        awslambda,
        statusCode,
        headers: { etag: '"v1"', 'x-custom': 'sluice' },
        cookies: ['session=abc'],
      }
      if (helper === 'streamNdjson') await streamNdjson(responseStream, [], answer)
      else await streamBytes(responseStream, '', answer)
    })
    for (const seen of await both(handler)) {
      expect(seen.status).toBe(statusCode)
      expect(seen.headers).toContainEqual(['etag', '"v1"'])
      expect(seen.headers).toContainEqual(['x-custom', 'sluice'])
      expect(seen.headers).toContainEqual([
        'content-type',
        helper === 'streamNdjson' ? 'application/x-ndjson' : 'application/octet-stream',
      ])
      expect(seen.setCookies).toEqual(['session=abc'])
      expect(seen.body).toHaveLength(0)
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
      expect(seen.log).toEqual([])
    }
  })
})

const PRELUDE = `{"statusCode":201}${'\0'.repeat(8)}`

describe.each([
  ['Node’s stream.Writable', (sink: ResponseSink): ResponseStream => createResponseStream(sink)],
  [
    'the browser’s minimal writable',
    (sink: ResponseSink): ResponseStream => createWebResponseStream(sink, 16 * 1024),
  ],
])('%s runs the prelude hook from write() only', (_name, create) => {
  const from = () => {
    const sink = createResponseSink(1024 * 1024)
    return { sink, stream: awslambda.HttpResponseStream.from(create(sink), { statusCode: 201 }) }
  }

  it('writes no prelude for end(), and marks it as skipped', async () => {
    const { sink, stream } = from()
    stream.end()
    expect(await drainSink(sink)).toBe('')
    expect(sink.skippedPrelude).toBe(true)
  })

  it('writes the chunk of end(chunk) alone', async () => {
    const { sink, stream } = from()
    stream.end('Not Found')
    expect(await drainSink(sink)).toBe('Not Found')
    expect(sink.skippedPrelude).toBe(true)
  })

  it('writes the prelude before an empty first write, once', async () => {
    const { sink, stream } = from()
    stream.write('')
    stream.write('a')
    stream.end('b')
    expect(await drainSink(sink)).toBe(`${PRELUDE}ab`)
    expect(sink.skippedPrelude).toBe(false)
  })

  it('writes no prelude for a write after end(), which fails', async () => {
    const { sink, stream } = from()
    stream.once('error', () => {})
    stream.end()
    const failed = new Promise((resolve) => stream.write('late', resolve))
    expect(await failed).toBeInstanceOf(Error)
    expect(await drainSink(sink)).toBe('')
  })

  it('refuses setContentType after end(), as the runtime refuses a header once its request has ended', () => {
    const sink = createResponseSink(1024 * 1024)
    const stream = create(sink)
    stream.end()
    expect(() => awslambda.HttpResponseStream.from(stream, { statusCode: 201 })).toThrow(
      /^setContentType was called after the response stream ended/,
    )
  })

  it('does not mark a stream ended without HttpResponseStream.from', async () => {
    const sink = createResponseSink(1024 * 1024)
    create(sink).end('plain')
    expect(await drainSink(sink)).toBe('plain')
    expect(sink.skippedPrelude).toBe(false)
  })
})
