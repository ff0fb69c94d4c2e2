/**
 * What the Lambda Node.js runtime's response stream does with chunks that are not text or bytes, and with a body
 * under the prelude content type that ends empty — the same in `serve()` (sluice/dev, real HTTP), in
 * `functionUrl()` (sluice/mock, msw/node) and in the browser's minimal writable. The runtime's code is quoted in
 * src/runtime/write-chunk.ts (aws-lambda-nodejs-runtime-interface-client, src/ResponseStream.js). When the prelude
 * of HttpResponseStream.from goes out (from write() only) is in emulator-parity.prelude.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AnyLambdaHandler,
  awslambda,
  PRELUDE_CONTENT_TYPE,
  type ResponseStream,
} from '../../src/runtime/index.ts'
import { createResponseSink, type ResponseSink } from '../../src/runtime/response-sink.ts'
import { createResponseStream } from '../../src/runtime/response-stream.ts'
import { createWebResponseStream } from '../../src/runtime/response-stream-web.ts'
import { drainSink, functionUrlTwins, type Seen } from '../support/function-url-twins.ts'

const twins = functionUrlTwins()
beforeAll(() => twins.listen())
afterAll(() => twins.close())

const options = { limits: { timeoutMs: 2_000 }, shaping: false as const }
const text = (seen: Seen) => new TextDecoder().decode(seen.body)

/** `write` and `end` as plain JavaScript calls them, with any value. */
function untyped(stream: ResponseStream): {
  write: (chunk: unknown) => boolean
  end: (chunk?: unknown) => unknown
} {
  return {
    write: stream.write.bind(stream) as (chunk: unknown) => boolean,
    end: stream.end.bind(stream) as (chunk?: unknown) => unknown,
  }
}

function describeError(error: unknown): string {
  const { name, message, code } = error as Error & { code?: string }
  return `${name}${code === undefined ? '' : ` [${code}]`}: ${message}`
}

describe('the response stream takes chunks as the Lambda runtime does, in the emulator and in the mock alike', () => {
  it('writes an object, a number, a boolean or another typed array given to write() as its JSON', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
      })
      const { write } = untyped(responseStream)
      write({ n: 1 })
      write(42)
      write(true)
      write(new Uint16Array([1, 2]))
      write(Buffer.from('|buffer'))
      responseStream.end()
    })
    const { dev, mock } = await twins.run(() => handler, { method: 'GET', path: './', headers: [] }, options)
    for (const seen of [dev, mock]) {
      expect(seen.status).toBe(200)
      expect(seen.ending).toBe('end')
      expect(text(seen)).toBe('{"n":1}42true{"0":1,"1":2}|buffer')
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
    }
  })

  it("throws the runtime's TypeErrors for null, undefined and a BigInt, and Node's for end() with an object", async () => {
    const seenErrors: Record<string, string[]> = {}
    const handlerFor = (transport: string): AnyLambdaHandler =>
      awslambda.streamifyResponse(async (_event, responseStream) => {
        const errors: string[] = []
        seenErrors[transport] = errors
        const { write, end } = untyped(responseStream)
        for (const attempt of [
          () => write(null),
          () => write(undefined),
          () => write(1n),
          () => end({ n: 1 }),
        ]) {
          try {
            attempt()
            errors.push('no error')
          } catch (error) {
            errors.push(describeError(error))
          }
        }
        write('ok')
        // A falsy chunk is no chunk to the runtime's end(): this ends the stream.
        end(0)
      })
    const { dev, mock } = await twins.run(handlerFor, { method: 'GET', path: './', headers: [] }, options)
    const expected = [
      "TypeError: Cannot read properties of null (reading 'length')",
      "TypeError: Cannot read properties of undefined (reading 'length')",
      expect.stringMatching(/^TypeError: .*BigInt/),
      'TypeError [ERR_INVALID_ARG_TYPE]: The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received an instance of Object',
    ]
    expect(seenErrors.dev).toEqual(expected)
    expect(seenErrors.mock).toEqual(expected)
    for (const seen of [dev, mock]) {
      expect(seen.status).toBe(200)
      expect(seen.ending).toBe('end')
      expect(text(seen)).toBe('ok')
    }
  })

  it('sends the prelude before refusing a chunk JSON has no text for, so the failure comes after the head', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201 })
      untyped(responseStream).write(() => {})
    })
    const { dev, mock } = await twins.run(() => handler, { method: 'GET', path: './', headers: [] }, options)
    for (const seen of [dev, mock]) {
      expect(seen.status).toBe(201)
      expect(seen.ending).toBe('cut')
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['failed'])
      expect(seen.invocations[0]!.outcome.error!.message).toBe(
        'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received undefined',
      )
    }
  })

  it('answers 200 without a prelude status to a body under the prelude content type that ends empty', async () => {
    const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
      responseStream.setContentType(PRELUDE_CONTENT_TYPE)
      responseStream.end()
    })
    const { dev, mock } = await twins.run(() => handler, { method: 'GET', path: './', headers: [] }, options)
    for (const seen of [dev, mock]) {
      expect(seen.status).toBe(200)
      expect(seen.headers).toContainEqual(['content-type', 'application/octet-stream'])
      expect(seen.ending).toBe('end')
      expect(seen.body).toHaveLength(0)
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
      // No HttpResponseStream.from, so no prelude was skipped: nothing to explain in the log.
      expect(seen.log).toEqual([])
    }
  })
})

