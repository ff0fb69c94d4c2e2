import { asError } from '../core/as-error.ts'
import { utf8Length } from '../core/decoders/utf8.ts'
import { base64ToBytes } from './base64.ts'
import { type FunctionUrlResponse, responseHeaders } from './function-url-response.ts'
import { responseProblem } from './prelude.ts'
import type { AnyLambdaHandler, FunctionUrlEvent, LambdaContext } from './types.ts'

/**
 * Runs a handler that was not wrapped in `streamifyResponse` the way the runtime does: `(event, context,
 * callback)`, taking its result from the returned promise, the returned value, or the callback. `onAwaitsCallback`
 * runs when a function of three parameters returned something other than a promise: its result can then only
 * come from its callback.
 *
 * @example
 * const result = await callBuffered(async () => ({ statusCode: 200, body: 'ok' }), event, context)
 */
export function callBuffered(
  handler: AnyLambdaHandler,
  event: FunctionUrlEvent,
  context: LambdaContext,
  onAwaitsCallback?: () => void,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error: unknown, result?: unknown) => (error ? reject(error) : resolve(result))
    const run = handler as unknown as (...args: unknown[]) => unknown
    const result = run(event, context, callback)
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(resolve, reject)
    } else if (run.length < 3) {
      resolve(result)
    } else {
      onAwaitsCallback?.()
    }
  })
}

/**
 * The payload the runtime sends for a buffered handler's result: the result as JSON (`undefined` as `null`), or
 * `undefined` for a result JSON has no text for (a function, a symbol), of which nothing is sent. The service holds
 * it to its 6 MB limit (`limits.maxBufferedResponseBytes`, see {@link payloadBytes}) and the function URL reads the
 * response from it (see {@link bufferedResponse}). Throws, with the runtime's message, for a result JSON cannot
 * encode (a `BigInt`, a cycle): the runtime fails the invocation then.
 *
 * @example
 * payloadJson({ statusCode: 200, headers: { a: undefined } }) // '{"statusCode":200,"headers":{}}'
 */
export function payloadJson(result: unknown): string | undefined {
  try {
    return JSON.stringify(result === undefined ? null : result)
  } catch (error) {
    throw new Error(
      `Unable to stringify response body (${asError(error).message}). A handler that is not wrapped in awslambda.streamifyResponse has its result sent as JSON: return { statusCode, headers, body } with a string body, or any value JSON.stringify can encode.`,
      { cause: error },
    )
  }
}

/**
 * The size in UTF-8 bytes of a {@link payloadJson} payload, as the service measures it: a string result counts with
 * its quotes and escapes, a `{ statusCode, headers, body }` result whole, its body as written (base64 as base64).
 *
 * @example
 * payloadBytes(payloadJson('hé')) // 5: the runtime sends "hé", quotes included
 */
export function payloadBytes(json: string | undefined): number {
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
 * `result` is the payload as the service reads it, parsed from {@link payloadJson}: the service never sees the
 * handler's object, so a header whose value is `undefined` is not there, and a `toJSON` (a `Date` body) has run.
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
    if (typeof raw === 'string' && described.isBase64Encoded === true) {
      const decoded = decodeBase64(raw)
      // Not a body the service can send: answered as an invalid response, not left to throw from here.
      if (decoded === undefined) return 'its body is not valid base64, though isBase64Encoded is true'
      body = decoded
    } else if (typeof raw === 'string') {
      body = new TextEncoder().encode(raw)
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

/** The bytes of a base64 text, or `undefined` when it is not base64 (`atob` throws an `InvalidCharacterError`). */
function decodeBase64(text: string): Uint8Array | undefined {
  try {
    return base64ToBytes(text)
  } catch {
    return undefined
  }
}
