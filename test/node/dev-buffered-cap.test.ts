import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { functionUrl } from '../../src/mock/function-url.ts'
import {
  type AnyLambdaHandler,
  awslambda,
  bytesToBase64,
  DEFAULT_LIMITS,
  type Invocation,
  type InvocationOutcome,
  type Limits,
} from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'

// A buffered handler's result is sent by the runtime as JSON, and the service refuses a payload over 6 291 556 bytes
// (Function.ResponseSizeTooLarge): the emulator and the mock refuse it the same way, counting the same bytes.

interface Transport {
  where: string
  /** Serves `handler` with `options` and resolves with the URL to fetch. */
  start(
    handler: AnyLambdaHandler,
    options: {
      limits?: Limits
      log?: (line: string) => void
      onInvocation?: (invocation: Invocation) => void
    },
  ): Promise<string>
}

const base = 'https://buffered123.lambda-url.eu-west-1.on.aws/'
const mswServer = setupServer()

const transports: Array<Transport & { setup?: () => void; teardown?: () => void }> = [
  {
    where: 'through serve() over HTTP',
    start: async (handler, options) => (await startEmulator(handler, options)).url,
  },
  {
    where: 'through functionUrl() under msw/node',
    setup: () => mswServer.listen({ onUnhandledFrame: 'error' }),
    teardown: () => mswServer.close(),
    start: async (handler, options) => {
      mswServer.resetHandlers(functionUrl(base, handler, options))
      return base
    },
  },
]

interface Served {
  response: Response
  outcome: InvocationOutcome
  log: string[]
}

/** Runs a buffered handler returning `result` once, and resolves with the answer, the outcome and the log. */
async function serveResult(transport: Transport, result: unknown, limits?: Limits): Promise<Served> {
  const log: string[] = []
  const started = Promise.withResolvers<Invocation>()
  const url = await transport.start(async () => result, {
    ...(limits && { limits }),
    log: (line) => log.push(line),
    onInvocation: (invocation) => started.resolve(invocation),
  })
  const response = await fetch(url)
  const outcome = await (await started.promise).finished
  return { response, outcome, log }
}

/** What the client gets for an oversized result: a 502 from the service, its reason in JSON, not the body. */
async function expectRefused({ response, outcome, log }: Served, size: number, limit: number): Promise<void> {
  const said = `Response payload size (${size} bytes) exceeded maximum allowed payload size (${limit} bytes, limits.maxBufferedResponseBytes).`
  expect(response.status).toBe(502)
  expect(response.headers.get('x-amzn-errortype')).toBe('Function.ResponseSizeTooLarge')
  expect(response.headers.get('content-type')).toBe('application/json')
  const body = (await response.json()) as { Message: string; Type: string }
  expect(body.Type).toBe('Function.ResponseSizeTooLarge')
  expect(body.Message.startsWith(said)).toBe(true)
  expect(body.Message).toMatch(/return less, or wrap the handler in awslambda\.streamifyResponse/)
  expect(outcome.state).toBe('failed')
  expect(outcome.error?.message).toBe(body.Message)
  expect(log).toEqual([
    expect.stringMatching(/running it buffered/),
    expect.stringContaining(` failed: ${said}`),
  ])
}

