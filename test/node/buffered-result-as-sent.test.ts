/**
 * A buffered handler's result reaches the function URL as the JSON the runtime sends (`JSON.stringify(result)`),
 * not as the handler's object: the service reads `statusCode`, `headers`, `cookies` and `body` from that JSON. So
 * what JSON leaves out or rewrites (an `undefined` header value, a `toJSON` method, a `Date` body) is served as
 * its JSON has it, and a result the service cannot read is answered with a 502, in the emulator and the mock alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnyLambdaHandler } from '../../src/runtime/index.ts'
import { functionUrlTwins, type Seen } from '../support/function-url-twins.ts'

const twins = functionUrlTwins()
beforeAll(() => twins.listen())
afterAll(() => twins.close())

const GET = { method: 'GET', path: './', headers: [] }
const options = { limits: { timeoutMs: 2_000 }, shaping: false as const }
const text = (seen: Seen) => new TextDecoder().decode(seen.body)

/** Runs a buffered handler returning `result` behind both function URLs. */
async function both(result: unknown): Promise<Seen[]> {
  const handler: AnyLambdaHandler = async () => result
  const { dev, mock } = await twins.run(() => handler, GET, options)
  return [dev, mock]
}

describe('a buffered result is read from the JSON the runtime sends, in the emulator and the mock alike', () => {
  it('leaves out a header whose value is undefined, as JSON.stringify leaves it out', async () => {
    const result = { statusCode: 200, headers: { 'x-kept': 'yes', 'x-trace': undefined }, body: 'ok' }
    for (const seen of await both(result)) {
      expect(seen.status).toBe(200)
      expect(seen.headers).toContainEqual(['x-kept', 'yes'])
      expect(seen.headers.map(([name]) => name)).not.toContain('x-trace')
      expect(text(seen)).toBe('ok')
    }
  })

  it('serves a body with toJSON (a Date) as the string its JSON is, without quotes', async () => {
    const result = { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: new Date(0) }
    for (const seen of await both(result)) {
      expect(seen.status).toBe(200)
      expect(text(seen)).toBe('1970-01-01T00:00:00.000Z')
    }
  })

  it('reads the response a result describes through toJSON', async () => {
    const result = { toJSON: () => ({ statusCode: 201, body: 'made' }) }
    for (const seen of await both(result)) {
      expect(seen.status).toBe(201)
      expect(text(seen)).toBe('made')
    }
  })
})

describe('a buffered result with a body that is not base64 though isBase64Encoded says so', () => {
  it('is answered with a 502 InvalidResponse, and the invocation fails instead of never finishing', async () => {
    const result = { statusCode: 200, isBase64Encoded: true, body: 'not base64!' }
    for (const seen of await both(result)) {
      expect(seen.ending).toBe('end')
      expect(seen.status).toBe(502)
      expect(seen.headers).toContainEqual(['x-amzn-errortype', 'InvalidResponse'])
      const { Message } = JSON.parse(text(seen)) as { Message: string }
      expect(Message).toMatch(/^The function returned an invalid response: .*not valid base64/)
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['failed'])
      expect(seen.invocations[0]?.outcome.error?.message).toBe(Message)
    }
  })
})
