import { asError } from '../core/as-error.ts'
import { utf8Length } from '../core/decoders/utf8.ts'
import { base64ToBytes } from './base64.ts'
import { type FunctionUrlResponse, responseHeaders } from './function-url-response.ts'
import { responseProblem } from './prelude.ts'
import type { AnyLambdaHandler, FunctionUrlEvent, LambdaContext } from './types.ts'

/**
 * Runs a handler that was not wrapped in `streamifyResponse` the way the runtime does: `(event, context,
 * callback)`, taking its result from the returned promise, the returned value, or the callback.
 *
 * @example
 * const result = await callBuffered(async () => ({ statusCode: 200, body: 'ok' }), event, context)
 */
export function callBuffered(
  handler: AnyLambdaHandler,
  event: FunctionUrlEvent,
  context: LambdaContext,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error: unknown, result?: unknown) => (error ? reject(error) : resolve(result))
    const run = handler as unknown as (...args: unknown[]) => unknown
    const result = run(event, context, callback)
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(resolve, reject)
    } else if (run.length < 3) {
      resolve(result)
    }
  })
}

/**
 * The size of the payload the runtime sends for a buffered handler's result, which the service holds to its 6 MB
 * limit (`limits.maxBufferedResponseBytes`): the result as JSON (`undefined` as `null`), in UTF-8 bytes. So a
 * string counts with its quotes and escapes, and a `{ statusCode, headers, body }` result whole, its body as
 * written (base64 as base64). Throws, with the runtime's message, for a result JSON cannot encode (a `BigInt`, a
 * cycle): the runtime fails the invocation then.
 *
 * @example
 * payloadBytes('hé') // 5: the runtime sends "hé", quotes included
 */
export function payloadBytes(result: unknown): number {
  let json: string | undefined
  try {
    json = JSON.stringify(result === undefined ? null : result)
  } catch (error) {
    throw new Error(
      `Unable to stringify response body (${asError(error).message}). A handler that is not wrapped in awslambda.streamifyResponse has its result sent as JSON: return { statusCode, headers, body } with a string body, or any value JSON.stringify can encode.`,
      { cause: error },
    )
  }
  // A function or a symbol has no JSON: nothing is sent, as bufferedResponse serves it.
  return json === undefined ? 0 : utf8Length(json)
}

/**
 * Turns a buffered handler's result into a response, with the payload-format-2.0 rules of function URLs: a result
 * with a `statusCode` is a response description; anything else is the body, JSON-encoded unless it is a string,
 * served as `application/json` with status 200.
 *
 * As the service answers (LocalStack's tests recorded against AWS, see the README): a description without a
 * `content-type` header is served as `application/json` (not the `application/octet-stream` of a streamed
 * response), a `statusCode` written as a decimal string (`"418"`) is that status, and a `body` that is an object or
 * an array is sent JSON-encoded. The response carries the body's byte length (after base64 decoding), which the
 * function URL sends as `Content-Length`, not chunked.
 *
 * @example
 * const response = bufferedResponse({ statusCode: 201, body: 'made' }, requestId) // a FunctionUrlResponse, status 201
 */
export function bufferedResponse(result: unknown, requestId: string): FunctionUrlResponse | string {
  let status = 200
  let headers: Array<[string, string]> = [['content-type', 'application/json']]
  let cookies: string[] = []
  let body: Uint8Array
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const described = result as Record<string, unknown>
    headers = Object.entries((described.headers ?? {}) as Record<string, unknown>).map(([name, value]) => [
      name,
      String(value),
    ])
    cookies = Array.isArray(described.cookies) ? described.cookies.map(String) : []
    const statusCode =
      typeof described.statusCode === 'string' && /^[0-9]+$/.test(described.statusCode)
        ? Number(described.statusCode)
        : described.statusCode
    const problem = responseProblem(statusCode, headers, cookies)
    if (problem !== undefined) return problem
    status = statusCode as number
    const raw = described.body
    if (typeof raw === 'string') {
      body = described.isBase64Encoded === true ? base64ToBytes(raw) : new TextEncoder().encode(raw)
    } else {
      body = new TextEncoder().encode(typeof raw === 'object' && raw !== null ? JSON.stringify(raw) : '')
    }
  } else {
    body = new TextEncoder().encode(typeof result === 'string' ? result : (JSON.stringify(result) ?? ''))
  }
  return {
    status,
    headers: responseHeaders(headers, cookies, requestId, 'application/json'),
    // The service has the whole result before it answers, so it sends the decoded body's exact length.
    length: body.byteLength,
    body: new ReadableStream({
      start(controller) {
        if (body.length > 0) controller.enqueue(body)
        controller.close()
      },
    }),
  }
}