describe.each([
  ['Node’s stream.Writable', (sink: ResponseSink) => createResponseStream(sink)],
  ['the browser’s minimal writable', (sink: ResponseSink) => createWebResponseStream(sink, 16 * 1024)],
])('%s takes chunks as the runtime does', (_name, create) => {
  it('JSON-encodes what is neither text nor bytes, and writes text and bytes as they are', async () => {
    const sink = createResponseSink(1024 * 1024)
    const stream = create(sink)
    const { write } = untyped(stream)
    for (const chunk of [{ n: 1 }, 42, 'a', new Uint8Array([98]), new Uint16Array([1]), null]) {
      try {
        write(chunk)
      } catch {
        write('<threw>')
      }
    }
    stream.end('z')
    expect(await drainSink(sink)).toBe('{"n":1}42ab{"0":1}<threw>z')
  })

  it('sends the bytes each write was given, though the handler refills its buffer once the write called back', async () => {
    // Node lets a writer reuse a chunk once its write's callback ran: the runtime's socket has the bytes by then.
    // Here nobody reads until the handler is done, so every chunk still waits in the sink when its buffer changes.
    const sink = createResponseSink(1024 * 1024)
    const stream = create(sink)
    const buffer = new Uint8Array(2)
    for (const letter of 'abc') {
      buffer.fill(letter.charCodeAt(0))
      await new Promise<void>((resolve, reject) => {
        stream.write(buffer, (error) => (error ? reject(error) : resolve()))
      })
    }
    stream.end()
    expect(await drainSink(sink)).toBe('aabbcc')
  })

  it('writes the prelude, then throws ERR_INVALID_ARG_TYPE, for a chunk JSON has no text for', async () => {
    const sink = createResponseSink(1024 * 1024)
    const stream = awslambda.HttpResponseStream.from(create(sink), { statusCode: 201 })
    let code: unknown
    try {
      untyped(stream).write(Symbol('not JSON'))
    } catch (error) {
      code = (error as { code?: unknown }).code
    }
    expect(code).toBe('ERR_INVALID_ARG_TYPE')
    // Before end(), which writes no prelude: the prelude went out with the refused write.
    expect(sink.written).toBe('{"statusCode":201}'.length + 8)
    stream.end()
    expect(await drainSink(sink)).toBe(`{"statusCode":201}${'\0'.repeat(8)}`)
  })
})
