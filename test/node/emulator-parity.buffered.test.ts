/**
 * What a function URL answers for a buffered result (a handler not wrapped in `awslambda.streamifyResponse`), in
 * `serve()` (sluice/dev, real HTTP) and `functionUrl()` (sluice/mock, msw/node) alike, checked against answers
 * recorded from AWS by LocalStack's tests (localstack/localstack, snapshots validated 2025-11-24 and 2024-04-01):
 *
 * - tests/aws/services/lambda_/test_lambda.snapshot.json, `TestLambdaURL::test_lambda_url_invocation[…]`: a Python
 *   handler returning each value; `lambda_url_invocation` records status, `Content-Type`, `Content-Length` and body
 *   (the test reads `result.headers["Content-Length"]`, which a chunked answer would not have).
 * - tests/aws/services/lambda_/test_lambda.py, `test_lambda_url_headers_and_status` (validated against AWS, asserts
 *   only): `{ statusCode: "418", body: "i'm a teapot" }` answers 418 with that body.
 * - tests/aws/services/apigateway/test_apigateway_http.snapshot.json,
 *   `test_http_integration_invoke_status_code_passthrough[HTTP_PROXY]`: a function URL whose handler returns
 *   `{ statusCode: 400, headers: { "Content-Type": "application/json" }, body: { status_code: 400, message: "" } }`
 *   (functions/lambda_echo_status_code.py), seen through an API Gateway proxy: status 400, that object as JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnyLambdaHandler } from '../../src/runtime/index.ts'
import { functionUrlTwins, type Seen } from '../support/function-url-twins.ts'

const twins = functionUrlTwins()
beforeAll(() => twins.listen())
afterAll(() => twins.close())

const options = { limits: { timeoutMs: 2_000 }, shaping: false as const }
const POST = {
  method: 'POST',
  path: './custom_path/extend?test_param=test_value',
  headers: [],
  body: "{'key':'value'}",
}
const text = (seen: Seen) => new TextDecoder().decode(seen.body)

/** Runs a buffered handler returning `result` behind both function URLs. */
async function both(result: unknown): Promise<Seen[]> {
  const handler: AnyLambdaHandler = async () => result
  const { dev, mock } = await twins.run(() => handler, POST, options)
  return [dev, mock]
}

function expectAnswer(seen: Seen, status: number, contentType: string, body: string): void {
  expect(seen.status).toBe(status)
  expect(seen.headers).toContainEqual(['content-type', contentType])
  // Framed by its length, as AWS sends a buffered result, not chunked.
  expect(seen.headers).toContainEqual(['content-length', String(new TextEncoder().encode(body).length)])
  expect(seen.headers.map(([name]) => name)).not.toContain('transfer-encoding')
  expect(text(seen)).toBe(body)
  expect(seen.ending).toBe('end')
  expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
}

describe('a buffered result is answered as AWS answers it, in the emulator and the mock alike', () => {
  it('serves a { statusCode, body } result without a content-type header as application/json, 7 bytes long (test_lambda_url_invocation[http-response])', async () => {
    for (const seen of await both({ statusCode: 200, body: 'body123' })) {
      expectAnswer(seen, 200, 'application/json', 'body123')
    }
  })

  it('keeps the application/json default when other headers are given, and a content type the result names', async () => {
    for (const seen of await both({ statusCode: 201, headers: { 'x-custom': 'sluice' }, body: 'made' })) {
      expectAnswer(seen, 201, 'application/json', 'made')
      expect(seen.headers).toContainEqual(['x-custom', 'sluice'])
    }
    for (const seen of await both({
      statusCode: 200,
      headers: { 'Content-Type': 'text/plain' },
      body: 'hi',
    })) {
      expectAnswer(seen, 200, 'text/plain', 'hi')
    }
  })

  it('takes a statusCode written as a decimal string (test_lambda_url_headers_and_status)', async () => {
    const result = { statusCode: '418', body: "i'm a teapot", isBase64Encoded: false }
    for (const seen of await both(result)) expectAnswer(seen, 418, 'application/json', "i'm a teapot")
  })

  it('sends a body that is an object JSON-encoded (test_http_integration_invoke_status_code_passthrough[HTTP_PROXY])', async () => {
    const result = {
      statusCode: 400,
      headers: { 'Content-Type': 'application/json' },
      body: { status_code: 400, message: '' },
    }
    for (const seen of await both(result)) {
      expect(seen.status).toBe(400)
      expect(seen.headers).toContainEqual(['content-type', 'application/json'])
      expect(JSON.parse(text(seen))).toEqual({ status_code: 400, message: '' })
      expect(seen.invocations.map((i) => i.outcome.state)).toEqual(['succeeded'])
    }
  })

  it.each([
    ['dict', { hello: 'world' }, '{"hello":"world"}', '17'],
    ['list-mixed', ['hello', 3, true], '["hello",3,true]', '16'],
    ['string', 'hello', 'hello', '5'],
    ['integer', 3, '3', '1'],
    ['float', 3.1, '3.1', '3'],
    ['boolean', true, 'true', '4'],
  ])(
    'serves a bare %s result as a 200 application/json body with the Content-Length AWS sent (test_lambda_url_invocation)',
    async (_, result, body, length) => {
      for (const seen of await both(result)) {
        expectAnswer(seen, 200, 'application/json', body)
        expect(seen.headers).toContainEqual(['content-length', length])
      }
    },
  )
})
