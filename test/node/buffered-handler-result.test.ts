/**
 * A handler not wrapped in `awslambda.streamifyResponse` gives its result as the Lambda Node.js runtime takes it:
 * from the promise it returns, from the value a plain function of (event, context) returns, or from the callback
 * a function of (event, context, callback) calls; in the emulator and the mock alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnyLambdaHandler } from '../../src/runtime/index.ts'
import { functionUrlTwins } from '../support/function-url-twins.ts'

const twins = functionUrlTwins()
beforeAll(() => twins.listen())
afterAll(() => twins.close())

const GET = { method: 'GET', path: './', headers: [] }
const options = { limits: { timeoutMs: 2_000 }, shaping: false as const }

async function expectServed(handler: AnyLambdaHandler, status: number, body: string): Promise<void> {
  const { dev, mock } = await twins.run(() => handler, GET, options)
  for (const seen of [dev, mock]) {
    expect(seen.status).toBe(status)
    expect(new TextDecoder().decode(seen.body)).toBe(body)
    expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
  }
}

describe('the result of a buffered handler, taken as the runtime takes it', () => {
  it('takes the value a plain (not async) function of (event, context) returns', async () => {
    const handler = ((_event: unknown, _context: unknown) => ({
      statusCode: 201,
      body: 'returned',
    })) as unknown as AnyLambdaHandler
    await expectServed(handler, 201, 'returned')
  })

  it('takes the result a function of (event, context, callback) passes to its callback', async () => {
    const handler = ((_event: unknown, _context: unknown, callback: (e: unknown, r: unknown) => void) => {
      setTimeout(() => callback(null, { statusCode: 202, body: 'called back' }), 10)
    }) as unknown as AnyLambdaHandler
    await expectServed(handler, 202, 'called back')
  })

  it('serves a result of undefined as the null the runtime sends for it, as it serves null', async () => {
    // The runtime sends JSON.stringify(result ?? null): the service cannot tell the two apart.
    await expectServed(async () => null, 200, 'null')
    await expectServed((async () => undefined) as unknown as AnyLambdaHandler, 200, 'null')
    const calledBack = ((_event: unknown, _context: unknown, callback: (e: unknown) => void) => {
      callback(null)
    }) as unknown as AnyLambdaHandler
    await expectServed(calledBack, 200, 'null')
  })

  it('says a function of (event, context, callback) that returned without calling it waits on it, when it times out', async () => {
    const handler = ((_event: unknown, _context: unknown, _callback: unknown) => ({
      statusCode: 201,
      body: 'returned, not called back',
    })) as unknown as AnyLambdaHandler
    const { dev, mock } = await twins.run(() => handler, GET, { ...options, limits: { timeoutMs: 100 } })
    for (const seen of [dev, mock]) {
      expect(seen.status).toBe(502)
      const { outcome } = seen.invocations[0]!
      expect(outcome.state).toBe('timed-out')
      // Not "still running": it returned, and its result can only come from the callback it never called.
      expect(outcome.error?.message).toMatch(
        /^Task timed out after 0\.10 seconds \(limits\.timeoutMs is 100\)\. The handler takes a callback \(event, context, callback\) and returned without calling it: its result is what it passes to callback\(null, result\), not what it returns\./,
      )
    }
  })
})