for (const transport of transports) {
  describe(`the buffered response size limit (limits.maxBufferedResponseBytes), ${transport.where}`, () => {
    if (transport.setup) beforeAll(transport.setup)
    if (transport.teardown) afterAll(transport.teardown)
    const limits = { maxBufferedResponseBytes: 1000 }

    it('serves a string result whose JSON, quotes included, is just under or exactly at the limit', async () => {
      for (const length of [997, 998]) {
        const { response, outcome, log } = await serveResult(transport, 'a'.repeat(length), limits)
        expect(response.status).toBe(200)
        expect(await response.text()).toBe('a'.repeat(length))
        expect(outcome).toEqual({ state: 'succeeded' })
        expect(log).toEqual([
          expect.stringMatching(
            /running it buffered.*behind a RESPONSE_STREAM URL, AWS sends the result's JSON/,
          ),
        ])
      }
    })

    it('answers a 502 Function.ResponseSizeTooLarge instead of a string one byte over, and fails the invocation', async () => {
      // 999 characters are sent as 1001 bytes of JSON: "aaa…".
      await expectRefused(await serveResult(transport, 'a'.repeat(999), limits), 1001, 1000)
    })

    it('counts a string as JSON sends it: escapes and multi-byte characters, not the characters', async () => {
      // 500 quotes are 500 bytes of body but 1002 bytes of JSON (\" each, and the quotes around).
      await expectRefused(await serveResult(transport, '"'.repeat(500), limits), 1002, 1000)
      // 499 'é' are 998 bytes of UTF-8: 1000 with the quotes, at the limit.
      const at = await serveResult(transport, 'é'.repeat(499), limits)
      expect(at.response.status).toBe(200)
      expect(await at.response.text()).toBe('é'.repeat(499))
      await expectRefused(await serveResult(transport, 'é'.repeat(500), limits), 1002, 1000)
    })

    it('counts a { statusCode, headers, body } result whole, not only its body', async () => {
      const result = (body: string) => ({ statusCode: 201, headers: { 'content-type': 'text/plain' }, body })
      const envelope = JSON.stringify(result('')).length
      const at = await serveResult(transport, result('b'.repeat(1000 - envelope)), limits)
      expect(at.response.status).toBe(201)
      expect(await at.response.text()).toBe('b'.repeat(1000 - envelope))
      expect(at.outcome).toEqual({ state: 'succeeded' })
      // A body well under the limit is refused once its envelope takes the payload over.
      await expectRefused(
        await serveResult(transport, result('b'.repeat(1001 - envelope)), limits),
        1001,
        1000,
      )
    })

    it('counts an object result as its JSON', async () => {
      const rows = (n: number) => ({ rows: Array.from({ length: n }, (_, i) => i % 10) })
      const size = (n: number) => JSON.stringify(rows(n)).length
      const under = await serveResult(transport, rows(100), limits)
      expect(size(100)).toBeLessThanOrEqual(1000)
      expect(under.response.status).toBe(200)
      expect(await under.response.json()).toEqual(rows(100))
      await expectRefused(await serveResult(transport, rows(500), limits), size(500), 1000)
    })

    it('counts an undefined result as the null the runtime sends, 4 bytes', async () => {
      await expectRefused(await serveResult(transport, undefined, { maxBufferedResponseBytes: 3 }), 4, 3)
      const at = await serveResult(transport, undefined, { maxBufferedResponseBytes: 4 })
      expect(at.response.status).toBe(200)
      expect(at.outcome).toEqual({ state: 'succeeded' })
    })

    it('counts a base64 body (isBase64Encoded) as base64, not as the bytes it decodes to', async () => {
      const result = (bytes: number) => ({
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream' },
        isBase64Encoded: true,
        body: bytesToBase64(new Uint8Array(bytes).fill(7)),
      })
      const small = await serveResult(transport, result(600), limits)
      expect(small.response.status).toBe(200)
      expect(new Uint8Array(await small.response.arrayBuffer())).toEqual(new Uint8Array(600).fill(7))
      // 720 bytes fit the limit; their base64 (960 characters) in the result's JSON does not.
      const over = result(720)
      await expectRefused(await serveResult(transport, over, limits), JSON.stringify(over).length, 1000)
    })

    it('holds the default of 6 291 556 bytes (6 MiB + 100), the payload limit of the service', async () => {
      expect(DEFAULT_LIMITS.maxBufferedResponseBytes).toBe(6_291_556)
      const at = await serveResult(transport, 'c'.repeat(6_291_554))
      expect(at.response.status).toBe(200)
      expect((await at.response.text()).length).toBe(6_291_554)
      expect(at.outcome).toEqual({ state: 'succeeded' })
      await expectRefused(await serveResult(transport, 'c'.repeat(6_291_555)), 6_291_557, 6_291_556)
    })

    it('fails a result JSON cannot encode with a 502, as the runtime cannot send it', async () => {
      // The runtime stringifies the whole result, so a BigInt beside the body fails it too.
      const { response, outcome } = await serveResult(transport, { statusCode: 200, body: 'ok', n: 1n })
      expect(response.status).toBe(502)
      expect(response.headers.get('x-amzn-errortype')).toBe('Unhandled')
      const { Message } = (await response.json()) as { Message: string }
      expect(Message).toMatch(
        /^The function failed before it sent a response: Unable to stringify response body/,
      )
      expect(outcome.state).toBe('failed')
      expect(outcome.error?.message).toMatch(/^Unable to stringify response body \(.*BigInt.*\)\. .*JSON/)
    })

    it('does not hold a streaming handler to it', async () => {
      const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.end('d'.repeat(2000))
      })
      const url = await transport.start(handler, { limits })
      const response = await fetch(url)
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('d'.repeat(2000))
    })

    it('lifts it with Infinity', async () => {
      const { response } = await serveResult(transport, 'e'.repeat(5000), {
        maxBufferedResponseBytes: Number.POSITIVE_INFINITY,
      })
      expect(response.status).toBe(200)
      expect((await response.text()).length).toBe(5000)
    })
  })
}

describe('the maxBufferedResponseBytes option', () => {
  it('is checked when the emulator or the mock is set up, like the other limits', async () => {
    const handler = async () => 'ok'
    expect(() => functionUrl(base, handler, { limits: { maxBufferedResponseBytes: 0 } })).toThrow(
      /^functionUrl: limits\.maxBufferedResponseBytes must be a positive number of bytes, or Infinity for no limit; got 0\.$/,
    )
    await expect(startEmulator(handler, { limits: { maxBufferedResponseBytes: -1 } })).rejects.toThrow(
      /^serve: limits\.maxBufferedResponseBytes must be a positive number of bytes/,
    )
  })
})
